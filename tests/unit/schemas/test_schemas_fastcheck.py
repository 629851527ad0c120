"""The compiled encodability check agrees with fastavro's encoder, and never accepts more.

``encodable_check`` is the fast path of ``adapters._standard.validate_events``: whatever it accepts
skips the encoder, so it must never accept a value the encoder rejects. On what adapters produce
(golden fixtures, schema examples, common mapping mistakes) it must also accept exactly what the
encoder accepts, or the fast path would not be taken.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import _standard
from exchange.adapter import AdapterContext, StandardEvent, load_adapter
from exchange.errors import DataError
from exchange.schemas import encodable_check, event_names, from_json, load_schema

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "adapters"
EXAMPLES = ROOT / "schemas" / "examples"
CONTEXTS = {"hl7v2": "RX1"}


def _encodes(name: str, value: Any) -> bool:
    try:
        fastavro.schemaless_writer(io.BytesIO(), load_schema(name), value)
    except Exception:
        return False
    return True


@cache
def _check(name: str) -> Any:
    check = encodable_check(load_schema(name))
    assert check is not None, f"{name} uses a construct the check does not compile"
    return check


@cache
def _golden_events() -> tuple[StandardEvent, ...]:
    """Every event the adapters produce from their golden fixture inputs."""
    events: list[StandardEvent] = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        adapter = load_adapter(folder.name)
        context = AdapterContext(agency="test", organisation_id=CONTEXTS.get(folder.name, "202"))
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.startswith("expected") or path.suffix == ".json":
                continue
            try:
                records = list(adapter.split(path.read_bytes(), path.name))
            except DataError:
                continue
            for record in records:
                try:
                    events.extend(adapter.translate(record, context))
                except DataError:
                    continue
    return tuple(events)


def test_every_event_schema_compiles() -> None:
    for name in event_names():
        assert callable(_check(name))


def test_golden_fixture_events_are_accepted_as_the_encoder_accepts_them() -> None:
    events = _golden_events()
    assert len({e.schema for e in events}) >= 5  # persons, episodes, closures, merges, life events
    for event in events:
        assert _encodes(event.schema, event.value)
        assert _check(event.schema)(event.value), event.schema


def _example_value(name: str, raw: Any) -> Any:
    try:
        return from_json(name, raw)
    except Exception:
        return raw


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_schema_examples_agree_with_the_encoder(path: Path) -> None:
    name = f"mais.v1.{path.stem}"
    value = from_json(name, json.loads(path.read_text(encoding="utf-8")))
    assert _check(name)(value) is True
    assert _encodes(name, value)


# Invalid examples fastavro's encoder nevertheless writes: outside a union it writes any value as
# a boolean (truthiness). The check rejects them and validate_events defers to the encoder.
ENCODER_LENIENT = {"response-match-not-boolean"}


@pytest.mark.parametrize("path", sorted((EXAMPLES / "invalid").glob("*.json")), ids=lambda p: p.stem)
def test_invalid_schema_examples_agree_with_the_encoder(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    value = _example_value(case["schema"], case["value"])
    accepted, encoded = _check(case["schema"])(value), _encodes(case["schema"], value)
    assert accepted == encoded or (path.stem in ENCODER_LENIENT and encoded and not accepted)
    event = StandardEvent("person", "key", case["schema"], value)
    assert _outcome(event) == _reference_validate(event)


def _outcome(event: StandardEvent) -> str | None:
    try:
        _standard.validate_events([event])
    except DataError as exc:
        assert exc.stage == "validate"
        return str(exc)
    return None


def _person_event() -> tuple[str, dict[str, Any]]:
    event = next(e for e in _golden_events() if e.schema.endswith("PersonRecorded"))
    return event.schema, copy.deepcopy(dict(event.value))


# Mistakes a mapping can make; the check must reject each exactly when the encoder does.
MISTAKES = [
    ("publisher", None),
    ("recordedAt", "2026-01-01T00:00:00Z"),
    ("recordedAt", dt.date(2026, 1, 1)),
    ("subjectIdentifier", None),
    ("person.genderCode", "1"),
    ("person.genderCode", "MALE"),
    ("person.name", None),
    ("person.identifier.0.value", None),
    ("person.identifier.0.value", 1234),
    ("person.identifier.0.value", "\ud800"),
    ("person.identifier.0.system", "é-ok"),
    ("person.dateOfBirth", {"date": "01/01/1990"}),
    ("person.dateOfBirth", {"accuracyIndicator": "AAA"}),
    ("person.dateOfBirth", {"date": dt.date(1990, 1, 1), "accuracyIndicator": "XYZ"}),
    ("person.address", [{"line1": "1 Road", "postcode": "AB1 2CD"}]),
    ("person.unknownField", "ignored by the encoder"),
]


@pytest.mark.parametrize(("where", "replacement"), MISTAKES, ids=lambda x: str(x)[:30])
def test_common_mapping_mistakes_agree_with_the_encoder(where: str, replacement: Any) -> None:
    name, value = _person_event()
    _set(value, where.split("."), replacement)
    assert _check(name)(value) == _encodes(name, value)


# Values fastavro's encoder writes though no adapter should produce them: the check leaves them
# to the encoder, so validate_events still accepts them.
LENIENT = [
    ("person.dateOfBirth", {"date": "1990-01-01"}),  # ISO text parsed as a date
    ("recordedAt", 1.5),  # float truncated to a long
    ("recordedAt", dt.datetime(2026, 1, 1)),  # naive: read in the local time zone
    ("person.identifier", ({"value": "1", "system": "s"},)),  # tuple written as an array
]


@pytest.mark.parametrize(("where", "replacement"), LENIENT, ids=lambda x: str(x)[:30])
def test_what_only_the_encoder_accepts_is_left_to_the_encoder(where: str, replacement: Any) -> None:
    name, value = _person_event()
    _set(value, where.split("."), replacement)
    assert _encodes(name, value)
    assert not _check(name)(value)
    _standard.validate_events([StandardEvent("person", "key", name, value)])


def _set(node: Any, path: list[str], replacement: Any) -> None:
    for step in path[:-1]:
        node = node[int(step)] if isinstance(node, list) else node[step]
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = replacement
    else:
        node[last] = replacement


# -- mutations: the check never accepts what the encoder rejects ------------------------------

ODD_VALUES = st.sampled_from(
    [
        None, "", "x", "MALE", "\ud800", 0, -1, 2**31, 2**63, True, False, 1.5, float("nan"),
        [], [None], ["x"], ("x",), {}, {"value": "x", "system": "y"},
        dt.date(2020, 1, 1), dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    ]
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[str, Any]:
    event = draw(st.sampled_from(_golden_events()))
    value: Any = copy.deepcopy(dict(event.value))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "extra"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "extra" and isinstance(parent, dict):
            parent["notInSchema"] = copy.deepcopy(draw(ODD_VALUES))
        else:
            parent[path[-1]] = copy.deepcopy(draw(ODD_VALUES))
    return event.schema, value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events())
def test_check_never_accepts_what_the_encoder_rejects(case: tuple[str, Any]) -> None:
    name, value = case
    if _check(name)(value):
        assert _encodes(name, value)


def _reference_validate(event: StandardEvent) -> str | None:
    """What validate_events answered before the fast path: encode, explain on failure."""
    schema = load_schema(event.schema)
    try:
        fastavro.schemaless_writer(io.BytesIO(), schema, event.value)
    except Exception:
        try:
            _standard._explain(event, schema)
        except DataError as exc:
            return str(exc)
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events())
def test_validate_events_gives_the_encoders_verdict_and_message(case: tuple[str, Any]) -> None:
    name, value = case
    event = StandardEvent("person", "key", name, value)
    assert _outcome(event) == _reference_validate(event)


# -- schemas beyond the standard's own: every construct the generator compiles ------------------

SYNTHETIC: dict[str, Any] = fastavro.parse_schema(  # type: ignore[assignment]
    {
        "type": "record",
        "name": "t.Outer",
        "fields": [
            {"name": "flag", "type": "boolean"},
            {"name": "count", "type": "int"},
            {"name": "ratio", "type": ["null", "double"], "default": None},
            {"name": "born", "type": {"type": "int", "logicalType": "date"}},
            {"name": "seen", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
            {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
            {"name": "kind", "type": {"type": "enum", "name": "t.Kind", "symbols": ["A", "B"]}},
            {
                "name": "inner",
                "type": [
                    "null",
                    {
                        "type": "record",
                        "name": "t.Inner",
                        "fields": [
                            {"name": "label", "type": ["null", "string"]},  # nullable, no default
                            {"name": "kinds", "type": {"type": "array", "items": "t.Kind"}},
                        ],
                    },
                ],
            },
        ],
    }
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(), st.text(max_size=3),
    st.sampled_from(["A", "B", "-type", "label", "\ud800"]), st.dates(),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
)  # fmt: skip
FIELD_NAMES = st.sampled_from(
    ["flag", "count", "ratio", "born", "seen", "tags", "kind", "inner", "label", "kinds", "-type"]
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(FIELD_NAMES, inner, max_size=9)),
    max_leaves=20,
)


@st.composite
def outer_values(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly well-formed Outer records with some fields replaced, dropped or added."""
    value: dict[str, Any] = {
        "flag": True, "count": 3, "ratio": 0.5, "born": dt.date(2020, 1, 1),
        "seen": dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "tags": ["x"], "kind": "A",
        "inner": {"label": "l", "kinds": ["B"]},
    }  # fmt: skip
    for name in draw(st.lists(FIELD_NAMES, max_size=3)):
        if draw(st.booleans()):
            value.pop(name, None)
            if isinstance(value.get("inner"), dict):
                value["inner"].pop(name, None)
        else:
            target = value["inner"] if isinstance(value.get("inner"), dict) and draw(st.booleans()) else value
            target[name] = draw(VALUES)
    return value


def _encodes_synthetic(value: Any) -> bool:
    try:
        fastavro.schemaless_writer(io.BytesIO(), SYNTHETIC, value)
    except Exception:
        return False
    return True


@settings(max_examples=500, deadline=None)
@given(outer_values())
def test_synthetic_schema_check_never_accepts_what_the_encoder_rejects(value: dict[str, Any]) -> None:
    check = encodable_check(SYNTHETIC)
    assert check is not None
    if check(value):
        assert _encodes_synthetic(value)


def test_synthetic_well_formed_value_is_accepted() -> None:
    check = encodable_check(SYNTHETIC)
    assert check is not None
    value = {
        "flag": False, "count": -5, "born": dt.date(1999, 12, 31), "seen": None, "kind": "B",
        "inner": {"label": None, "kinds": []},
    }  # fmt: skip
    assert _encodes_synthetic(value) and check(value)


def test_a_missing_field_without_default_is_left_to_the_encoder() -> None:
    # fastavro writes None for it (here, inside a union branch, too); the check does not guess
    check = encodable_check(SYNTHETIC)
    assert check is not None
    inner: dict[str, Any] = {"kinds": []}
    value = {"flag": True, "count": 1, "born": 0, "seen": None, "kind": "A", "inner": inner}
    assert _encodes_synthetic(value)
    assert not check(value)
    assert check(value | {"inner": inner | {"label": None}})


@pytest.mark.parametrize(
    "field_type",
    [
        {"type": "map", "values": "string"},
        ["null", "string", "int"],
        {"type": "fixed", "name": "t.F", "size": 2},
        "bytes",
        "float",
    ],
    ids=str,
)
def test_constructs_it_does_not_compile_leave_the_schema_to_the_encoder(field_type: Any) -> None:
    record = {"type": "record", "name": "t.R", "fields": [{"name": "f", "type": field_type}]}
    schema: dict[str, Any] = fastavro.parse_schema(record)  # type: ignore[assignment]
    assert encodable_check(schema) is None
