"""Large blocks are filtered by a weight bound before scoring, and that changes no result: the
candidates, their ranking and the persons are those that scoring every member gives."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import drawn_record, drawn_records, people

import exchange.matching._index as index_module
from exchange.matching import MatchIndex, MatchRecord, PersonClusters, link, load_model

MODEL = load_model()


def _ranked(index: MatchIndex, query: MatchRecord, floor: float) -> list[tuple[str, float, float]]:
    return [
        (c.key, c.probability, c.grade.score) for c in index.query(query, limit=1000, min_probability=floor)
    ]


checks = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@checks
@given(st.lists(people, min_size=1, max_size=25), people, st.sampled_from([0.01, 0.5, 0.99]))
def test_a_query_finds_the_same_ranked_candidates_with_the_bound_as_without(
    drawn: list[dict[str, Any]], query: dict[str, Any], floor: float
) -> None:
    records = drawn_records(drawn)
    probe = drawn_record(999, query)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_module, "LARGE_BLOCK", 10**9)
        exhaustive = MatchIndex(MODEL)
        for record in records:
            exhaustive.add(record)
        expected = _ranked(exhaustive, probe, floor)
        patch.setattr(index_module, "LARGE_BLOCK", 0)
        assert _ranked(exhaustive, probe, floor) == expected


@checks
@given(st.lists(people, min_size=2, max_size=25))
def test_streaming_with_every_block_filtered_ends_in_the_persons_of_batch_linking(
    drawn: list[dict[str, Any]],
) -> None:
    records = drawn_records(drawn)
    batch = sorted(link(records, MODEL).clusters)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_module, "LARGE_BLOCK", 0)
        clusters = PersonClusters(MODEL)
        for record in records:
            clusters.upsert(record)
        possible = clusters.possible_matches()
    assert sorted(records for _, records in clusters.persons()) == batch
    expected = {(a, b) for a, b, _ in link(records, MODEL).possible}
    assert {(p.key, p.other_key) for p in possible} == {tuple(sorted(pair)) for pair in expected}


def test_a_block_of_thousands_sharing_a_name_still_finds_thedrawn_record() -> None:
    index = MatchIndex(MODEL)
    for n in range(3000):
        born = date(1920, 1, 1) + timedelta(days=7 * n)
        index.add(drawn_record(n, _fields(born, f"{n % 90} High Street", f"MF{n % 9} {n % 10}AB")))
    query = drawn_record(
        5000, {**_fields(date(1920, 1, 1) + timedelta(days=7 * 1234), "", ""), "source": "school"}
    )
    best = index.query(query, limit=3)
    assert best[0].key == "gp|R1234"
    assert best[0].score.contributions[4].level == "exact"


def _fields(born: date, line1: str, postcode: str) -> dict[str, Any]:
    return {
        "given": "Oliver", "middle": "", "family": "Smith", "born": born, "accuracy": "AAA",
        "nhs": None, "other": None, "source": "gp",
        "addresses": [{"line1": line1, "city": "", "postcode": postcode, "UPRN": "", "use": "home"}],
    }  # fmt: skip
