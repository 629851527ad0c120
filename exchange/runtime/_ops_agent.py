"""The adapter's side of the operator's monitor: status, reject notices and replays, via Kafka.

It runs on its own thread inside the adapter process, with the agency's own principal (the
monitor cannot read records, so whatever it shows or does about rejects must come from here):

* every ``interval_s`` it sends the adapter's counters as a :class:`~exchange.ops.FeedStatus`;
* it follows the agency's DLQ (``read_committed``) and, for each entry this adapter rejected,
  sends a :class:`~exchange.ops.RejectNotice`: coordinates and reason, never the bytes or key;
* it follows the agency's ops topic and carries out each :class:`~exchange.ops.ReplayRequest`
  for this adapter exactly as ``mais dlq replay`` does, then sends a
  :class:`~exchange.ops.ReplayResult` with the outcome of every entry.

Instances of one adapter share one consumer group (``mais.<agency>.ops-agent.<adapter>``), so each
DLQ partition and each request is handled by one of them. Offsets are committed after the
messages they led to were acknowledged: a notice may be sent twice after a crash (the monitor
keeps one per key), and a repeated request replays nothing twice (replay markers are
transactional).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer

from exchange.errors import MaisError
from exchange.ops import FeedStatus, OpsMessage, RejectNotice, ReplayRequest, ReplayResult, decode, encode
from exchange.runtime._context import LoopContext
from exchange.runtime._dlq import DlqEntry
from exchange.runtime._replay import read_dlq, replay
from exchange.topics import client_id, dlq_topic, ops_topic

__all__ = ["OpsAgent"]


class OpsAgent:
    """See the module documentation; ``replay_context`` builds a fresh context for each replay."""

    def __init__(
        self,
        ctx: LoopContext,
        source: str,
        replay_context: Callable[[], LoopContext],
        *,
        interval_s: float = 5.0,
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.replay_context = replay_context
        self.interval_s = interval_s
        self.dlq = dlq_topic(ctx.agency)
        self.ops = ops_topic(ctx.agency)
        self._thread = threading.Thread(target=self._run_safely, name="ops-agent", daemon=True)

    def start(self) -> OpsAgent:
        self._thread.start()
        return self

    def join(self, timeout_s: float = 30.0) -> None:
        self._thread.join(timeout_s)

    def _run_safely(self) -> None:
        try:
            self.run()
        except Exception as exc:  # the adapter goes on without its ops agent; say why once
            self.ctx.log.error("ops agent stopped", error_class=type(exc).__name__)

    def run(self) -> None:
        ctx = self.ctx
        base: dict[str, Any] = {**ctx.kafka.confluent_config(), "log_level": 3}
        producer = Producer({**base, "enable.idempotence": True, "linger.ms": 50})
        consumer = Consumer(
            {
                **base,
                "group.id": client_id(ctx.agency, "ops-agent", ctx.adapter_name),
                "group.instance.id": ctx.instance_id,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "session.timeout.ms": 10_000,
            }
        )
        consumer.subscribe([self.dlq, self.ops])
        next_status = 0.0
        try:
            while not ctx.stop.requested():
                if time.monotonic() >= next_status:
                    self._send(producer, self._status())
                    next_status = time.monotonic() + self.interval_s
                messages = consumer.consume(200, min(1.0, self.interval_s))
                handled = False
                for message in messages:
                    error = message.error()
                    if error is not None:
                        if error.fatal():
                            raise KafkaException(error)
                        continue
                    self._handle(producer, message)
                    handled = True
                if handled and producer.flush(30) == 0:
                    with contextlib.suppress(KafkaException):
                        consumer.commit(asynchronous=False)
            self._send(producer, self._status())
        finally:
            producer.flush(10)
            consumer.close()

    def _status(self) -> FeedStatus:
        totals = self.ctx.metrics.totals()
        return FeedStatus(
            adapter=self.ctx.adapter_name,
            instance=self.ctx.instance_id,
            source=self.source,
            records_in=totals.records_in,
            events_out=totals.events_out,
            rejected=totals.rejected,
            last_event_time=totals.last_event_time,
            sent_at=time.time(),
            interval_s=self.interval_s,
        )

    def _send(self, producer: Producer, message: OpsMessage) -> None:
        key, value = encode(message)
        while True:
            try:
                producer.produce(self.ops, value, key)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)

    def _handle(self, producer: Producer, message: Any) -> None:
        if message.topic() == self.dlq:
            entry = DlqEntry.from_message(
                int(message.partition() or 0),
                int(message.offset() or 0),
                None,  # the key may be an identifier: it is not needed for a notice
                None,  # nor are the bytes
                _headers(message),
            )
            if entry.adapter == self.ctx.adapter_name:
                self._send(producer, _notice(entry))
            return
        request = decode(message.value())
        if isinstance(request, ReplayRequest) and request.adapter == self.ctx.adapter_name:
            self._send(producer, self._replay(request))

    def _replay(self, request: ReplayRequest) -> ReplayResult:
        self.ctx.log.info("replay requested", count=len(request.entries))
        try:
            wanted = set(request.entries)
            chosen = [e for e in read_dlq(self.ctx.kafka, self.ctx.agency) if e.coordinate in wanted]
            report = replay(self.replay_context(), chosen)
        except MaisError as exc:
            return ReplayResult(
                request.request_id, request.adapter, request.entries, 0, 0, 0, 0,
                finished_at=time.time(), error=exc.message,
            )  # fmt: skip
        found = {e.coordinate for e in chosen}
        return ReplayResult(
            request_id=request.request_id,
            adapter=request.adapter,
            entries=request.entries,
            replayed=report.replayed,
            events=report.events,
            failed_again=report.failed_again,
            skipped=report.skipped,
            missing=tuple(sorted(wanted - found)),
            finished_at=time.time(),
            results=dict(report.outcomes),
        )


def new_request(adapter: str, entries: list[str]) -> ReplayRequest:
    """A replay request with a fresh id (what the monitor sends)."""
    return ReplayRequest(uuid.uuid4().hex, adapter, tuple(entries), time.time())


def _notice(entry: DlqEntry) -> RejectNotice:
    return RejectNotice(
        coordinate=entry.coordinate,
        adapter=entry.adapter,
        stage=entry.stage,
        error_class=entry.error_class,
        message=entry.message,
        origin=entry.origin,
        time=entry.time,
        replays=entry.replays,
        unit=entry.unit,
    )


def _headers(message: Any) -> list[tuple[str, bytes | None]]:
    raw = message.headers() or []
    return [(name, value.encode() if isinstance(value, str) else value) for name, value in raw]
