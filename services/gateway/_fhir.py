"""FHIR R4 in and out: the ``$person-info-query`` Parameters, the answers, ``$match`` Bundles, errors.

In: a ``Parameters`` resource with ``resource`` (a Patient), ``reason`` (a legislation URI) and
optionally ``request``, the information-governance request as parts (``requesterIdentifier``
valueIdentifier, ``assertedPurpose`` valueUri or valueCoding, ``sharingPolicy`` valueUri (repeat),
``data`` valueUri or valueString (repeat)). Out: ``Parameters`` with ``match`` and one ``contact``
Organization per agency that knows the person, plus a ``responder`` part per agency that
answered (its id, decision, match and grade) so the caller sees who denied and who does not know;
or, for ``$match``, a ``searchset`` Bundle of those Organizations, best first, with
``search.score`` and the match-grade extension. Problems are :class:`FhirProblem` (an HTTP status
and an ``OperationOutcome``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.parameters import Parameters
from pydantic import ValidationError

from adapters.fhir import translate
from exchange.adapter import AdapterContext, SourceRecord
from exchange.errors import DataError
from exchange.identifiers import local_system

__all__ = [
    "MATCH_GRADE",
    "FhirProblem",
    "ParsedQuery",
    "as_bundle",
    "as_parameters",
    "match_grade",
    "operation_outcome",
    "parse_query",
]

MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"
_QUERY_ORG = "gateway-query"


@dataclass(frozen=True)
class FhirProblem(Exception):
    """A request the gateway refuses: HTTP status, OperationOutcome issue code, rule id, diagnostics."""

    status: int
    code: str
    rule: str
    diagnostics: str


@dataclass(frozen=True)
class ParsedQuery:
    person: dict[str, Any]
    reason: str | None
    requester: dict[str, str] | None = None
    purpose: Any = None  # a URI string or a Coding mapping, from the request part
    policies: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    subjects: list[dict[str, str]] = field(default_factory=list)


def operation_outcome(problem: FhirProblem) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": problem.code, "diagnostics": problem.diagnostics}],
    }


def parse_query(body: bytes) -> ParsedQuery:
    """Read a ``$person-info-query`` body; :class:`FhirProblem` says exactly what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FhirProblem(400, "invalid", "malformed-json", "the body is not JSON") from None
    if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
        raise FhirProblem(400, "structure", "not-parameters", "the body must be a FHIR Parameters resource")
    try:
        Parameters.model_validate(document)
    except (ValidationError, ValueError, TypeError) as exc:
        where = (
            sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})[:3]
            if isinstance(exc, ValidationError)
            else []
        )
        raise FhirProblem(
            400,
            "structure",
            "invalid-parameters",
            "Parameters is not valid FHIR R4" + (f" at {', '.join(where)}" if where else ""),
        ) from None
    parameters = document.get("parameter") or []
    patients = [p.get("resource") for p in parameters if p.get("name") == "resource"]
    if (
        len(patients) != 1
        or not isinstance(patients[0], dict)
        or patients[0].get("resourceType") != "Patient"
    ):
        raise FhirProblem(
            400,
            "required",
            "no-patient",
            "Parameters must have exactly one 'resource' parameter holding a Patient",
        )
    reasons = [p.get("valueUri") for p in parameters if p.get("name") == "reason"]
    requests = [p for p in parameters if p.get("name") == "request"]
    person, subjects = _person(patients[0])
    query = ParsedQuery(person, reasons[0] if reasons else None, subjects=subjects)
    if requests:
        query = _with_request(query, requests[0].get("part") or [])
    if query.reason is None and query.purpose is None:
        raise FhirProblem(
            400,
            "required",
            "no-purpose",
            "a 'reason' URI (or a request part with assertedPurpose) is required",
        )
    return query


def _person(patient: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    resource = {**patient, "id": "query"}  # the adapter needs a record id; it is dropped again below
    try:
        events = translate(
            SourceRecord(json.dumps(resource).encode(), "gateway"), AdapterContext(_QUERY_ORG, _QUERY_ORG)
        )
    except DataError as exc:
        raise FhirProblem(400, "invalid", "invalid-patient", exc.message) from None
    person = dict(next(e.value["person"] for e in events if e.schema == "mais.v1.PersonRecorded"))
    local = local_system(_QUERY_ORG, "patient")
    person["identifier"] = [i for i in person["identifier"] if i["system"] != local]
    if not person["identifier"] and not (person.get("name") and person.get("dateOfBirth")):
        raise FhirProblem(
            400, "required", "patient-too-thin", "the Patient needs an identifier, or a name and a birth date"
        )
    return person, [dict(i) for i in person["identifier"]]


def _with_request(query: ParsedQuery, parts: Sequence[Mapping[str, Any]]) -> ParsedQuery:
    requester, purpose, policies, data = None, None, [], []
    for part in parts:
        name = part.get("name")
        if name == "requesterIdentifier" and isinstance(part.get("valueIdentifier"), dict):
            value = part["valueIdentifier"]
            requester = {"system": str(value.get("system", "")), "value": str(value.get("value", ""))}
        elif name == "assertedPurpose":
            purpose = part.get("valueUri") or part.get("valueCoding")
        elif name == "sharingPolicy" and part.get("valueUri"):
            policies.append(str(part["valueUri"]))
        elif name == "data":
            data.append(str(part.get("valueUri") or part.get("valueString") or ""))
    return ParsedQuery(
        query.person,
        query.reason,
        requester,
        purpose,
        tuple(policies),
        tuple(d for d in data if d),
        query.subjects,
    )


def match_grade(score: float) -> str:
    """The match-grade code for a PUB03 grade: certain (identifier), probable, possible."""
    if score >= 0.99:
        return "certain"
    if score >= 0.7:
        return "probable"
    if score > 0:
        return "possible"
    return "certainly-not"


def _organization(response: Mapping[str, Any]) -> dict[str, Any]:
    contact = response.get("contact") or {}
    telecom: list[dict[str, str]] = []
    teams: list[str] = []
    for person in contact.get("contact") or ():
        telecom += [{"system": "phone", "value": t, "use": "work"} for t in person.get("telephone") or ()]
        telecom += [{"system": "email", "value": e, "use": "work"} for e in person.get("email") or ()]
        if person.get("name"):
            teams.append(str(person["name"]))
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "id": _fhir_id(str(response["responderIdentifier"]["value"])),
        "identifier": [dict(response["responderIdentifier"])],
        "active": True,
        "name": str(contact.get("name") or response["responderIdentifier"]["value"]),
    }
    if teams:
        organization["alias"] = teams
    if telecom:
        organization["telecom"] = telecom
    addresses = [
        {
            "line": [a["line1"], *([a["line2"]] if a.get("line2") else [])],
            "city": a["city"],
            "postalCode": a["postcode"],
            "country": "UK",
        }
        for a in contact.get("address") or ()
    ]
    if addresses:
        organization["address"] = addresses
    return organization


def _score(response: Mapping[str, Any]) -> float:
    probability = response.get("matchProbability")
    return float(probability if probability is not None else response.get("matchScore") or 0.0)


def as_parameters(responses: Sequence[Mapping[str, Any]], pending: Sequence[str] = ()) -> dict[str, Any]:
    """The ``$person-info-query`` answer for the responses gathered."""
    known = sorted((r for r in responses if r["match"]), key=_score, reverse=True)
    parameters: list[dict[str, Any]] = [{"name": "match", "valueBoolean": bool(known)}]
    parameters += [{"name": "contact", "resource": _organization(r)} for r in known]
    for response in sorted(responses, key=lambda r: str(r["responderIdentifier"]["value"])):
        parts: list[dict[str, Any]] = [
            {"name": "organization", "valueIdentifier": dict(response["responderIdentifier"])},
            {"name": "decision", "valueCode": str(response["decision"]).lower()},
            {"name": "match", "valueBoolean": bool(response["match"])},
        ]
        if response["match"]:
            parts.append({"name": "score", "valueDecimal": round(_score(response), 4)})
        parameters.append({"name": "responder", "part": parts})
    for organisation in sorted(pending):
        parameters.append(
            {
                "name": "responder",
                "part": [
                    {"name": "organization", "valueString": organisation},
                    {"name": "decision", "valueCode": "review"},
                ],
            }
        )
    return {"resourceType": "Parameters", "parameter": parameters}


def _fhir_id(value: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-." else "-" for c in value)[:64]
    return cleaned or "unknown"


def as_bundle(responses: Sequence[Mapping[str, Any]], base_url: str) -> dict[str, Any]:
    """The ``$match`` answer: a searchset of the Organizations that know the person, best first.

    ``base_url`` is the gateway's FHIR base; entries are ``<base>/Organization/<agency id>``.
    """
    known = sorted((r for r in responses if r["match"]), key=_score, reverse=True)
    base = base_url.rstrip("/")
    entries = [
        {
            "fullUrl": f"{base}/Organization/{_fhir_id(str(r['responderIdentifier']['value']))}",
            "resource": _organization(r),
            "search": {
                "extension": [
                    {"url": MATCH_GRADE, "valueCode": match_grade(float(r.get("matchScore") or 0.0))}
                ],
                "mode": "match",
                "score": round(_score(r), 4),
            },
        }
        for r in known
    ]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(known)}
    if entries:  # FHIR forbids an empty array: no match is a searchset without entries
        bundle["entry"] = entries
    return bundle
