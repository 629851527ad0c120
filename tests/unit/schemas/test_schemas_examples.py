"""Every example validates and round-trips; every invalid example is rejected at its field."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from exchange.errors import DataError
from exchange.schemas import (
    NHS_NUMBER_SYSTEM,
    entity_names,
    event_names,
    from_json,
    is_valid_nhs_number,
    load_schema,
    problems,
    to_json,
    validate,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples"
VALID = sorted(EXAMPLES.glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))


def _full_name(path: Path) -> str:
    return f"mais.v1.{path.stem}"


def _round_trip(name: str, value: Any) -> Any:
    schema = load_schema(name)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, value)
    buffer.seek(0)
    return fastavro.schemaless_reader(buffer, schema, schema)


def test_there_is_one_example_per_event_and_entity() -> None:
    assert {_full_name(p) for p in VALID} == set(event_names()) | set(entity_names())


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_example_validates_and_round_trips(path: Path) -> None:
    name = _full_name(path)
    value = from_json(name, json.loads(path.read_text(encoding="utf-8")))
    assert problems(name, value) == []
    fastavro.validation.validate(value, load_schema(name), raise_errors=True)
    decoded = _round_trip(name, value)
    assert decoded == value
    # and back to the same plain JSON shape
    assert from_json(name, to_json(name, decoded)) == value


def _nhs_numbers(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["value"]] if node.get("system") == NHS_NUMBER_SYSTEM else []
        return found + [n for v in node.values() for n in _nhs_numbers(v)]
    if isinstance(node, list):
        return [n for v in node for n in _nhs_numbers(v)]
    return []


def test_examples_use_fictional_nhs_numbers_with_valid_check_digits() -> None:
    numbers = {n for p in VALID for n in _nhs_numbers(json.loads(p.read_text(encoding="utf-8")))}
    assert numbers
    for number in numbers:
        assert is_valid_nhs_number(number), number
        assert number.startswith("999")  # the range reserved for test data


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_is_rejected_naming_its_field(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(DataError) as caught:
        validate(case["schema"], from_json(case["schema"], case["value"]))
    message = caught.value.message
    assert f"'{case['field']}'" in message
    assert caught.value.stage in ("parse", "validate")


def test_invalid_messages_carry_no_personal_data() -> None:
    case = json.loads((EXAMPLES / "invalid" / "nhs-number-bad-check-digit.json").read_text(encoding="utf-8"))
    with pytest.raises(DataError) as caught:
        validate(case["schema"], from_json(case["schema"], case["value"]))
    assert "9990000027" not in caught.value.message
    assert "Thornbury" not in caught.value.message


def test_there_are_invalid_examples_for_the_kinds_of_mistake() -> None:
    stems = {p.stem for p in INVALID}
    assert {
        "person-without-identifier",
        "nhs-number-bad-check-digit",
        "gender-published-code-instead-of-symbol",
        "episode-type-not-in-vocabulary",
        "event-without-publisher",
    } <= stems


def test_date_times_are_read_as_utc_instants_to_the_millisecond() -> None:
    event = json.loads((EXAMPLES / "PersonRemoved.json").read_text(encoding="utf-8"))
    event["recordedAt"] = "2026-07-01T17:00:00.123456+01:00"
    value = from_json("mais.v1.PersonRemoved", event)
    assert _round_trip("mais.v1.PersonRemoved", value) == value
    assert to_json("mais.v1.PersonRemoved", value)["recordedAt"] == "2026-07-01T16:00:00.123Z"
    event["recordedAt"] = "2026-07-01T16:00:00"  # no offset: UTC
    assert to_json("mais.v1.PersonRemoved", from_json("mais.v1.PersonRemoved", event))["recordedAt"] == (
        "2026-07-01T16:00:00.000Z"
    )
