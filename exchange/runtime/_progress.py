"""Durable progress of non-Kafka sources, kept in Kafka and committed with the outputs.

Progress records live on the compacted topic ``mais.<agency>.progress.v1``, keyed by
``<adapter>|<unit id>`` with a small JSON value ``{"done": N, "complete": bool}``. They are
written in the same transaction as the outputs they account for, so after a crash the progress
read back (``read_committed``) is exactly what was delivered: a unit is resumed after its last
committed record, never half-ingested twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from exchange.errors import TransientError
from exchange.settings import KafkaSettings

__all__ = ["Progress", "ProgressStore"]


@dataclass(frozen=True, slots=True)
class Progress:
    done: int = 0
    complete: bool = False

    def encode(self) -> bytes:
        return json.dumps({"done": self.done, "complete": self.complete}).encode()


class ProgressStore:
    """Reads all progress of one adapter at start-up; the loop updates it as transactions commit."""

    def __init__(self, kafka: KafkaSettings, topic: str, adapter: str) -> None:
        self.kafka = kafka
        self.topic = topic
        self.adapter = adapter
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
        futures = admin.create_topics(
            [NewTopic(self.topic, num_partitions=1, config={"cleanup.policy": "compact"})],
            operation_timeout=timeout_s,
        )
        try:
            futures[self.topic].result(timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise TransientError(f"cannot create progress topic: {exc.args[0].name()}") from None

    def load(self, timeout_s: float = 60.0) -> int:
        """Read every committed progress record of this adapter; returns how many units are known."""
        config: dict[str, Any] = {
            **self.kafka.confluent_config(),
            # under the topic's name, so under its agency's prefix (the only groups it may use)
            "group.id": f"{self.topic}.reader.{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
        consumer = Consumer(config)
        try:
            metadata = consumer.list_topics(self.topic, timeout=timeout_s).topics[self.topic]
            partitions = [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in metadata.partitions]
            consumer.assign(partitions)
            remaining = {p.partition for p in partitions}
            prefix = f"{self.adapter}|".encode()
            while remaining:
                message = consumer.poll(timeout_s)
                if message is None:
                    raise TransientError("timed out reading the progress topic")
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        remaining.discard(int(message.partition() or 0))
                        continue
                    raise TransientError(f"cannot read the progress topic: {error.name()}")
                key, value = message.key(), message.value()
                if isinstance(key, bytes) and key.startswith(prefix) and isinstance(value, bytes):
                    state = json.loads(value)
                    self._state[key[len(prefix) :].decode()] = Progress(
                        int(state["done"]), bool(state["complete"])
                    )
        finally:
            consumer.close()
        return len(self._state)
