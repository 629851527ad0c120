"""The SingleView page in a real headless Chromium: sign in, search by nickname and date of birth,
see the GP, the school and children's social care on one page, and watch a new episode arrive live."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, S47, USER, RunningSingleView
from nicknames import NickNamer

from exchange.matching import normalise
from services.singleview.testing import Publisher, SampleEvent

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

MIN_NICKNAME = 3


def _nickname_for(given_names: set[str]) -> str | None:
    """A nickname the matching library maps to one of ``given_names`` (and that is none of them).

    Nicknames come from the ``nicknames`` package, the list the library's name map is built on;
    the library itself confirms the mapping. A short form found inside the name itself ("Bella" in
    Isabella) wins, then the nickname standing for the fewest formal names.
    """
    namer = NickNamer()
    found: list[tuple[bool, int, str]] = []
    for formal in sorted(given_names):
        for nickname in sorted(namer.nicknames_of(formal.lower())):
            if nickname.upper() in given_names or len(nickname) < MIN_NICKNAME:
                continue
            forms = normalise({"name": [{"givenName": [nickname]}]}, source="test").given_forms
            if formal in forms:
                found.append((nickname.upper() not in formal, len(forms), nickname.title()))
    return min(found)[2] if found else None


def _child_known_to_gp_school_and_csc(sv: RunningSingleView) -> tuple[str, str, str, str]:
    """(person id, a nickname of the child, date of birth, a school record key) from the store."""
    db = sv.view.store.reader()
    rows = db.query(
        "SELECT l.person_id, r.agency, r.record_key, r.person_json FROM sv_link l "
        "JOIN sv_person_record r ON r.record_key = l.record_key ORDER BY l.person_id, r.record_key"
    )
    people: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for person_id, agency, key, body in rows:
        people.setdefault(person_id, []).append((agency, key, json.loads(body)))
    for person_id, records in sorted(people.items()):
        agencies = {a.rsplit("-", 1)[0] for a, _, _ in records}
        if not {"gp", "school", "csc"} <= agencies:
            continue
        givens = {(p["name"][0].get("givenName") or [""])[0].upper() for _, _, p in records if p.get("name")}
        births = {(p.get("dateOfBirth") or {}).get("date") for _, _, p in records} - {None}
        nickname = _nickname_for(givens - {""})
        if nickname and len(births) == 1:
            school = next(k for a, k, _ in records if a.startswith("school"))
            return person_id, nickname, births.pop(), school
    raise AssertionError("the sample set has no child known to GP, school and CSC whose name has a nickname")


def test_practitioner_finds_a_child_by_nickname_and_sees_it_update_live(
    singleview: Callable[..., RunningSingleView], publisher: Publisher, samples: tuple[Path, list[SampleEvent]],
    page: Any, screenshot: Callable[..., Path],
) -> None:  # fmt: skip
    sv = singleview()
    _, events = samples
    publisher.publish([e.for_agency(sv.agency(e.agency)) for e in events])
    sv.wait_for(lambda: sv.count("SELECT COALESCE(SUM(next_offset), 0) FROM sv_offset") == len(events))
    person_id, nickname, born, school_key = _child_known_to_gp_school_and_csc(sv)

    page.goto(f"{sv.url}/search")
    assert "/signin" in page.url  # signing in is required
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Why are you looking?").select_option(S47)
    page.get_by_label("Given name").fill(nickname)
    page.get_by_label("Date of birth").fill(born)
    page.get_by_role("button", name="Search").click()
    result = page.locator("tr", has=page.locator(f"a[href^='/people/{person_id}?']"))
    assert result.locator("td.probability").inner_text() != ""  # ranked by match probability
    assert "Thornbury Heath GP practice" in result.inner_text()  # agencies by name, not by id
    screenshot(page, "singleview-search-by-nickname")
    result.locator("a").click()

    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text().startswith("Who knows")
    table = page.locator("table.agencies")
    for agency in ("gp", "school", "csc"):
        assert table.locator(f"tr[data-agency='{sv.agency(agency)}']").count() >= 1, agency
    assert "Thornbury Heath GP practice" in table.inner_text()
    assert "Children's social care" in table.inner_text()
    assert "probability" in page.locator("#records-heading + table").inner_text()  # why linked
    screenshot(page, "singleview-person")

    # a new episode published while the page is open appears without a reload
    page.evaluate("window.__sameDocument = true")
    school = sv.agency("school")
    system, _, value = school_key.rpartition("|")
    episode = {
        "publisher": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "990101"},
        "recordedAt": datetime.now(UTC),
        "subjectIdentifier": [{"system": system, "value": value}],
        "serviceEpisode": {
            "identifier": [{"system": "https://mais-exchange.org/Id/local/990101/support", "value": "LIVE-1"}],
            "type": [{"code": "early-help", "system": "https://socialcaredata.github.io/publications_safeguarding_standard#episode-code-vocabulary", "display": "Early help (live test)"}],
            "subjectPerson": [{"person": {"system": system, "value": value}, "involvement": {"code": "SBJ", "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "display": "Subject"}}],
            "relatedProfessional": [], "relatedService": [{"system": "https://mais-exchange.org/Id/local/990101/service", "value": "school"}],
            "timeInformation": [{"startDateTime": datetime.now(UTC), "endDateTime": None, "frequency": None}],
            "location": [], "finding": [],
        },
    }  # fmt: skip
    publisher.publish(
        [
            SampleEvent(
                school,
                "episode",
                "https://mais-exchange.org/Id/local/990101/support|LIVE-1",
                "mais.v1.ServiceEpisodeRecorded",
                episode,
            )
        ]
    )
    page.get_by_text("Early help (live test)").first.wait_for(timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    row = table.locator(f"tr[data-agency='{school}']").first
    assert "Open" in row.inner_text()
    screenshot(page, "singleview-person-live-update")

    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= 330")
    screenshot(page, "singleview-person-320px")
