"""One contract for every registered adapter: golden fixtures, valid events, no stray exceptions.

For each adapter ``NAME`` there is a folder ``tests/fixtures/adapters/NAME/`` holding input files,
``expected.jsonl`` (what ``mais translate`` prints on stdout), ``expected_rejects.jsonl`` and
``expected_warnings.jsonl`` (what ``mais translate --warnings`` prints on stderr: rejected records,
fields left out), plus optional ``context.json`` (``agency``, ``organisation``). Review a
change of output and then regenerate with ``MAIS_UPDATE_GOLDEN=1 pytest tests/contract``.

Property tests feed each adapter arbitrary bytes and truncated fixture inputs: whatever comes
in, the adapter yields events or raises DataError with a stage, never anything else.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastavro.validation import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import _common
from exchange.adapter import Adapter, AdapterContext, registered_adapters
from exchange.cli.translate import translate_files
from exchange.errors import DataError
from exchange.schemas import load_schema

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adapters"
ADAPTERS: Mapping[str, Adapter] = registered_adapters()
NAMES = sorted(ADAPTERS)
STAGES = {"parse", "map", "validate"}
ENTITY_OF = {
    "mais.v1.PersonRecorded": "person",
    "mais.v1.PersonRemoved": "person",
    "mais.v1.PersonsMerged": "person",
    "mais.v1.ServiceEpisodeRecorded": "episode",
    "mais.v1.ServiceEpisodeClosed": "episode",
    "mais.v1.LifeEventRecorded": "event",
}
UPDATE = os.environ.get("MAIS_UPDATE_GOLDEN") == "1"
FROZEN = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sources without a recording time are stamped with the adapters' clock: freeze it."""
    monkeypatch.setattr(_common, "now", lambda: FROZEN)


def _context_args(name: str) -> dict[str, str]:
    path = FIXTURES / name / "context.json"
    settings_ = json.loads(path.read_text()) if path.exists() else {}
    return {"agency": settings_.get("agency", "test"), "organisation": settings_.get("organisation", "TEST")}


def _inputs(name: str) -> list[Path]:
    folder = FIXTURES / name
    skip = {"expected.jsonl", "expected_rejects.jsonl", "expected_warnings.jsonl", "context.json"}
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in skip)


def _run(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    out, err = io.StringIO(), io.StringIO()  # file names in rejects are relative to the fixture folder
    files = [Path(p.name) for p in _inputs(name)]
    translate_files(ADAPTERS[name], files, out=out, err=err, warnings=True, **_context_args(name))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    problems = [json.loads(line) for line in err.getvalue().splitlines()]
    rejects = [p for p in problems if "warning" not in p]
    warnings = [p for p in problems if "warning" in p]
    return events, rejects, warnings


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")


def test_at_least_the_legacy_format_adapters_are_registered() -> None:
    assert {"hl7v2", "fhir", "cin_census", "ssda903", "tabular"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_adapter_has_golden_fixtures(name: str) -> None:
    folder = FIXTURES / name
    assert folder.is_dir(), f"adapter {name} has no fixtures in {folder}"
    assert _inputs(name), f"adapter {name} has no input files"
    assert (folder / "expected.jsonl").exists() or UPDATE


@pytest.mark.parametrize("name", NAMES)
def test_golden_events_and_rejects(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / name)
    events, rejects, warnings = _run(name)
    folder = FIXTURES / name
    if UPDATE:
        _write_jsonl(folder / "expected.jsonl", events)
        _write_jsonl(folder / "expected_rejects.jsonl", rejects)
        _write_jsonl(folder / "expected_warnings.jsonl", warnings)
    assert events == _read_jsonl(folder / "expected.jsonl")
    assert rejects == _read_jsonl(folder / "expected_rejects.jsonl")
    assert warnings == _read_jsonl(folder / "expected_warnings.jsonl")


@pytest.mark.parametrize("name", NAMES)
def test_every_event_validates_against_its_avro_schema(name: str) -> None:
    args = _context_args(name)
    context = AdapterContext(agency=args["agency"], organisation_id=args["organisation"])
    adapter = ADAPTERS[name]
    seen = 0
    for path in _inputs(name):
        try:
            records = list(adapter.split(path.read_bytes(), path.name))
        except DataError as exc:
            assert exc.stage in STAGES
            continue
        for record in records:
            try:
                events = adapter.translate(record, context)
            except DataError as exc:
                assert exc.stage in STAGES
                continue
            for event in events:
                seen += 1
                assert event.entity == ENTITY_OF[event.schema]
                assert "|" in event.key
                assert validate(event.value, load_schema(event.schema), raise_errors=True)
    assert seen > 0, f"fixtures of {name} yield no events"


@pytest.mark.parametrize("name", NAMES)
def test_rejects_name_a_stage_and_a_record(name: str) -> None:
    for reject in _read_jsonl(FIXTURES / name / "expected_rejects.jsonl"):
        assert reject["stage"] in STAGES | {"read"}
        assert reject["error"]
        assert reject["record"]


def _outcome(name: str, data: bytes) -> None:
    """Split and translate ``data``; only DataError with a known stage may escape."""
    adapter = ADAPTERS[name]
    args = _context_args(name)
    context = AdapterContext(agency=args["agency"], organisation_id=args["organisation"])
    try:
        records = list(adapter.split(data, "fuzz"))
    except DataError as exc:
        assert exc.stage in STAGES
        return
    for record in records:
        try:
            adapter.translate(record, context)
        except DataError as exc:
            assert exc.stage in STAGES
            assert exc.message


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise_anything_but_data_error(name: str, data: bytes) -> None:
    _outcome(name, data)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=1.0), noise=st.binary(max_size=8))
def test_truncated_or_garbled_fixture_input_never_raises_anything_but_data_error(
    name: str, cut: float, noise: bytes
) -> None:
    for path in _inputs(name):
        data = path.read_bytes()
        at = int(len(data) * cut)
        _outcome(name, data[:at])
        _outcome(name, data[:at] + noise + data[at:])
