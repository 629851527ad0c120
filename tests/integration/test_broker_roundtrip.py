"""Both Kafka clients the project uses talk to the real broker: produce, consume, transactions."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration


def create_topic(settings: KafkaSettings, name: str, partitions: int = 1) -> None:
    admin = AdminClient(settings.confluent_config())
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    futures[name].result(timeout=30)


def consume_all(
    settings: KafkaSettings,
    topic: str,
    expected: int,
    *,
    isolation: str = "read_committed",
    timeout: float = 60,
) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    """Read ``topic`` from the beginning until ``expected`` records arrived (or timeout)."""
    consumer = Consumer(
        {
            **settings.confluent_config(),
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    consumer.subscribe([topic])
    seen: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
    deadline = time.monotonic() + timeout
    idle_after_expected = 0
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                # once we have what we expect, keep polling a little to catch unexpected extras
                if len(seen) >= expected:
                    idle_after_expected += 1
                    if idle_after_expected >= 4:
                        break
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"consumer error: {msg.error()}")
            seen.append((msg.key(), msg.value(), list(msg.headers() or [])))
    finally:
        consumer.close()
    return seen


def test_confluent_kafka_produce_and_consume_keeps_keys_values_headers(
    kafka_settings: KafkaSettings, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic()
    create_topic(kafka_settings, topic, partitions=3)
    producer = Producer({**kafka_settings.confluent_config(), "enable.idempotence": True, "acks": "all"})
    for i in range(100):
        producer.produce(
            topic, key=f"k{i}".encode(), value=f"v{i}".encode(), headers=[("ce_id", f"{i}".encode())]
        )
    assert producer.flush(30) == 0

    records = consume_all(kafka_settings, topic, expected=100)

    assert sorted(records) == sorted(
        (f"k{i}".encode(), f"v{i}".encode(), [("ce_id", f"{i}".encode())]) for i in range(100)
    )


def test_aiokafka_produce_and_consume(
    kafka_settings: KafkaSettings, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic()
    create_topic(kafka_settings, topic)

    async def scenario() -> list[tuple[bytes | None, bytes | None]]:
        producer = AIOKafkaProducer(**kafka_settings.aiokafka_config(), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for i in range(50):
                await producer.send_and_wait(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            **kafka_settings.aiokafka_config(),
            group_id=f"test-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        got: list[tuple[bytes | None, bytes | None]] = []
        try:
            async with asyncio.timeout(60):
                while len(got) < 50:
                    batch = await consumer.getmany(timeout_ms=1000)
                    for messages in batch.values():
                        got.extend((m.key, m.value) for m in messages)
        finally:
            await consumer.stop()
        return got

    got = asyncio.run(scenario())
    assert got == [(f"k{i}".encode(), f"v{i}".encode()) for i in range(50)]


def test_records_written_by_one_client_are_read_by_the_other(
    kafka_settings: KafkaSettings, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic()
    create_topic(kafka_settings, topic)
    producer = Producer(kafka_settings.confluent_config())
    producer.produce(topic, key=b"person|1", value=b"\x00\x00\x00\x00\x01payload")
    assert producer.flush(30) == 0

    async def read_one() -> tuple[bytes | None, bytes | None]:
        consumer = AIOKafkaConsumer(
            topic, **kafka_settings.aiokafka_config(), group_id=None, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            msg = await asyncio.wait_for(consumer.getone(), timeout=60)
        finally:
            await consumer.stop()
        return msg.key, msg.value

    assert asyncio.run(read_one()) == (b"person|1", b"\x00\x00\x00\x00\x01payload")


def test_read_committed_consumer_never_sees_aborted_transaction(
    kafka_settings: KafkaSettings, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic()
    create_topic(kafka_settings, topic, partitions=2)
    producer = Producer({**kafka_settings.confluent_config(), "transactional.id": f"tx-{uuid.uuid4().hex}"})
    producer.init_transactions(60)

    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, key=f"c{i}".encode(), value=b"committed-1")
    producer.commit_transaction(60)

    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, key=f"a{i}".encode(), value=b"aborted")
    producer.flush(30)  # the aborted records really reach the log before the abort
    producer.abort_transaction(60)

    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, key=f"d{i}".encode(), value=b"committed-2")
    producer.commit_transaction(60)

    committed = consume_all(kafka_settings, topic, expected=20, isolation="read_committed")
    uncommitted = consume_all(kafka_settings, topic, expected=30, isolation="read_uncommitted")

    assert sorted(value for _, value, _ in committed) == [b"committed-1"] * 10 + [b"committed-2"] * 10
    # the same log read without isolation does contain the aborted records: the filter is real
    assert sum(1 for _, value, _ in uncommitted if value == b"aborted") == 10
