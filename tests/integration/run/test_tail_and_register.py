"""`mais tail` and `mais schemas register` against a real broker and registry."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid

import pytest
from confluent_kafka import Producer

from exchange.cli.tail import tail_topic
from exchange.codec import AvroCodec, topic_record_name_strategy
from exchange.registry_client import SchemaRegistryClient
from exchange.schemas import event_names, schema_json
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration

PERSON_REMOVED = {
    "publisher": {"value": "R9Z", "system": "https://fhir.nhs.uk/Id/ods-organization-code"},
    "recordedAt": 1_700_000_000_000,
    "subjectIdentifier": [{"value": "M1", "system": "https://mais-exchange.org/Id/local/R9Z/mrn"}],
}


def _mais(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_schemas_register_loads_every_event_schema_and_is_idempotent(schema_registry_url: str) -> None:
    env = {**os.environ, "MAIS_SCHEMA_REGISTRY_URL": "http://127.0.0.1:9"}  # --registry-url must win
    first = _mais("schemas", "register", "--registry-url", schema_registry_url, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    registry = SchemaRegistryClient(schema_registry_url)
    ids = {name: registry.latest_version(name).id for name in event_names()}
    for name, schema_id in ids.items():
        stored = json.loads(registry.get_schema(schema_id))
        assert f"{stored.get('namespace', '')}.{stored['name']}".lstrip(".") == name
        assert registry.lookup(name, schema_json(name)) is not None
    again = _mais("schemas", "register", "--registry-url", schema_registry_url, env=env)
    assert again.returncode == 0
    assert f"{len(ids)} event schemas in the registry, 0 newly registered" in again.stdout
    assert {name: registry.latest_version(name).version for name in ids} == dict.fromkeys(ids, 1)


def test_tail_prints_decoded_events_with_headers_and_survives_undecodable_records(
    kafka_bootstrap: str, schema_registry_url: str
) -> None:
    topic = f"mais.t{uuid.uuid4().hex[:8]}.person.v1"
    registry = SchemaRegistryClient(schema_registry_url)
    codec = AvroCodec(registry, subject_strategy=topic_record_name_strategy)
    value = dict(PERSON_REMOVED)
    schema = schema_json("mais.v1.PersonRemoved")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    headers = [("ce_type", b"mais.v1.PersonRemoved"), ("ce_id", b"e-1"), ("other", b"x")]
    producer.produce(topic, codec.encode(topic, schema, value), b"k1", headers=headers)
    producer.produce(topic, b"not avro at all", b"k2")
    producer.produce(topic, codec.encode(topic, schema, value), b"k3")
    assert producer.flush(30) == 0

    out, err = io.StringIO(), io.StringIO()
    printed = tail_topic(
        KafkaSettings(bootstrap_servers=kafka_bootstrap),
        registry,
        topic,
        from_beginning=True,
        max_events=2,
        idle_timeout=20,
        out=out,
        err=err,
    )
    assert printed == 2
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["key"] for e in events] == ["k1", "k3"]
    assert events[0]["headers"] == {"ce_type": "mais.v1.PersonRemoved", "ce_id": "e-1"}
    assert events[0]["topic"] == topic and events[0]["offset"] == 0
    assert events[0]["value"]["publisher"] == value["publisher"]
    assert events[0]["value"]["recordedAt"] == "2023-11-14T22:13:20.000Z"
    assert events[0]["value"]["reason"] is None
    assert "cannot decode" in err.getvalue() and f"{topic}/" in err.getvalue()
    assert "not avro" not in err.getvalue()  # never the record's content
