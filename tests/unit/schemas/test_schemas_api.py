"""The public API of exchange.schemas that codecs, the registry and adapters call."""

from __future__ import annotations

import io
import json

import avro.schema
import fastavro
import pytest

from exchange.errors import ConfigError, DataError
from exchange.schemas import (
    code_table,
    default_repository,
    event_names,
    load_schema,
    schema_json,
    to_code,
    to_symbol,
)

EVENTS = {
    "mais.v1.PersonRecorded",
    "mais.v1.PersonRemoved",
    "mais.v1.PersonsMerged",
    "mais.v1.ServiceEpisodeRecorded",
    "mais.v1.ServiceEpisodeClosed",
    "mais.v1.LifeEventRecorded",
    "mais.v1.InformationRequest",
    "mais.v1.InformationResponse",
    "mais.v1.SharingDecision",
    "mais.v1.AuditEntry",
    "mais.v1.AuditCheckpoint",  # seals a writer's audit chain (docs/audit.md)
}


def test_event_names_are_exactly_the_events_of_the_contract() -> None:
    assert set(event_names()) == EVENTS


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_schema_json_is_self_contained(name: str) -> None:
    text = schema_json(name)
    # parses on its own, without any other named type registered beforehand
    parsed = fastavro.parse_schema(json.loads(text), named_schemas={})
    assert parsed["name"] == name
    # every named type is defined once and then referenced by name
    doc = json.loads(text)
    defined: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("record", "enum", "fixed"):
                defined.append(node["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert len(defined) == len(set(defined))


def test_load_schema_resolves_named_types_for_fastavro() -> None:
    schema = load_schema("mais.v1.PersonsMerged")
    record = {
        "publisher": {"value": "X1Y2Z", "system": "https://fhir.nhs.uk/Id/ods-organization-code"},
        "recordedAt": 1_700_000_000_000,
        "subjectIdentifier": [{"value": "LA-1", "system": "https://example.org/Id/person"}],
        "mergedIdentifier": [{"value": "LA-2", "system": "https://example.org/Id/person"}],
    }
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, record)
    buffer.seek(0)
    decoded = fastavro.schemaless_reader(buffer, schema, schema)
    assert decoded["mergedIdentifier"] == record["mergedIdentifier"]


def test_unknown_schema_is_a_config_error_with_a_hint() -> None:
    with pytest.raises(ConfigError) as caught:
        load_schema("mais.v1.NoSuchThing")
    assert caught.value.hint


@pytest.mark.parametrize(
    ("vocabulary", "code", "symbol"),
    [
        ("GenderCode", "1", "MALE"),
        ("GenderCode", "X", "NOT_KNOWN"),
        ("PhenotypicSexCode", "9", "INDETERMINATE"),
        ("EthnicityCode", "13", "WHITE_BRITISH"),
        ("EthnicityCode", "-8", "DOES_NOT_APPLY"),
        ("mais.v1.NameUseCode", "maiden", "maiden"),
        ("PersonRelationshipCode", "MTH", "MTH"),
    ],
)
def test_codes_and_symbols_map_both_ways(vocabulary: str, code: str, symbol: str) -> None:
    assert to_symbol(vocabulary, code) == symbol
    assert to_code(vocabulary, symbol) == code


@pytest.mark.parametrize("vocabulary", ["GenderCode", "PhenotypicSexCode", "EthnicityCode"])
def test_mapping_is_lossless_for_every_code(vocabulary: str) -> None:
    table = code_table(vocabulary)
    assert len(set(table.values())) == len(table)
    for symbol, code in table.items():
        assert to_code(vocabulary, to_symbol(vocabulary, code)) == code
        assert to_symbol(vocabulary, to_code(vocabulary, symbol)) == symbol


def test_unknown_code_is_a_validate_data_error_naming_field_not_value() -> None:
    with pytest.raises(DataError) as caught:
        to_symbol("GenderCode", "7-secret", field="person.genderCode")
    assert caught.value.stage == "validate"
    assert "person.genderCode" in caught.value.message
    assert "7-secret" not in caught.value.message
    with pytest.raises(DataError):
        to_code("EthnicityCode", "WHITE")


def test_every_type_parses_with_the_reference_avro_library_too() -> None:
    for name in default_repository().names():
        parsed = avro.schema.parse(schema_json(name))
        assert parsed.fullname == name
