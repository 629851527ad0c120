"""Kafka → adapter → Kafka, exactly once: consume, transform and produce in one transaction.

Each batch is processed inside a Kafka transaction that also carries the consumer offsets
(``send_offsets_to_transaction``), so outputs, DLQ records and progress commit together or not
at all. Reading is ``read_committed``; the producer is idempotent and transactional with a
stable ``transactional.id`` per (agency, adapter, source topic, instance), so a restarted
instance fences its crashed predecessor and aborts its open transaction. The consumer uses
static membership (``group.instance.id``) so a restart takes its partitions straight back.

A batch is consumed only when no transaction is open, so a rebalance can never interrupt one.
After any failed transaction the batch is dropped and the consumer seeks back to the batch's
first offsets: the records are read again, and nothing is lost or written twice.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from exchange.errors import MaisError, TransientError
from exchange.runtime._context import LoopContext
from exchange.runtime._control import Backoff, retry_transient
from exchange.runtime._dlq import Reject
from exchange.runtime._pipeline import UnitResult
from exchange.runtime._txn import PermanentDeliveryError, TransactionalWriter, TransactionFencedError
from exchange.topics import client_id

__all__ = ["KafkaSourceLoop"]


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
        self._poisoned: set[str] = set()
        self._backoff = Backoff()
        self._consumer: Any = None
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
            "queued.max.messages.kbytes": 32_768,  # prefetch at most 32 MiB: bounded memory on backlog
        }

    def run(self) -> None:
        ctx = self.ctx
        writer = TransactionalWriter(ctx.kafka, self.transactional_id)
        retry_transient(writer.init, ctx.stop, on_retry=ctx.log_retry)
        consumer = Consumer(self._consumer_config())
        self._consumer = consumer
        consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        ctx.log.info(
            "adapter consuming", topic=self.topic, group=self.group_id, transactional_id=self.transactional_id
        )
        try:
            while not ctx.stop.requested():
                # Wait for one message, then take whatever else is already fetched: under load the
                # batches grow (fewer commits per record), under light load latency stays low.
                # The group metadata sent with the offsets is the one from before polling: if a
                # rebalance happened meanwhile, the coordinator refuses the commit (stale generation)
                # instead of accepting offsets for partitions that have moved to another member.
                group_metadata = consumer.consumer_group_metadata()
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

    def _batch(self, messages: list[Message]) -> _Batch:
        batch = _Batch([])
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise MaisError(
                        f"the consumer failed fatally: {error.name()}",
                        hint="another running copy probably uses the same --instance-id; give each its own",
                    )
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
            self._poisoned |= refused.tags
            self._rewind(writer, consumer, batch, "broker refused messages; retrying with them in the DLQ")
            return
        except TransientError as error:
            ctx.metrics.retried(stage)
            self._rewind(writer, consumer, batch, error.message)
            ctx.stop.wait(self._backoff.next_delay())
            return
        self._backoff.reset()
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
        if tag in self._poisoned:
            refused = Reject(
                "produce", "MessageRefused", "the broker refused an output", value or b"", tag, True
            )
            result = UnitResult(rejects=[refused])
        elif value is None:
            result = UnitResult(
                rejects=[Reject("read", "EmptyValue", "message has no value", b"", tag, True)]
            )
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
        self.ctx.log.warning("transaction aborted; batch will be read again", error=why)
        writer.abort()
        self._seek_back(consumer, batch)

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
