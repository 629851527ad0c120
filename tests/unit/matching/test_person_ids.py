"""Person ids follow a person's oldest record: merges keep it, splits give ids back, erasure passes it on."""

from __future__ import annotations

import itertools
from datetime import date

from matching_helpers import person

from exchange.matching import (
    MatchRecord,
    PersonClusters,
    PersonMerged,
    PersonSplit,
    load_model,
    normalise,
)

MODEL = load_model()
BORN = date(2015, 3, 4)


def _record(key: str, source: str, **fields: object) -> MatchRecord:
    return normalise(person(key, **fields), source=source, key=f"{source}|{key}")  # type: ignore[arg-type]


def _clusters(**kwargs: object) -> PersonClusters:
    counter = itertools.count(1)
    return PersonClusters(MODEL, new_person_id=lambda: f"P{next(counter)}", **kwargs)  # type: ignore[arg-type]


# the same child in three agencies, plus a record that only links through the NHS number
GP = _record("A", "gp", given="Oliver", family="Smith", born=BORN, nhs="9990000018", postcode="MF3 1AB")
SCHOOL = _record("B", "school", given="Oliver", family="Smith", born=BORN, postcode="MF3 1AB")
POLICE = _record("C", "police", given="Ollie", family="Smith", born=BORN, postcode="MF3 1AB")
HOSPITAL = _record("D", "hospital", nhs="9990000018", born=BORN)


def test_a_merge_keeps_the_id_of_the_oldest_record_and_undoing_it_gives_both_ids_back() -> None:
    clusters = _clusters()
    clusters.upsert(HOSPITAL)  # P1: arrives first, links to nothing yet by name
    clusters.upsert(SCHOOL)  # P2 (no NHS number: no link to the hospital's record)
    assert {pid for pid, _ in clusters.persons()} == {"P1", "P2"}
    events = clusters.upsert(GP)  # shares the NHS number with D and the name with B: one person
    assert clusters.person_of(SCHOOL.key) == clusters.person_of(HOSPITAL.key) == "P1"
    assert any(isinstance(e, PersonMerged) and e.person_id == "P2" and e.into == "P1" for e in events)
    events = clusters.remove(GP.key)
    assert dict(clusters.persons()) == {"P1": (HOSPITAL.key,), "P2": (SCHOOL.key,)}
    assert any(isinstance(e, PersonSplit) and e.new_person_id == "P2" for e in events)


def test_erasing_the_oldest_record_does_not_rename_the_person() -> None:
    clusters = _clusters()
    for record in (GP, SCHOOL, POLICE):
        clusters.upsert(record)
    (pid,) = {clusters.person_of(r.key) for r in (GP, SCHOOL, POLICE)}
    clusters.remove(GP.key)
    assert clusters.person_of(SCHOOL.key) == clusters.person_of(POLICE.key) == pid
    assert dict(clusters.persons()) == {pid: (POLICE.key, SCHOOL.key)}


def test_unrelated_records_never_change_an_id() -> None:
    clusters = _clusters()
    for record in (GP, SCHOOL):
        clusters.upsert(record)
    pid = clusters.person_of(GP.key)
    other = _record("Z", "school", given="Amelia", family="Jones", born=date(1990, 1, 2), postcode="ZZ1 1ZZ")
    assert all(e.person_id != pid for e in clusters.upsert(other))
    clusters.remove(other.key)
    assert clusters.person_of(GP.key) == clusters.person_of(SCHOOL.key) == pid


def test_known_ids_survive_a_rebuild_in_first_arrival_order() -> None:
    first = _clusters()
    for record in (HOSPITAL, SCHOOL, GP, POLICE):
        first.upsert(record)
    known = {key: pid for pid, keys in first.persons() for key in keys}
    rebuilt = PersonClusters(MODEL, new_person_id=lambda: "NEW", known_person_ids=known)
    for record in (HOSPITAL, SCHOOL, GP, POLICE):
        rebuilt.upsert(record)
    assert dict(rebuilt.persons()) == dict(first.persons())


def test_a_record_that_reshuffles_two_persons_then_leaves_gives_both_ids_back() -> None:
    """Found by the add-then-remove property: the newcomer moves records between two persons."""
    low, high = "2 Low Road", "1 High Street"
    records = [
        _record(
            "R0",
            "gp",
            given="Oliver",
            family="Smith",
            born=date(1990, 1, 2),
            nhs="9990003009",
            postcode="MF3 1AD",
            line1=low,
        ),
        _record(
            "R1",
            "police",
            given="Amelia",
            family="Smith",
            born=BORN,
            nhs="9990003009",
            postcode="MF3 1AB",
            line1=high,
        ),
        _record(
            "R2",
            "school",
            given="Amelia",
            family="Jones",
            born=date(1990, 1, 2),
            nhs="9990001006",
            postcode="MF3 1AB",
            line1=high,
        ),
        _record(
            "R3", "gp", given="Amelia", family="Jones", born=date(1990, 1, 2), postcode="MF3 1AB", line1=low
        ),
        _record(
            "R4",
            "school",
            given="Amelia",
            family="Smith",
            born=date(1990, 1, 2),
            nhs="9990003009",
            postcode="MF3 1AB",
            line1=low,
        ),
    ]
    newcomer = _record(
        "R5",
        "gp",
        given="Amelia",
        family="Smith",
        born=date(1990, 1, 2),
        nhs="9990001006",
        postcode="MF3 1AB",
        line1=high,
    )
    clusters = _clusters()
    for record in records:
        clusters.upsert(record)
    before = dict(clusters.persons())
    assert len(before) == 2
    clusters.upsert(newcomer)
    assert dict(clusters.persons()) != before  # it did reshuffle them
    clusters.remove(newcomer.key)
    assert dict(clusters.persons()) == before
