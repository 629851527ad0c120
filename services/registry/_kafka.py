"""The ``_schemas`` topic as a :class:`~services.registry._store.Log` (confluent-kafka)."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import structlog
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from exchange.errors import ConfigError
from exchange.settings import KafkaSettings
from services.registry._errors import RegistryError
from services.registry._store import LogBatch, LogRecord

__all__ = ["KafkaLog", "ensure_topic"]

_log = structlog.get_logger("mais.registry.kafka")
TOPIC_CONFIG = {"cleanup.policy": "compact"}
# librdkafka's own messages go through stdlib logging (JSON lines when served), not raw stderr
_CLIENT_LOGGER = logging.getLogger("mais.registry.librdkafka")


def ensure_topic(kafka: KafkaSettings, topic: str, *, timeout: float = 15.0) -> None:
    """Create ``topic`` (compacted, one partition, replication min(3, brokers)) if it is missing."""
    admin_conf: dict[str, Any] = {**kafka.confluent_config(), "logger": _CLIENT_LOGGER}
    admin = AdminClient(admin_conf)
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise RegistryError.store_error(f"cannot reach Kafka ({exc.args[0].name()})") from exc
    existing = metadata.topics.get(topic)
    if existing is not None and existing.error is None:
        if len(existing.partitions) != 1:
            raise ConfigError(
                f"topic {topic} has {len(existing.partitions)} partitions; the registry log needs exactly 1",
                hint="point MAIS_REGISTRY_TOPIC at a one-partition compacted topic, or delete this one",
            )
        return
    replication = min(3, max(1, len(metadata.brokers)))
    config = {
        **TOPIC_CONFIG,
        # an acknowledged write survives losing one replica; one replica down does not stop writes
        "min.insync.replicas": str(max(1, replication - 1)),
        "unclean.leader.election.enable": "false",
    }
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=1, replication_factor=replication, config=config)],
        operation_timeout=timeout,
    )
    try:
        futures[topic].result(timeout)
        _log.info("registry_topic_created", topic=topic, replication_factor=replication)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise RegistryError.store_error(f"cannot create topic {topic} ({exc.args[0].name()})") from exc


class KafkaLog:
    """Partition 0 of the registry topic: an idempotent producer and an unassigned-group reader."""

    def __init__(self, kafka: KafkaSettings, topic: str, *, timeout: float = 15.0) -> None:
        self._topic = topic
        self._timeout = timeout
        base: dict[str, Any] = {**kafka.confluent_config(), "logger": _CLIENT_LOGGER}
        self._producer = Producer({**base, "enable.idempotence": True, "acks": "all", "linger.ms": 0})
        reader_conf: dict[str, Any] = {
            **base,
            "group.id": f"mais-registry-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
        }
        self._consumer = Consumer(reader_conf)
        self._consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        self._watermarks = Consumer({**reader_conf, "group.id": f"mais-registry-wm-{uuid.uuid4()}"})
        self._watermark_lock = threading.Lock()

    def end_offset(self) -> int:
        with self._watermark_lock:
            try:
                _low, high = self._watermarks.get_watermark_offsets(
                    TopicPartition(self._topic, 0), timeout=self._timeout, cached=False
                )
            except KafkaException as exc:
                raise RegistryError.store_error(f"cannot read the end of {self._topic}") from exc
        return int(high)

    def append(self, key: bytes, value: bytes | None) -> int:
        outcome: list[tuple[KafkaError | None, int]] = []

        def delivered(err: KafkaError | None, msg: Any) -> None:
            outcome.append((err, -1 if err is not None else int(msg.offset())))

        self._producer.produce(self._topic, value=value, key=key, partition=0, on_delivery=delivered)
        remaining = self._producer.flush(self._timeout)
        if remaining or not outcome:
            raise RegistryError.timeout(f"the write to {self._topic} was not acknowledged in time")
        err, offset = outcome[0]
        if err is not None:
            raise RegistryError.store_error(f"the write to {self._topic} failed ({err.name()})")
        return offset

    def poll(self, timeout: float) -> LogBatch:
        records: list[LogRecord] = []
        end: int | None = None
        first = self._consumer.poll(timeout)
        if first is None:
            return LogBatch(records, end)
        for msg in [first, *self._consumer.consume(num_messages=500, timeout=0)]:
            err = msg.error()
            if err is None:
                records.append(LogRecord(msg.offset() or 0, msg.key(), msg.value()))
            elif err.code() == KafkaError._PARTITION_EOF:
                end = msg.offset()
            elif err.fatal():
                raise KafkaException(err)
            else:
                _log.warning("registry_log_read_error", error=err.name())
        return LogBatch(records, end)

    def close(self) -> None:
        self._producer.flush(self._timeout)
        self._consumer.close()
        self._watermarks.close()
