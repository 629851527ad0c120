"""A realistic Person event and a legacy-export adapter for the benchmarks.

The schema follows the shape of the standard ``mais.v1.PersonRecorded`` (identifiers, names, a
partial date of birth, addresses, contacts, coded gender) but lives here, in its own namespace,
so the benchmarks do not depend on the standard schemas' exact version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError

SCHEMA_NAME = "mais.bench.PersonRecorded"
SYSTEM = "https://mais-exchange.org/Id/local/leeds-cc/mosaic"
"""System of the benchmark people's record ids: agency-local, so keys stay in clear."""

_IDENTIFIER = {
    "type": "record",
    "name": "Identifier",
    "fields": [
        {"name": "system", "type": "string"},
        {"name": "value", "type": "string"},
        {"name": "use", "type": ["null", "string"], "default": None},
    ],
}
_NAME = {
    "type": "record",
    "name": "Name",
    "fields": [
        {
            "name": "use",
            "type": {"type": "enum", "name": "NameUse", "symbols": ["usual", "official", "nickname", "old"]},
        },
        {"name": "family", "type": "string"},
        {"name": "given", "type": {"type": "array", "items": "string"}},
        {"name": "prefix", "type": ["null", "string"], "default": None},
    ],
}
_DATE = {
    "type": "record",
    "name": "PartialDate",
    "fields": [
        {"name": "date", "type": {"type": "int", "logicalType": "date"}},
        {
            "name": "accuracy",
            "type": {"type": "enum", "name": "Accuracy", "symbols": ["day", "month", "year"]},
        },
    ],
}
_ADDRESS = {
    "type": "record",
    "name": "Address",
    "fields": [
        {"name": "use", "type": ["null", "string"], "default": None},
        {"name": "line", "type": {"type": "array", "items": "string"}},
        {"name": "city", "type": ["null", "string"], "default": None},
        {"name": "postalCode", "type": ["null", "string"], "default": None},
        {"name": "uprn", "type": ["null", "long"], "default": None},
    ],
}
_CONTACT = {
    "type": "record",
    "name": "Contact",
    "fields": [
        {
            "name": "system",
            "type": {"type": "enum", "name": "ContactSystem", "symbols": ["phone", "email", "sms"]},
        },
        {"name": "value", "type": "string"},
        {"name": "use", "type": ["null", "string"], "default": None},
    ],
}
SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "PersonRecorded",
    "namespace": "mais.bench",
    "fields": [
        {"name": "publisher", "type": _IDENTIFIER},
        {"name": "recordedAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "identifier", "type": {"type": "array", "items": "Identifier"}},
        {"name": "name", "type": {"type": "array", "items": _NAME}},
        {"name": "dateOfBirth", "type": ["null", _DATE], "default": None},
        {"name": "isDeceased", "type": ["null", "boolean"], "default": None},
        {"name": "address", "type": {"type": "array", "items": _ADDRESS}, "default": []},
        {"name": "contact", "type": {"type": "array", "items": _CONTACT}, "default": []},
        {
            "name": "genderCode",
            "type": [
                "null",
                {"type": "enum", "name": "GenderCode", "symbols": ["male", "female", "other", "unknown"]},
            ],
            "default": None,
        },
        {"name": "languages", "type": {"type": "array", "items": "string"}, "default": []},
    ],
}
schemas = {SCHEMA_NAME: json.dumps(SCHEMA)}

_GIVEN = ["Amelia", "Oliver", "Isla", "Mohammed", "Zainab", "Harrison", "Siobhan", "Tomasz"]
_FAMILY = ["Okonkwo", "Whitfield", "Patel", "Kowalczyk", "Oyelaran", "Fairbairn", "Nakamura"]
_GENDER = ["male", "female", "other", "unknown"]


def export_line(i: int) -> bytes:
    """One line of a legacy case-management export (the adapter's input)."""
    given, family = _GIVEN[i % len(_GIVEN)], _FAMILY[i % len(_FAMILY)]
    return (
        f"CM{i:08d}|999{i:07d}|{given}|{family}|{1940 + i % 80}-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}|"
        f"{_GENDER[i % 4]}|{i % 300} Example Road|Leeds|LS{i % 28} {i % 9}AB|0113 496 {i % 10000:04d}|"
        f"person{i}@example.org"
    ).encode()


def person_value(i: int) -> dict[str, Any]:
    """The event ``export_line(i)`` translates into (used by the codec benchmark directly)."""
    return _translate_fields(export_line(i).decode().split("|"))


def _translate_fields(fields: list[str]) -> dict[str, Any]:
    import datetime  # noqa: PLC0415 - keep the module's import block small

    cm, nhs, given, family, born, gender, line1, city, postcode, phone, email = fields
    return {
        "publisher": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "B1234"},
        "recordedAt": 1_764_000_000_000,
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs, "use": "official"},
            {"system": SYSTEM, "value": cm, "use": "usual"},
        ],
        "name": [
            {"use": "official", "family": family, "given": [given, "Marie"], "prefix": None},
            {"use": "nickname", "family": family, "given": [given[:3]], "prefix": None},
        ],
        "dateOfBirth": {"date": datetime.date.fromisoformat(born), "accuracy": "day"},
        "isDeceased": False,
        "address": [
            {
                "use": "home",
                "line": [line1, "Flat 2"],
                "city": city,
                "postalCode": postcode,
                "uprn": 72_000_000,
            }
        ],
        "contact": [
            {"system": "phone", "value": phone, "use": "home"},
            {"system": "email", "value": email, "use": None},
        ],
        "genderCode": gender,
        "languages": ["en"],
    }


def _split(data: bytes, origin: str) -> Iterator[SourceRecord]:
    for number, line in enumerate(data.splitlines(), 1):
        if line:
            yield SourceRecord(line, f"{origin}:{number}")


def _translate(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    fields = record.data.decode().split("|")
    if len(fields) != 11:
        raise DataError(f"{record.origin}: expected 11 fields, found {len(fields)}", stage="parse")
    value = _translate_fields(fields)
    return [StandardEvent("person", f"{SYSTEM}|{fields[0]}", SCHEMA_NAME, value)]


adapter = Adapter("bench_people", "Benchmark: legacy export lines to Person events", _split, _translate)
