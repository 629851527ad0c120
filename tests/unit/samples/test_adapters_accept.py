"""Every generated file goes through its adapter with no rejects, and the person each adapter
sees in a record is the person the truth file names for it (same NHS number, same UPN).

Pure code only: the adapters' split and translate, no broker.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from exchange.adapter import AdapterContext, load_adapter
from exchange.errors import DataError
from exchange.identifiers import NHS_NUMBER_SYSTEM, UPN_SYSTEM
from exchange.samples import GeneratedSamples, generate

# where in its file a record is, from the origin each adapter's split gives it
_ORIGIN = {
    "hl7v2": (re.compile(r"#(\d+)$"), 0),
    "fhir": (re.compile(r"#entry\[(\d+)\]$"), 1),
    "cin_census": (re.compile(r":child (\d+) "), 0),
    "ssda903": (re.compile(r":(\d+)$"), 0),
    "tabular": (re.compile(r":(\d+)$"), 0),
}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSamples:
    # seed 3 has looked-after children with missing episodes, housing cases and A40 merges
    return generate(tmp_path_factory.mktemp("samples"), people=150, seed=3)


def _record_number(fmt: str, origin: str) -> int:
    pattern, offset = _ORIGIN[fmt]
    found = pattern.search(origin)
    assert found is not None, origin
    return int(found.group(1)) + offset


def test_every_file_translates_without_rejects_to_the_truths_people(small_set: GeneratedSamples) -> None:
    out = small_set.out
    people = {p.person_id: p for p in small_set.population.people}
    truth = {(r.file, r.record): r.person_id for r in small_set.samples.truth}
    rejects: list[tuple[str, str, str]] = []
    events: Counter[str] = Counter()
    seen: set[tuple[str, int]] = set()
    for item in small_set.samples.files:
        adapter = load_adapter(item.format)
        context = AdapterContext(agency=item.agency, organisation_id=item.organisation)
        for record in adapter.split((out / item.file).read_bytes(), item.file):
            number = _record_number(item.format, record.origin)
            try:
                translated = adapter.translate(record, context)
            except DataError as exc:
                rejects.append((record.origin, exc.stage, exc.message))
                continue
            events.update(e.schema.rsplit(".", 1)[-1] for e in translated)
            for event in translated:
                if not event.schema.endswith("PersonRecorded"):
                    continue
                person_id = truth.get((item.file, number))
                assert person_id is not None, f"{record.origin} has a person the truth file does not name"
                seen.add((item.file, number))
                person = people[person_id]
                ids = {(i["system"], i["value"]) for i in event.value["subjectIdentifier"]}
                nhs = {v for s, v in ids if s == NHS_NUMBER_SYSTEM}
                upn = {v for s, v in ids if s == UPN_SYSTEM}
                assert nhs <= {person.nhs_number}, record.origin
                assert upn <= {person.upn}, record.origin
    assert rejects == []
    for schema in ("PersonRecorded", "ServiceEpisodeRecorded", "ServiceEpisodeClosed", "LifeEventRecorded"):
        assert events[schema] > 0, schema
    # every record the truth names as a person's record (not an episode row) reached the adapters
    people_rows = {k for k in truth if not k[0].startswith(("ssda903/episodes", "ssda903/missing"))}
    assert people_rows == seen


def test_the_mllp_streams_carry_the_same_messages_as_the_plain_files(small_set: GeneratedSamples) -> None:
    adapter = load_adapter("hl7v2")
    for name in ("gp_adt", "hospital_adt"):
        plain = [r.data for r in adapter.split((small_set.out / f"hl7/{name}.hl7").read_bytes(), "f")]
        framed = [r.data for r in adapter.split((small_set.out / f"mllp/{name}.mllp").read_bytes(), "f")]
        assert [p.rstrip(b"\r\n") for p in plain] == [f.rstrip(b"\r\n") for f in framed]
        assert len(plain) > 20


def test_the_hospital_feed_merges_duplicate_registrations(small_set: GeneratedSamples) -> None:
    adapter = load_adapter("hl7v2")
    context = AdapterContext(agency="hospital", organisation_id="R9Z")
    data = (small_set.out / "hl7/hospital_adt.hl7").read_bytes()
    merges = [
        e for r in adapter.split(data, "f") for e in adapter.translate(r, context) if "Merged" in e.schema
    ]
    assert merges


def test_the_school_exports_match_the_tabular_mapping_columns(small_set: GeneratedSamples) -> None:
    from adapters.tabular import known_mappings  # noqa: PLC0415 - adapters are loaded on demand

    mapping = known_mappings()["school-census-pupil"]
    with (small_set.out / "school/census_990101.csv").open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    columns = {i.column for i in mapping.person.identifier}
    columns |= {
        mapping.person.family_name or "",
        *mapping.person.given_names,
        mapping.person.date_of_birth or "",
    }
    assert set(mapping.source.recognise) <= set(header)
    assert columns - {""} <= set(header)


@pytest.mark.parametrize("people", [1, 2, 3, 6])
def test_tiny_populations_write_only_files_their_adapters_accept(
    people: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for seed in (1, 2, 3):
        result = generate(tmp_path_factory.mktemp("tiny"), people=people, seed=seed)
        for item in result.samples.files:
            adapter = load_adapter(item.format)
            context = AdapterContext(agency=item.agency, organisation_id=item.organisation)
            records = list(adapter.split((result.out / item.file).read_bytes(), item.file))
            for record in records:
                adapter.translate(record, context)  # raises DataError on a reject
        assert len({row.person_id for row in result.samples.truth}) <= people
        # the census schema wants at least one Child: a return is only written when there is one
        written = {row.file for row in result.samples.truth}
        assert all(f.file in written for f in result.samples.files if f.format == "cin_census")
