"""Helpers of the enquiry integration tests: agencies with keys and policies, people, PKI, responders."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from exchange.audit import (
    AuditSettings,
    VerifyReport,
    generate_key_pair,
    load_public_keys,
    read_audit_records,
    verify_records,
)
from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers
from exchange.runtime import StopSignal
from exchange.schemas import from_json, schema_json
from exchange.settings import KafkaSettings
from services.enquiry import (
    EnquiryClient,
    EnquirySettings,
    Responder,
    ResponderConfig,
    default_finder,
    ensure_topics,
    load_contact,
    load_policies,
    make_codec,
)
from services.gateway.testing import Pki, make_pki, token_key  # noqa: F401 - re-exported for the tests

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
CHILD = {
    "nhs": "9434765919",
    "given": "Kai",
    "family": "Thornbury",
    "born": "2015-05-01",
    "postcode": "MF3 1AB",
}
S47 = "https://www.legislation.gov.uk/ukpga/1989/41/section/47"
SECRET = SecretStr("test-agency-secret-0123456789")


def person(index: int = 0, **overrides: str) -> dict[str, Any]:
    """A standard Person value (the test child for index 0, other children otherwise)."""
    details = {**CHILD, **overrides}
    if index:
        details = {**details, "nhs": _nhs(index), "given": f"Child{index}", "family": f"Family{index}"}
    return from_json(
        "mais.v1.Person",
        {
            "identifier": [{"system": NHS_SYSTEM, "value": details["nhs"]}],
            "name": [{"givenName": [details["given"]], "familyName": [details["family"]]}],
            "dateOfBirth": {"date": details["born"]},
            "address": [{"line1": "1 High Street", "city": "Southshire", "postcode": details["postcode"]}],
        },
    )


def _nhs(index: int) -> str:
    from exchange.identifiers import nhs_check_digit  # noqa: PLC0415

    base = 400000000 + index * 7
    while True:
        digits = f"{base:09d}"
        check = nhs_check_digit(digits)
        if check is not None:
            return f"{digits}{check}"
        base += 1


def patient(details: Mapping[str, str] = CHILD) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": NHS_SYSTEM, "value": details["nhs"]}],
        "name": [{"family": details["family"], "given": [details["given"]]}],
        "birthDate": details["born"],
    }


def write_policy(
    folder: Path, name: str, parties: list[str], *, uri: str, version: str = "1", **extra: Any
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    policy = {
        "uri": uri,
        "identifier": {
            "system": "https://southshire.example.org/Id/sharing-policy",
            "value": f"{name}/{version}",
        },
        "name": f"Test policy {name}",
        "contact": "ig@southshire.example.org",
        "party": [
            {"name": p, "catalogueID": [{"system": EnquirySettings().organisation_system, "value": p}]}
            for p in parties
        ],
        "data": ["contact", "involvement"],
        "purpose": ["children-act-1989-s47"],
        "startDate": "2026-01-01",
        "endDate": "2030-12-31",
        "permittedUse": ["odrl:read"],
        **extra,
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(policy))
    return path


def write_contact(folder: Path, organisation: str) -> Path:
    path = folder / f"{organisation}-contact.toml"
    path.write_text(
        f'[contact]\norganisation = "{organisation} safeguarding"\nteam = "Front door"\n'
        'telephone = ["0113 496 0000"]\nemail = ["safeguarding@example.nhs.uk"]\n'
        '[[contact.address]]\nline1 = "1 Civic Centre"\ncity = "Southshire"\npostcode = "AB1 2CD"\n'
    )
    return path


@dataclass
class Env:
    """One test's isolated enquiry world on the session's broker and registry."""

    kafka: KafkaSettings
    registry_url: str
    root: Path
    enquiry: EnquirySettings
    audit_topic: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def __post_init__(self) -> None:
        self.keys = self.root / "keys"
        self.codec = make_codec(self.registry_url)

    def agency(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def audit(self, writer: str) -> AuditSettings:
        key = self.keys / f"{writer}.key"
        if not key.exists():
            generate_key_pair(self.keys, writer)
        return AuditSettings(
            topic=self.audit_topic, signing_key_file=key, hash_secret=SECRET, checkpoint_every=5
        )

    def env_vars(self) -> dict[str, str]:
        return {
            "MAIS_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "MAIS_SCHEMA_REGISTRY_URL": self.registry_url,
            "MAIS_ENQUIRY_REQUEST_TOPIC": self.enquiry.request_topic,
            "MAIS_ENQUIRY_RESPONSE_TOPIC": self.enquiry.response_topic,
            "MAIS_ENQUIRY_DECISION_TOPIC": self.enquiry.decision_topic,
            "MAIS_AUDIT_TOPIC": self.audit_topic,
            "MAIS_AUDIT_HASH_SECRET": SECRET.get_secret_value(),
            "MAIS_AUDIT_CHECKPOINT_EVERY": "5",
        }

    def publish_people(self, agency: str, people: list[dict[str, Any]]) -> None:
        from confluent_kafka import Producer  # noqa: PLC0415

        topic = f"mais.{agency}.person.v1"
        ensure_topics(self.kafka, {topic: {"cleanup.policy": "compact"}})
        producer = Producer(self.kafka.confluent_config())
        schema = schema_json("mais.v1.PersonRecorded")
        organisation = self.enquiry.organisation(agency)
        for value in people:
            first = value["identifier"][0]
            event = {
                "publisher": organisation,
                "recordedAt": dt.datetime.now(dt.UTC),
                "subjectIdentifier": value["identifier"],
                "person": value,
            }
            envelope = Envelope(
                id=uuid.uuid4().hex,
                source=f"urn:test:{agency}",
                type="mais.v1.PersonRecorded",
                time=dt.datetime.now(dt.UTC),
            )
            producer.produce(
                topic,
                self.codec.encode(topic, schema, event),
                f"{first['system']}|{first['value']}",
                headers=build_headers(envelope),
            )
        assert producer.flush(30) == 0

    def responder_config(self, agency: str, policies: Path) -> ResponderConfig:
        return ResponderConfig(
            agency=agency,
            policies=load_policies(policies),
            contact=load_contact(write_contact(self.root, agency)),
            kafka=self.kafka,
            codec=make_codec(self.registry_url),
            finder=default_finder(agency),
            enquiry=self.enquiry,
            audit=self.audit(f"enquiry.responder.{agency}"),
        )

    @contextmanager
    def responders(self, configs: list[ResponderConfig]) -> Iterator[list[Responder]]:
        stops = [StopSignal() for _ in configs]
        running = [Responder(config, stop) for config, stop in zip(configs, stops, strict=True)]
        threads = [threading.Thread(target=r.run, daemon=True) for r in running]
        for thread in threads:
            thread.start()
        try:
            yield running
        finally:
            for stop in stops:
                stop.stop()
            for thread in threads:
                thread.join(60)

    def client(self, agency: str, writer: str) -> EnquiryClient:
        return EnquiryClient(
            self.kafka,
            make_codec(self.registry_url),
            agency=agency,
            writer_name=writer,
            enquiry=self.enquiry,
            audit=self.audit(writer),
        )

    def verify(self, topic: str | None = None) -> VerifyReport:
        codec: AvroCodec = self.codec
        return verify_records(
            read_audit_records(self.kafka, topic or self.audit_topic),
            lambda v: codec.decode(v).value,
            load_public_keys(self.keys),
        )


def make_env(kafka_bootstrap: str, registry_url: str, root: Path, unique: Any) -> Env:
    enquiry = EnquirySettings(
        request_topic=unique("request"), response_topic=unique("response"), decision_topic=unique("decision")
    )
    return Env(KafkaSettings(bootstrap_servers=kafka_bootstrap), registry_url, root, enquiry, unique("audit"))
