"""FHIR in both official formats: every golden FHIR fixture, converted to XML, gives the same
events, warnings and rejects as its JSON.

A resource that validates is written to XML by fhir.resources (``model_dump_xml``), an
implementation independent of the adapter's reader; one that does not validate (the golden
files hold some on purpose) is written by :func:`to_xml` below, which follows the FHIR XML rules
without looking at any model. NDJSON lines become one XML file each.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from lxml import etree
from pydantic import ValidationError

from adapters import _common
from adapters.fhir import adapter
from exchange.adapter import AdapterContext
from exchange.cli.translate import event_json, translate_files
from exchange.errors import DataError
from exchange.testing import WarningLog

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adapters" / "fhir"
NS = "http://hl7.org/fhir"
XHTML = "http://www.w3.org/1999/xhtml"
FIXED = _common.now()


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resources without meta.lastUpdated are stamped with the adapters' clock: freeze it."""
    monkeypatch.setattr(_common, "now", lambda: FIXED)


def to_xml(resource: dict[str, Any]) -> bytes:
    """FHIR JSON to FHIR XML by the format rules alone (no model): used for invalid resources."""
    root = etree.Element(f"{{{NS}}}{resource['resourceType']}")  # a prefixed namespace: valid XML too
    _fill(root, resource, is_resource=True)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _fill(
    element: etree._Element, value: dict[str, Any], *, is_resource: bool, extension: bool = False
) -> None:
    for name, item in value.items():
        if name == "resourceType" or name.startswith("_"):
            continue
        if (name == "id" and not is_resource) or (name == "url" and extension):
            element.set(name, str(item))
            continue
        items = item if isinstance(item, list) else [item]
        extras = value.get("_" + name)
        extras = extras if isinstance(extras, list) else [extras] * len(items)
        for one, extra in zip(items, extras, strict=False):
            _add(element, name, one, extra)


def _add(parent: etree._Element, name: str, item: Any, extra: Any) -> None:
    if name == "div" and isinstance(item, str):
        parent.append(etree.fromstring(item))
        return
    child = etree.SubElement(parent, f"{{{NS}}}{name}")
    if isinstance(item, dict) and "resourceType" in item:
        inner = etree.SubElement(child, f"{{{NS}}}{item['resourceType']}")
        _fill(inner, item, is_resource=True)
    elif isinstance(item, dict):
        _fill(child, item, is_resource=False, extension=name in ("extension", "modifierExtension"))
    elif item is not None:
        child.set("value", json.dumps(item) if isinstance(item, bool | int | float) else str(item))
    if isinstance(extra, dict):
        _fill(child, extra, is_resource=False)


def as_xml(resource: dict[str, Any]) -> bytes:
    """The resource in XML: by fhir.resources when it validates, else by :func:`to_xml`."""
    try:
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except (ValidationError, ValueError, KeyError, TypeError):
        return to_xml(resource)
    xml: str | bytes = model.model_dump_xml()
    return xml.encode() if isinstance(xml, str) else xml


def _outcomes(data: bytes, origin: str) -> list[tuple[Any, ...]]:
    """Per record: its events as ``mais translate`` prints them, its warnings, its reject."""
    results: list[tuple[Any, ...]] = []
    for record in adapter.split(data, origin):
        log = WarningLog()
        context = AdapterContext("rx1", "RX1", log)
        try:
            events = [event_json(e, "rx1") for e in adapter.translate(record, context)]
            results.append((events, log.warnings, None))
        except DataError as exc:
            results.append(([], log.warnings, (exc.stage, exc.message)))
    return results


def _documents(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each JSON document of a fixture file (one per NDJSON line that parses)."""
    if path.suffix == ".ndjson":
        found = []
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                found.append((f"line {number}", json.loads(line)))
            except ValueError:
                continue  # a broken line has no XML form: its reject is tested with the JSON
        return found
    return [("file", json.loads(path.read_bytes()))]


FILES = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".json", ".ndjson") and p.name != "context.json")


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_golden_fixture_in_xml_gives_the_same_events_warnings_and_rejects(path: Path) -> None:
    documents = _documents(path)
    assert documents
    for _, document in documents:
        from_json = _outcomes(json.dumps(document).encode(), "j")
        from_xml = _outcomes(as_xml(document), "x")
        assert from_xml == from_json
        assert any(events for events, _, _ in from_json) or path.name == "patient_invalid.json"


def test_the_comparison_covers_every_fixture_resource() -> None:
    outcomes = [
        o for path in FILES for _, doc in _documents(path) for o in _outcomes(json.dumps(doc).encode(), "j")
    ]
    assert {p.name for p in FILES} == {"bundle.json", "patient_invalid.json", "patients.ndjson"}
    assert len(outcomes) >= 10  # every bundle entry and NDJSON resource is a record compared
    assert sum(len(events) for events, _, _ in outcomes) >= 8
    assert any(reject for _, _, reject in outcomes) and any(warned for _, warned, _ in outcomes)


def test_mais_translate_reads_an_xml_bundle_and_a_single_xml_resource(tmp_path: Path) -> None:
    bundle = json.loads((FIXTURES / "bundle.json").read_bytes())
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    (tmp_path / "bundle.xml").write_bytes(as_xml(bundle))
    patient = bundle["entry"][0]["resource"]
    (tmp_path / "patient.xml").write_bytes(as_xml(patient))
    outputs = {}
    for name in ("bundle.json", "bundle.xml", "patient.xml"):
        out, err = io.StringIO(), io.StringIO()
        translate_files(adapter, [tmp_path / name], agency="rx1", organisation="RX1", out=out, err=err)
        outputs[name] = ([json.loads(line) for line in out.getvalue().splitlines()], err.getvalue())
    assert outputs["bundle.xml"][0] == outputs["bundle.json"][0]
    assert outputs["bundle.xml"][1].replace("bundle.xml", "bundle.json") == outputs["bundle.json"][1]
    assert outputs["patient.xml"][0] == outputs["bundle.json"][0][:1]


@pytest.mark.parametrize(
    ("data", "looks"),
    [
        (b"MSH|^~\\&|PAS|RX1\r" + b"PID|1||123\r" * 500, "HL7 v2"),
        (b"name,dob\n" + b"someone,2010-01-01\n" * 500, "comma-separated table"),
        (b"just some notes\n" * 1000, "plain text"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 20, "PDF"),
        (b"<html><body>\n" + b"<p>hello</p>\n" * 200 + b"</body></html>", "XML but not FHIR"),
    ],
)
def test_a_file_that_is_neither_json_ndjson_nor_xml_is_one_reject_saying_what_it_looks_like(
    tmp_path: Path, data: bytes, looks: str
) -> None:
    path = tmp_path / "dropped.json"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    rejected = translate_files(adapter, [path], agency="rx1", organisation="RX1", out=out, err=err)
    assert rejected == 1
    (reject,) = [json.loads(line) for line in err.getvalue().splitlines()]
    assert reject["stage"] == "parse"
    assert looks in reject["error"]
    assert out.getvalue() == ""
