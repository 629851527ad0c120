"""`mais schemas check` and `mais schemas generate`: the evolution guard and regenerated artefacts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exchange.cli import app
from exchange.errors import ConfigError
from exchange.schemas import default_repository
from exchange.schemas._docgen import render_standard

ROOT = Path(__file__).resolve().parents[3]
WORKING = ROOT / "schemas" / "avro"
RELEASED = ROOT / "schemas" / "released"
runner = CliRunner()


def _check(schemas: Path) -> Any:
    return runner.invoke(app, ["schemas", "check", "--schemas", str(schemas), "--released", str(RELEASED)])


def _edit(tmp_path: Path, relative: str, change: Callable[[dict[str, Any]], None]) -> Path:
    copy = tmp_path / "avro"
    shutil.copytree(WORKING, copy)
    path = copy / relative
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return copy


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def test_check_passes_on_the_working_schemas() -> None:
    result = runner.invoke(app, ["schemas", "check"])
    assert result.exit_code == 0, result.output
    assert "compatible with released v1 under FULL_TRANSITIVE" in result.output


def test_every_released_v1_type_file_is_still_in_the_working_set() -> None:
    # v1 is released by this change: from now on the working set may only grow.
    released = {p.relative_to(RELEASED / "v1") for p in (RELEASED / "v1").rglob("*.avsc")}
    working = {p.relative_to(WORKING) for p in WORKING.rglob("*.avsc")}
    assert released <= working


def test_removing_a_required_field_fails_naming_record_field_and_rule(tmp_path: Path) -> None:
    def drop_postcode(schema: dict[str, Any]) -> None:
        schema["fields"] = [f for f in schema["fields"] if f["name"] != "postcode"]

    result = _check(_edit(tmp_path, "types/Address.avsc", drop_postcode))
    assert result.exit_code == 1
    assert "record mais.v1.Address field postcode: rule reader_field_missing_default_value" in result.output


def test_changing_a_type_fails(tmp_path: Path) -> None:
    def boolean_match(schema: dict[str, Any]) -> None:
        _field(schema, "match")["type"] = "string"

    result = _check(_edit(tmp_path, "events/InformationResponse.avsc", boolean_match))
    assert result.exit_code == 1
    assert "record mais.v1.InformationResponse field match: rule type_mismatch" in result.output


def test_removing_an_enum_symbol_fails(tmp_path: Path) -> None:
    def drop_x(schema: dict[str, Any]) -> None:
        schema["symbols"].remove("NOT_KNOWN")
        del schema["codes"]["NOT_KNOWN"]

    result = _check(_edit(tmp_path, "vocabularies/GenderCode.avsc", drop_x))
    assert result.exit_code == 1
    assert "rule missing_enum_symbols" in result.output
    assert "record mais.v1.Person field genderCode" in result.output
    assert "NOT_KNOWN" in result.output


def test_making_an_optional_field_required_fails(tmp_path: Path) -> None:
    def required_line2(schema: dict[str, Any]) -> None:
        field = _field(schema, "line2")
        field["type"] = "string"
        del field["default"]

    result = _check(_edit(tmp_path, "types/Address.avsc", required_line2))
    assert result.exit_code == 1
    assert "record mais.v1.Address field line2" in result.output


def test_removing_a_released_type_fails(tmp_path: Path) -> None:
    copy = tmp_path / "avro"
    shutil.copytree(WORKING, copy)
    (copy / "events" / "AuditEntry.avsc").unlink()
    result = _check(copy)
    assert result.exit_code == 1
    assert "record mais.v1.AuditEntry: rule type_removed" in result.output


def test_adding_an_optional_field_with_default_passes(tmp_path: Path) -> None:
    def add_nickname(schema: dict[str, Any]) -> None:
        schema["fields"].append(
            {
                "name": "title",
                "type": ["null", "string"],
                "default": None,
                "doc": "Honorific such as Dr or Ms.",
                "cardinality": "0..1",
                "alignment": {"fhir": "HumanName.prefix"},
            }
        )

    result = _check(_edit(tmp_path, "types/Name.avsc", add_nickname))
    assert result.exit_code == 0, result.output


def test_missing_released_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schemas", "check", "--released", str(tmp_path / "nowhere")])
    assert isinstance(result.exception, ConfigError)  # `mais` prints it with its hint, exit 2
    assert "does not exist" in result.exception.message


def test_docs_standard_md_is_current() -> None:
    current = (ROOT / "docs" / "standard.md").read_text(encoding="utf-8")
    assert current == render_standard(default_repository()), "run `mais schemas generate`"


def test_generate_writes_models_and_docs(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "schemas",
            "generate",
            "--models",
            str(tmp_path / "models"),
            "--docs",
            str(tmp_path / "standard.md"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "standard.md").read_text() == (ROOT / "docs" / "standard.md").read_text()
    for path in (tmp_path / "models").glob("*.py"):
        assert path.read_text() == (ROOT / "exchange" / "models" / path.name).read_text()


@pytest.mark.parametrize("name", ["Person", "ServiceEpisode", "PersonRecorded"])
def test_docs_list_every_field_with_cardinality_and_alignment(name: str) -> None:
    text = (ROOT / "docs" / "standard.md").read_text(encoding="utf-8")
    section = text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
    for field in default_repository().source(f"mais.v1.{name}")["fields"]:
        row = next(line for line in section.splitlines() if line.startswith(f"| `{field['name']}` |"))
        assert f"`{field['cardinality']}`" in row
        assert "standard:" in row or "fhir:" in row


def test_validate_accepts_the_examples_and_rejects_by_field(tmp_path: Path) -> None:
    examples = ROOT / "schemas" / "examples"
    ok = runner.invoke(
        app, ["schemas", "validate", str(examples / "Person.json"), str(examples / "AuditEntry.json")]
    )
    assert ok.exit_code == 0, ok.output
    case = json.loads((examples / "invalid" / "nhs-number-bad-check-digit.json").read_text(encoding="utf-8"))
    bad = tmp_path / "kai.json"
    bad.write_text(json.dumps(case["value"]), encoding="utf-8")
    result = runner.invoke(app, ["schemas", "validate", "--type", "mais.v1.Person", str(bad)])
    assert result.exit_code == 1
    assert "field 'identifier[0].value'" in result.output
    assert "9990000027" not in result.output
