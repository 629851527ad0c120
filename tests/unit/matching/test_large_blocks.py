"""Large blocks are filtered by a weight bound before scoring, and that changes no result: the
candidates, their ranking and the persons are those that scoring every member gives."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exchange.matching._index as index_module
from exchange.identifiers import NHS_NUMBER_SYSTEM
from exchange.matching import MatchIndex, MatchRecord, PersonClusters, link, load_model, normalise

MODEL = load_model()

# A world where most records share a name, so every block is "large" once the limit is 0.
addresses = st.lists(
    st.fixed_dictionaries(
        {
            "line1": st.sampled_from(["1 High Street", "1 High Stret", "2 Low Road", ""]),
            "city": st.sampled_from(["Mayfield", "Mayfeld", "Eastvale", ""]),
            "postcode": st.sampled_from(["MF3 1AB", "MF3 1AD", "MF4 2XY", "EV1 1AA", ""]),
            "UPRN": st.sampled_from(["", "", "100012", "100013"]),
            "use": st.sampled_from(["home", "old"]),
        }
    ),
    max_size=2,
)
people = st.fixed_dictionaries(
    {
        "given": st.sampled_from(["Oliver", "Ollie", "Olivre", "Amelia", ""]),
        "middle": st.sampled_from(["", "James"]),
        "family": st.sampled_from(["Smith", "Smiht", "Jones", ""]),
        "born": st.sampled_from(
            [date(2015, 3, 4), date(2015, 4, 3), date(2015, 3, 9), date(2016, 3, 4), date(1990, 1, 2), None]
        ),
        "accuracy": st.sampled_from(["AAA", "AAA", "UAA", "UUA"]),
        "nhs": st.sampled_from(["9990001234", "9990002230", None, None]),
        "other": st.sampled_from([None, "A1", "A2"]),
        "addresses": addresses,
        "source": st.sampled_from(["gp", "school", "police"]),
    }
)


def _person(number: int, fields: dict[str, Any]) -> MatchRecord:
    identifiers = [{"system": f"https://example.org/{fields['source']}", "value": f"R{number}"}]
    if fields["nhs"]:
        identifiers.append({"system": NHS_NUMBER_SYSTEM, "value": fields["nhs"]})
    if fields["other"]:
        identifiers.append({"system": "https://example.org/upn", "value": fields["other"]})
    given_names = [g for g in (fields["given"], fields["middle"]) if g]
    value: dict[str, Any] = {
        "identifier": identifiers,
        "name": [{"givenName": given_names, "familyName": [fields["family"]] if fields["family"] else []}],
        "address": fields["addresses"],
    }
    if fields["born"] is not None:
        value["dateOfBirth"] = {"date": fields["born"], "accuracyIndicator": fields["accuracy"]}
    return normalise(value, source=fields["source"], key=f"{fields['source']}|R{number}")


def _records(drawn: list[dict[str, Any]]) -> list[MatchRecord]:
    return [_person(n, f) for n, f in enumerate(drawn)]


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
    records = _records(drawn)
    probe = _person(999, query)
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
    records = _records(drawn)
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


def test_a_block_of_thousands_sharing_a_name_still_finds_the_person() -> None:
    index = MatchIndex(MODEL)
    for n in range(3000):
        born = date(1920, 1, 1) + timedelta(days=7 * n)
        index.add(_person(n, _fields(born, f"{n % 90} High Street", f"MF{n % 9} {n % 10}AB")))
    query = _person(
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
