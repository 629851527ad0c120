"""The Kafka side of the audit log: read the topic, find a writer's head, produce on its own.

:func:`read_audit_records` reads every committed record from the beginning to the end as it is
now. :func:`find_head` gives the head of one writer's chain (so a restarted writer continues its
chain). :class:`AuditProducer` is for writers that do not produce inside their own Kafka
transactions (a web page, a CLI): it appends, flushes, checkpoints when due and on close.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from exchange.audit._chain import ChainHead, entry_hash
from exchange.audit._verify import AuditRecord
from exchange.audit._writer import AUDIT_TOPIC, AuditMessage, AuditStep, AuditWriter
from exchange.errors import TransientError
from exchange.settings import KafkaSettings

__all__ = ["AuditProducer", "ensure_audit_topic", "find_head", "read_audit_records"]


def ensure_audit_topic(kafka: KafkaSettings, topic: str = AUDIT_TOPIC, timeout_s: float = 30.0) -> None:
    """Create the audit topic (one partition, kept forever) if it does not exist."""
    admin_config: dict[str, Any] = dict(kafka.confluent_config())
    admin = AdminClient(admin_config)
    if topic in admin.list_topics(timeout=timeout_s).topics:
        return
    futures = admin.create_topics(
        [
            NewTopic(
                topic,
                num_partitions=1,
                replication_factor=-1,
                config={"retention.ms": "-1", "retention.bytes": "-1"},
            )
        ]
    )
    for future in futures.values():
        try:
            future.result(timeout_s)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise TransientError(f"could not create {topic}: {type(exc).__name__}") from None


def read_audit_records(
    kafka: KafkaSettings, topic: str = AUDIT_TOPIC, timeout_s: float = 60.0, *, group_id: str | None = None
) -> list[AuditRecord]:
    """Every committed record of ``topic`` from the beginning to its current end.

    The consumer never commits, but still needs a group the principal may use: ``group_id``, by
    default a fresh one under ``MAIS_KAFKA_GROUP_PREFIX`` (``mais.<agency>.`` on a secured exchange).
    """
    consumer = Consumer(
        {
            **kafka.confluent_config(),
            "group.id": group_id or kafka.scratch_group("audit-reader"),
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return []
        partitions = [TopicPartition(topic, p, -2) for p in sorted(metadata.partitions)]  # -2: beginning
        pending = {p.partition for p in partitions if _has_data(consumer, p)}
        consumer.assign(partitions)
        records: list[AuditRecord] = []
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TransientError(f"reading {topic} did not reach its end within {timeout_s:.0f} s")
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    pending.discard(int(message.partition() or 0))
                    continue
                raise TransientError(f"reading {topic} failed: {error.name()}")
            key = message.key()
            records.append(
                AuditRecord(
                    int(message.partition() or 0),
                    int(message.offset() or 0),
                    key.encode() if isinstance(key, str) else key,
                    bytes(message.value() or b""),
                )
            )
        return records
    finally:
        consumer.close()


def _has_data(consumer: Any, partition: TopicPartition) -> bool:
    low, high = consumer.get_watermark_offsets(partition, timeout=10, cached=False)
    return bool(high > low)


def find_head(
    kafka: KafkaSettings,
    writer: str,
    decode: Callable[[bytes], Mapping[str, Any]],
    topic: str = AUDIT_TOPIC,
    *,
    group_id: str | None = None,
) -> ChainHead:
    """The head of ``writer``'s chain as the topic holds it (the genesis head if it has none);
    ``group_id`` as for :func:`read_audit_records`."""
    key = writer.encode()
    for record in reversed(read_audit_records(kafka, topic, group_id=group_id)):
        if record.key != key:
            continue
        chain = decode(record.value).get("chain")
        if chain:
            return ChainHead(writer, int(chain["sequence"]), entry_hash(record.value))
    return ChainHead(writer)


class AuditProducer:
    """Appends to one audit chain with its own idempotent producer (for non-transactional writers)."""

    def __init__(self, kafka: KafkaSettings, writer: AuditWriter) -> None:
        self.writer = writer
        self._producer = Producer(
            {**kafka.confluent_config(), "enable.idempotence": True, "acks": "all", "linger.ms": 1}
        )

    def append(self, step: AuditStep, *, flush: bool = True) -> None:
        self._send(self.writer.append(step))
        if self.writer.checkpoint_due:
            self.checkpoint()
        if flush:
            self.flush()

    def checkpoint(self) -> None:
        message = self.writer.checkpoint()
        if message is not None:
            self._send(message)

    def flush(self, timeout_s: float = 30.0) -> None:
        if self._producer.flush(timeout_s) > 0:
            raise TransientError("audit entries were not acknowledged by the broker in time")

    def close(self) -> None:
        """Checkpoint what is unsealed and flush."""
        self.checkpoint()
        self.flush()

    def _send(self, message: AuditMessage) -> None:
        self._producer.produce(message.topic, message.value, message.key, headers=cast(Any, message.headers))
        self._producer.poll(0)
