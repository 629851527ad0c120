"""State lives in the compacted topic: restarts (graceful or kill -9) keep every id and config."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from exchange.errors import ConfigError
from exchange.settings import KafkaSettings
from services.registry._kafka import ensure_topic

pytestmark = pytest.mark.integration


def fresh_client(client: SchemaRegistryClient) -> SchemaRegistryClient:
    """A second client on the same registry, with empty caches (every answer from the server)."""
    return SchemaRegistryClient({"url": client.config()["url"]})  # type: ignore[no-untyped-call]


def version_schema(n: int) -> Schema:
    fields = [{"name": "id", "type": "string"}] + [
        {"name": f"f{i}", "type": ["null", "long"], "default": None} for i in range(n)
    ]
    return Schema(json.dumps({"type": "record", "name": "Rec", "namespace": "uk.mais.d", "fields": fields}))


def seed(client: SchemaRegistryClient) -> dict[str, Any]:
    """A mixed history: versions, a soft delete, a permanent delete, subject and global config."""
    client.set_compatibility(level="FORWARD")
    for n in range(3):
        client.register_schema("durable-value", version_schema(n))
    client.register_schema("copy-value", version_schema(1))
    client.delete_version("durable-value", 3)
    gone = client.register_schema("gone-value", version_schema(7))
    client.delete_subject("gone-value")
    client.delete_subject("gone-value", permanent=True)
    client.set_compatibility("durable-value", "FULL")
    return snapshot(client) | {"gone_id": gone}


def snapshot(client: SchemaRegistryClient) -> dict[str, Any]:
    fresh = fresh_client(client)
    subjects = fresh.get_subjects(deleted=True)
    versions = {s: fresh.get_versions(s, deleted=True) for s in subjects}
    return {
        "subjects": subjects,
        "live": {s: fresh.get_versions(s) for s in fresh.get_subjects()},
        "ids": {
            (s, v): fresh.get_version(s, v, deleted=True).schema_id for s in subjects for v in versions[s]
        },
        "global": fresh.get_compatibility(),
        "durable": fresh.get_compatibility("durable-value"),
    }


def test_restart_keeps_ids_versions_and_config(spawn_registry: Callable[..., Any]) -> None:
    first = spawn_registry()
    before = seed(first.client())
    gone_id = before.pop("gone_id")

    first.process.send_signal(signal.SIGTERM)
    # graceful: uvicorn drains requests, the lifespan closes the store, then the signal ends it
    assert first.process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "registry_stopped" in first.log_events()

    second = spawn_registry()
    client = second.client()
    assert snapshot(client) == before
    # a new schema gets an id above every id ever given, including the permanently deleted one
    new_id = client.register_schema("after-value", version_schema(11))
    assert new_id > max([*before["ids"].values(), gone_id])
    # re-registering an existing schema answers its old id, without a new version
    assert client.register_schema("durable-value", version_schema(1)) == before["ids"][("durable-value", 2)]
    assert client.get_versions("durable-value") == before["live"]["durable-value"]


def test_kill_9_keeps_everything_acknowledged(spawn_registry: Callable[..., Any]) -> None:
    first = spawn_registry()
    before = seed(first.client())
    before.pop("gone_id")

    first.process.kill()  # SIGKILL: no shutdown hook runs
    first.process.wait(timeout=30)

    second = spawn_registry()
    assert snapshot(second.client()) == before


def test_topic_is_created_compacted_with_one_partition(
    start_registry: Callable[..., Any], kafka_bootstrap: str, registry_topic: str
) -> None:
    start_registry()
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    metadata = admin.list_topics(registry_topic, timeout=10).topics[registry_topic]
    assert len(metadata.partitions) == 1
    resource = ConfigResource(ConfigResource.Type.TOPIC, registry_topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=10)
    assert configs["cleanup.policy"].value == "compact"


@pytest.mark.slow
def test_topic_is_replicated_three_times_on_a_three_node_cluster(
    kafka_cluster3: Any, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic("schemas")
    ensure_topic(KafkaSettings(bootstrap_servers=kafka_cluster3.bootstrap_servers), topic)
    admin = AdminClient({"bootstrap.servers": kafka_cluster3.bootstrap_servers})
    deadline = time.monotonic() + 30
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    while not partitions and time.monotonic() < deadline:  # a broker may not have the metadata yet
        time.sleep(0.2)
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    assert list(partitions) == [0]
    assert len(partitions[0].replicas) == 3
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=10)
    assert configs["cleanup.policy"].value == "compact"
    assert configs["min.insync.replicas"].value == "2"


def test_a_state_topic_with_several_partitions_is_refused(
    kafka_bootstrap: str, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic("schemas")
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(30)
    with pytest.raises(ConfigError, match="needs exactly 1"):
        ensure_topic(KafkaSettings(bootstrap_servers=kafka_bootstrap), topic)
