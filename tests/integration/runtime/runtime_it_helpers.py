"""Helpers of the runtime's integration tests: feed topics, read them back, make test people."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from exchange.localkafka import free_port

TESTS_DIR = Path(__file__).resolve().parents[2]
TEST_SECRET = "test-only keyed-hash secret, not for real agencies"
GIVEN = ["Amelia", "Oliver", "Isla", "Mohammed", "Zainab", "Harrison", "Siobhan", "Tomasz"]
FAMILY = ["Okonkwo", "Whitfield", "Patel", "Kowalczyk", "Oyelaran", "Fairbairn", "Nakamura"]


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions)])[topic].result(30)


def produce_lines(bootstrap: str, topic: str, lines: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "enable.idempotence": True})
    for line in lines:
        key = line.split(b",", 1)[0]
        while True:
            try:
                producer.produce(topic, line, key)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(60) == 0


def read_all(bootstrap: str, topic: str, *, timeout_s: float = 60.0, expect: int | None = None) -> list[Any]:
    """Every committed message of ``topic`` (read_committed), waiting for ``expect`` of them if given."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-reader-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    messages: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        metadata = consumer.list_topics(topic, timeout=30).topics[topic]
        while metadata.error is not None or not metadata.partitions:
            if expect is None or time.monotonic() > deadline:
                return []
            time.sleep(0.5)
            metadata = consumer.list_topics(topic, timeout=30).topics[topic]
        consumer.assign([TopicPartition(topic, p, 0) for p in metadata.partitions])
        quiet_until = time.monotonic() + 3
        while time.monotonic() < deadline:
            batch = consumer.consume(1000, 0.5)
            good = [m for m in batch if m.error() is None]
            messages.extend(good)
            if good:
                quiet_until = time.monotonic() + 3
            done = expect is not None and len(messages) >= expect
            if (done or expect is None) and time.monotonic() > quiet_until:
                break
    finally:
        consumer.close()
    return messages


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def people_lines(count: int, *, start: int = 0, poison_every: int = 0) -> list[bytes]:
    """Test people; every ``poison_every``-th has a dd/mm/yyyy birth date the strict adapter rejects."""
    lines = []
    for i in range(start, start + count):
        poison = poison_every and i % poison_every == poison_every - 1
        birth = (
            f"{(i % 28) + 1:02d}/0{(i % 9) + 1}/2011" if poison else f"2010-0{(i % 9) + 1}-{(i % 28) + 1:02d}"
        )
        given, family = GIVEN[i % len(GIVEN)], FAMILY[i % len(FAMILY)]
        lines.append(f"P{i:07d},{given},{family},{birth},{nhs_number(i)}".encode())
    return lines


def subprocess_env(bootstrap: str, registry_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
        "MAIS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "MAIS_SCHEMA_REGISTRY_URL": registry_url,
        "MAIS_KEYED_HASH_SECRET": TEST_SECRET,
    }


def nhs_number(i: int) -> str:
    """A 10-digit test number (not a real NHS number: they start 999 in test data sets)."""
    return f"999{i:07d}"


def person_id(message: Any) -> str:
    return bytes(message.key()).decode().rsplit("|", 1)[1]


class AdapterProcess:
    """``mais adapter run`` as a child process whose stderr (the JSON log) is kept."""

    def __init__(
        self,
        source: str,
        agency: str,
        env: dict[str, str],
        log_dir: Path,
        instance_id: str = "chaos",
        *,
        adapter: str = "runtime_people_adapter:adapter",
        extra: Sequence[str] = ("--batch-size", "500"),
    ) -> None:
        self.source, self.agency, self.env, self.log_dir = source, agency, env, log_dir
        self.instance_id = instance_id
        self.adapter = adapter
        self.extra = list(extra)
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.metrics_port = free_port()

    def start(self) -> None:
        self.runs += 1
        command = [
            sys.executable, "-c", "from exchange.cli import main; main()",
            "adapter", "run",
            "--adapter", self.adapter,
            "--agency", self.agency,
            "--source", self.source,
            "--instance-id", self.instance_id,
            "--metrics-port", str(self.metrics_port),
            *self.extra,
        ]  # fmt: skip
        with (self.log_dir / f"run-{self.instance_id}-{self.runs:03d}.log").open("wb") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, f"adapter exited:\n{self.logs()[-3000:]}"
            try:
                url = f"http://127.0.0.1:{self.metrics_port}/readyz"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail("adapter did not become ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self, timeout_s: float = 60) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)

    def timed_terminate(self, timeout_s: float = 60) -> tuple[int, float]:
        """SIGTERM, then (exit code, seconds until the process was gone)."""
        started = time.monotonic()
        code = self.terminate(timeout_s)
        return code, time.monotonic() - started

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def scrape_metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            return str(response.read().decode())

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("run-*.log")))
