"""A bad field never loses a person: every adapter, one impossible date of birth, one malformed
telephone number, through the runtime's own pipeline.

Each adapter folder holds ``fields/date_of_birth.*`` (one person whose date of birth is not a
calendar date) and ``fields/telephone.*`` (one whose telephone number is not one), or
``fields/telephone.absent`` saying why the format has no telephone number at all. The person
must be published without that field and nothing else lost, and the warning counted in the
adapter's metrics under its code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters._fields import WARNINGS
from exchange.adapter import registered_adapters
from exchange.codec import AvroCodec
from exchange.metrics import RuntimeMetrics
from exchange.runtime import RunOptions, build_pipeline, parse_source, resolve_adapter
from exchange.settings import KafkaSettings
from exchange.testing import InMemorySchemaRegistry

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adapters"
NAMES = sorted(registered_adapters())


def _no_birth_date(person: dict[str, Any]) -> bool:
    return person.get("dateOfBirth") is None


def _no_telephone(person: dict[str, Any]) -> bool:
    return not any(contact["telephone"] for contact in person.get("contact", []))


CASES: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "date_of_birth": ("invalid-date-of-birth", _no_birth_date),
    "telephone": ("invalid-telephone", _no_telephone),
}


def _case(name: str, field: str) -> Path | None:
    found = [p for p in (FIXTURES / name / "fields").glob(f"{field}.*") if p.suffix != ".absent"]
    return found[0] if found else None


def _run(name: str, path: Path) -> tuple[list[dict[str, Any]], int, RuntimeMetrics]:
    context = json.loads((FIXTURES / name / "context.json").read_text())
    registry = InMemorySchemaRegistry()
    options = RunOptions(
        adapter=resolve_adapter(name),
        agency=context["agency"],
        source=parse_source(f"dir:{path.parent}"),
        kafka=KafkaSettings(),
        registry=registry,
        organisation_id=context["organisation"],
    )
    metrics = RuntimeMetrics(name, context["agency"])
    result = build_pipeline(options, metrics).process_unit(path.read_bytes(), path.name)
    codec = AvroCodec(registry)
    values = [dict(codec.decode(out.value).value) for out in result.outputs]
    return values, len(result.rejects), metrics


def _counted(metrics: RuntimeMetrics, code: str) -> float:
    value = metrics.registry.get_sample_value(
        "mais_adapter_warnings_total", {"adapter": metrics.adapter, "agency": metrics.agency, "code": code}
    )
    return value or 0.0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("field", sorted(CASES))
def test_every_adapter_has_a_case_for_each_bad_field_or_says_why_not(name: str, field: str) -> None:
    absent = FIXTURES / name / "fields" / f"{field}.absent"
    assert _case(name, field) is not None or absent.read_text().strip(), (
        f"adapter {name} needs fields/{field}.* (or fields/{field}.absent saying why the format has none)"
    )


@pytest.mark.parametrize(
    ("name", "field"), [(n, f) for n in NAMES for f in sorted(CASES) if _case(n, f) is not None]
)
def test_the_person_is_published_without_the_bad_field_and_the_warning_is_counted(
    name: str, field: str
) -> None:
    path = _case(name, field)
    assert path is not None
    values, rejects, metrics = _run(name, path)
    code, field_is_left_out = CASES[field]
    assert rejects == 0
    people = [v["person"] for v in values if "person" in v]
    assert len(people) == 1, "the one person of the case is published"
    person = people[0]
    assert field_is_left_out(person)
    assert person["identifier"], "the person keeps its identifiers"
    kept = {"dateOfBirth", "genderCode", "sexCode", "ethnicityCode", "name", "contact", "address"} - {
        "dateOfBirth" if field == "date_of_birth" else "contact"
    }
    assert any(person.get(other) for other in kept), "the person's other fields are kept"
    assert _counted(metrics, code) == 1.0
    assert sum(_counted(metrics, c) for c, _ in CASES.values()) == 1.0  # and nothing else went wrong


def test_every_warning_code_is_catalogued_and_documented() -> None:
    seen = {
        json.loads(line)["warning"]
        for path in FIXTURES.glob("*/expected_warnings.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert {code for code, _ in CASES.values()} | seen <= set(WARNINGS)
    docs = (FIXTURES.parents[2] / "docs" / "adapters.md").read_text(encoding="utf-8")
    undocumented = [code for code in WARNINGS if f"`{code}`" not in docs]
    assert not undocumented, f"docs/adapters.md does not explain {undocumented}"
