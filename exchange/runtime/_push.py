"""Push sources: senders hand units over and wait until the broker committed them.

One loop serves every push front end (HTTP, MLLP). A front end calls :meth:`PushLoop.submit`
from its own connection thread with the unit's bytes and an idempotency key and waits; the main
loop takes what is queued, processes it in one Kafka transaction that also writes each key's
marker on ``mais.<agency>.progress.v1``, and only after the commit answers the waiting threads.
A key committed before (within the dedup window, :mod:`._dedup`) is answered as a duplicate and
written nothing again, so a sender that retries after a lost answer never causes a second copy.
Tombstones of forgotten keys ride along in the same transactions (or, when the source is idle,
in a transaction of their own once a minute).

When the listener authenticated the sender (:class:`~exchange.ingress.Sender`), its name scopes
the key (two senders that both call a unit ``batch-1`` never shadow each other) and is recorded
with the unit: in the envelope of its events and in the headers of its rejects.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from exchange.errors import TransientError
from exchange.ingress import Sender
from exchange.runtime._context import LoopContext
from exchange.runtime._control import Backoff, retry_transient
from exchange.runtime._dedup import DedupMarkers
from exchange.runtime._dlq import Reject
from exchange.runtime._pipeline import UnitResult
from exchange.runtime._progress import Progress, ProgressStore
from exchange.runtime._txn import PermanentDeliveryError, TransactionalWriter, TransactionFencedError
from exchange.topics import client_id, progress_topic

__all__ = ["IDEMPOTENCY_KEY", "Outcome", "PushLoop", "PushRequest"]

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""What an idempotency key may look like, whole (``fullmatch``): it names a progress record."""


class Outcome(Enum):
    PENDING = "pending"  # not committed (stopping, busy, timed out): the sender retries
    COMMITTED = "committed"
    DUPLICATE = "duplicate"


@dataclass
class PushRequest:
    """One unit handed over by a front end, and what became of it."""

    body: bytes
    key: str
    sender: Sender | None = None
    too_large: Reject | None = None
    """Set for a unit over the size limit: only this reject (a stub: size and SHA-256) is written."""
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome = Outcome.PENDING
    result: UnitResult | None = None


class PushLoop:
    """The queue and transaction loop behind a push front end (``kind`` is ``http`` or ``mllp``)."""

    def __init__(self, ctx: LoopContext, kind: str, *, reply_timeout_s: float = 60.0) -> None:
        self.ctx = ctx
        self.kind = kind
        self.transactional_id = client_id(ctx.agency, "adapter", ctx.adapter_name, kind, ctx.instance_id)
        topic = progress_topic(ctx.agency)
        self.progress = ProgressStore(ctx.kafka, topic, ctx.adapter_name)  # creates the topic
        settings = ctx.settings
        self.markers = DedupMarkers(
            ctx.kafka,
            topic,
            ctx.adapter_name,
            window_s=settings.dedup_window_s,
            max_keys=settings.dedup_max_keys,
        )
        self._last_sweep = time.monotonic()
        self.reply_timeout_s = reply_timeout_s
        self._queue: queue.Queue[PushRequest] = queue.Queue(maxsize=1000)
        self._accepting = False
        self._backoff = Backoff()

    def submit(
        self, body: bytes, key: str, *, sender: Sender | None = None, too_large: Reject | None = None
    ) -> PushRequest:
        """Queue a unit and wait for its outcome (``PENDING`` if not committed in time)."""
        request = PushRequest(body, f"{sender.name}:{key}" if sender else key, sender, too_large)
        if not self._accepting:
            return request
        try:
            self._queue.put(request, timeout=5)
        except queue.Full:
            return request
        request.done.wait(self.reply_timeout_s)
        return request

    def run(self, start_front: Callable[[], str], stop_front: Callable[[], None]) -> None:
        """Serve until stopped: ``start_front`` opens the front end and says where it listens."""
        ctx = self.ctx
        writer = TransactionalWriter(ctx.kafka, self.transactional_id, settings=ctx.settings, stop=ctx.stop)
        retry_transient(writer.init, ctx.stop, on_retry=ctx.log_retry)
        retry_transient(self.progress.ensure_topic, ctx.stop, on_retry=ctx.log_retry)
        retry_transient(self.markers.load, ctx.stop, on_retry=ctx.log_retry)
        self._accepting = True
        where = start_front()
        ctx.health.set(ready=True, reason=f"listening on {where}")
        ctx.log.info("adapter listening", source_kind=self.kind, transactional_id=self.transactional_id)
        try:
            while not ctx.stop.requested():
                batch = self._take_batch()
                if batch or self._sweep_due():
                    self._process(writer, batch)
        finally:
            self._accepting = False
            ctx.health.set(ready=False, reason="stopping")
            stop_front()
            with contextlib.suppress(TransientError, TransactionFencedError):
                writer.abort()
            writer.flush()
            while not self._queue.empty():
                self._queue.get_nowait().done.set()  # left pending: the sender retries
        ctx.log.info("adapter stopped", source_kind=self.kind)

    def _take_batch(self) -> list[PushRequest]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < 100:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _process(self, writer: TransactionalWriter, batch: list[PushRequest]) -> None:
        ctx = self.ctx
        while not ctx.stop.requested():
            started = time.monotonic()
            generation = writer.generation
            try:
                results = self._transaction(writer, batch)
            except PermanentDeliveryError as refused:
                ctx.refusals.record(refused.tags, ctx.dlq)
                writer.abort()
                ctx.stop.wait(self._backoff.next_delay())
                continue
            except TransientError as error:
                ctx.metrics.retried("produce")
                ctx.log.warning("transaction aborted; requests will be retried", error=error.message)
                writer.abort()
                if writer.generation != generation:  # did the last commit happen? ask the topic
                    ctx.log.warning("producer recreated; reading the committed markers again")
                    retry_transient(self.markers.load, ctx.stop, on_retry=ctx.log_retry)
                ctx.stop.wait(self._backoff.next_delay())
                continue
            self._backoff.reset()
            ctx.refusals.clear()
            committed = [result for _, result in results if result is not None]
            ctx.metrics.records_in(self.kind, sum(result.records for result in committed))
            ctx.count_committed(committed, started)
            self._answer_all(results)
            return
        for request in batch:
            request.done.set()  # stopping: left pending, the sender retries later

    def _transaction(
        self, writer: TransactionalWriter, batch: list[PushRequest]
    ) -> list[tuple[PushRequest, UnitResult | None]]:
        """One transaction for the batch; ``None`` marks a request already committed before."""
        results: list[tuple[PushRequest, UnitResult | None]] = []
        seen: set[str] = set()
        self.markers.expire()
        tombstones = self.markers.take_tombstones()
        writer.begin()
        for key in tombstones:
            writer.produce(self.markers.topic, key, None, [], "tombstone")
        for request in batch:
            if self.markers.seen(request.key) or request.key in seen:
                results.append((request, None))
                continue
            seen.add(request.key)
            origin = f"{self.kind}/{request.key}"
            refused = self.ctx.refused(origin, request.body, origin, unit=True)
            if refused is not None:
                result = refused
            elif request.too_large is not None:
                result = UnitResult(
                    rejects=[dataclasses.replace(request.too_large, origin=origin)], records=1
                )
            else:
                result = self.ctx.pipeline.process_unit(request.body, origin, sender=request.sender)
            self.ctx.write_result(writer, result, origin, key=None, headers=None, sender=request.sender)
            marker = Progress(done=result.records, complete=True).encode()
            writer.produce(self.markers.topic, self.markers.marker_key(request.key), marker, [], origin)
            results.append((request, result))
        try:
            writer.commit()
        except BaseException:
            self.markers.return_tombstones(tombstones)
            raise
        self._last_sweep = time.monotonic()
        return results

    def _sweep_due(self) -> bool:
        """Idle for a minute: time for a transaction that only tombstones forgotten keys."""
        if time.monotonic() - self._last_sweep < 60:
            return False
        self._last_sweep = time.monotonic()
        self.markers.expire()
        return self.markers.tombstones_due > 0

    def _answer_all(self, results: list[tuple[PushRequest, UnitResult | None]]) -> None:
        for request, result in results:
            if result is None:
                request.outcome = Outcome.DUPLICATE
            else:
                self.markers.add(request.key)
                request.outcome, request.result = Outcome.COMMITTED, result
            request.done.set()
