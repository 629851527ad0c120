"""A responder SIGKILLed mid-stream and restarted answers every request exactly once, and its audit
chain still verifies (the killed transaction is aborted, the restarted writer continues the chain)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from enquiry_it_helpers import Env, make_env, person, write_contact, write_policy

from exchange.audit import read_audit_records
from exchange.envelope import Envelope, build_headers
from exchange.purposes import purpose_from_text
from exchange.schemas import schema_json
from services.enquiry import build_request, ensure_topics
from services.enquiry._policies import load_policy_file

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

REQUESTS = 150


def _start(env: Env, agency: str, policies: Path, contact: Path, log: Path) -> subprocess.Popen[bytes]:
    env.audit(f"enquiry.responder.{agency}")  # makes the key
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchange.cli",
            "enquiry",
            "respond",
            "--agency",
            agency,
            "--policies",
            str(policies),
            "--contact",
            str(contact),
            "--audit-key",
            str(env.keys / f"enquiry.responder.{agency}.key"),
        ],
        env={**os.environ, **env.env_vars()},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _answers(env: Env) -> Counter[bytes]:
    return Counter(r.key for r in read_audit_records(env.kafka, env.enquiry.response_topic) if r.key)


class _Watch:
    """Counts committed answers as they arrive (one consumer for the whole test)."""

    def __init__(self, env: Env) -> None:
        self.consumer = Consumer(
            {
                **env.kafka.confluent_config(),
                "group.id": f"watch-{env.suffix}",
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self.consumer.assign([TopicPartition(env.enquiry.response_topic, 0, -2)])
        self.seen = 0

    def count(self) -> int:
        for message in self.consumer.consume(500, timeout=0.2):
            if message.error() is None:
                self.seen += 1
        return self.seen


def test_sigkill_mid_stream_answers_each_request_once(
    kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path, unique_topic: Any
) -> None:
    env = make_env(kafka_bootstrap, schema_registry_url, tmp_path, unique_topic)
    requester, responder = env.agency("southshire"), env.agency("northvale")
    uri = f"https://southshire.example.org/policies/s47-{env.suffix}.json"
    policy_file = write_policy(tmp_path / "policies", "s47", [requester, responder], uri=uri)
    env.publish_people(responder, [person(0), person(1)])
    ensure_topics(
        env.kafka,
        {t: {} for t in (env.enquiry.request_topic, env.enquiry.response_topic, env.enquiry.decision_topic)},
    )
    s47, s17 = purpose_from_text("children-act-1989-s47"), purpose_from_text("children-act-1989-s17")
    assert s47 is not None and s17 is not None
    policy = load_policy_file(policy_file)
    requests = [
        build_request(
            env.enquiry.organisation(requester), person(i % 4), s17 if i % 5 == 0 else s47, [policy]
        )
        for i in range(REQUESTS)
    ]
    expected = {r["identifier"]["value"].encode() for r in requests}

    def feed() -> None:
        producer = Producer(env.kafka.confluent_config())
        schema = schema_json("mais.v1.InformationRequest")
        for request in requests:
            envelope = Envelope(
                id=request["identifier"]["value"],
                source="urn:test",
                type="mais.v1.InformationRequest",
                time=dt.datetime.now(dt.UTC),
            )
            value = env.codec.encode(env.enquiry.request_topic, schema, request)
            producer.produce(
                env.enquiry.request_topic,
                value,
                request["identifier"]["value"],
                headers=build_headers(envelope),
            )
            producer.flush(10)
            time.sleep(0.1)

    contact = write_contact(tmp_path, responder)
    log = tmp_path / "responder.log"
    feeder = threading.Thread(target=feed)
    process = _start(env, responder, tmp_path / "policies", contact, log)
    try:
        deadline = time.monotonic() + 120
        while "responder ready" not in log.read_text():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the responder did not start"
            time.sleep(0.2)
        watch = _Watch(env)
        feeder.start()
        while watch.count() < REQUESTS // 3:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the responder answered too little before the kill"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        killed_at = watch.count()
        watch.consumer.close()
        assert killed_at < REQUESTS, "the kill came after the last request: not mid-stream"
        process = _start(env, responder, tmp_path / "policies", contact, log)
        feeder.join(60)
        deadline = time.monotonic() + 180
        while set(_answers(env)) != expected:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{len(set(_answers(env)))} of {REQUESTS} answered"
            time.sleep(0.5)
        time.sleep(2)  # anything answered twice would show up by now
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    answers = _answers(env)
    assert set(answers) == expected
    assert [key for key, count in answers.items() if count != 1] == []
    decisions = Counter(r.key for r in read_audit_records(env.kafka, env.enquiry.decision_topic))
    assert set(decisions.values()) == {1}
    report = env.verify()
    assert report.ok, [str(f) for f in report.findings]
    summary = report.writers[f"enquiry.responder.{responder}"]
    assert (
        summary.entries == 3 * REQUESTS and summary.unsealed == 0
    )  # received, decided, answered; sealed on stop
