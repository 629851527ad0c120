"""The registry driven only through confluent-kafka's SchemaRegistryClient and Avro serdes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import (
    ConfigCompatibilityLevel,
    Schema,
    SchemaReference,
    SchemaRegistryClient,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

pytestmark = pytest.mark.integration


def fresh_client(client: SchemaRegistryClient) -> SchemaRegistryClient:
    """A second client on the same registry, with empty caches (every answer from the server)."""
    return SchemaRegistryClient({"url": client.config()["url"]})  # type: ignore[no-untyped-call]


def record(name: str, *fields: dict[str, Any], namespace: str = "uk.mais.test") -> Schema:
    body = {"type": "record", "name": name, "namespace": namespace, "fields": list(fields)}
    return Schema(json.dumps(body), "AVRO")


PERSON_V1 = record("Person", {"name": "id", "type": "string"}, {"name": "age", "type": "int"})
PERSON_V2 = record(
    "Person",
    {"name": "id", "type": "string"},
    {"name": "age", "type": "int"},
    {"name": "nhs", "type": ["null", "string"], "default": None},
)


def error_of(call: Callable[[], object]) -> SchemaRegistryError:
    with pytest.raises(SchemaRegistryError) as caught:
        call()
    return caught.value


@pytest.fixture
def client(start_registry: Callable[..., Any]) -> SchemaRegistryClient:
    return start_registry().client()  # type: ignore[no-any-return]


def test_register_lookup_and_versions(client: SchemaRegistryClient) -> None:
    first = client.register_schema("people-value", PERSON_V1)
    second = client.register_schema("people-value", PERSON_V2)
    assert second != first

    # the same schema, differently spelled, is the same registration (no new version, same id)
    respelled = Schema(json.dumps(json.loads(str(PERSON_V1.schema_str)), indent=4), "AVRO")
    fresh = fresh_client(client)
    assert fresh.register_schema("people-value", respelled) == first
    assert fresh.get_versions("people-value") == [1, 2]

    found = fresh.lookup_schema("people-value", respelled)
    assert (found.schema_id, found.version, found.subject) == (first, 1, "people-value")

    latest = fresh.get_latest_version("people-value")
    assert (latest.version, latest.schema_id) == (2, second)
    assert json.loads(str(latest.schema.schema_str)) == json.loads(str(PERSON_V2.schema_str))
    assert fresh.get_version("people-value", 1).schema_id == first

    # the same schema under another subject keeps its id
    assert fresh.register_schema("other-value", PERSON_V1) == first
    assert sorted(fresh.get_subjects_by_schema_id(first)) == ["other-value", "people-value"]
    pairs = {(v.subject, v.version) for v in fresh.get_schema_versions(first)}
    assert pairs == {("people-value", 1), ("other-value", 1)}
    assert sorted(fresh.get_subjects()) == ["other-value", "people-value"]
    assert fresh.get_schema(second).schema_str == latest.schema.schema_str
    assert "AVRO" in fresh.get_schema_types()


def test_not_found_errors_carry_confluent_codes(client: SchemaRegistryClient) -> None:
    assert error_of(lambda: client.get_versions("missing")).error_code == 40401
    assert error_of(lambda: client.get_latest_version("missing")).error_code == 40401
    client.register_schema("s-value", PERSON_V1)
    assert error_of(lambda: client.get_version("s-value", 7)).error_code == 40402
    assert error_of(lambda: client.get_schema(999)).error_code == 40403
    assert error_of(lambda: client.lookup_schema("s-value", PERSON_V2)).error_code == 40403
    invalid = error_of(lambda: client.register_schema("s-value", Schema('{"type": "recrd"}', "AVRO")))
    assert (invalid.http_status_code, invalid.error_code) == (422, 42201)


def test_soft_and_permanent_deletes(client: SchemaRegistryClient) -> None:
    v1 = client.register_schema("d-value", PERSON_V1)
    v2 = client.register_schema("d-value", PERSON_V2)

    assert error_of(lambda: client.delete_version("d-value", 1, permanent=True)).error_code == 40407
    assert client.delete_version("d-value", 1) == 1
    assert error_of(lambda: client.delete_version("d-value", 1)).error_code == 40406
    assert client.get_versions("d-value") == [2]
    assert client.get_versions("d-value", deleted=True) == [1, 2]
    # a soft-deleted version still resolves by id, so old records stay readable
    assert fresh_client(client).get_schema(v1).schema_str

    assert error_of(lambda: client.delete_subject("d-value", permanent=True)).error_code == 40405
    assert client.delete_subject("d-value") == [2]
    assert error_of(lambda: client.delete_subject("d-value")).error_code == 40404
    assert client.get_subjects() == []
    assert client.get_subjects(deleted=True) == ["d-value"]
    assert client.delete_subject("d-value", permanent=True) == [1, 2]
    assert error_of(lambda: client.get_versions("d-value", deleted=True)).error_code == 40401

    # ids are never reused: the next new schema gets a fresh id, the old ids are gone
    v3 = client.register_schema("d-value", record("Other", {"name": "x", "type": "long"}))
    assert v3 > max(v1, v2)
    fresh = fresh_client(client)
    assert error_of(lambda: fresh.get_schema(v2)).error_code == 40403
    # after a permanent delete the subject starts again at version 1
    assert fresh.get_latest_version("d-value").version == 1


def test_config_and_mode(client: SchemaRegistryClient) -> None:
    assert client.get_compatibility() == "BACKWARD"
    client.set_compatibility(level="FULL")
    assert client.get_compatibility() == "FULL"
    assert client.get_config().compatibility_level == ConfigCompatibilityLevel.FULL

    assert error_of(lambda: client.get_compatibility("plain-value")).error_code == 40408
    assert client.get_compatibility("mais.la1.person.v1-value") == "FULL_TRANSITIVE"
    client.set_compatibility("plain-value", "NONE")
    assert client.get_compatibility("plain-value") == "NONE"
    assert client.delete_config("plain-value").compatibility_level == ConfigCompatibilityLevel.NONE
    assert error_of(lambda: client.get_compatibility("plain-value")).error_code == 40408

    bad = error_of(lambda: client.set_compatibility(level="SIDEWAYS"))
    assert (bad.http_status_code, bad.error_code) == (422, 42203)

    assert client.get_global_mode() == "READWRITE"
    assert client.update_global_mode("READONLY") == "READONLY"
    refused = error_of(lambda: client.register_schema("ro-value", PERSON_V1))
    assert (refused.http_status_code, refused.error_code) == (422, 42205)
    client.update_global_mode("READWRITE")
    assert client.register_schema("ro-value", PERSON_V1) >= 1
    assert error_of(lambda: client.update_global_mode("SOMETIMES")).error_code == 42204


def test_compatibility_checks_name_what_broke(client: SchemaRegistryClient) -> None:
    client.register_schema("c-value", PERSON_V1)
    assert client.test_compatibility("c-value", PERSON_V2) is True
    breaking = record("Person", {"name": "id", "type": "string"}, {"name": "age", "type": "string"})
    assert client.test_compatibility("c-value", breaking) is False
    assert client.test_compatibility("c-value", breaking, version=1, verbose=True) is False

    conflict = error_of(lambda: client.register_schema("c-value", breaking))
    assert (conflict.http_status_code, conflict.error_code) == (409, 409)
    assert "uk.mais.test.Person" in conflict.error_message
    assert "'age'" in conflict.error_message
    assert "type_mismatch" in conflict.error_message
    assert error_of(lambda: client.test_compatibility("c-value", breaking, version=9)).error_code == 40402
    assert error_of(lambda: client.test_compatibility("none-value", breaking)).error_code == 40401


def test_references(client: SchemaRegistryClient) -> None:
    address = record("Address", {"name": "postcode", "type": "string"})
    client.register_schema("uk.mais.test.Address", address)
    person = Schema(
        json.dumps(
            {
                "type": "record",
                "name": "Resident",
                "namespace": "uk.mais.test",
                "fields": [{"name": "home", "type": "uk.mais.test.Address"}],
            }
        ),
        "AVRO",
        [SchemaReference("uk.mais.test.Address", "uk.mais.test.Address", 1)],
    )
    schema_id = client.register_schema("residents-value", person)
    got = client.get_latest_version("residents-value")
    assert got.schema.references == [SchemaReference("uk.mais.test.Address", "uk.mais.test.Address", 1)]
    assert client.get_referenced_by("uk.mais.test.Address", 1) == [schema_id]
    referenced = error_of(lambda: client.delete_subject("uk.mais.test.Address"))
    assert referenced.error_code == 42206

    ctx = SerializationContext("residents", MessageField.VALUE)
    # the serializer uses what is registered under residents-value, references resolved by the client
    serializer = AvroSerializer(
        client, person, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    data = serializer({"home": {"postcode": "AB1 2CD"}}, ctx)
    assert int.from_bytes(data[1:5], "big") == schema_id
    assert AvroDeserializer(client)(data, ctx) == {"home": {"postcode": "AB1 2CD"}}

    missing = Schema(person.schema_str, "AVRO", [SchemaReference("uk.mais.test.Address", "nowhere", 1)])
    assert error_of(lambda: client.register_schema("broken-value", missing)).error_code == 42201


def test_serializer_round_trip_through_kafka(
    client: SchemaRegistryClient, kafka_bootstrap: str, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic("people")
    serializer = AvroSerializer(client, PERSON_V2.schema_str)
    values = [{"id": f"p{i}", "age": 30 + i, "nhs": None if i % 2 else f"n{i}"} for i in range(5)]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for value in values:
        producer.produce(topic, value=serializer(value, SerializationContext(topic, MessageField.VALUE)))
    assert producer.flush(30) == 0

    registered = client.get_latest_version(f"{topic}-value")
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": topic, "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    # a client that has never seen the schema resolves the writer schema by id from the registry
    deserializer = AvroDeserializer(fresh_client(client))
    got: list[Any] = []
    try:
        while len(got) < len(values):
            msg = consumer.poll(10)
            assert msg is not None, "timed out waiting for records"
            assert msg.error() is None
            raw = msg.value()
            assert raw is not None and int.from_bytes(raw[1:5], "big") == registered.schema_id
            got.append(deserializer(raw, SerializationContext(topic, MessageField.VALUE)))
    finally:
        consumer.close()
    assert got == values
