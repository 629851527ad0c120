"""``mais enquiry``: answer enquiries for an agency, ask one, and work through the review queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from exchange.audit import AuditSettings
from exchange.errors import ConfigError
from exchange.logging import configure_logging
from exchange.metrics import HealthState, MetricsServer
from exchange.purposes import DATA_CATEGORIES, PURPOSES, purpose_from_text
from exchange.registry_client import RegistrySettings
from exchange.runtime import StopSignal
from exchange.schemas import from_json
from exchange.settings import KafkaSettings
from exchange.topics import validate_agency
from services.enquiry._answer import load_contact
from services.enquiry._client import EnquiryClient, build_request
from services.enquiry._finder import default_finder
from services.enquiry._kafka import make_codec
from services.enquiry._metrics import EnquiryMetrics
from services.enquiry._policies import load_policies, load_policy_file
from services.enquiry._responder import Responder, ResponderConfig
from services.enquiry._review import decide_review, read_queue
from services.enquiry._settings import EnquirySettings

__all__ = ["app"]

app = typer.Typer(help="Enquiries without copying data: respond, ask, review.", no_args_is_help=True)
review_app = typer.Typer(help="Requests waiting for a person (REVIEW decisions).", no_args_is_help=True)
app.add_typer(review_app, name="review")
_out = Console(highlight=False)
SAFE_LOG_KEYS = ("decision", "records", "outcome")


@app.command()
def respond(
    agency: Annotated[str, typer.Option(help="The agency answering (its catalogue id).")],
    policies: Annotated[Path, typer.Option(help="Folder of the agency's sharing policies (.json/.toml).")],
    contact: Annotated[
        Path, typer.Option(help="TOML file with the [contact] to give when the person is known.")
    ],
    audit_key: Annotated[
        Path | None,
        typer.Option(help="Ed25519 key of the audit writer [default: MAIS_AUDIT_SIGNING_KEY_FILE]."),
    ] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Serve /metrics, /healthz, /readyz here.")] = None,
) -> None:
    """Answer requests for AGENCY under its policies until SIGTERM/SIGINT."""
    configure_logging(extra_safe_keys=SAFE_LOG_KEYS)
    validate_agency(agency)
    audit = AuditSettings(signing_key_file=audit_key) if audit_key else AuditSettings()
    config = ResponderConfig(
        agency=agency,
        policies=load_policies(policies),
        contact=load_contact(contact),
        kafka=KafkaSettings(),
        codec=make_codec(RegistrySettings()),
        finder=default_finder(agency),
        audit=audit,
    )
    audit.signer(), audit.hasher(agency)  # fail before connecting if either is missing
    metrics = EnquiryMetrics(agency)
    server = (
        MetricsServer(metrics, HealthState(ready=True, reason="answering"), "127.0.0.1", metrics_port).start()
        if metrics_port
        else None
    )
    try:
        Responder(config, StopSignal().install(), metrics).run()
    finally:
        if server is not None:
            server.stop()


def _purpose_help() -> str:
    return ", ".join(p.code for p in PURPOSES) + " or a legislation.gov.uk URI"


@app.command()
def ask(  # noqa: PLR0917 - a Typer command takes its options as parameters
    as_agency: Annotated[str, typer.Option("--as", help="The requesting agency (its catalogue id).")],
    purpose: Annotated[str, typer.Option(help=f"Why: {_purpose_help()}.")],
    policy: Annotated[list[Path], typer.Option(help="The sharing policy file(s) the request is made under.")],
    nhs_number: Annotated[str | None, typer.Option(help="NHS number of the person.")] = None,
    identifier: Annotated[list[str] | None, typer.Option(help="Another identifier as SYSTEM|VALUE.")] = None,
    given: Annotated[str | None, typer.Option(help="Given name.")] = None,
    family: Annotated[str | None, typer.Option(help="Family name.")] = None,
    birth_date: Annotated[str | None, typer.Option(help="Date of birth, YYYY-MM-DD.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode of the current address.")] = None,
    data: Annotated[
        list[str] | None, typer.Option(help=f"Data asked for: {', '.join(DATA_CATEGORIES)} [contact].")
    ] = None,
    deadline: Annotated[float, typer.Option(help="Seconds to wait for answers.")] = 10.0,
    expect: Annotated[list[str] | None, typer.Option(help="Stop early once these agencies answered.")] = None,
    audit_key: Annotated[
        Path | None, typer.Option(help="Ed25519 key of the requester's audit writer.")
    ] = None,
) -> None:
    """Publish an InformationRequest and print the answers as they arrive, until the deadline."""
    configure_logging(extra_safe_keys=SAFE_LOG_KEYS)
    validate_agency(as_agency)
    named = purpose_from_text(purpose)
    if named is None:
        raise ConfigError(f"unknown purpose {purpose!r}", hint=f"use one of: {_purpose_help()}")
    query = _query(nhs_number, identifier or [], given, family, birth_date, postcode)
    enquiry = EnquirySettings()
    audit = AuditSettings(signing_key_file=audit_key) if audit_key else AuditSettings()
    client = EnquiryClient(
        KafkaSettings(),
        make_codec(RegistrySettings()),
        agency=as_agency,
        writer_name=f"enquiry.requester.{as_agency}",
        enquiry=enquiry,
        audit=audit,
    )
    try:
        request = build_request(
            enquiry.organisation(as_agency),
            query,
            named,
            [load_policy_file(p) for p in policy],
            data=data or (),
        )
        request_id = client.send(request)
        _out.print(f"request {request_id} sent; answers until {deadline:.0f} s:")
        answered = 0
        for answer in client.gather(request, deadline, set(expect) if expect else None):
            value = answer.value
            if answer.kind == "decision":
                if answer.decision == "REVIEW":
                    _out.print(f"{answer.responder}: REVIEW (waiting for a person)")
                continue
            answered += 1
            if not value["match"]:
                _out.print(f"{answer.responder}: {answer.decision}, not known")
                continue
            contact = value["contact"] or {}
            people = "; ".join(
                " ".join(filter(None, [c.get("name"), *c.get("telephone", []), *c.get("email", [])]))
                for c in contact.get("contact", [])
            )
            probability = value.get("matchProbability")
            _out.print(
                f"{answer.responder}: {answer.decision}, KNOWN (PUB03 {value['matchScore']:.2f}"
                + (f", p={probability:.3f}" if probability is not None else "")
                + f"); contact {contact.get('name')}: {people}"
                + (f"; {len(value['involvement'])} involvement(s)" if value["involvement"] else "")
            )
        _out.print(f"{answered} answer(s).")
    finally:
        client.close()


def _query(  # noqa: PLR0917 - the person's details, as the command took them
    nhs: str | None,
    others: list[str],
    given: str | None,
    family: str | None,
    born: str | None,
    postcode: str | None,
) -> dict[str, object]:
    identifiers = [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}] if nhs else []
    for text in others:
        system, _, value = text.rpartition("|")
        if not system or not value:
            raise ConfigError(
                f"--identifier {text!r} is not SYSTEM|VALUE", hint="e.g. https://example.org/Id/x|123"
            )
        identifiers.append({"system": system, "value": value})
    if not identifiers and not (given and family and born):
        raise ConfigError(
            "not enough to look a person up", hint="give an identifier, or --given, --family and --birth-date"
        )
    person: dict[str, object] = {
        "identifier": identifiers,
        "name": [{"givenName": [given] if given else [], "familyName": [family] if family else []}]
        if (given or family)
        else [],
    }
    if born:
        person["dateOfBirth"] = {"date": born}
    if postcode:
        person["address"] = [{"line1": "", "city": "", "postcode": postcode}]
    return dict(from_json("mais.v1.Person", person))


@review_app.command("list")
def review_list(agency: Annotated[str, typer.Option(help="The agency whose queue to show.")]) -> None:
    """Requests waiting for a decision (and those decided but not yet answered)."""
    queue = read_queue(KafkaSettings(), agency)
    waiting = [item for item in queue.values() if item.state in ("pending", "approved", "denied")]
    if not waiting:
        _out.print("no request is waiting for review")
        return
    table = Table("request", "state", "requester", "purpose", "policies", "why review", "received")
    for item in sorted(waiting, key=lambda i: i.received):
        table.add_row(
            item.request_id,
            item.state,
            item.requester,
            item.purpose,
            ", ".join(item.policies),
            ", ".join(item.rules),
            item.received,
        )
    _out.print(table)


def _decide(agency: str, request_id: str, reviewer: str, note: str | None, *, approve: bool) -> None:
    item = decide_review(
        KafkaSettings(),
        agency,
        request_id,
        approve=approve,
        reviewer=reviewer,
        note=note,
    )
    _out.print(f"request {item.request_id} {item.state} by {reviewer}; the responder sends the answer")


@review_app.command()
def approve(
    request_id: Annotated[str, typer.Argument(help="The request to approve.")],
    agency: Annotated[str, typer.Option(help="The agency whose queue it is in.")],
    reviewer: Annotated[str, typer.Option(help="Who decides (logged).")],
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Approve a request: the responder answers it as if permitted."""
    _decide(agency, request_id, reviewer, note, approve=True)


@review_app.command()
def deny(
    request_id: Annotated[str, typer.Argument(help="The request to deny.")],
    agency: Annotated[str, typer.Option(help="The agency whose queue it is in.")],
    reviewer: Annotated[str, typer.Option(help="Who decides (logged).")],
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Deny a request: the responder answers DENY, with no personal data."""
    _decide(agency, request_id, reviewer, note, approve=False)
