"""The generated files: reproducible, in the published formats, and the truth file points at
the very records it describes."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from lxml import etree

from exchange.samples import PEOPLE_COLUMNS, TRUTH_COLUMNS, GeneratedSamples, generate
from exchange.samples._dfe import SSDA903_COLUMNS

# The DfE reference copies sit in shared/ beside the repository (developers' machines and CI).
DFE_REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "dfe"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_same_seed_writes_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first = _tree(generate(tmp_path / "a", people=60, seed=5).out)
    second = _tree(generate(tmp_path / "b", people=60, seed=5).out)
    other = _tree(generate(tmp_path / "c", people=60, seed=6).out)
    assert first == second
    assert first["truth.csv"] != other["truth.csv"]


def test_regenerating_replaces_an_earlier_set_and_leaves_other_files_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    generate(tmp_path, people=120, seed=1)
    result = generate(tmp_path, people=10, seed=1)
    listed = {f.file for f in result.samples.files}
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == listed | {"truth.csv", "people.csv", "manifest.json", "notes.txt"}


def test_every_format_is_written(sample_set: GeneratedSamples) -> None:
    formats = {(f.format, f.agency) for f in sample_set.samples.files}
    assert formats == {
        ("hl7v2", "gp"),
        ("hl7v2", "hospital"),
        ("fhir", "community"),
        ("cin_census", "csc"),
        ("ssda903", "csc"),
        ("tabular", "school"),
        ("tabular", "police"),
        ("tabular", "housing"),
    }


def test_truth_and_people_files_have_their_documented_columns(sample_set: GeneratedSamples) -> None:
    out = sample_set.out
    truth = _rows(out / "truth.csv")
    people = _rows(out / "people.csv")
    assert tuple(truth[0]) == TRUTH_COLUMNS
    assert tuple(people[0]) == PEOPLE_COLUMNS
    assert len(people) == 200
    assert {r["person_id"] for r in truth} <= {p["person_id"] for p in people}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {r["file"] for r in truth} <= {f["file"] for f in manifest["files"]}
    assert all((out / f["file"]).is_file() for f in manifest["files"])


def _pid3(message: str) -> str:
    found = re.search(r"\rPID\|1\|\|([^|]*)", message)
    assert found is not None
    return found.group(1)


def _hl7_ids(path: Path) -> list[str]:
    """PID-3 of each message of a plain HL7 file (segments end in CR, messages in LF)."""
    return [_pid3(m) for m in path.read_bytes().decode("utf-8").split("\n") if m]


def _record_texts(out: Path, name: str) -> list[str]:
    """The text of each record of ``name``: item ``n`` is what the truth file calls record ``n``."""
    path = out / name
    if name.endswith(".hl7"):
        return ["", *_hl7_ids(path)]
    if name.endswith(".mllp"):
        frames = path.read_bytes().split(b"\x1c\r")[:-1]
        return ["", *(_pid3(f.decode("utf-8")) for f in frames)]
    if name.endswith(".json"):
        entries = json.loads(path.read_text(encoding="utf-8"))["entry"]
        return ["", *(json.dumps(e["resource"]) for e in entries)]
    if name.endswith(".xml"):
        children = etree.parse(str(path)).getroot().find("Children")
        return ["", *(etree.tostring(c, encoding="unicode") for c in children)]  # type: ignore[union-attr]
    return ["", *path.read_text(encoding="utf-8").splitlines()]  # CSV and JSON lines: line numbers


def test_each_truth_row_points_at_a_record_holding_its_local_id(sample_set: GeneratedSamples) -> None:
    out = sample_set.out
    cache: dict[str, list[str]] = {}
    truth = _rows(out / "truth.csv")
    for row in truth:
        texts = cache.setdefault(row["file"], _record_texts(out, row["file"]))
        assert row["local_id"] in texts[int(row["record"])], row
    assert len(truth) > 600
    assert {row["file"] for row in truth} == set(cache)


def test_hl7_messages_are_numbered_once_each_in_both_files(sample_set: GeneratedSamples) -> None:
    truth = _rows(sample_set.out / "truth.csv")
    for name in ("gp_adt", "hospital_adt"):
        plain = [int(r["record"]) for r in truth if r["file"] == f"hl7/{name}.hl7"]
        framed = [int(r["record"]) for r in truth if r["file"] == f"mllp/{name}.mllp"]
        assert sorted(plain) == list(range(1, len(plain) + 1)) == sorted(framed)
        assert ["", *_hl7_ids(sample_set.out / f"hl7/{name}.hl7")] == _record_texts(
            sample_set.out, f"mllp/{name}.mllp"
        )


def test_one_person_is_known_to_many_agencies(sample_set: GeneratedSamples) -> None:
    truth = _rows(sample_set.out / "truth.csv")
    agencies: dict[str, set[str]] = {}
    for row in truth:
        agencies.setdefault(row["person_id"], set()).add(row["agency"])
    assert max(len(a) for a in agencies.values()) >= 5
    assert sum(len(a) >= 3 for a in agencies.values()) >= 20


def test_records_disagree_with_the_truth_the_way_real_ones_do(sample_set: GeneratedSamples) -> None:
    out = sample_set.out
    people = {p["person_id"]: p for p in _rows(out / "people.csv")}
    truth = [r for r in _rows(out / "truth.csv") if r["agency"] == "police"]
    lines = (out / "police/notifications.jsonl").read_text(encoding="utf-8").splitlines()
    other_names = moved = no_nhs = 0
    for row in truth:
        subject = json.loads(lines[int(row["record"]) - 1])["subject"]
        person = people[row["person_id"]]
        other_names += subject["forenames"].split()[0] != person["given"]
        moved += (
            bool(person["previous_postcode"])
            and subject["address"]["postcode"] == person["previous_postcode"]
        )
        no_nhs += bool(person["nhs_number"]) and not subject["nhsNumber"]
    assert other_names and moved and no_nhs
    school = [r for f in sorted((out / "school").glob("*.csv")) for r in _rows(f)]
    assert any(r["PreferredForename"] != r["Forename"] for r in school)


def test_the_cin_census_is_valid_against_the_2024_schema(sample_set: GeneratedSamples) -> None:
    xsd = DFE_REFERENCE / "cin-census-2024.xsd"
    if not xsd.is_file():
        pytest.skip("the DfE reference copies (shared/reference/dfe) are not beside this repository")
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    document = etree.parse(str(sample_set.out / "cin/cin_census_2025.xml"))
    assert schema.validate(document), schema.error_log
    assert len(document.getroot().find("Children")) > 5  # type: ignore[arg-type]


def _published_columns() -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    table = ""
    for line in (DFE_REFERENCE / "ssda903-columns-2024.yml").read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r" {4}(\w+):", line):
            table = match.group(1)
            tables[table] = []
        elif (match := re.fullmatch(r" {6}(\w+):", line)) and table:
            tables[table].append(match.group(1))
    return tables


def test_ssda903_tables_have_the_published_2024_columns_in_order(sample_set: GeneratedSamples) -> None:
    if not (DFE_REFERENCE / "ssda903-columns-2024.yml").is_file():
        pytest.skip("the DfE reference copies (shared/reference/dfe) are not beside this repository")
    published = _published_columns()
    for table, name in (("Header", "header"), ("Episodes", "episodes"), ("Missing", "missing")):
        with (sample_set.out / f"ssda903/{name}.csv").open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == published[table] == list(SSDA903_COLUMNS[name])
