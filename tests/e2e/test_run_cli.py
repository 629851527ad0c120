"""`mais run` as a newcomer runs it: local stack, schemas, adapters fed in real time, clean stop."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from exchange.adapter import load_adapter
from exchange.cli.translate import translate_files
from exchange.localkafka import LocalKafkaCluster, LocalRegistry

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]

CONFIG = """
[samples]
people = 30
seed = 2

[[adapters]]
name = "hospital"
adapter = "hl7v2"
agency = "{hospital}"
organisation = "R9Z"
source = "mllp:127.0.0.1:2576"
feed = ["hl7/hospital_adt.hl7"]
pace = 0.05

[[adapters]]
name = "police"
adapter = "tabular"
agency = "{police}"
organisation = "POLICE"
source = "dir:drop/police"
feed = ["police/notifications.jsonl"]
"""


def _write_config(tmp_path: Path) -> tuple[Path, str, str]:
    hospital, police = f"h{uuid.uuid4().hex[:8]}", f"p{uuid.uuid4().hex[:8]}"
    path = tmp_path / "mais.toml"
    path.write_text(CONFIG.format(hospital=hospital, police=police), encoding="utf-8")
    return path, hospital, police


def _mais(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "exchange.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _collect(process: subprocess.Popen[str], lines: list[str]) -> threading.Thread:
    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _count(bootstrap: str, topic: str) -> int:
    """How many committed events a read_committed consumer finds on ``topic`` now."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"run-e2e-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None or not metadata.partitions:
            return 0
        consumer.assign([TopicPartition(topic, p, 0) for p in metadata.partitions])
        seen, quiet = 0, time.monotonic() + 3
        while time.monotonic() < quiet:
            for message in consumer.consume(500, 0.5):
                if message.error() is None:
                    seen += 1
                    quiet = time.monotonic() + 2
        return seen
    finally:
        consumer.close()


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def _expected(samples: Path, name: str, adapter: str, agency: str, organisation: str) -> dict[str, int]:
    out = io.StringIO()
    translate_files(
        load_adapter(adapter),
        [samples / name],
        agency=agency,
        organisation=organisation,
        out=out,
        err=io.StringIO(),
    )
    counts: dict[str, int] = {}
    for line in out.getvalue().splitlines():
        topic = json.loads(line)["topic"]
        counts[topic] = counts.get(topic, 0) + 1
    return counts


S47 = "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47"


def _check_singleview(output: str, *agencies: str) -> None:
    """The SingleView mais run printed applies every agency's events and shows a person page."""
    found = re.search(
        r"SingleView\s+at\s+(http://127\.0\.0\.1:\d+/)\s+\(sign\s+in\s+as\s+(\S+),\s+password\s+(\S+)\)",
        output,
    )
    assert found, output
    url, user, password = found[1], found[2], found[3]
    with httpx.Client(base_url=url, auth=(user, password), timeout=10) as client:
        deadline = time.monotonic() + 60
        applied: set[str] = set()
        while time.monotonic() < deadline and applied != set(agencies):
            metrics = client.get("/metrics").text
            applied = {
                a for a in agencies if re.search(rf'events_applied_total{{agency="{a}"}} [1-9]', metrics)
            }
            time.sleep(1)
        assert applied == set(agencies), metrics
        assert client.get("/readyz").status_code == 200
        examples = re.findall(r'href="/people/(P\d+)\?', client.get("/search", params={"purpose": S47}).text)
        assert examples, "the demo search page offers example people"
        person = client.get(f"/api/people/{examples[0]}", params={"purpose": S47}).json()
        assert person["agencies"] and person["record_keys"]


def test_mais_run_starts_the_stack_feeds_adapters_and_stops_everything(tmp_path: Path) -> None:
    """The newcomer's path: nothing running, `mais run --duration 30` starts and stops it all."""
    config, hospital, police = _write_config(tmp_path)
    env = {**os.environ, "MAIS_DEV_STATE_DIR": str(tmp_path / "dev")}
    for name in ("MAIS_KAFKA_BOOTSTRAP_SERVERS", "MAIS_SCHEMA_REGISTRY_URL"):
        env.pop(name, None)
    state = tmp_path / "state"
    process = _mais(
        "run", "--config", str(config), "--state-dir", str(state), "--free-ports", "--duration", "30",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    lines: list[str] = []
    reader = _collect(process, lines)
    bootstrap = None
    deadline = time.monotonic() + 180
    while bootstrap is None and time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"Kafka at (127\.0\.0\.1:\d+)", "".join(lines))
        bootstrap = found[1] if found else None
        time.sleep(0.5)
    assert bootstrap is not None, "".join(lines)
    # Events arrive on the standard topics while mais run is still running.
    while process.poll() is None and not (
        _count(bootstrap, f"mais.{hospital}.person.v1") and _count(bootstrap, f"mais.{police}.person.v1")
    ):
        time.sleep(1)
    assert _count(bootstrap, f"mais.{hospital}.person.v1") > 0, "".join(lines)
    assert _count(bootstrap, f"mais.{police}.person.v1") > 0, "".join(lines)
    assert process.wait(180) == 0, "".join(lines)
    reader.join(10)
    output = "".join(lines)
    assert re.search(r"started\s+Kafka\s+and\s+schema\s+registry", output), output
    assert re.search(r"All\s+adapters\s+stopped\s+cleanly", output), output
    # It started the broker and the registry, so it stopped them; nothing is left running.
    cluster = LocalKafkaCluster.from_state(tmp_path / "dev" / "kafka-1node")
    assert cluster is not None and not cluster.is_running()
    registry = LocalRegistry.from_state(cluster.state_dir)
    assert registry is not None and registry.running_pid() is None
    assert _processes_mentioning(str(tmp_path)) == []


def test_mais_run_on_a_given_stack_stops_on_ctrl_c_and_delivers_every_event(
    kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path
) -> None:
    config, hospital, police = _write_config(tmp_path)
    state = tmp_path / "state"
    process = _mais(
        "run", "--config", str(config), "--state-dir", str(state), "--free-ports",
        "--bootstrap-servers", kafka_bootstrap, "--registry-url", schema_registry_url,
        env=dict(os.environ), cwd=tmp_path,
    )  # fmt: skip
    lines: list[str] = []
    reader = _collect(process, lines)
    samples = state / "samples"
    deadline = time.monotonic() + 120
    while not (samples / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    want = {
        **_expected(samples, "hl7/hospital_adt.hl7", "hl7v2", hospital, "R9Z"),
        **_expected(samples, "police/notifications.jsonl", "tabular", police, "POLICE"),
    }
    got: dict[str, int] = {}
    while time.monotonic() < deadline and got != want and process.poll() is None:
        got = {topic: _count(kafka_bootstrap, topic) for topic in want}
    assert got == want, "".join(lines)
    _check_singleview("".join(lines), hospital, police)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(90) == 0, "".join(lines)
    reader.join(10)
    assert re.search(r"All\s+adapters\s+stopped\s+cleanly", "".join(lines)), "".join(lines)
    assert _processes_mentioning(str(tmp_path)) == []
    # Nothing was written twice while stopping.
    assert {topic: _count(kafka_bootstrap, topic) for topic in want} == want
