"""The policy decision point: request + the responder's own policies -> PERMIT, DENY or REVIEW (pure).

Nothing here does I/O or reads a clock: the decision depends only on its inputs, so it can be
replayed from the audit log and tested table by table. Rules are evaluated per asserted policy, on
the responder's own copy of the policy, never on the copy the request carries:

======================  =======  ==================================================================
rule id                 outcome  when
======================  =======  ==================================================================
policy-not-held         REVIEW   the responder holds no policy with that URI
policy-version-differs  REVIEW   it holds the policy with another identifier (version)
purpose-unknown         DENY     the asserted purpose is not in the project's code list
requester-not-party     DENY     the requester is not a party to the policy
responder-not-party     DENY     the responder itself is not a party to the policy
purpose-not-in-policy   DENY     the asserted purpose is not one of the policy's purposes
policy-not-yet-in-force DENY     the request is dated before the policy's start date
policy-expired          DENY     the request is dated after the policy's end date
data-not-in-policy      DENY     some requested data is not in the policy's data
use-not-permitted       DENY     the policy does not permit ``read``
use-restricted          DENY     the policy explicitly restricts ``read``
all-rules-passed        PERMIT   none of the above
======================  =======  ==================================================================

Several asserted policies: the first policy (in URI order) that permits decides; else REVIEW if
any policy needs review; else DENY with the rules of every policy. The reason text is built from
rule ids and policy identifiers only, never from the person asked about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchange.purposes import DATA_CONTACT, canonical_data, purpose_from_coding
from services.enquiry._policies import CompiledPolicy

__all__ = ["RULES", "Decision", "PolicyDecisionPoint", "Question", "question_from_request"]

RULES: tuple[str, ...] = (
    "policy-not-held",
    "policy-version-differs",
    "purpose-unknown",
    "requester-not-party",
    "responder-not-party",
    "purpose-not-in-policy",
    "policy-not-yet-in-force",
    "policy-expired",
    "data-not-in-policy",
    "use-not-permitted",
    "use-restricted",
    "all-rules-passed",
)
_REVIEW_RULES = frozenset({"policy-not-held", "policy-version-differs"})
_READ = "read"


@dataclass(frozen=True, slots=True)
class Question:
    """What the decision needs from a request, normalised."""

    requester: tuple[str, str]
    purpose: str | None  # canonical purpose URI, None when not in the code list
    date_ms: int
    data: frozenset[str]
    policies: tuple[tuple[str, tuple[str, str]], ...]  # (uri, (system, value)) as asserted


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, the rules that decided it and the policies they were evaluated on."""

    outcome: str  # PERMIT | DENY | REVIEW
    rules: tuple[str, ...]
    policies: tuple[tuple[str, str], ...]  # (system, value) of the responder's copies evaluated
    deciding_policy: CompiledPolicy | None

    @property
    def reason(self) -> str:
        ids = ", ".join(f"{value}" for _, value in self.policies) or "no policy held"
        return f"{self.outcome}: {', '.join(self.rules)} (policies: {ids})"


def _millis(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(value.timestamp() * 1000)


def question_from_request(request: Mapping[str, Any]) -> Question:
    """The :class:`Question` of an ``InformationRequest`` value (as decoded from Avro)."""
    requester = request["requesterIdentifier"]
    purpose = purpose_from_coding(request["assertedPurpose"])
    requested = request["requestedData"].get("data") or [DATA_CONTACT]
    return Question(
        requester=(str(requester["system"]), str(requester["value"])),
        purpose=purpose.uri if purpose else None,
        date_ms=_millis(request["dateStamp"]),
        data=frozenset(canonical_data(str(d)) for d in requested),
        policies=tuple(
            sorted(
                (str(p["uri"]), (str(p["identifier"]["system"]), str(p["identifier"]["value"])))
                for p in request["sharingPolicy"]
            )
        ),
    )


class PolicyDecisionPoint:
    """Decides requests for one responder, against the policies it holds."""

    __slots__ = ("_by_uri", "responder")

    def __init__(self, responder: tuple[str, str], policies: Iterable[CompiledPolicy]) -> None:
        self.responder = responder
        self._by_uri = {p.uri: p for p in policies}

    def decide(self, question: Question) -> Decision:
        reviews: list[str] = []
        denials: list[str] = []
        evaluated: list[tuple[str, str]] = []
        for uri, identifier in question.policies:
            held = self._by_uri.get(uri)
            if held is None:
                reviews.append("policy-not-held")
                continue
            evaluated.append(held.identifier)
            if held.identifier != identifier:
                reviews.append("policy-version-differs")
                continue
            failed = self._failed_rules(question, held)
            if not failed:
                return Decision("PERMIT", ("all-rules-passed",), (held.identifier,), held)
            denials.extend(failed)
        if reviews:
            return Decision("REVIEW", _unique(reviews), tuple(evaluated), None)
        return Decision("DENY", _unique(denials) or ("policy-not-held",), tuple(evaluated), None)

    def _failed_rules(self, question: Question, policy: CompiledPolicy) -> list[str]:
        failed: list[str] = []
        if question.purpose is None:
            failed.append("purpose-unknown")
        if question.requester not in policy.parties:
            failed.append("requester-not-party")
        if self.responder not in policy.parties:
            failed.append("responder-not-party")
        if question.purpose is not None and question.purpose not in policy.purposes:
            failed.append("purpose-not-in-policy")
        if question.date_ms < policy.start_ms:
            failed.append("policy-not-yet-in-force")
        if question.date_ms > policy.end_ms:
            failed.append("policy-expired")
        if not question.data <= policy.data:
            failed.append("data-not-in-policy")
        if _READ not in policy.permitted:
            failed.append("use-not-permitted")
        if _READ in policy.restricted:
            failed.append("use-restricted")
        return failed


def _unique(rules: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(set(rules), key=RULES.index))
