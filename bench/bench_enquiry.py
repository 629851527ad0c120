"""Enquiry latency: the FHIR gateway's request-to-response time with 8 responders, and the decision point.

Measures, in one run, on a real broker and schema registry (started here on free ports unless
``--bootstrap`` and ``--registry-url`` name running ones):

* the gateway: ``POST $person-info-query`` over mutual TLS, answered once all 8 responders (separate
  ``mais enquiry respond`` processes, 1,000 people each) have answered - sequential requests, p50/p99;
* reference: the broker's own produce-to-consume round trip (confluent-kafka, idempotent acks=all
  producer, ``read_committed`` consumer), same number of sequential messages, p50/p99 - and the ratio;
* the policy decision point in process: one decision per call over the decision table's rows,
  p50/p99 in microseconds, against the cost of a bare Python call on the same input (ratio).

Run: ``python bench/bench_enquiry.py [--requests 200] [--note TEXT]``. Writes its section of
``docs/benchmarks.md``. Not a test: the figures depend on the machine and on its load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, Producer, TopicPartition

sys.path.insert(0, str(Path(__file__).parent))
from _report import RunFacts, write_section

from exchange.audit import generate_key_pair
from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers
from exchange.identifiers import nhs_check_digit
from exchange.localkafka import LocalKafkaCluster, LocalRegistry, free_port
from exchange.registry_client import SchemaRegistryClient
from exchange.schemas import from_json, schema_json
from exchange.settings import KafkaSettings
from services.enquiry import (
    EnquirySettings,
    PolicyDecisionPoint,
    ensure_topics,
    load_policies,
    question_from_request,
)
from services.gateway.testing import make_pki

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- bench/bench_enquiry.py: begin -->"
END = "<!-- bench/bench_enquiry.py: end -->"
RESPONDERS = 8
PEOPLE = 1000
SECRET = "bench-agency-secret-0123456789"  # noqa: S105 - a throw-away secret of a benchmark run
S47 = "https://www.legislation.gov.uk/ukpga/1989/41/section/47"


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
        "n": len(ordered),
    }


def _nhs(index: int) -> str:
    base = 300000000 + index * 7
    while (check := nhs_check_digit(f"{base:09d}")) is None:
        base += 1
    return f"{base:09d}{check}"


def _person(index: int) -> dict[str, Any]:
    return from_json(
        "mais.v1.Person",
        {
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": _nhs(index)}],
            "name": [{"givenName": [f"Given{index}"], "familyName": [f"Family{index % 97}"]}],
            "dateOfBirth": {"date": f"{2005 + index % 15}-{1 + index % 12:02d}-{1 + index % 28:02d}"},
        },
    )


class World:
    """Broker, registry, 8 responder processes and the gateway process, in a temporary folder."""

    def __init__(self, folder: Path, bootstrap: str | None, registry_url: str | None) -> None:
        self.folder = folder
        self.cluster: LocalKafkaCluster | None = None
        self.registry: LocalRegistry | None = None
        if bootstrap is None:
            self.cluster = LocalKafkaCluster(folder / "kafka", nodes=1, ports=[(free_port(), free_port())])
            self.cluster.start(timeout=180)
            bootstrap = self.cluster.bootstrap_servers
        if registry_url is None:
            self.registry = LocalRegistry(folder / "registry", port=free_port())
            registry_url = self.registry.start(
                bootstrap, topic=f"_schemas-bench-{uuid.uuid4().hex[:6]}", timeout=120
            )
        self.bootstrap, self.registry_url = bootstrap, registry_url
        self.kafka = KafkaSettings(bootstrap_servers=bootstrap)
        suffix = uuid.uuid4().hex[:6]
        self.enquiry = EnquirySettings(
            request_topic=f"bench.request.{suffix}",
            response_topic=f"bench.response.{suffix}",
            decision_topic=f"bench.decision.{suffix}",
        )
        self.audit_topic = f"bench.audit.{suffix}"
        self.requester = f"requester-{suffix}"
        self.agencies = [f"responder{i}-{suffix}" for i in range(RESPONDERS)]
        self.processes: list[subprocess.Popen[bytes]] = []
        self.policies = folder / "policies"
        self.policies.mkdir()
        parties = [self.requester, *self.agencies]
        (self.policies / "s47.json").write_text(
            json.dumps(
                {
                    "uri": f"https://bench.example.org/policies/s47-{suffix}",
                    "identifier": {"system": "https://bench.example.org/Id/policy", "value": "s47/1"},
                    "name": "Benchmark s47 policy",
                    "contact": "ig@bench.example.org",
                    "party": [
                        {"name": p, "catalogueID": [{"system": self.enquiry.organisation_system, "value": p}]}
                        for p in parties
                    ],
                    "data": ["contact"],
                    "purpose": ["children-act-1989-s47"],
                    "startDate": "2026-01-01",
                    "endDate": "2030-12-31",
                    "permittedUse": ["odrl:read"],
                }
            )
        )
        (folder / "contact.toml").write_text(
            '[contact]\norganisation = "Bench"\ntelephone = ["0113 496 0000"]\n'
        )
        self.keys = folder / "keys"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MAIS_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "MAIS_SCHEMA_REGISTRY_URL": self.registry_url,
            "MAIS_ENQUIRY_REQUEST_TOPIC": self.enquiry.request_topic,
            "MAIS_ENQUIRY_RESPONSE_TOPIC": self.enquiry.response_topic,
            "MAIS_ENQUIRY_DECISION_TOPIC": self.enquiry.decision_topic,
            "MAIS_AUDIT_TOPIC": self.audit_topic,
            "MAIS_AUDIT_HASH_SECRET": SECRET,
        }

    def publish_people(self) -> None:
        codec = AvroCodec(SchemaRegistryClient(self.registry_url))
        producer = Producer(self.kafka.confluent_config())
        schema = schema_json("mais.v1.PersonRecorded")
        for number, agency in enumerate(self.agencies):
            topic = f"mais.{agency}.person.v1"
            ensure_topics(self.kafka, {topic: {"cleanup.policy": "compact"}})
            # the child (person 0) is known to two of the eight; each holds 1,000 people
            indexes = [0] if number < 2 else []
            indexes += range(1 + number * PEOPLE, (number + 1) * PEOPLE)
            for index in indexes:
                value = _person(index)
                event = {
                    "publisher": self.enquiry.organisation(agency),
                    "recordedAt": datetime.now(UTC),
                    "subjectIdentifier": value["identifier"],
                    "person": value,
                }
                envelope = Envelope(
                    id=uuid.uuid4().hex,
                    source="urn:bench",
                    type="mais.v1.PersonRecorded",
                    time=datetime.now(UTC),
                )
                key = f"https://fhir.nhs.uk/Id/nhs-number|{value['identifier'][0]['value']}"
                producer.produce(
                    topic, codec.encode(topic, schema, event), key, headers=build_headers(envelope)
                )  # type: ignore[arg-type]
            producer.flush(60)

    def start_responders(self) -> None:
        for agency in self.agencies:
            key, _ = generate_key_pair(self.keys, f"enquiry.responder.{agency}")
            log = (self.folder / f"{agency}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "exchange.cli",
                        "enquiry",
                        "respond",
                        "--agency",
                        agency,
                        "--policies",
                        str(self.policies),
                        "--contact",
                        str(self.folder / "contact.toml"),
                        "--audit-key",
                        str(key),
                    ],
                    env=self.env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 300
        for agency in self.agencies:
            while b"responder ready" not in (self.folder / f"{agency}.log").read_bytes():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"responder {agency} did not start")
                time.sleep(0.5)

    def start_gateway(self) -> tuple[str, httpx.Client]:
        pki = make_pki(self.folder / "pki")
        key, _ = generate_key_pair(self.keys, f"gateway.{self.requester}")
        (self.folder / "clients.toml").write_text("")
        port = free_port()
        env = {
            **self.env(),
            "MAIS_GATEWAY_AGENCY": self.requester,
            "MAIS_GATEWAY_POLICIES": str(self.policies),
            "MAIS_GATEWAY_CLIENTS": str(self.folder / "clients.toml"),
            "MAIS_GATEWAY_TLS_CERT_FILE": str(pki.server_cert),
            "MAIS_GATEWAY_TLS_KEY_FILE": str(pki.server_key),
            "MAIS_GATEWAY_TLS_CA_FILE": str(pki.ca),
            "MAIS_GATEWAY_PORT": str(port),
            "MAIS_GATEWAY_DEADLINE_S": "10",
            "MAIS_GATEWAY_RESPONDERS": json.dumps(self.agencies),
            "MAIS_AUDIT_SIGNING_KEY_FILE": str(key),
        }
        log = (self.folder / "gateway.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "exchange.cli", "gateway", "serve"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        client = httpx.Client(verify=pki.context(self.requester), timeout=30)
        base = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get(f"{base}/healthz").status_code == 200:
                    return f"{base}/fhir/Patient/$person-info-query", client
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "the gateway did not start: " + (self.folder / "gateway.log").read_text()[-2000:]
                )
            time.sleep(0.3)

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.registry is not None:
            self.registry.stop()
        if self.cluster is not None:
            self.cluster.stop()


def gateway_latency(world: World, url: str, client: httpx.Client, requests: int) -> dict[str, Any]:
    body = json.dumps(
        {
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "resource",
                    "resource": {
                        "resourceType": "Patient",
                        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": _nhs(0)}],
                    },
                },
                {"name": "reason", "valueUri": S47},
            ],
        }
    ).encode()
    samples: list[float] = []
    answered: list[int] = []
    for i in range(requests + 20):
        started = time.perf_counter()
        response = client.post(url, content=body)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        parameters = response.json()["parameter"]
        if i >= 20:  # the first twenty warm the connections and caches
            samples.append(elapsed * 1000)
            answered.append(sum(1 for p in parameters if p["name"] == "responder"))
            if sum(1 for p in parameters if p["name"] == "contact") != 2:
                raise RuntimeError("the gateway did not report the two agencies that know the child")
    return {**_percentiles(samples), "responders_answered_min": min(answered)}


def broker_round_trip(world: World, messages: int) -> dict[str, Any]:
    topic = f"bench.roundtrip.{uuid.uuid4().hex[:6]}"
    ensure_topics(world.kafka, {topic: {}})
    producer = Producer(
        {**world.kafka.confluent_config(), "enable.idempotence": True, "acks": "all", "linger.ms": 0}
    )
    consumer = Consumer(
        {
            **world.kafka.confluent_config(),
            "group.id": f"bench-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "fetch.wait.max.ms": 10,
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, 0, -1)])
    consumer.poll(1)
    samples: list[float] = []
    for i in range(messages + 20):
        started = time.perf_counter()
        producer.produce(topic, b"x" * 200, str(i))
        producer.poll(0)
        while True:
            message = consumer.poll(5)
            if message is not None and message.error() is None:
                break
        if i >= 20:
            samples.append((time.perf_counter() - started) * 1000)
    consumer.close()
    return _percentiles(samples)


def pdp_latency(rounds: int = 20_000) -> dict[str, Any]:
    from exchange.purposes import SHARING_PURPOSE_SYSTEM  # noqa: PLC0415

    policies = load_policies(ROOT / "tests" / "fixtures" / "enquiry" / "policies")
    pdp = PolicyDecisionPoint(("https://mais.example.org/Id/organisation", "northvale-nhs-trust"), policies)
    example = from_json(
        "mais.v1.InformationRequest",
        json.loads((ROOT / "schemas" / "examples" / "InformationRequest.json").read_text()),
    )
    variants = []
    for requester in ("southshire-council", "eastmoor-police"):
        for purpose in (
            "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47",
            "http://www.legislation.gov.uk/id/ukpga/1989/41/section/17",
        ):
            request = json.loads(json.dumps(example, default=str))
            request.update(
                dateStamp=example["dateStamp"],
                requesterIdentifier={**example["requesterIdentifier"], "value": requester},
            )
            request["assertedPurpose"] = {"system": SHARING_PURPOSE_SYSTEM, "code": purpose}
            variants.append(question_from_request(request))
    decide = pdp.decide

    def bare(question: Any) -> Any:
        return question.requester == ("", "") or question.purpose

    timings: dict[str, list[float]] = {"decide": [], "bare call": []}
    clock = time.perf_counter_ns
    for i in range(rounds):
        question = variants[i % len(variants)]
        started = clock()
        decide(question)
        middle = clock()
        bare(question)
        timings["decide"].append((middle - started) / 1000)
        timings["bare call"].append((clock() - middle) / 1000)
    decide_p, bare_p = _percentiles(timings["decide"]), _percentiles(timings["bare call"])
    return {
        "decide_us": decide_p,
        "bare_call_us": bare_p,
        "p99_ratio": decide_p["p99"] / max(bare_p["p99"], 1e-9),
    }


def _row(name: str, figures: dict[str, float], unit: str, digits: int = 1) -> str:
    p50, p99, top = (f"{figures[k]:.{digits}f} {unit}" for k in ("p50", "p99", "max"))
    return f"| {name} | {p50} | {p99} | {top} | {figures['n']:.0f} |"


def render(results: dict[str, Any], facts: RunFacts) -> str:
    gateway, ref, pdp = results["gateway_ms"], results["broker_round_trip_ms"], results["pdp"]
    lines = [
        BEGIN,
        "## Enquiries: gateway latency with 8 responders, and the policy decision point",
        "",
        *facts.lines(),
        "",
        "One Kafka node and the registry on the same machine; 8 `mais enquiry respond` processes"
        " (1,000 people each, the child known to 2) and `mais gateway serve`, all separate processes;"
        " sequential requests over mutual TLS, each answered once all 8 responders had answered.",
        "",
        "| measure | p50 | p99 | max | n |",
        "|---|---|---|---|---|",
        _row("gateway `$person-info-query`, 8 responders", gateway, "ms"),
        _row("reference: broker produce-to-consume round trip", ref, "ms"),
        _row("policy decision (in process)", pdp["decide_us"], "µs"),
        _row("reference: a bare Python call on the same input", pdp["bare_call_us"], "µs", 2),
        "",
        f"Ratios: gateway p99 / broker round-trip p99 = {gateway['p99'] / ref['p99']:.1f}x (a gateway"
        " answer is a request, 8 transactions with decisions, answers and audit entries, and the"
        f" gathering of 8 answers); decision p99 / bare call p99 = {pdp['p99_ratio']:.0f}x."
        " Targets: gateway p99 under 300 ms, decision p99 under 50 µs.",
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", default=None)
    parser.add_argument("--registry-url", default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--note", help="a note printed with the figures (e.g. what else ran)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    facts = RunFacts(args.note)
    results: dict[str, Any] = {"pdp": pdp_latency()}
    print("pdp", json.dumps(results["pdp"]), flush=True)
    with tempfile.TemporaryDirectory(prefix="mais-bench-enquiry-") as folder:
        world = World(Path(folder), args.bootstrap, args.registry_url)
        try:
            world.publish_people()
            world.start_responders()
            url, client = world.start_gateway()
            results["broker_round_trip_ms"] = broker_round_trip(world, args.requests)
            print("broker round trip", results["broker_round_trip_ms"], flush=True)
            results["gateway_ms"] = gateway_latency(world, url, client, args.requests)
            print("gateway", results["gateway_ms"], flush=True)
            client.close()
        finally:
            world.stop()
    write_section(args.out, render(results, facts), BEGIN, END)
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
