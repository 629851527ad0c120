"""check_compatibility: what the schema registry and `mais schemas check` rely on."""

from __future__ import annotations

import json
from typing import Any

import avro.schema
import pytest

from exchange.compatibility import CompatibilityLevel, Incompatibility, check_compatibility


def _record(fields: list[dict[str, Any]], name: str = "mais.v1.Thing") -> avro.schema.Schema:
    return avro.schema.parse(json.dumps({"type": "record", "name": name, "fields": fields}))


GENDER = {"type": "enum", "name": "mais.v1.G", "symbols": ["MALE", "FEMALE", "NOT_KNOWN"]}
BASE = [
    {"name": "id", "type": "string"},
    {"name": "gender", "type": GENDER},
    {"name": "note", "type": ["null", "string"], "default": None},
]


def test_identical_schema_is_compatible_at_every_level() -> None:
    for level in CompatibilityLevel:
        assert check_compatibility(_record(BASE), [_record(BASE)], level) == []


def test_adding_optional_field_with_default_passes_full_transitive() -> None:
    new = _record([*BASE, {"name": "extra", "type": ["null", "long"], "default": None}])
    assert check_compatibility(new, [_record(BASE)], CompatibilityLevel.FULL_TRANSITIVE) == []


def test_removing_required_field_names_record_field_and_rule() -> None:
    new = _record(BASE[1:])
    found = check_compatibility(new, [_record(BASE)], CompatibilityLevel.FULL_TRANSITIVE)
    assert found == [
        Incompatibility(
            record="mais.v1.Thing",
            field="id",
            rule="reader_field_missing_default_value",
            message=found[0].message,
            version=1,
        )
    ]
    assert "readers on version 1" in found[0].message
    # Removing a required field only breaks old readers: BACKWARD alone accepts it.
    assert check_compatibility(new, [_record(BASE)], CompatibilityLevel.BACKWARD) == []


def test_changing_a_type_is_caught_in_both_directions() -> None:
    new = _record([{"name": "id", "type": "int"}, *BASE[1:]])
    found = check_compatibility(new, [_record(BASE)], CompatibilityLevel.FULL)
    assert {(i.record, i.field, i.rule) for i in found} == {("mais.v1.Thing", "id", "type_mismatch")}
    assert len(found) == 2  # new cannot read old, old cannot read new


def test_removing_enum_symbol_is_caught_backward() -> None:
    smaller = {**GENDER, "symbols": ["MALE", "FEMALE"]}
    new = _record([BASE[0], {"name": "gender", "type": smaller}, BASE[2]])
    found = check_compatibility(new, [_record(BASE)], CompatibilityLevel.BACKWARD)
    assert [(i.record, i.field, i.rule) for i in found] == [
        ("mais.v1.Thing", "gender", "missing_enum_symbols")
    ]
    assert "NOT_KNOWN" in found[0].message


def test_nested_record_change_names_the_inner_record() -> None:
    inner_old = {"type": "record", "name": "mais.v1.Inner", "fields": [{"name": "v", "type": "string"}]}
    inner_new = {"type": "record", "name": "mais.v1.Inner", "fields": [{"name": "v", "type": "boolean"}]}
    old = _record([{"name": "items", "type": {"type": "array", "items": inner_old}}])
    new = _record([{"name": "items", "type": {"type": "array", "items": inner_new}}])
    found = check_compatibility(new, [old], CompatibilityLevel.FORWARD)
    assert [(i.record, i.field, i.rule) for i in found] == [("mais.v1.Inner", "v", "type_mismatch")]


def test_transitive_checks_every_version_plain_checks_only_the_last() -> None:
    v1 = _record(BASE)
    v2 = _record([*BASE, {"name": "extra", "type": ["null", "long"], "default": None}])
    # v3 makes the v2 field required-without-default-in-v1 terms: drop id (breaks v1 and v2 readers)
    v3 = _record([*BASE[1:], {"name": "extra", "type": ["null", "long"], "default": None}])
    transitive = check_compatibility(v3, [v1, v2], CompatibilityLevel.FORWARD_TRANSITIVE)
    assert sorted({i.version for i in transitive}) == [1, 2]
    latest_only = check_compatibility(v3, [v1, v2], CompatibilityLevel.FORWARD)
    assert {i.version for i in latest_only} == {2}


def test_none_level_accepts_anything() -> None:
    assert check_compatibility(_record([{"name": "x", "type": "int"}]), [_record(BASE)], "NONE") == []  # type: ignore[arg-type]


@pytest.mark.parametrize("level", ["FULL", CompatibilityLevel.FULL])
def test_level_accepts_plain_strings(level: Any) -> None:
    assert check_compatibility(_record(BASE[1:]), [_record(BASE)], level)


def test_recursive_schemas_are_localised_to_the_field() -> None:
    def node(value_type: str) -> avro.schema.Schema:
        return avro.schema.parse(
            json.dumps(
                {
                    "type": "record",
                    "name": "mais.v1.Node",
                    "fields": [
                        {"name": "value", "type": value_type},
                        {"name": "next", "type": ["null", "mais.v1.Node"], "default": None},
                    ],
                }
            )
        )

    found = check_compatibility(node("int"), [node("string")], CompatibilityLevel.FULL)
    assert {(i.record, i.field, i.rule) for i in found} == {("mais.v1.Node", "value", "type_mismatch")}
    assert check_compatibility(node("long"), [node("long")], CompatibilityLevel.FULL_TRANSITIVE) == []
