"""A three-node cluster loses a broker mid-stream and no acknowledged record is lost or doubled."""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicCollection
from confluent_kafka.admin import AdminClient, NewTopic

from exchange.localkafka import LocalKafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RECORDS = 10_000
KILL_AT = 3_000  # records produced before the leader of partition 0 is killed


def partition_leader(bootstrap: str, topic: str, partition: int = 0, timeout: float = 90) -> int:
    """The partition's leader, asking again while a request lands on a broker that just died.

    Each attempt uses a new admin client: one that learned the killed node as its controller keeps
    waiting for it ("Timed out waiting for controller") instead of asking a live broker.
    """
    deadline = time.monotonic() + timeout
    while True:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        future = admin.describe_topics(TopicCollection([topic]), request_timeout=10)[topic]
        try:
            leader: int = future.result(timeout=15).partitions[partition].leader.id
            return leader
        except (KafkaException, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def wait_for_full_isr(admin: AdminClient, topic: str, replicas: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            description = admin.describe_topics(TopicCollection([topic]))[topic].result(timeout=30)
        except KafkaException:  # the new topic's metadata has not reached every broker yet
            time.sleep(0.5)
            continue
        if all(len(p.isr) == replicas for p in description.partitions):
            return
        time.sleep(0.5)
    raise AssertionError(f"{topic} did not reach an ISR of {replicas} in {timeout}s")


def test_acknowledged_records_survive_killing_a_leader_exactly_once(
    kafka_cluster3: LocalKafkaCluster, unique_topic: Callable[..., str]
) -> None:
    bootstrap = kafka_cluster3.bootstrap_servers
    topic = unique_topic()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics(
        [NewTopic(topic, num_partitions=6, replication_factor=3, config={"min.insync.replicas": "2"})]
    )[topic].result(timeout=60)
    wait_for_full_isr(admin, topic, replicas=3)

    acked: list[str] = []
    failed: list[str] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        key = msg.key().decode()
        (failed if err is not None else acked).append(key)

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "delivery.timeout.ms": 120_000,
        }
    )
    victim = None
    for i in range(RECORDS):
        while True:
            try:
                producer.produce(
                    topic, key=f"rec-{i}".encode(), value=str(i).encode(), on_delivery=on_delivery
                )
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
        if i % 100 == 0:
            producer.poll(0.01)  # spread the writes over time so many are in flight around the kill
        if i == KILL_AT:
            while len(acked) < KILL_AT // 2:  # the stream is really flowing when the broker dies
                producer.poll(0.1)
            victim = partition_leader(bootstrap, topic)
            kafka_cluster3.kill_node(victim, signal.SIGKILL)
    assert producer.flush(180) == 0
    assert victim is not None, "the broker was never killed: the test did not test failover"
    assert not failed, f"{len(failed)} records were not acknowledged"
    assert len(acked) == RECORDS

    # a new leader took over partition 0
    assert partition_leader(bootstrap, topic) != victim

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"failover-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    seen: Counter[str] = Counter()
    values: dict[str, bytes] = {}
    deadline = time.monotonic() + 120
    quiet_polls = 0
    try:
        while time.monotonic() < deadline and quiet_polls < 6:
            msg = consumer.poll(0.5)
            if msg is None:
                quiet_polls += 1 if sum(seen.values()) >= RECORDS else 0
                continue
            if msg.error():
                raise KafkaException(msg.error())
            key = msg.key().decode()
            seen[key] += 1
            values[key] = msg.value()
    finally:
        consumer.close()

    assert set(seen) == set(acked)
    duplicates = {key: n for key, n in seen.items() if n != 1}
    assert not duplicates, f"records read more than once: {len(duplicates)}"
    assert all(values[f"rec-{i}"] == str(i).encode() for i in range(RECORDS))

    kafka_cluster3.start_node(victim)
