"""What a responder says: own records through the matching library, involvement only when allowed,
nothing personal in a denial."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from exchange.purposes import DATA_INVOLVEMENT
from exchange.schemas import from_json
from services.enquiry import ContactFile, default_finder, load_policies, question_from_request
from services.enquiry._answer import response_value
from services.enquiry._records import OwnRecords

ROOT = Path(__file__).resolve().parents[3]
NHS = "https://fhir.nhs.uk/Id/nhs-number"
RESPONDER = {"system": "https://mais.example.org/Id/organisation", "value": "northvale-nhs-trust"}
CONTACT = ContactFile(organisation="Northvale safeguarding", team="Front door", telephone=["0113 496 0000"])
NOW = dt.datetime(2026, 6, 20, tzinfo=dt.UTC)


def _request(**requested: Any) -> dict[str, Any]:
    example = json.loads((ROOT / "schemas" / "examples" / "InformationRequest.json").read_text())
    example["requestedData"].update(requested)
    return from_json("mais.v1.InformationRequest", example)


def _records() -> OwnRecords:
    records = OwnRecords(default_finder("northvale-nhs-trust"))
    child = {
        "identifier": [
            {"system": "https://northvale.example.org/Id/patient", "value": "P1"},
            {"system": NHS, "value": "9990000026"},
        ],
        "name": [{"givenName": ["Kai"], "familyName": ["Thornbury"]}],
        "dateOfBirth": {"date": "2015-05-01"},
    }
    records.apply(
        "mais.v1.PersonRecorded",
        "https://northvale.example.org/Id/patient|P1",
        {"person": from_json("mais.v1.Person", child)},
    )
    episode = {
        "identifier": [{"system": "https://northvale.example.org/Id/episode", "value": "E1"}],
        "type": [{"code": "CAMHS", "system": "https://example.org/episode"}],
        "subjectPerson": [
            {"person": {"system": NHS, "value": "9990000026"}, "involvement": {"code": "SBJ", "system": "x"}}
        ],
        "relatedService": [{"system": "https://northvale.example.org/Id/service", "value": "camhs"}],
        "timeInformation": [{"startDateTime": "2025-01-01T00:00:00Z"}],
        "location": ["Northvale"],
    }
    records.apply(
        "mais.v1.ServiceEpisodeRecorded",
        "https://northvale.example.org/Id/episode|E1",
        {"serviceEpisode": from_json("mais.v1.ServiceEpisode", episode)},
    )
    records.apply(
        "mais.v1.ServiceEpisodeClosed", "x", {"episodeIdentifier": episode["identifier"], "endDateTime": NOW}
    )
    return records


def _answer(
    request: dict[str, Any], outcome: str, records: OwnRecords, *, data: frozenset[str] | None = None
) -> dict[str, Any]:
    [policy] = [
        p for p in load_policies(ROOT / "tests" / "fixtures" / "enquiry" / "policies") if "s47" in p.uri
    ]
    if data is not None:
        policy = type(policy)(
            **{**{f: getattr(policy, f) for f in policy.__dataclass_fields__}, "data": data}
        )
    value, _ = response_value(
        request,
        question_from_request(request),
        outcome=outcome,
        policy=policy,
        records=records,
        responder=RESPONDER,
        contact=CONTACT,
        now=NOW,
    )
    return value


def test_known_by_identifier_with_grade_probability_and_contact() -> None:
    value = _answer(_request(), "PERMIT", _records())
    assert (value["match"], value["matchScore"]) == (True, 0.99)
    assert value["matchProbability"] > 0.99
    assert value["contact"]["name"] == "Northvale safeguarding"
    assert value["involvement"] == []  # not asked for


def test_involvement_only_when_asked_and_the_policy_covers_it() -> None:
    records = _records()
    [involvement] = _answer(_request(data=[DATA_INVOLVEMENT]), "PERMIT", records)["involvement"]
    assert involvement["type"][0]["code"] == "CAMHS" and involvement["endDateTime"] == NOW
    assert (
        _answer(
            _request(data=[DATA_INVOLVEMENT]),
            "PERMIT",
            records,
            data=frozenset({"https://mais-exchange.org/data/contact"}),
        )["involvement"]
        == []
    )


def test_not_known_and_denied() -> None:
    stranger = _request(
        query={
            "identifier": [{"system": NHS, "value": "9434765919"}],
            "name": [{"givenName": ["Amy"], "familyName": ["Other"]}],
        }
    )
    assert _answer(stranger, "PERMIT", _records())["match"] is False
    denied = _answer(_request(), "DENY", _records())
    assert (denied["match"], denied["contact"], denied["involvement"]) == (False, None, [])
    assert denied["subjectIdentifier"] == [_request()["identifier"]]
    assert "9990000026" not in json.dumps(denied, default=str)


def test_a_removed_record_is_no_longer_known() -> None:
    records = _records()
    records.apply("mais.v1.PersonRemoved", "https://northvale.example.org/Id/patient|P1", {})
    assert _answer(_request(), "PERMIT", records)["match"] is False
