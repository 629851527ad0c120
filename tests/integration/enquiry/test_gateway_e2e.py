"""End to end over the real broker: the FHIR gateway, three responders, the audit and its verification.

One story, in order: a caller authenticated by client certificate asks about a child; the request
reaches three responders - one knows the child and permits, one denies by policy, one does not
know the child - and the FHIR answer says exactly that. The ``$match`` form (signed-token caller)
lists the one agency that knows the child. Six bad inputs each get an OperationOutcome, are
audited as denials and publish nothing. Every FHIR body the gateway returned validates with the
HAPI FHIR validator (offline, one JVM run). ``mais audit verify`` passes on the audit topic, and
fails naming writer and offset on copies with one byte changed, one entry deleted, or two swapped.
Captured logs and metrics hold none of the child's details.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from confluent_kafka import Producer
from enquiry_it_helpers import CHILD, Env, make_env, make_pki, patient, person, token_key, write_policy
from fhir_validator import validate_files

from exchange.audit import AuditRecord, read_audit_records
from exchange.localkafka import free_port
from exchange.logging import configure_logging
from services.enquiry import load_policies
from services.gateway import Authenticator, Gateway, GatewaySettings, load_clients, make_token, server_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[3]
SECRETS = (CHILD["nhs"], CHILD["given"], CHILD["family"], CHILD["born"], "943 476 5919")


def _parameters(
    resource: dict[str, Any], reason: str, request_parts: list[dict[str, Any]] | None = None
) -> bytes:
    parameters: list[dict[str, Any]] = [
        {"name": "resource", "resource": resource},
        {"name": "reason", "valueUri": reason},
    ]
    if request_parts is not None:
        parameters.append({"name": "request", "part": request_parts})
    return json.dumps({"resourceType": "Parameters", "parameter": parameters}).encode()


class World:
    def __init__(self, env: Env, tmp: Path) -> None:
        self.env = env
        self.requester = env.agency("southshire")
        self.knows, self.denies, self.unknown = (
            env.agency("northvale"),
            env.agency("eastmoor"),
            env.agency("westfield"),
        )
        self.gateway_agency = env.agency("gateway")
        uri = f"https://southshire.example.org/policies/s47-{env.suffix}.json"
        parties = [self.requester, self.knows, self.unknown]
        self.requester_policies = tmp / "policies-requester"
        write_policy(self.requester_policies, "s47", parties, uri=uri)
        write_policy(
            self.requester_policies,
            "s42-old",
            [self.requester, self.knows],
            uri=uri + "-s42",
            purpose=["care-act-2014-s42"],
            startDate="2020-01-01",
            endDate="2025-01-01",
        )
        self.responder_policies = {}
        for agency in (self.knows, self.denies, self.unknown):  # eastmoor keeps the policy but is not a party
            self.responder_policies[agency] = tmp / f"policies-{agency}"
            write_policy(self.responder_policies[agency], "s47", parties, uri=uri)
        env.publish_people(self.knows, [person(0), person(1)])
        env.publish_people(self.denies, [person(0)])
        env.publish_people(self.unknown, [person(2)])
        self.pki = make_pki(tmp / "pki")
        self.token_private, token_pub = token_key(tmp, self.requester)
        clients = tmp / "clients.toml"
        clients.write_text(f'[clients.{self.requester}]\npublic_key = "{token_pub.name}"\n')
        self.settings = GatewaySettings(
            agency=self.gateway_agency,
            policies=self.requester_policies,
            clients=clients,
            tls_cert_file=self.pki.server_cert,
            tls_key_file=self.pki.server_key,
            tls_ca_file=self.pki.ca,
            port=free_port(),
            deadline_s=15.0,
            responders=[self.knows, self.denies, self.unknown],
        )
        self.base = f"https://127.0.0.1:{self.settings.port}/fhir"


@pytest.fixture
def world(kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path, unique_topic: Any) -> World:
    return World(make_env(kafka_bootstrap, schema_registry_url, tmp_path, unique_topic), tmp_path)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)
    yield buffer
    configure_logging()


def _serve(world: World) -> tuple[Gateway, uvicorn.Server, threading.Thread]:
    env = world.env
    client = env.client(world.gateway_agency, f"gateway.{world.gateway_agency}")
    gateway = Gateway(
        client,
        Authenticator(load_clients(world.settings.clients), world.settings.audience),
        load_policies(world.requester_policies),
        deadline_s=world.settings.deadline_s,
        responders=world.settings.responders,
        enquiry=env.enquiry,
    )
    server = uvicorn.Server(server_config(gateway, world.settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    return gateway, server, thread


def _count(env: Env, topic: str) -> int:
    return len(read_audit_records(env.kafka, topic))


def test_gateway_three_responders_audit_and_tampering(
    world: World, logs: io.StringIO, tmp_path: Path
) -> None:
    env = world.env
    configs = [
        env.responder_config(a, world.responder_policies[a])
        for a in (world.knows, world.denies, world.unknown)
    ]
    bodies: dict[str, bytes] = {}
    with env.responders(configs) as responders:
        gateway, server, thread = _serve(world)
        try:
            with httpx.Client(verify=world.pki.context(world.requester), timeout=60) as tls_client:
                # 1. mutual TLS, $person-info-query
                answer = tls_client.post(
                    f"{world.base}/Patient/$person-info-query",
                    content=_parameters(patient(), "https://www.legislation.gov.uk/ukpga/1989/41/section/47"),
                )
                assert answer.status_code == 200, answer.text
                assert answer.headers["content-type"].startswith("application/fhir+json")
                bodies["person-info-query"] = answer.content
                result = answer.json()
                by_name: dict[str, list[dict[str, Any]]] = {}
                for p in result["parameter"]:
                    by_name.setdefault(p["name"], []).append(p)
                assert by_name["match"] == [{"name": "match", "valueBoolean": True}]
                [contact] = by_name["contact"]
                assert contact["resource"]["identifier"][0]["value"] == world.knows
                assert {"system": "phone", "value": "0113 496 0000", "use": "work"} in contact["resource"][
                    "telecom"
                ]
                outcomes = {
                    next(x["valueIdentifier"]["value"] for x in r["part"] if x["name"] == "organization"): {
                        x["name"]: x.get("valueCode", x.get("valueBoolean"))
                        for x in r["part"]
                        if x["name"] in ("decision", "match")
                    }
                    for r in by_name["responder"]
                }
                assert outcomes == {
                    world.knows: {"decision": "permit", "match": True},
                    world.denies: {"decision": "deny", "match": False},
                    world.unknown: {"decision": "permit", "match": False},
                }
                # 2. bad inputs, each a clear OperationOutcome (mutual TLS caller unless said otherwise)
                requests_before = _count(env, env.enquiry.request_topic)
                bad: dict[str, tuple[httpx.Response, int, str]] = {
                    "malformed-json": (
                        tls_client.post(
                            f"{world.base}/Patient/$person-info-query",
                            content=b'{"resourceType": "Parameters",',
                        ),
                        400,
                        "invalid",
                    ),
                    "no-patient": (
                        tls_client.post(
                            f"{world.base}/Patient/$person-info-query",
                            content=json.dumps(
                                {
                                    "resourceType": "Parameters",
                                    "parameter": [
                                        {
                                            "name": "reason",
                                            "valueUri": "https://www.legislation.gov.uk/ukpga/1989/41/section/47",
                                        }
                                    ],
                                }
                            ).encode(),
                        ),
                        400,
                        "required",
                    ),
                    "unknown-purpose": (
                        tls_client.post(
                            f"{world.base}/Patient/$person-info-query",
                            content=_parameters(
                                patient(), "https://www.legislation.gov.uk/ukpga/2018/12/section/8"
                            ),
                        ),
                        422,
                        "code-invalid",
                    ),
                    "expired-policy": (
                        tls_client.post(
                            f"{world.base}/Patient/$person-info-query",
                            content=_parameters(
                                patient(), "https://www.legislation.gov.uk/ukpga/2014/23/section/42"
                            ),
                        ),
                        422,
                        "business-rule",
                    ),
                    "another-organisation": (
                        tls_client.post(
                            f"{world.base}/Patient/$person-info-query",
                            content=_parameters(
                                patient(),
                                "https://www.legislation.gov.uk/ukpga/1989/41/section/47",
                                [
                                    {
                                        "name": "requesterIdentifier",
                                        "valueIdentifier": {
                                            "system": env.enquiry.organisation_system,
                                            "value": world.knows,
                                        },
                                    }
                                ],
                            ),
                        ),
                        403,
                        "forbidden",
                    ),
                }
                with httpx.Client(verify=world.pki.context(), timeout=60) as anonymous:
                    bad["no-client-identity"] = (
                        anonymous.post(
                            f"{world.base}/Patient/$person-info-query",
                            content=_parameters(
                                patient(), "https://www.legislation.gov.uk/ukpga/1989/41/section/47"
                            ),
                        ),
                        401,
                        "login",
                    )
                    requests_after_bad = _count(env, env.enquiry.request_topic)
                    # 3. signed token, $match form
                    token = make_token(world.token_private, world.requester, world.settings.audience)
                    matched = anonymous.post(
                        f"{world.base}/Patient/$match",
                        content=_parameters(
                            patient(), "https://www.legislation.gov.uk/ukpga/1989/41/section/47"
                        ),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    replayed = anonymous.post(
                        f"{world.base}/Patient/$match",
                        content=_parameters(
                            patient(), "https://www.legislation.gov.uk/ukpga/1989/41/section/47"
                        ),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    fresh = make_token(world.token_private, world.requester, world.settings.audience)
                    nobody = anonymous.post(
                        f"{world.base}/Patient/$match",
                        content=_parameters(
                            patient({**CHILD, "nhs": "9000000009", "given": "Nobody"}),
                            "https://www.legislation.gov.uk/ukpga/1989/41/section/47",
                        ),
                        headers={"Authorization": f"Bearer {fresh}"},
                    )
                for name, (response, status, code) in bad.items():
                    assert response.status_code == status, (name, response.text)
                    outcome = response.json()
                    assert outcome["resourceType"] == "OperationOutcome", name
                    assert [i["code"] for i in outcome["issue"]] == [code], name
                    bodies[f"bad-{name}"] = response.content
                assert requests_after_bad == requests_before  # nothing published for them
                assert matched.status_code == 200, matched.text
                bundle = matched.json()
                bodies["match"], bodies["match-nobody"] = matched.content, nobody.content
                assert bundle["type"] == "searchset" and bundle["total"] == 1
                [entry] = bundle["entry"]
                assert entry["resource"]["identifier"][0]["value"] == world.knows
                assert (
                    entry["search"]["mode"] == "match" and entry["search"]["score"] >= 0.99
                )  # the probability
                assert entry["search"]["extension"] == [
                    {"url": "http://hl7.org/fhir/StructureDefinition/match-grade", "valueCode": "certain"}
                ]
                assert replayed.status_code == 401 and replayed.json()["issue"][0]["code"] == "login"
                assert nobody.status_code == 200 and nobody.json() == {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "total": 0,
                }
            metrics = b"".join(r.metrics.exposition() for r in responders)
        finally:
            server.should_exit = True
            thread.join(30)
            gateway.client.close()

    # 4. every FHIR body validates as FHIR R4 (HAPI, offline, one JVM)
    files = []
    for name, body in bodies.items():
        path = tmp_path / "fhir" / f"{name}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(body)
        files.append(path)
    results = validate_files(files)
    assert {Path(f).stem: errors for f, errors in results.items() if errors} == {}

    # 5. the audit verifies, and the denials are in it with their rule ids
    report = env.verify()
    assert report.ok, [str(f) for f in report.findings]
    writers = set(report.writers)
    assert {f"enquiry.responder.{a}" for a in (world.knows, world.denies, world.unknown)} | {
        f"gateway.{world.gateway_agency}"
    } == writers
    assert all(s.unsealed == 0 for s in report.writers.values())  # every writer checkpointed on stop
    decoded = [env.codec.decode(r.value).value for r in read_audit_records(env.kafka, env.audit_topic)]
    denials = {
        e["rationale"][0]["code"]
        for e in decoded
        if e.get("activity") == "REQUEST_RECEIVED" and e.get("decision") == "DENY"
    }
    assert denials >= {
        "malformed-json",
        "no-patient",
        "purpose-unknown",
        "policy-expired",
        "requester-not-client",
        "no-client-identity",
        "token-replayed",
    }
    raw_audit = b"".join(r.value for r in read_audit_records(env.kafka, env.audit_topic))
    assert not any(secret.encode() in raw_audit for secret in SECRETS)

    # 6. tampered copies: `mais audit verify` names writer and offset
    _check_tampering(env, world)

    # 7. nothing personal in logs or metrics
    text = logs.getvalue() + metrics.decode()
    assert "request refused" in text and "enquiry answered" in text  # the capture did see the run
    for secret in SECRETS:
        assert secret not in text


def _verify_cli(env: Env, topic: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", "audit", "verify", "--topic", topic, "--keys", str(env.keys)],
        env={**os.environ, **env.env_vars()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy(env: Env, records: list[AuditRecord], topic: str) -> None:
    producer = Producer(env.kafka.confluent_config())
    for record in records:
        producer.produce(topic, record.value, record.key)
    assert producer.flush(30) == 0


def _check_tampering(env: Env, world: World) -> None:
    records = read_audit_records(env.kafka, env.audit_topic)
    writer = f"enquiry.responder.{world.knows}"
    mine = [
        i
        for i, r in enumerate(records)
        if r.key == writer.encode() and "chain" in env.codec.decode(r.value).value
    ]
    assert len(mine) >= 4
    untouched = env.audit_topic + ".copy"
    _copy(env, records, untouched)
    ok = _verify_cli(env, untouched)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verifies" in ok.stdout

    target = mine[1]
    altered = list(records)
    value = bytearray(altered[target].value)
    value[-1] = ord("0") if value[-1] != ord("0") else ord("1")  # one byte of the entry's previousHash
    altered[target] = AuditRecord(0, target, altered[target].key, bytes(value))
    deleted = records[: mine[2]] + records[mine[2] + 1 :]
    swapped = list(records)
    swapped[mine[1]], swapped[mine[2]] = swapped[mine[2]], swapped[mine[1]]
    expectations = {
        "altered": (altered, target),
        "removed": (deleted, mine[3] - 1),  # named at the entry after the gap, one offset earlier now
        "reordered": (swapped, mine[1]),
    }
    for kind, (copy, offset) in expectations.items():
        topic = f"{env.audit_topic}.{kind}"
        _copy(env, copy, topic)
        result = _verify_cli(env, topic)
        assert result.returncode == 1, (kind, result.stdout, result.stderr)
        assert f"{kind}: writer {writer}, partition 0, offset {offset}:" in result.stdout.replace(
            "\n", " "
        ), (kind, result.stdout)
