"""Oversize input through every kind of source: one DLQ stub each, the stream goes on, SIGTERM stops it.

An *oversize record* is a record the adapter rejects whose bytes are larger than a Kafka message
may be (the producer's 1,000,000-byte default): its DLQ entry is a stub with the size and the
SHA-256. An *oversize file* is a unit over ``MAIS_RUNTIME_MAX_UNIT_BYTES``: refused up front as
one reject, never split or translated. The adapters run as real processes (``mais adapter run``)
against the real broker and registry.
"""

from __future__ import annotations

import hashlib
import random
import socket
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from runtime_it_helpers import AdapterProcess, people_lines, person_id, read_all, subprocess_env, wait_for

from adapters import hl7v2
from exchange.localkafka import free_port
from exchange.runtime import DlqEntry
from exchange.runtime._replay import read_dlq
from exchange.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DRAIN_S = 10.0
UNIT_LIMIT = 2_000_000
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "adapters" / "hl7v2"


def _text(size: int, seed: int) -> bytes:
    """``size`` bytes of prose-like text: no MSH segment, no CSV person line, no personal data."""
    rng = random.Random(seed)
    words = [b"minutes", b"of", b"the", b"meeting", b"agenda", b"item", b"actions", b"noted", b"agreed"]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
    return bytes(out[:size])


def _env(kafka_bootstrap: str, schema_registry_url: str) -> dict[str, str]:
    return {
        **subprocess_env(kafka_bootstrap, schema_registry_url),
        "MAIS_RUNTIME_MAX_UNIT_BYTES": str(UNIT_LIMIT),
        "MAIS_RUNTIME_DRAIN_S": str(DRAIN_S),
    }


def _drop(directory: Path, name: str, data: bytes) -> None:
    temporary = directory / f".{name}.tmp"
    temporary.write_bytes(data)
    temporary.rename(directory / name)


def _stub(entries: list[DlqEntry], origin_prefix: str) -> DlqEntry:
    (entry,) = [e for e in entries if e.origin.startswith(origin_prefix)]
    assert entry.content == "omitted"
    assert entry.value == b""
    return entry


def _stop_within_drain(adapter: AdapterProcess) -> None:
    code, seconds = adapter.timed_terminate()
    assert code == 0, adapter.logs()[-3000:]
    assert seconds < DRAIN_S, f"SIGTERM took {seconds:.1f} s (drain time {DRAIN_S} s)"


def test_non_hl7_text_of_1_4_mb_in_a_dir_source_is_one_dlq_stub_and_the_folder_is_still_watched(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, tmp_path: Path
) -> None:
    """The reported case: 1.4 MB of text made the hl7v2 adapter spin, write nothing, ignore SIGTERM."""
    drop, logs = tmp_path / "drop", tmp_path / "logs"
    drop.mkdir()
    logs.mkdir()
    env = {**subprocess_env(kafka_bootstrap, schema_registry_url), "MAIS_RUNTIME_DRAIN_S": str(DRAIN_S)}
    adapter = AdapterProcess(
        f"dir:{drop}", agency, env, logs, "oversize", adapter="hl7v2", extra=("--organisation-id", "RX1")
    )
    adapter.start()
    try:
        adapter.wait_ready(60)
        notes = _text(1_400_000, seed=14)
        _drop(drop, "notes.txt", notes)
        kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
        wait_for((drop / "done" / "notes.txt").exists, 60, "the text file to be acknowledged")
        _drop(drop, "a01.hl7", (FIXTURES / "real_world_a01.hl7").read_bytes())
        wait_for((drop / "done" / "a01.hl7").exists, 60, "a good file dropped after it")
        assert adapter.alive()
    finally:
        _stop_within_drain(adapter)
    entries = read_dlq(kafka, agency)
    assert len(entries) == 1
    stub = _stub(entries, "notes.txt")
    (record,) = hl7v2.split(notes, "notes.txt")  # the record as the adapter cut it (CR line ends)
    assert (stub.stage, stub.origin, stub.size) == ("parse", record.origin, len(record.data))
    assert stub.sha256 == hashlib.sha256(record.data).hexdigest()
    assert stub.kept == str(drop / "done" / "notes.txt")
    assert len(read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=1)) == 1
    assert len(read_all(kafka_bootstrap, f"mais.{agency}.episode.v1", expect=1)) == 1


def test_dir_source_oversize_record_and_oversize_file(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, tmp_path: Path
) -> None:
    drop, logs = tmp_path / "drop", tmp_path / "logs"
    drop.mkdir()
    logs.mkdir()
    adapter = AdapterProcess(f"dir:{drop}", agency, _env(kafka_bootstrap, schema_registry_url), logs, "dir")
    adapter.start()
    lines = people_lines(30)
    big_record = _text(1_200_000, seed=1).replace(b"\n", b" ")
    huge_file = _text(UNIT_LIMIT + 500_000, seed=2)
    try:
        adapter.wait_ready(60)
        _drop(drop, "a.csv", b"\n".join([*lines[:10], big_record, *lines[10:20]]) + b"\n")
        _drop(drop, "huge.csv", huge_file)
        wait_for(lambda: len(list((drop / "done").glob("*.csv"))) == 2, 60, "both files acknowledged")
        _drop(drop, "after.csv", b"\n".join(lines[20:]) + b"\n")
        outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=30)
    finally:
        _stop_within_drain(adapter)
    assert Counter(person_id(m) for m in outputs) == Counter(f"P{i:07d}" for i in range(30))
    entries = read_dlq(KafkaSettings(bootstrap_servers=kafka_bootstrap), agency)
    assert len(entries) == 2
    record = _stub(entries, "a.csv:11")
    assert (record.stage, record.unit, record.size) == ("parse", False, len(big_record))
    assert record.sha256 == hashlib.sha256(big_record).hexdigest()
    unit = _stub(entries, "huge.csv")
    assert (unit.stage, unit.error_class, unit.unit) == ("read", "UnitTooLarge", True)
    assert unit.size == len(huge_file)
    assert unit.sha256 == hashlib.sha256(huge_file).hexdigest()
    assert unit.kept == str(drop / "done" / "huge.csv")


def _announce(port: int, length: int, key: str) -> bytes:
    """Send only the headers of a POST announcing ``length`` bytes; return the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        raw.sendall(
            f"POST /records HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
            f"Idempotency-Key: {key}\r\n\r\n".encode()
        )
        return raw.recv(4096).split(b"\r\n", 1)[0]


def test_http_source_oversize_record_and_oversize_body(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, tmp_path: Path
) -> None:
    port = free_port()
    adapter = AdapterProcess(
        f"http:127.0.0.1:{port}", agency, _env(kafka_bootstrap, schema_registry_url), tmp_path, "http"
    )
    adapter.start()
    url = f"http://127.0.0.1:{port}/records"
    lines = people_lines(30)
    big_record = _text(1_200_000, seed=3).replace(b"\n", b" ")
    huge = UNIT_LIMIT + 500_000
    try:
        adapter.wait_ready(60)
        first = httpx.post(url, content=b"\n".join([*lines[:10], big_record, *lines[10:20]]), timeout=60)
        assert (first.status_code, first.json()) == (202, {"records": 21, "events": 20, "rejected": 1})
        # Over the unit limit: answered from the headers, before a byte of the body is sent.
        assert _announce(port, huge, "huge-1").startswith(b"HTTP/1.0 413 ")
        assert _announce(port, huge, "huge-1").startswith(b"HTTP/1.0 413 ")  # a resend: still one reject
        after = httpx.post(url, content=b"\n".join(lines[20:]), timeout=60)
        assert after.status_code == 202
    finally:
        _stop_within_drain(adapter)
    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=30)
    assert Counter(person_id(m) for m in outputs) == Counter(f"P{i:07d}" for i in range(30))
    entries = read_dlq(KafkaSettings(bootstrap_servers=kafka_bootstrap), agency)
    assert len(entries) == 2
    record = _stub([e for e in entries if not e.unit], "http/")
    assert (record.stage, record.size) == ("parse", len(big_record))
    assert record.sha256 == hashlib.sha256(big_record).hexdigest()
    unit = _stub(entries, "http/huge-1")
    assert (unit.error_class, unit.size, unit.unit) == ("UnitTooLarge", huge, True)
    assert unit.sha256 == ""  # answered from the headers: the body was never read


def test_kafka_source_oversize_record_and_oversize_message(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object, tmp_path: Path
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    big_topic = NewTopic(topic, num_partitions=1, config={"max.message.bytes": str(8 * 2**20)})
    admin.create_topics([big_topic])[topic].result(30)
    lines = people_lines(30)
    big_record = _text(1_200_000, seed=5).replace(b"\n", b" ")
    huge_message = _text(UNIT_LIMIT + 500_000, seed=6)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "message.max.bytes": 8 * 2**20})
    for value in [*lines[:10], big_record, huge_message, *lines[10:20]]:
        producer.produce(topic, value)
    assert producer.flush(60) == 0
    adapter = AdapterProcess(
        f"kafka:{topic}", agency, _env(kafka_bootstrap, schema_registry_url), tmp_path, "kafka"
    )
    adapter.start()
    try:
        adapter.wait_ready(60)
        read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=20)
        for value in lines[20:]:
            producer.produce(topic, value)
        assert producer.flush(60) == 0
        outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=30)
        time.sleep(1)
    finally:
        _stop_within_drain(adapter)
    assert Counter(person_id(m) for m in outputs) == Counter(f"P{i:07d}" for i in range(30))
    entries = read_dlq(KafkaSettings(bootstrap_servers=kafka_bootstrap), agency)
    assert len(entries) == 2
    record = _stub(entries, f"{topic}/0/10")
    assert (record.stage, record.size, record.kafka_coordinates) == ("parse", len(big_record), (topic, 0, 10))
    unit = _stub(entries, f"{topic}/0/11")
    assert (unit.error_class, unit.size) == ("UnitTooLarge", len(huge_message))
    assert unit.sha256 == hashlib.sha256(huge_message).hexdigest()
