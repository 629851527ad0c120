"""Durable progress of non-Kafka sources, kept in Kafka and committed with the outputs.

Progress records live on the compacted topic ``mais.<agency>.progress.v1``, keyed by
``<adapter>|<unit id>`` with a small JSON value ``{"done": N, "complete": bool}``. They are
written in the same transaction as the outputs they account for, so after a crash the progress
read back (``read_committed``) is exactly what was delivered: a unit is resumed after its last
committed record, never half-ingested twice. The idempotency markers of push sources live on
the same topic (:mod:`._dedup`); the topic is read in batches of 10,000 records.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from exchange.errors import TransientError
from exchange.settings import KafkaSettings

__all__ = ["PROGRESS_TOPIC_CONFIG", "Progress", "ProgressStore", "read_progress", "read_to_end"]

PROGRESS_TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    # Roll segments hourly and clean at 20 % dirt, so tombstones of expired idempotency keys
    # actually shrink the log (the defaults, 7 days and 50 %, would keep it growing for a week).
    "segment.ms": str(3600 * 1000),
    "min.cleanable.dirty.ratio": "0.2",
}
"""Configuration of ``mais.<agency>.progress.v1`` when the runtime creates it."""
_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Progress:
    done: int = 0
    complete: bool = False

    def encode(self) -> bytes:
        return json.dumps({"done": self.done, "complete": self.complete}).encode()


class ProgressStore:
    """Reads all progress of one adapter at start-up; the loop updates it as transactions commit."""

    def __init__(
        self, kafka: KafkaSettings, topic: str, adapter: str, *, units: Callable[[str], bool] | None = None
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.adapter = adapter
        self.units = units
        self._state: dict[str, Progress] = {}

    def key(self, unit_id: str) -> bytes:
        return f"{self.adapter}|{unit_id}".encode()

    def get(self, unit_id: str) -> Progress:
        return self._state.get(unit_id, Progress())

    def completed(self) -> set[str]:
        """Ids of every unit known to be complete."""
        return {unit for unit, progress in self._state.items() if progress.complete}

    def set(self, unit_id: str, progress: Progress) -> None:
        self._state[unit_id] = progress

    def ensure_topic(self, timeout_s: float = 30.0) -> None:
        """Create the compacted progress topic if it does not exist yet."""
        admin_config: dict[str, Any] = dict(self.kafka.confluent_config())
        admin = AdminClient(admin_config)
        if self.topic in admin.list_topics(timeout=timeout_s).topics:
            return
        new = NewTopic(self.topic, num_partitions=1, config=PROGRESS_TOPIC_CONFIG)
        futures = admin.create_topics([new], operation_timeout=timeout_s)
        try:
            futures[self.topic].result(timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise TransientError(f"cannot create progress topic: {exc.args[0].name()}") from None

    def load(self, timeout_s: float = 60.0) -> int:
        """Read every committed progress record of this adapter; returns how many units are known.

        With ``units`` given, only unit ids it accepts are kept (file progress ids hold a ``#``).
        """
        state: dict[str, Progress] = {}

        def take(unit: bytes, value: bytes | None, timestamp_ms: int) -> None:
            name = unit.decode()
            if self.units is not None and not self.units(name):
                return
            if value is None:
                state.pop(name, None)
                return
            record = json.loads(value)
            state[name] = Progress(int(record["done"]), bool(record["complete"]))

        read_progress(self.kafka, self.topic, f"{self.adapter}|".encode(), take, timeout_s)
        self._state = state
        return len(self._state)


def read_progress(
    kafka: KafkaSettings,
    topic: str,
    prefix: bytes,
    take: Callable[[bytes, bytes | None, int], None],
    timeout_s: float = 60.0,
) -> int:
    """Read the committed records of ``topic`` whose key starts with ``prefix``, in batches.

    ``take(rest of key, value or None for a tombstone, timestamp ms)`` is called for each, in
    order. Returns how many records were read in all. Raises :class:`TransientError` on failure.
    """
    cut = len(prefix)

    def each(message: Message) -> None:
        key = message.key()
        if isinstance(key, bytes) and key.startswith(prefix):
            value = message.value()
            take(key[cut:], value if isinstance(value, bytes) else None, message.timestamp()[1])

    return read_to_end(kafka, topic, each, timeout_s)


def read_to_end(
    kafka: KafkaSettings, topic: str, each: Callable[[Message], None], timeout_s: float = 60.0
) -> int:
    """Call ``each`` for every committed message of ``topic`` (all partitions, from the beginning).

    Reads in batches up to the end of every partition; a topic that does not exist has no
    messages. Raises :class:`TransientError` when the broker does not answer for ``timeout_s``.
    """
    config: dict[str, Any] = {
        **kafka.confluent_config(),
        # under the topic's name, so under its agency's prefix (the only groups it may use)
        "group.id": f"{topic}.reader.{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    }
    consumer = Consumer(config)
    count = 0
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            return 0
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions])
        remaining = set(metadata.partitions)
        quiet_since = time.monotonic()
        while remaining:
            # consume() waits for a whole batch or its timeout: a short one, so a small topic is quick
            messages = consumer.consume(_BATCH, 0.2)
            if not messages:
                if time.monotonic() - quiet_since > timeout_s:
                    raise TransientError(f"timed out reading {topic}")
                continue
            quiet_since = time.monotonic()
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        remaining.discard(int(message.partition() or 0))
                        continue
                    raise TransientError(f"cannot read {topic}: {error.name()}")
                count += 1
                each(message)
    finally:
        consumer.close()
    return count
