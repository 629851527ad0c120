# ruff: noqa: E501 - the decision table reads best one row per line
"""The policy decision point, table by table, starting from the standard's example request and policy.

The request is ``schemas/examples/InformationRequest.json`` (the information-governance Request
object as our Avro event); the policy is that request's SharingPolicy written as an agency would
keep it, with the field names of the standard's published table
(``tests/fixtures/enquiry/policies/southshire-s47.json``). Each row changes one thing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exchange.schemas import from_json
from services.enquiry._pdp import RULES, PolicyDecisionPoint, question_from_request
from services.enquiry._policies import load_policies, policy_to_avro

ROOT = Path(__file__).resolve().parents[3]
POLICIES = ROOT / "tests" / "fixtures" / "enquiry" / "policies"
ORG = "https://mais.example.org/Id/organisation"
RESPONDER = (ORG, "northvale-nhs-trust")


def _example_request() -> dict[str, Any]:
    text = (ROOT / "schemas" / "examples" / "InformationRequest.json").read_text()
    return from_json("mais.v1.InformationRequest", json.loads(text))


Change = Callable[[dict[str, Any]], None]


def _set_requester(value: str) -> Change:
    return lambda r: r["requesterIdentifier"].update(value=value)


def _set_purpose(system: str, code: str) -> Change:
    return lambda r: r.update(assertedPurpose={"system": system, "code": code, "display": None})


def _set_date(iso: str) -> Change:
    return lambda r: r.update(
        dateStamp=from_json("mais.v1.InformationRequest", {**_json_request(), "dateStamp": iso})["dateStamp"]
    )


def _json_request() -> dict[str, Any]:
    return json.loads((ROOT / "schemas" / "examples" / "InformationRequest.json").read_text())


def _set_data(*data: str) -> Change:
    return lambda r: r["requestedData"].update(data=list(data))


def _set_policy(**changes: Any) -> Change:
    def change(request: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key == "version":
                request["sharingPolicy"][0]["identifier"]["value"] = value
            else:
                request["sharingPolicy"][0][key] = value

    return change


def _add_policy(uri: str) -> Change:
    def change(request: dict[str, Any]) -> None:
        other = copy.deepcopy(request["sharingPolicy"][0])
        other["uri"] = uri
        request["sharingPolicy"].append(other)

    return change


LEGISLATION = "https://www.legislation.gov.uk"
OURS = "https://mais-exchange.org/CodeSystem/sharing-purpose"

ROWS: list[tuple[str, list[Change], str, tuple[str, ...]]] = [
    ("the example as published", [], "PERMIT", ("all-rules-passed",)),
    ("requester not a party", [_set_requester("eastmoor-police")], "DENY", ("requester-not-party",)),
    ("purpose s17 not in the policy", [_set_purpose(LEGISLATION, "ukpga/1989/41/section/17")], "DENY", ("purpose-not-in-policy",)),
    ("purpose not in the code list", [_set_purpose(LEGISLATION, "ukpga/2018/12/section/8")], "DENY", ("purpose-unknown",)),
    ("purpose in the legislation.gov.uk /id/ form", [_set_purpose(OURS, "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47")], "PERMIT", ("all-rules-passed",)),
    ("purpose in the document form", [_set_purpose(OURS, "https://legislation.gov.uk/ukpga/1989/41/section/47/")], "PERMIT", ("all-rules-passed",)),
    ("dated before the policy starts", [_set_date("2025-12-31T23:59:59Z")], "DENY", ("policy-not-yet-in-force",)),
    ("dated on the policy's first day", [_set_date("2026-01-01T00:00:00Z")], "PERMIT", ("all-rules-passed",)),
    ("dated on the policy's last day", [_set_date("2027-12-31T23:59:59Z")], "PERMIT", ("all-rules-passed",)),
    ("dated after the policy expired", [_set_date("2028-01-01T00:00:00Z")], "DENY", ("policy-expired",)),
    ("asks for involvement, which the policy covers", [_set_data("involvement")], "PERMIT", ("all-rules-passed",)),
    ("asks for data the policy does not cover", [_set_data("contact", "https://northvale.example.org/datasets/clinical-notes")], "DENY", ("data-not-in-policy",)),
    ("policy the responder does not hold", [_set_policy(uri="https://eastmoor.example.org/policies/other.jsonld")], "REVIEW", ("policy-not-held",)),
    ("policy held at another version", [_set_policy(version="s47-multi-agency/3")], "REVIEW", ("policy-version-differs",)),
    ("one policy not held, one that permits", [_add_policy("https://eastmoor.example.org/policies/other.jsonld")], "PERMIT", ("all-rules-passed",)),
    ("denied under one policy, another not held", [_set_requester("eastmoor-police"), _add_policy("https://eastmoor.example.org/policies/other.jsonld")], "REVIEW", ("policy-not-held",)),
    ("several rules fail at once", [_set_requester("eastmoor-police"), _set_date("2028-06-01T00:00:00Z")], "DENY", ("requester-not-party", "policy-expired")),
]  # fmt: skip


@pytest.fixture(scope="module")
def pdp() -> PolicyDecisionPoint:
    return PolicyDecisionPoint(RESPONDER, load_policies(POLICIES))


@pytest.mark.parametrize(("changes", "outcome", "rules"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_decision_table(
    pdp: PolicyDecisionPoint, changes: list[Change], outcome: str, rules: tuple[str, ...]
) -> None:
    request = _example_request()
    for change in changes:
        change(request)
    decision = pdp.decide(question_from_request(request))
    assert (decision.outcome, decision.rules) == (outcome, rules)


def test_every_rule_is_covered_by_the_tables() -> None:
    covered = {rule for row in ROWS for rule in row[3]} | {rule for row in POLICY_ROWS for rule in row[2]}
    assert covered == set(RULES)


def _write_policy(tmp_path: Path, **changes: Any) -> Path:
    policy = json.loads((POLICIES / "southshire-s47.json").read_text())
    policy.update(changes)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return tmp_path


POLICY_ROWS: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("policy restricts read", {"Restrictions": ["odrl:read"]}, ("use-restricted",)),
    ("policy does not permit read", {"PermittedUse": ["odrl:distribute"]}, ("use-not-permitted",)),
    (
        "responder is not a party",
        {
            "Party": [
                {
                    "Name": "Southshire Council",
                    "CatalogueID": [{"value": "southshire-council", "System": ORG}],
                }
            ]
        },
        ("responder-not-party",),
    ),
]


@pytest.mark.parametrize(("changes", "rules"), [r[1:] for r in POLICY_ROWS], ids=[r[0] for r in POLICY_ROWS])
def test_decision_table_of_policy_clauses(
    tmp_path: Path, changes: dict[str, Any], rules: tuple[str, ...]
) -> None:
    pdp = PolicyDecisionPoint(RESPONDER, load_policies(_write_policy(tmp_path, **changes)))
    decision = pdp.decide(question_from_request(_example_request()))
    assert (decision.outcome, decision.rules) == ("DENY", rules)


def test_decisions_do_not_depend_on_policy_order(pdp: PolicyDecisionPoint) -> None:
    request = _example_request()
    _add_policy("https://eastmoor.example.org/policies/other.jsonld")(request)
    first = pdp.decide(question_from_request(request))
    request["sharingPolicy"].reverse()
    assert pdp.decide(question_from_request(request)) == first


def test_reason_names_rules_and_policies_never_the_person(pdp: PolicyDecisionPoint) -> None:
    request = _example_request()
    _set_requester("eastmoor-police")(request)
    decision = pdp.decide(question_from_request(request))
    assert decision.reason == "DENY: requester-not-party (policies: s47-multi-agency/2)"
    query = json.dumps(_json_request()["requestedData"])
    for value in ("9990000026", "Thornbury", "Kai", "2015-05-01"):
        assert value in query and value not in decision.reason


def test_the_policy_file_speaks_the_standards_published_fields() -> None:
    reference = ROOT.parent / "shared" / "reference" / "socialcaredata" / "information-governance.dsa.json"
    published = json.loads(reference.read_text())["entities"][0]["fields"]
    policy = json.loads((POLICIES / "southshire-s47.json").read_text())
    assert set(policy) == {f["name"] for f in published}
    for field in published:
        children = {c["name"] for c in field.get("children", [])}
        value = policy[field["name"]]
        for item in value if isinstance(value, list) else [value]:
            if children:
                assert set(item) == children


def test_a_policy_carried_in_a_request_matches_the_file(pdp: PolicyDecisionPoint) -> None:
    [s47] = [p for p in load_policies(POLICIES) if "s47" in p.uri]
    carried = policy_to_avro(s47.source)
    assert carried["identifier"] == _example_request()["sharingPolicy"][0]["identifier"]
    assert carried["purpose"][0]["code"] == "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47"
