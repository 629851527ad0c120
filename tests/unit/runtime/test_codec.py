from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.codec import AvroCodec, record_name_strategy, topic_record_name_strategy
from exchange.errors import ConfigError, DataError
from exchange.testing import InMemorySchemaRegistry

PERSON = json.dumps(
    {
        "type": "record",
        "name": "Person",
        "namespace": "mais.test",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "given_name", "type": ["null", "string"], "default": None},
            {"name": "birth_date", "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
            {"name": "aliases", "type": {"type": "array", "items": "string"}, "default": []},
            {"name": "score", "type": "double", "default": 0.0},
        ],
    }
)
VALUE = {"id": "p1", "given_name": "Amelia", "birth_date": None, "aliases": ["Millie"], "score": 0.5}
TOPIC = "mais.leeds-cc.person.v1"


@pytest.fixture
def registry() -> InMemorySchemaRegistry:
    return InMemorySchemaRegistry()


def test_round_trip_with_confluent_framing(registry: InMemorySchemaRegistry) -> None:
    codec = AvroCodec(registry)
    data = codec.encode(TOPIC, PERSON, VALUE)
    magic, schema_id = struct.unpack(">bI", data[:5])
    assert magic == 0
    assert schema_id == registry.latest_version(f"{TOPIC}-value").id
    decoded = AvroCodec(registry).decode(data)
    assert decoded.schema_id == schema_id
    assert decoded.value == VALUE


def test_registry_is_asked_once_per_schema_and_once_per_id(registry: InMemorySchemaRegistry) -> None:
    writer, reader = AvroCodec(registry), AvroCodec(registry)
    frames = [writer.encode(TOPIC, PERSON, VALUE) for _ in range(100)]
    for frame in frames:
        reader.decode(frame)
    assert registry.requests == 2  # one register, one get by id


def test_unknown_schema_id_is_a_read_error(registry: InMemorySchemaRegistry) -> None:
    with pytest.raises(DataError) as caught:
        AvroCodec(registry).decode(b"\x00\x00\x00\x03\xe7\x02")
    assert caught.value.stage == "read"
    assert "999" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x00", b"\x01\x00\x00\x00\x01\x02", b'{"id": "p1"}', b"MSH|^~\\&|"],
)
def test_foreign_bytes_are_read_errors(registry: InMemorySchemaRegistry, data: bytes) -> None:
    AvroCodec(registry).encode(TOPIC, PERSON, VALUE)
    with pytest.raises(DataError) as caught:
        AvroCodec(registry).decode(data)
    assert caught.value.stage == "read"


def test_truncated_and_padded_bodies_are_read_errors(registry: InMemorySchemaRegistry) -> None:
    codec = AvroCodec(registry)
    data = codec.encode(TOPIC, PERSON, VALUE)
    for broken in (data[:-3], data + b"\x00\x00"):
        with pytest.raises(DataError) as caught:
            codec.decode(broken)
        assert caught.value.stage == "read"


def test_unfitting_value_is_a_serialize_error_naming_the_field(
    registry: InMemorySchemaRegistry,
) -> None:
    codec = AvroCodec(registry)
    with pytest.raises(DataError) as caught:
        codec.encode(TOPIC, PERSON, {**VALUE, "score": "Okonkwo"})
    assert caught.value.stage == "serialize"
    assert "score" in caught.value.message
    assert "Okonkwo" not in caught.value.message
    with pytest.raises(DataError) as missing:
        codec.encode(TOPIC, PERSON, {"given_name": "Amelia"})
    assert missing.value.stage == "serialize"
    assert "Amelia" not in missing.value.message


def test_subject_name_strategies(registry: InMemorySchemaRegistry) -> None:
    AvroCodec(registry, subject_strategy=record_name_strategy).encode(TOPIC, PERSON, VALUE)
    AvroCodec(registry, subject_strategy=topic_record_name_strategy).encode(TOPIC, PERSON, VALUE)
    assert registry.latest_version("mais.test.Person").schema == PERSON
    assert registry.latest_version(f"{TOPIC}-mais.test.Person").schema == PERSON


def test_unregistered_schema_is_refused_without_auto_registration(
    registry: InMemorySchemaRegistry,
) -> None:
    with pytest.raises(ConfigError, match="not registered under subject") as caught:
        AvroCodec(registry, auto_register=False).encode(TOPIC, PERSON, VALUE)
    assert caught.value.hint
    registry.register(f"{TOPIC}-value", PERSON)
    assert (
        AvroCodec(registry, auto_register=False)
        .decode(AvroCodec(registry, auto_register=False).encode(TOPIC, PERSON, VALUE))
        .value
        == VALUE
    )


def test_reader_schema_resolution(registry: InMemorySchemaRegistry) -> None:
    codec = AvroCodec(registry)
    data = codec.encode(TOPIC, PERSON, VALUE)
    reader = json.loads(PERSON)
    reader["fields"] = [f for f in reader["fields"] if f["name"] in ("id", "score")]
    assert codec.decode(data, reader_schema=json.dumps(reader)).value == {"id": "p1", "score": 0.5}
    # the parsed reader is kept per (writer id, reader): a second decode and the writer's own schema
    assert codec.decode(data, reader_schema=json.dumps(reader)).value == {"id": "p1", "score": 0.5}
    assert codec.decode(data, reader_schema=PERSON).value == VALUE
    assert codec.decode(data, reader_schema=json.dumps(reader)).value == {"id": "p1", "score": 0.5}


_REGISTRY = InMemorySchemaRegistry()
_CODEC = AvroCodec(_REGISTRY)
_GOOD = _CODEC.encode(TOPIC, PERSON, VALUE)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    try:
        _CODEC.decode(data)
    except DataError as error:
        assert error.stage == "read"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=60), st.integers(min_value=0, max_value=60))
def test_corrupted_frames_never_crash_the_decoder(noise: bytes, cut: int) -> None:
    data = _GOOD[:5] + noise[:cut] + _GOOD[5 + cut :]
    try:
        _CODEC.decode(data)
    except DataError as error:
        assert error.stage == "read"
