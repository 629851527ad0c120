"""What a responder says (pure): the InformationResponse and SharingDecision values for a decision.

* PERMIT (or REVIEW approved by a person): look the person up in the agency's own records; say
  whether it knows them, the PUB03 grade and probability of the best record, whom to contact, and
  - only when the request asks for it and the deciding policy's data covers it - a summary of
  involvements.
* DENY: no personal data at all - not even the identifiers the request gave: the response's
  subject is the request's own identifier.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchange.audit import RULE_SYSTEM
from exchange.errors import ConfigError
from exchange.purposes import DATA_INVOLVEMENT
from services.enquiry._pdp import Decision, Question
from services.enquiry._policies import CompiledPolicy
from services.enquiry._records import Found, OwnRecords

__all__ = ["ContactFile", "decision_value", "load_contact", "response_value"]


class _Address(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    line1: str
    line2: str | None = None
    city: str
    postcode: str


class ContactFile(BaseModel):
    """Whom requesters should call when the agency knows the person (``contact.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_min_length=1)
    organisation: str
    team: str | None = None
    telephone: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list)
    """Secure e-mail addresses for the follow-up."""
    address: list[_Address] = Field(default_factory=list)

    def to_avro(self) -> dict[str, Any]:
        return {
            "name": self.organisation,
            "contact": [{"name": self.team, "email": list(self.email), "telephone": list(self.telephone)}],
            "address": [{**a.model_dump(), "UPRN": None, "USRN": None, "use": None} for a in self.address],
        }


def load_contact(path: Path) -> ContactFile:
    """The ``[contact]`` table of a TOML file; errors name the file and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})", hint="pass --contact FILE") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint="fix the file's syntax") from None
    try:
        return ContactFile.model_validate(data.get("contact", {}))
    except ValidationError as exc:
        problems = [
            f"field contact.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise ConfigError(
            f"{path}: " + "; ".join(problems), hint="see docs/enquiry.md for contact.toml"
        ) from None


def _rules(rules: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"code": rule, "system": RULE_SYSTEM, "display": None} for rule in rules]


def decision_value(
    request: Mapping[str, Any], decision: Decision, responder: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """The ``SharingDecision`` event for ``decision`` (no personal data: the subject is the request)."""
    return {
        "publisher": dict(responder),
        "recordedAt": now,
        "subjectIdentifier": [dict(request["identifier"])],
        "requestIdentifier": dict(request["identifier"]),
        "decision": decision.outcome,
        "sharingPolicyIdentifier": [{"system": s, "value": v} for s, v in decision.policies],
        "rationale": _rules(decision.rules),
    }


def response_value(
    request: Mapping[str, Any],
    question: Question,
    *,
    outcome: str,
    policy: CompiledPolicy | None,
    records: OwnRecords,
    responder: Mapping[str, str],
    contact: ContactFile,
    now: datetime,
) -> tuple[dict[str, Any], Found | None]:
    """The ``InformationResponse`` for a request decided ``outcome`` (PERMIT, REVIEW approved, DENY)."""
    value: dict[str, Any] = {
        "publisher": dict(responder),
        "recordedAt": now,
        "subjectIdentifier": [dict(request["identifier"])],
        "requestIdentifier": dict(request["identifier"]),
        "responderIdentifier": dict(responder),
        "decision": outcome,
        "match": False,
        "matchScore": None,
        "contact": None,
        "involvement": [],
        "matchProbability": None,
    }
    if outcome == "DENY":
        return value, None
    query = request["requestedData"]["query"]
    value["subjectIdentifier"] = [dict(i) for i in query.get("identifier") or ()] or value[
        "subjectIdentifier"
    ]
    best = next((f for f in records.finder.find(query) if f.known), None)
    if best is None:
        return value, None
    value.update(
        match=True, matchScore=best.grade, matchProbability=best.probability, contact=contact.to_avro()
    )
    if DATA_INVOLVEMENT in question.data and policy is not None and DATA_INVOLVEMENT in policy.data:
        value["involvement"] = [i.to_avro() for i in records.involvements(best.key) if i.types]
    return value, best
