"""Properties of the clustering that hold for any records, in any order (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import person

from exchange.identifiers import nhs_check_digit
from exchange.matching import MatchRecord, PersonClusters, link, load_model, normalise

MODEL = load_model()


def _valid_nhs(stem: int) -> str:
    for n in itertools.count(stem):
        digits = f"999{n:06d}"
        check = nhs_check_digit(digits)
        if check is not None:
            return digits + str(check)
    raise AssertionError("unreachable")


NHS = [_valid_nhs(100 * i) for i in range(4)]

# A small world, so that records collide on names, dates and places and link (or must not).
record_fields = st.fixed_dictionaries(
    {
        "given": st.sampled_from(["Oliver", "Ollie", "Olivia", "Amelia", "Millie", ""]),
        "family": st.sampled_from(["Smith", "Smyth", "Jones", ""]),
        "born": st.sampled_from([date(2015, 3, 4), date(2015, 4, 3), date(1990, 1, 2), None]),
        "nhs": st.sampled_from([*NHS, None, None]),
        "postcode": st.sampled_from(["MF3 1AB", "MF3 1AD", ""]),
        "line1": st.sampled_from(["1 High Street", "2 Low Road"]),
        "source": st.sampled_from(["gp", "school", "police"]),
    }
)


def _records(drawn: list[dict[str, object]]) -> list[MatchRecord]:
    out = []
    for number, fields in enumerate(drawn):
        source = str(fields.pop("source"))
        out.append(normalise(person(f"R{number}", **fields), source=source, key=f"{source}|R{number}"))  # type: ignore[arg-type]
    return out


def _ids() -> PersonClusters:
    counter = itertools.count(1)
    return PersonClusters(MODEL, new_person_id=lambda: f"P{next(counter)}")


def _partition(clusters: PersonClusters) -> list[tuple[str, ...]]:
    return sorted(records for _, records in clusters.persons())


many = st.lists(record_fields, min_size=2, max_size=14)
common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(many)
def test_different_valid_nhs_numbers_never_end_in_one_person(drawn: list[dict[str, object]]) -> None:
    records = _records(drawn)
    by_key = {r.key: r for r in records}
    clusters = _ids()
    for record in records:
        clusters.upsert(record)
    batch = link(records, MODEL)
    for group in [r for _, r in clusters.persons()] + list(batch.clusters):
        numbers = {by_key[k].nhs_number for k in group} - {None}
        assert len(numbers) <= 1


@common
@given(many, record_fields)
def test_adding_then_removing_a_record_leaves_the_persons_as_they_were(
    drawn: list[dict[str, object]], extra: dict[str, object]
) -> None:
    records = _records([*drawn, extra])
    clusters = _ids()
    for record in records[:-1]:
        clusters.upsert(record)
    before = dict(clusters.persons())
    clusters.upsert(records[-1])
    clusters.remove(records[-1].key)
    assert dict(clusters.persons()) == before


@common
@given(many, st.randoms(use_true_random=False))
def test_three_orders_of_streaming_end_in_the_persons_of_batch_linking(
    drawn: list[dict[str, object]], rng: object
) -> None:
    records = _records(drawn)
    batch = sorted(link(records, MODEL).clusters)
    orders = [records, list(reversed(records)), rng.sample(records, len(records))]  # type: ignore[attr-defined]
    for order in orders:
        clusters = _ids()
        for record in order:
            clusters.upsert(record)
        assert _partition(clusters) == batch


@common
@given(many, record_fields)
def test_a_person_id_never_changes_when_unrelated_records_arrive(
    drawn: list[dict[str, object]], extra: dict[str, object]
) -> None:
    records = _records([*drawn, extra])
    clusters = _ids()
    for record in records[:-1]:
        clusters.upsert(record)
    before = {r.key: clusters.person_of(r.key) for r in records[:-1]}
    events = clusters.upsert(records[-1])
    touched = {e.person_id for e in events} | {getattr(e, "into", None) for e in events}
    for key, person_id in before.items():
        if person_id not in touched:
            assert clusters.person_of(key) == person_id
    if clusters.records_of(clusters.person_of(records[-1].key) or "") == (records[-1].key,):
        # the new record is a person of its own: it is unrelated, and nobody's id moved
        assert {k: clusters.person_of(k) for k in before} == before
