"""Kafka → adapter → Kafka, exactly once: consume, transform and produce in one transaction.

Each batch is processed inside a Kafka transaction that also carries the consumer offsets
(``send_offsets_to_transaction``), so outputs, DLQ records and progress commit together or not
at all. Reading is ``read_committed``; the producer is idempotent and transactional with a
stable ``transactional.id`` per (agency, adapter, source topic, instance), so a restarted
instance fences its crashed predecessor and aborts its open transaction. The consumer uses
static membership (``group.instance.id``) so a restart takes its partitions straight back.

A batch is consumed only when no transaction is open, so a rebalance can never interrupt one.
After any failed transaction the batch is dropped, the transaction aborted (or the producer
recreated, see :mod:`._txn`) and the consumer rewound to the group's committed offsets — not to
the batch's first offsets, because a commit that timed out may still have succeeded: the
committed offsets are the only truth. The records are read again; nothing is lost or written twice.

A message larger than ``max_unit_bytes`` is refused up front as one reject (a DLQ stub pointing
at its coordinates), without being split or translated.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition

from exchange.errors import MaisError, TransientError
from exchange.runtime._context import LoopContext
from exchange.runtime._control import Backoff, retry_transient
from exchange.runtime._dlq import Reject
from exchange.runtime._pipeline import UnitResult
from exchange.runtime._txn import PermanentDeliveryError, TransactionalWriter, TransactionFencedError
from exchange.topics import client_id

__all__ = ["KafkaSourceLoop"]

_TWIN_FAILURES = 3
_TWIN_WINDOW_S = 300.0
_REWIND_ATTEMPTS = 3
"""Failed reads of the committed offsets after an abort before the consumer is replaced."""
_STUCK = "COMMITTED_OFFSETS_UNAVAILABLE"


@dataclass
class _Batch:
    messages: list[Message]
    first: dict[tuple[str, int], int] = field(default_factory=dict)
    next: dict[tuple[str, int], int] = field(default_factory=dict)


class KafkaSourceLoop:
    """Runs one adapter on one source topic until stopped."""

    def __init__(self, ctx: LoopContext, topic: str) -> None:
        self.ctx = ctx
        self.topic = topic
        self.group_id = client_id(ctx.agency, "adapter", ctx.adapter_name, topic)
        self.transactional_id = f"{self.group_id}.{ctx.instance_id}"
        self._backoff = Backoff()
        self._consumer: Any = None
        self._consumer_failed: str | None = None
        self._replacements: collections.deque[float] = collections.deque(maxlen=_TWIN_FAILURES)
        self._rebalanced = False

    def _consumer_config(self) -> dict[str, Any]:
        return {
            **self.ctx.kafka.confluent_config(),
            "group.id": self.group_id,
            "group.instance.id": f"{self.ctx.instance_id}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 10_000,
            "statistics.interval.ms": 5_000,
            "stats_cb": self._on_stats,
            "fetch.wait.max.ms": 50,
            # prefetch at most 32 MiB: bounded memory on backlog (a larger message is still fetched:
            # the client raises its per-fetch size until it fits, then the unit limit refuses it)
            "queued.max.messages.kbytes": 32_768,
        }

    def run(self) -> None:
        ctx = self.ctx
        writer = TransactionalWriter(ctx.kafka, self.transactional_id, settings=ctx.settings, stop=ctx.stop)
        retry_transient(writer.init, ctx.stop, on_retry=ctx.log_retry)
        consumer = self._new_consumer()
        ctx.log.info(
            "adapter consuming", topic=self.topic, group=self.group_id, transactional_id=self.transactional_id
        )
        try:
            while not ctx.stop.requested():
                if self._consumer_failed is not None:
                    consumer = self._replace_consumer(consumer)
                    continue
                # Wait for one message, then take whatever else is already fetched: under load the
                # batches grow (fewer commits per record), under light load latency stays low.
                # The group metadata sent with the offsets is the one from before polling: if a
                # rebalance happened meanwhile, the coordinator refuses the commit (stale generation)
                # instead of accepting offsets for partitions that have moved to another member.
                try:
                    group_metadata = consumer.consumer_group_metadata()
                except KafkaException as exc:  # a consumer in a fatal state: replace it
                    self._consumer_failed = exc.args[0].name()
                    continue
                self._rebalanced = False
                first = consumer.poll(ctx.poll_timeout_s)
                if first is None:
                    continue
                batch = self._batch([first, *consumer.consume(num_messages=ctx.batch_size - 1, timeout=0)])
                if self._rebalanced:  # read across a rebalance: read again under the new assignment
                    self._seek_back(consumer, batch)
                elif batch.messages:
                    self._process(writer, consumer, batch, group_metadata)
        finally:
            ctx.health.set(ready=False, reason="stopping")
            with contextlib.suppress(TransientError, TransactionFencedError):
                writer.abort()
            consumer.close()
            writer.flush()
        ctx.log.info("adapter stopped", topic=self.topic)

    def _new_consumer(self) -> Any:
        consumer = Consumer(self._consumer_config())
        consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self._consumer = consumer
        self._consumer_failed = None
        return consumer

    def _replace_consumer(self, failed: Any) -> Any:
        """A consumer that failed fatally, or cannot read its committed offsets, is closed and
        replaced; its batch is read again.

        After a broker outage a static member can be fenced by its own retried join; a consumer
        fenced again and again within minutes has a live twin with the same ``--instance-id``. A
        consumer that cannot read its offsets shows no such sign, so it is not counted.
        """
        if self._consumer_failed == _STUCK:
            self.ctx.log.warning("consumer cannot read its committed offsets; replacing it")
        else:
            now = time.monotonic()
            if len(self._replacements) == _TWIN_FAILURES and now - self._replacements[0] < _TWIN_WINDOW_S:
                raise MaisError(
                    f"the consumer failed fatally {_TWIN_FAILURES + 1} times within {_TWIN_WINDOW_S:.0f} s "
                    f"({self._consumer_failed})",
                    hint="another running copy probably uses the same --instance-id; give each its own",
                )
            self._replacements.append(now)
            self.ctx.log.warning("consumer failed fatally; replacing it", error_class=self._consumer_failed)
        with contextlib.suppress(Exception):
            failed.close()
        self.ctx.stop.wait(self._backoff.next_delay())
        return self._new_consumer()

    def _batch(self, messages: list[Message]) -> _Batch:
        batch = _Batch([])
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal() or error.code() == KafkaError._FATAL:
                    self._consumer_failed = error.name()
                    return _Batch([])  # nothing of a failed consumer's is used: its successor reads again
                if error.code() != KafkaError._PARTITION_EOF:
                    self.ctx.log.warning("consumer error", error_class=error.name())
                continue
            topic, partition, offset = _coordinates(message)
            batch.first.setdefault((topic, partition), offset)
            batch.next[(topic, partition)] = offset + 1
            batch.messages.append(message)
        return batch

    def _process(
        self, writer: TransactionalWriter, consumer: Any, batch: _Batch, group_metadata: Any
    ) -> None:
        ctx = self.ctx
        started = time.monotonic()
        results: list[UnitResult] = []
        stage = "serialize"  # a transient failure while translating is the registry's
        try:
            writer.begin()
            for message in batch.messages:
                results.append(self._process_message(writer, message))
            stage = "produce"
            offsets = [TopicPartition(t, p, o) for (t, p), o in batch.next.items()]
            writer.commit(offsets, group_metadata)
        except PermanentDeliveryError as refused:
            ctx.refusals.record(refused.tags, ctx.dlq)
            self._rewind(writer, consumer, batch, "broker refused messages; retrying with them in the DLQ")
            return
        except TransientError as error:
            ctx.metrics.retried(stage)
            self._rewind(writer, consumer, batch, error.message)
            return
        self._backoff.reset()
        ctx.refusals.clear()
        # The offsets went to the group with the transaction; storing them locally too (never
        # committed from here: auto commit is off) keeps the consumer's lag statistics current.
        with contextlib.suppress(KafkaException):
            consumer.store_offsets(offsets=[TopicPartition(t, p, o) for (t, p), o in batch.next.items()])
        ctx.metrics.records_in(self.topic, len(batch.messages))
        ctx.count_committed(results, started)

    def _process_message(self, writer: TransactionalWriter, message: Message) -> UnitResult:
        coordinates = _coordinates(message)
        tag = "/".join(map(str, coordinates))
        headers = _headers(message)
        value = message.value()
        limit = self.ctx.settings.max_unit_bytes
        refused = self.ctx.refused(tag, value or b"", tag, unit=True)
        if refused is not None:
            result = refused
        elif value is None:
            result = UnitResult(
                rejects=[Reject("read", "EmptyValue", "message has no value", b"", tag, True)]
            )
        elif len(value) > limit:
            message_text = f"message of {len(value)} bytes is larger than the unit limit of {limit} bytes"
            digest = hashlib.sha256(value).hexdigest()
            too_large = Reject("read", "UnitTooLarge", message_text, b"", tag, True, len(value), digest)
            result = UnitResult(rejects=[too_large], records=1)
        else:
            result = self.ctx.pipeline.process_unit(value, tag, headers)
        key = message.key()
        self.ctx.write_result(
            writer,
            result,
            tag,
            key=key.encode() if isinstance(key, str) else key,
            headers=headers,
            kafka_coordinates=coordinates,
        )
        return result

    def _rewind(self, writer: TransactionalWriter, consumer: Any, batch: _Batch, why: str) -> None:
        """Abort, wait a little, and seek every assigned partition back to its committed offset."""
        ctx = self.ctx
        ctx.log.warning("transaction aborted; batch will be read again", error=why)
        generation = writer.generation
        writer.abort()
        if writer.generation != generation:
            ctx.log.warning("producer recreated; rewinding to the committed offsets")
        backoff = self._backoff
        attempts = 0
        while not ctx.stop.wait(backoff.next_delay()):
            try:
                self._seek_to_committed(consumer, batch)
                return
            except TransientError as error:
                ctx.metrics.retried("read")
                attempts += 1
                if attempts >= _REWIND_ATTEMPTS:
                    # A consumer whose group session ended during the outage can stay unable to
                    # fetch its offsets; a new one joins again and starts at the committed offsets.
                    self._consumer_failed = _STUCK
                    return
                ctx.log.warning("cannot read the committed offsets; retrying", error=error.message)

    def _seek_to_committed(self, consumer: Any, batch: _Batch) -> None:
        wanted = [TopicPartition(t, p) for (t, p) in batch.first]
        try:
            assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
            committed = consumer.committed(
                [tp for tp in wanted if (tp.topic, tp.partition) in assigned],
                timeout=self.ctx.settings.step_timeout_s,
            )
        except KafkaException as exc:
            error = exc.args[0]
            if error.fatal() or error.code() == KafkaError._FATAL:
                self._consumer_failed = error.name()  # the run loop replaces it; no seek needed
                return
            raise TransientError(f"committed offsets unavailable: {error.name()}") from None
        for tp in committed:
            if tp.error is not None:
                raise TransientError(f"committed offset unavailable: {tp.error.name()}")
            offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
            # A partition no longer ours is skipped: its next owner starts from the committed offset.
            with contextlib.suppress(KafkaException):
                consumer.seek(TopicPartition(tp.topic, tp.partition, offset))

    @staticmethod
    def _seek_back(consumer: Any, batch: _Batch) -> None:
        for (topic, partition), offset in batch.first.items():
            # A partition no longer ours is skipped: its next owner starts from the committed offset.
            with contextlib.suppress(KafkaException):
                consumer.seek(TopicPartition(topic, partition, offset))

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._rebalanced = True
        self.ctx.health.set(ready=True, reason=f"{len(partitions)} partition(s) assigned")
        self.ctx.log.info("partitions assigned", count=len(partitions))

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._rebalanced = True
        self.ctx.log.info("partitions revoked", count=len(partitions))

    def _on_stats(self, stats_json: str) -> None:
        try:
            stats = json.loads(stats_json)
            partitions = stats.get("topics", {}).get(self.topic, {}).get("partitions", {})
            lags = (int(p.get("consumer_lag_stored", 0)) for key, p in partitions.items() if key != "-1")
            lag = sum(max(0, value) for value in lags)
            self.ctx.metrics.set_lag(self.topic, lag)
        except (ValueError, TypeError, AttributeError):
            return


def _coordinates(message: Message) -> tuple[str, int, int]:
    return str(message.topic()), int(message.partition() or 0), int(message.offset() or 0)


def _headers(message: Message) -> list[tuple[str, bytes | None]]:
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(name, value.encode() if isinstance(value, str) else value) for name, value in pairs]
