"""Kafka plumbing shared by responder, requester and gateway: topics, own-record readers, decoding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from exchange.codec import AvroCodec, topic_record_name_strategy
from exchange.envelope import parse_headers
from exchange.errors import DataError, TransientError
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.settings import KafkaSettings

__all__ = ["TopicReader", "ensure_topics", "make_codec"]


def make_codec(registry: RegistrySettings | str) -> AvroCodec:
    """A codec for the enquiry topics, which carry several event types (topic-record subjects).

    ``registry`` is the registry's settings (URL, credentials, CA) or, for an open local one, its URL.
    """
    settings = RegistrySettings(url=registry) if isinstance(registry, str) else registry
    client = SchemaRegistryClient.from_settings(settings)
    return AvroCodec(client, subject_strategy=topic_record_name_strategy)


def ensure_topics(
    kafka: KafkaSettings, topics: Mapping[str, Mapping[str, str]], timeout_s: float = 30.0
) -> None:
    """Create the missing ``topics`` (name -> config), one partition each."""
    admin_config: dict[str, Any] = dict(kafka.confluent_config())
    admin = AdminClient(admin_config)
    existing = admin.list_topics(timeout=timeout_s).topics
    missing = [
        NewTopic(t, num_partitions=1, replication_factor=-1, config=dict(c))
        for t, c in topics.items()
        if t not in existing
    ]
    if not missing:
        return
    for topic, future in admin.create_topics(missing).items():
        try:
            future.result(timeout_s)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise TransientError(f"could not create topic {topic} ({type(exc).__name__})") from None


class TopicReader:
    """Follows topics from the beginning without a consumer group (the agency's own records)."""

    def __init__(self, kafka: KafkaSettings, topics: list[str], *, group_id: str) -> None:
        self._consumer = Consumer(
            {
                **kafka.confluent_config(),
                "group.id": group_id,  # never committed; the principal must still be allowed it
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
            }
        )
        self._topics = topics
        self._assigned = False

    def _assign(self) -> set[tuple[str, int]]:
        partitions: list[TopicPartition] = []
        for topic in self._topics:
            metadata = self._consumer.list_topics(topic, timeout=30).topics.get(topic)
            if metadata is not None and metadata.error is None:
                partitions += [TopicPartition(topic, p, -2) for p in metadata.partitions]
        self._consumer.assign(partitions)
        self._assigned = True
        return {(p.topic, p.partition) for p in partitions}

    def catch_up(self, apply: Callable[[Message], None], timeout_s: float = 120.0) -> int:
        """Read everything there is now; return how many records were applied."""
        pending = self._assign() if not self._assigned else set()
        count = 0
        while pending:
            message = self._consumer.poll(timeout_s)
            if message is None:
                raise TransientError("reading the agency's own topics stalled", hint="check the broker")
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    pending.discard((str(message.topic()), int(message.partition() or 0)))
                continue
            apply(message)
            count += 1
        return count

    def poll(self, apply: Callable[[Message], None], max_records: int = 500) -> int:
        """Apply what has arrived since, without waiting."""
        count = 0
        for message in self._consumer.consume(num_messages=max_records, timeout=0):
            if message.error() is None:
                apply(message)
                count += 1
        return count

    def close(self) -> None:
        self._consumer.close()


def event_type(message: Message) -> str:
    """The ``ce_type`` of a message (``DataError`` if the envelope is missing)."""
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return parse_headers([(n, v.encode() if isinstance(v, str) else v) for n, v in pairs]).type


def decode_value(codec: AvroCodec, message: Message) -> Mapping[str, Any]:
    value = message.value()
    if not value:
        raise DataError("message has no value", stage="read")
    decoded = codec.decode(bytes(value)).value
    if not isinstance(decoded, Mapping):
        raise DataError("message value is not a record", stage="read")
    return decoded
