"""The gateway's HTTP application: ``POST [base]/Patient/$person-info-query`` and ``$match``.

Each call: identify the calling organisation (mutual TLS or signed token), read the FHIR
Parameters, check purpose and sharing policy, publish an InformationRequest for the caller,
gather the responders' answers until all expected responders answered or the deadline passes,
and answer in FHIR. Every refusal is an ``OperationOutcome`` with the right status, and is logged
as a denied ``REQUEST_RECEIVED`` in the gateway's audit chain; nothing is published for it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exchange.audit import AuditStep
from exchange.purposes import Purpose, purpose_from_coding, purpose_from_text
from services.enquiry import REQUEST_SYSTEM, CompiledPolicy, EnquiryClient, EnquirySettings, build_request
from services.gateway._auth import Authenticator, AuthError
from services.gateway._fhir import (
    FhirProblem,
    ParsedQuery,
    as_bundle,
    as_parameters,
    operation_outcome,
    parse_query,
)

__all__ = ["FHIR_JSON", "Gateway"]

FHIR_JSON = "application/fhir+json"
_log = structlog.get_logger("mais.gateway")  # lazy: the logging set up at run time applies


class _Fhir(JSONResponse):
    media_type = FHIR_JSON


class Gateway:
    """The application and what it needs (built by ``serve`` or by tests)."""

    def __init__(
        self,
        client: EnquiryClient,
        authenticator: Authenticator,
        policies: Sequence[CompiledPolicy],
        *,
        deadline_s: float,
        responders: Sequence[str] = (),
        base_path: str = "/fhir",
        enquiry: EnquirySettings | None = None,
    ) -> None:
        self.client = client
        self.auth = authenticator
        self.policies = list(policies)
        self.deadline_s = deadline_s
        self.responders = set(responders)
        self.enquiry = enquiry or EnquirySettings()
        base = base_path.rstrip("/")
        self.base_path = base
        self.app = Starlette(
            routes=[
                Route(f"{base}/Patient/$person-info-query", self.person_info_query, methods=["POST"]),
                Route(f"{base}/Patient/$match", self.match, methods=["POST"]),
                Route("/healthz", self.healthz, methods=["GET"]),
            ]
        )

    async def healthz(self, request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    async def person_info_query(self, request: Request) -> Response:
        return await self._handle(request, bundle=False)

    async def match(self, request: Request) -> Response:
        return await self._handle(request, bundle=True)

    async def _handle(self, request: Request, *, bundle: bool) -> Response:
        body = await request.body()
        organisation: str | None = None
        subjects: list[dict[str, str]] = []
        try:
            organisation, method = self.auth.organisation(request.scope, request.headers.get("authorization"))
            parsed = parse_query(body)
            subjects = parsed.subjects
            purpose = self._purpose(parsed)
            requester = self.enquiry.organisation(organisation)
            if parsed.requester is not None and parsed.requester != requester:
                raise FhirProblem(
                    403,
                    "forbidden",
                    "requester-not-client",
                    "the request names another organisation as requester",
                )
            policies = self._policies(parsed, requester, purpose)
        except AuthError as error:
            code = "login" if error.status == 401 else "forbidden"
            return await self._refuse(
                FhirProblem(error.status, code, error.rule, error.message), None, subjects
            )
        except FhirProblem as problem:
            return await self._refuse(problem, organisation, subjects)
        outgoing = build_request(
            requester,
            parsed.person,
            purpose,
            [p.source for p in policies],
            data=parsed.data,
            reason=parsed.reason,
        )
        responses, pending = await asyncio.to_thread(self._enquire, outgoing, requester)
        _log.info("enquiry answered", count=len(responses), method=method)
        base_url = str(request.base_url).rstrip("/") + self.base_path
        return _Fhir(as_bundle(responses, base_url) if bundle else as_parameters(responses, pending))

    def _purpose(self, parsed: ParsedQuery) -> Purpose:
        named: Purpose | None = None
        if isinstance(parsed.purpose, Mapping):
            named = purpose_from_coding(parsed.purpose)
        elif isinstance(parsed.purpose, str):
            named = purpose_from_text(parsed.purpose)
        elif parsed.reason is not None:
            named = purpose_from_text(parsed.reason)
        if named is None:
            raise FhirProblem(
                422,
                "code-invalid",
                "purpose-unknown",
                "the reason is not a sharing purpose of the exchange's code list",
            )
        return named

    def _policies(
        self, parsed: ParsedQuery, requester: Mapping[str, str], purpose: Purpose
    ) -> list[CompiledPolicy]:
        party = (requester["system"], requester["value"])
        if parsed.policies:
            by_uri = {p.uri: p for p in self.policies}
            unknown = [uri for uri in parsed.policies if uri not in by_uri]
            if unknown:
                raise FhirProblem(
                    422,
                    "business-rule",
                    "policy-unknown",
                    "a named sharing policy is not held by this gateway",
                )
            chosen = [by_uri[uri] for uri in parsed.policies]
        else:
            chosen = [p for p in self.policies if party in p.parties and purpose.uri in p.purposes]
            if not chosen:
                raise FhirProblem(
                    422,
                    "business-rule",
                    "no-policy-for-purpose",
                    "no sharing policy covers this requester and purpose",
                )
        now = int(datetime.now(UTC).timestamp() * 1000)
        in_force = [p for p in chosen if p.start_ms <= now <= p.end_ms]
        if not in_force:
            expired = any(now > p.end_ms for p in chosen)
            rule = "policy-expired" if expired else "policy-not-yet-in-force"
            raise FhirProblem(422, "business-rule", rule, "the sharing policy is not in force today")
        return in_force

    def _enquire(
        self, request: dict[str, Any], requester: Mapping[str, str]
    ) -> tuple[list[Mapping[str, Any]], list[str]]:
        self.client.log_step(
            AuditStep(
                "REQUEST_RECEIVED",
                dict(request["identifier"]),
                list(request["subjectIdentifier"]),
                counterparty=requester,
            ),
            wait=False,  # acknowledged with the request itself, which send() waits for
        )
        self.client.send(request)
        responses: dict[str, Mapping[str, Any]] = {}
        pending: set[str] = set()
        for answer in self.client.gather(request, self.deadline_s, self.responders or None):
            if answer.kind == "response":
                responses[answer.responder] = answer.value
                pending.discard(answer.responder)
            elif answer.decision == "REVIEW" and answer.responder not in responses:
                pending.add(answer.responder)
        known = any(r["match"] for r in responses.values())
        self.client.log_step(
            AuditStep(
                "RESPONSE_SENT",
                dict(request["identifier"]),
                list(request["subjectIdentifier"]),
                counterparty=requester,
                policies=[dict(p["identifier"]) for p in request["sharingPolicy"]],
                match=known,
            ),
            wait=False,
        )
        return list(responses.values()), sorted(pending)

    async def _refuse(
        self, problem: FhirProblem, organisation: str | None, subjects: list[dict[str, str]]
    ) -> Response:
        step = AuditStep(
            "REQUEST_RECEIVED",
            {"system": REQUEST_SYSTEM, "value": f"refused-{uuid.uuid4().hex}"},
            subjects,
            counterparty=self.enquiry.organisation(organisation)
            if organisation and _is_agency(organisation)
            else None,
            decision="DENY",
            rules=(problem.rule,),
        )
        await asyncio.to_thread(self.client.log_step, step)
        _log.info("request refused", rule=problem.rule, status=problem.status)
        return _Fhir(operation_outcome(problem), status_code=problem.status)


def _is_agency(organisation: str) -> bool:
    try:
        EnquirySettings().organisation(organisation)
    except Exception:
        return False
    return True
