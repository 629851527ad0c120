"""At scale on the local 3-node cluster: two adapter instances share the partitions while a broker
is SIGKILLed mid-stream; afterwards every input's output is there exactly once (by identifier).

Topics have replication factor 3 and ``min.insync.replicas=2``: losing one broker must stop
nothing. The killed broker is the leader of one of the source topic's partitions (so partitions
and, likely, a transaction coordinator move); it is restarted at the end for the other tests that
share the cluster.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient  # type: ignore[attr-defined]
from runtime_it_helpers import people_lines, produce_lines, subprocess_env
from test_runtime_chaos import POISON_EVERY, AdapterProcess, _assert_no_personal_data, _check_exactly_once

from exchange.localkafka import LocalKafkaCluster
from exchange.security import SecurityAdmin
from exchange.settings import KafkaSettings
from exchange.topics import TopicSpec, agency_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

RECORDS = 20_000


def _leader(bootstrap: str, topic: str, partition: int) -> int:
    """The partition's leader (a fresh admin client each try: the cluster may be electing)."""
    deadline = time.monotonic() + 60
    while True:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        try:
            described = admin.describe_topics(TopicCollection([topic]), request_timeout=10)[topic].result(15)
            return int(described.partitions[partition].leader.id)
        except (KafkaException, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_two_instances_and_a_broker_killed_mid_stream_lose_and_duplicate_nothing(
    kafka_cluster3: LocalKafkaCluster,
    schema_registry_url: str,
    agency: str,
    unique_topic: object,
    tmp_path: Path,
) -> None:
    bootstrap = kafka_cluster3.bootstrap_servers
    topic = unique_topic("raw")  # type: ignore[operator]
    admin = SecurityAdmin(KafkaSettings(bootstrap_servers=bootstrap))
    admin.ensure_topics([TopicSpec(topic, 6), *agency_topics(agency, partitions=6)], replicas=3)
    lines = people_lines(RECORDS, poison_every=POISON_EVERY)
    env = subprocess_env(bootstrap, schema_registry_url)

    def feed() -> None:
        for start in range(0, len(lines), 1000):
            produce_lines(bootstrap, topic, lines[start : start + 1000])
            time.sleep(0.5)

    first = AdapterProcess(f"kafka:{topic}", agency, env, tmp_path, instance_id="a")
    second = AdapterProcess(f"kafka:{topic}", agency, env, tmp_path, instance_id="b")
    first.start()
    second.start()
    first.wait_ready(90)
    second.wait_ready(90)
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    time.sleep(3)  # both instances are working through the stream
    victim = _leader(bootstrap, topic, 0)
    kafka_cluster3.kill_node(victim, signal.SIGKILL)
    try:
        feeder.join(180)
        assert not feeder.is_alive(), "producing stalled after the broker was killed"
        _check_exactly_once(bootstrap, agency, lines)
        assert first.process is not None and first.process.poll() is None, first.logs()[-3000:]
        assert second.process is not None and second.process.poll() is None, second.logs()[-3000:]
    finally:
        kafka_cluster3.start_node(victim)
        assert first.terminate() == 0
        assert second.terminate() == 0
    logs = first.logs()
    assert '"partitions assigned"' in logs or "partitions assigned" in logs
    _assert_no_personal_data(logs, lines)
