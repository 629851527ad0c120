"""After the broker really compacts the state topic, a new instance rebuilds the same registry."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# compaction as eager as the broker allows: new segment every 100 ms, clean anything dirty
EAGER = {
    "cleanup.policy": "compact",
    "segment.ms": "100",
    "min.cleanable.dirty.ratio": "0.001",
    "min.compaction.lag.ms": "0",
    "delete.retention.ms": "100",
}


def read_all(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "enable.partition.eof": True}
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records: list[tuple[bytes | None, bytes | None]] = []
    try:
        while True:
            msg = consumer.poll(10)
            assert msg is not None, "timed out reading the state topic"
            err = msg.error()
            if err is not None and err.code() == KafkaError._PARTITION_EOF:
                return records
            assert err is None
            records.append((msg.key(), msg.value()))
    finally:
        consumer.close()


def schema(name: str) -> Schema:
    return Schema(json.dumps({"type": "record", "name": name, "namespace": "uk.mais.k", "fields": []}))


def test_rebuild_after_real_compaction(
    kafka_bootstrap: str, unique_topic: Callable[..., str], start_registry: Callable[..., Any]
) -> None:
    topic = unique_topic("schemas")
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config=EAGER)])[topic].result(30)

    first = start_registry(topic=topic)
    client = SchemaRegistryClient({"url": first.url})
    client.set_compatibility(level="NONE")
    kept = {f"K{i}": client.register_schema(f"k{i}-value", schema(f"K{i}")) for i in range(3)}
    doomed = client.register_schema("doomed-value", schema("DoomedSchemaText"))
    client.delete_subject("doomed-value")
    client.delete_subject("doomed-value", permanent=True)
    client.set_compatibility("k0-value", "FORWARD")
    first.stop()

    before = [v for _k, v in read_all(kafka_bootstrap, topic) if v is not None]
    assert any(b"DoomedSchemaText" in v for v in before)  # until the cleaner runs, it is there

    # keep appending foreign records (the registry ignores them) so segments roll and get cleaned
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    deadline = time.monotonic() + 120
    while True:
        producer.produce(topic, key=uuid.uuid4().bytes, value=b"{}")
        producer.flush(10)
        values = [v for _k, v in read_all(kafka_bootstrap, topic) if v is not None]
        if not any(b"DoomedSchemaText" in v for v in values):
            break  # the permanently deleted registration record has been compacted away
        assert time.monotonic() < deadline, "the broker did not compact the state topic in time"
        time.sleep(2)

    second = start_registry(topic=topic)
    again = SchemaRegistryClient({"url": second.url})
    assert {f"K{i}": again.get_latest_version(f"k{i}-value").schema_id for i in range(3)} == kept
    assert again.get_compatibility("k0-value") == "FORWARD"
    assert again.get_compatibility() == "NONE"
    assert again.get_subjects() == ["k0-value", "k1-value", "k2-value"]
    # the deleted id is still known to have been used: the next schema gets a higher one
    assert again.register_schema("new-value", schema("New")) > max([*kept.values(), doomed])
