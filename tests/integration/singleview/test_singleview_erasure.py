"""Erasure: after PersonRemoved nothing of the record is returned by any endpoint, left in any
table of the store, or held by the match index."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import S47, RunningSingleView

from services.singleview.testing import Publisher, SampleEvent

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Target:
    key: str
    agency: str
    person_id: str
    local_id: str
    person: dict[str, Any]

    @property
    def nhs_number(self) -> str | None:
        return next(
            (i["value"] for i in self.person["identifier"] if i["system"].endswith("/nhs-number")), None
        )


def _all_rows(sv: RunningSingleView) -> list[str]:
    """Every row of every table of the store, as text."""
    db = sv.view.store.reader()
    tables = [r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [f"{table}: {row!r}" for table in tables for row in db.query(f"SELECT * FROM {table}")]


def _targets(sv: RunningSingleView) -> tuple[Target, Target]:
    """A GP record linked with other agencies' records, and a person known from one record only,
    whose local id (and NHS number) no other row of the store mentions."""
    db = sv.view.store.reader()
    rows = db.query(
        "SELECT l.person_id, r.record_key, r.agency, r.person_json FROM sv_link l "
        "JOIN sv_person_record r ON r.record_key = l.record_key ORDER BY r.record_key"
    )
    sizes: dict[str, int] = {}
    for person_id, *_ in rows:
        sizes[person_id] = sizes.get(person_id, 0) + 1
    bodies = {key: body for _, key, _, body in rows}
    linked = alone = None
    for person_id, key, agency, body in rows:
        target = Target(key, agency, person_id, key.rpartition("|")[2], json.loads(body))
        mentions = [target.local_id] + ([target.nhs_number] if target.nhs_number else [])
        if any(m in other for k, other in bodies.items() if k != key for m in mentions):
            continue  # another agency's record holds it too: not this record's alone
        if linked is None and agency.startswith("gp-") and sizes[person_id] >= 3:
            linked = target
        if alone is None and sizes[person_id] == 1 and target.nhs_number and target.person.get("name"):
            name = _name_and_birth(target)
            if not any(
                all(part in other.upper() for part in name) for k, other in bodies.items() if k != key
            ):
                alone = target
    assert linked is not None and alone is not None
    return linked, alone


def _name_and_birth(target: Target) -> tuple[str, str, str]:
    name = target.person["name"][0]
    given, family = name["givenName"][0].upper(), name["familyName"][0].upper()
    return given, family, str(target.person["dateOfBirth"]["date"])


def _removed(target: Target) -> SampleEvent:
    system, _, value = target.key.rpartition("|")
    event = {
        "publisher": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y99001"},
        "recordedAt": datetime.now(UTC),
        "subjectIdentifier": [{"system": system, "value": value}],
        "reason": None,
    }
    return SampleEvent(target.agency, "person", target.key, "mais.v1.PersonRemoved", event)


def test_person_removed_leaves_nothing_in_any_endpoint_table_or_the_match_index(
    singleview: Callable[..., RunningSingleView],
    publisher: Publisher,
    samples: tuple[Path, list[SampleEvent]],
) -> None:
    sv = singleview()
    _, events = samples
    publisher.publish([e.for_agency(sv.agency(e.agency)) for e in events])
    sv.wait_for(lambda: sv.count("SELECT COALESCE(SUM(next_offset), 0) FROM sv_offset") == len(events))
    linked, alone = _targets(sv)
    linker = sv.view.store.linker
    held = linker.counts()["records"]
    with sv.client() as client:
        found = client.get("/api/search", params={"identifier": linked.local_id, "purpose": S47}).json()
        assert [p["person_id"] for p in found["people"]] == [linked.person_id]

    publisher.publish([_removed(linked), _removed(alone)])
    sv.wait_for(lambda: sv.count("SELECT COUNT(*) FROM sv_removed") == 2)

    # no table holds the records' keys, local ids or (for the lone record) its NHS number or name
    given, family, born = _name_and_birth(alone)
    for row in _all_rows(sv):
        for value in (linked.key, linked.local_id, alone.key, alone.local_id, alone.nhs_number):
            assert value not in row, f"{value} is still in {row[:80]}"
        assert not (given in row.upper() and family in row.upper() and born in row), row[:80]
    # the match index forgot them
    assert linker.person_of(linked.key) is None and linker.person_of(alone.key) is None
    assert linker.counts()["records"] == held - 2
    candidates = linker.search(alone.person, [alone.key, linked.key], 50)
    assert {c.record_key for c in candidates}.isdisjoint({alone.key, linked.key})
    # no endpoint returns them
    with sv.client() as client:
        for value in (linked.local_id, alone.local_id, alone.nhs_number):
            found = client.get("/api/search", params={"identifier": value, "purpose": S47}).json()
            assert alone.person_id not in {p["person_id"] for p in found["people"]}
            page = client.get("/search", params={"identifier": value, "purpose": S47}).text
            results = page.split('id="results-heading"', 1)[1]  # the form above echoes the query
            assert value not in results and alone.person_id not in results
        by_name = client.get(
            "/api/search", params={"given": given, "family": family, "dob": born, "purpose": S47}
        ).json()
        assert alone.person_id not in {p["person_id"] for p in by_name["people"]}
        assert client.get(f"/api/people/{alone.person_id}", params={"purpose": S47}).status_code == 404
        view = client.get(f"/api/people/{linked.person_id}", params={"purpose": S47})
        assert view.status_code == 200 and linked.key not in view.json()["record_keys"]
        for path in (f"/api/people/{linked.person_id}", f"/api/people/{linked.person_id}/fhir",
                     f"/people/{linked.person_id}"):  # fmt: skip
            assert linked.local_id not in client.get(path, params={"purpose": S47}).text, path
        assert linked.local_id not in client.get("/metrics").text
