"""The gateway's pure parts: reading Parameters, answering in FHIR, and signed tokens."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.gateway import (
    Authenticator,
    ClientRegistry,
    FhirProblem,
    as_bundle,
    as_parameters,
    make_token,
    parse_query,
)

S47 = "https://www.legislation.gov.uk/ukpga/1989/41/section/47"
PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
    "name": [{"family": "Thornbury", "given": ["Kai"]}],
    "birthDate": "2015-05-01",
}


def _body(*parameters: dict[str, Any]) -> bytes:
    return json.dumps({"resourceType": "Parameters", "parameter": list(parameters)}).encode()


def test_the_standards_example_request_reads_as_a_person_query() -> None:
    query = parse_query(_body({"name": "resource", "resource": PATIENT}, {"name": "reason", "valueUri": S47}))
    assert query.reason == S47
    assert query.person["identifier"] == [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
    ]
    assert query.person["name"][0]["familyName"] == ["Thornbury"]
    assert str(query.person["dateOfBirth"]["date"]) == "2015-05-01"


@pytest.mark.parametrize(
    ("body", "status", "rule"),
    [
        (b"{nope", 400, "malformed-json"),
        (json.dumps({"resourceType": "Patient"}).encode(), 400, "not-parameters"),
        (_body({"name": "reason", "valueUri": S47}), 400, "no-patient"),
        (
            _body(
                {"name": "resource", "resource": {"resourceType": "Organization", "name": "x"}},
                {"name": "reason", "valueUri": S47},
            ),
            400,
            "no-patient",
        ),
        (_body({"name": "resource", "resource": PATIENT}), 400, "no-purpose"),
        (
            _body(
                {"name": "resource", "resource": {"resourceType": "Patient", "gender": "male"}},
                {"name": "reason", "valueUri": S47},
            ),
            400,
            "patient-too-thin",
        ),
        (
            _body(
                {"name": "resource", "resource": {**PATIENT, "birthDate": "2015-13-45"}},
                {"name": "reason", "valueUri": S47},
            ),
            400,
            "invalid-parameters",
        ),
    ],
)
def test_bad_bodies_are_named_problems(body: bytes, status: int, rule: str) -> None:
    with pytest.raises(FhirProblem) as raised:
        parse_query(body)
    assert (raised.value.status, raised.value.rule) == (status, rule)
    assert "9434765919" not in raised.value.diagnostics and "Thornbury" not in raised.value.diagnostics


def _response(
    agency: str, *, match: bool, decision: str = "PERMIT", grade: float | None = None, p: float | None = None
) -> dict[str, Any]:
    return {
        "responderIdentifier": {"system": "https://mais-exchange.org/Id/organisation", "value": agency},
        "decision": decision,
        "match": match,
        "matchScore": grade,
        "matchProbability": p,
        "contact": {
            "name": f"{agency} safeguarding",
            "contact": [{"name": "Front door", "telephone": ["0113 496 0000"], "email": []}],
            "address": [],
        }
        if match
        else None,
    }


def test_answers_best_first_with_grades() -> None:
    responses = [
        _response("a", match=True, grade=0.6, p=0.7),
        _response("b", match=True, grade=0.99, p=0.999),
        _response("c", match=False, decision="DENY"),
    ]
    parameters = as_parameters(responses, pending=["d"])
    names = [p["name"] for p in parameters["parameter"]]
    assert names == ["match", "contact", "contact", "responder", "responder", "responder", "responder"]
    assert [p["resource"]["id"] for p in parameters["parameter"] if p["name"] == "contact"] == ["b", "a"]
    bundle = as_bundle(responses, "https://gw.example.org/fhir")
    assert [(e["fullUrl"], e["search"]["extension"][0]["valueCode"]) for e in bundle["entry"]] == [
        ("https://gw.example.org/fhir/Organization/b", "certain"),
        ("https://gw.example.org/fhir/Organization/a", "possible"),
    ]
    assert as_bundle([responses[2]], "https://gw") == {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 0,
    }


def _forge(token: str, **claims: Any) -> str:
    head, body, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(body + "=="))
    decoded.update(claims)
    return (
        f"{head}.{base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b'=').decode()}.{signature}"
    )


def test_signed_tokens() -> None:
    key = Ed25519PrivateKey.generate()
    auth = Authenticator(ClientRegistry({"southshire": key.public_key()}), "mais-gateway")
    assert auth.organisation({}, f"Bearer {make_token(key, 'southshire', 'mais-gateway')}") == (
        "southshire",
        "signed-token",
    )
    cases = {
        "token-replayed": None,
        "token-unknown-client": make_token(key, "eastmoor", "mais-gateway"),
        "token-signature": make_token(Ed25519PrivateKey.generate(), "southshire", "mais-gateway"),
        "token-audience": make_token(key, "southshire", "another-gateway"),
        "token-expired": make_token(key, "southshire", "mais-gateway", lifetime_s=3600),
        "token-malformed": "not-a-token",
    }
    used = make_token(key, "southshire", "mais-gateway")
    auth.organisation({}, f"Bearer {used}")
    cases["token-replayed"] = used
    for rule, token in cases.items():
        with pytest.raises(Exception) as raised:
            auth.organisation({}, f"Bearer {token}")
        assert getattr(raised.value, "rule", None) == rule, rule
    # changing a claim breaks the signature; no identity at all is a 401 of its own
    with pytest.raises(Exception, match="signature"):
        auth.organisation(
            {}, f"Bearer {_forge(make_token(key, 'southshire', 'mais-gateway'), exp=int(time.time()) + 10)}"
        )
    with pytest.raises(Exception) as raised:
        auth.organisation({}, None)
    assert getattr(raised.value, "rule", None) == "no-client-identity"
