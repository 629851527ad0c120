"""MLLP sender → runtime → Kafka: AA only after commit, events equal `mais translate`, rejects in the DLQ."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from mllp_client import MllpClient

from adapters.hl7v2 import adapter as hl7v2
from exchange.adapter import load_adapter
from exchange.cli.translate import jsonable, translate_files
from exchange.codec import AvroCodec
from exchange.localkafka import free_port
from exchange.registry_client import SchemaRegistryClient
from exchange.runtime import ListenerSource, RunOptions, StopSignal, resolve_adapter, run_adapter
from exchange.runtime._replay import read_dlq
from exchange.samples import generate
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration

NOT_HL7 = b"PID|1||not an HL7 message at all\r"
NO_PID = (
    b"MSH|^~\\&|PAS|R9Z|MAIS|LA999|20240101120000||ADT^A04^ADT_A01|BROKEN0001|P|2.4\rEVN|A04|20240101120000\r"
)


def _committed(bootstrap: str, topic: str) -> list[Any]:
    """Everything a read_committed consumer sees on ``topic`` right now (no waiting for more)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"mllp-it-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=30).topics[topic]
        if metadata.error is not None:
            return []
        out: list[Any] = []
        for partition in metadata.partitions:
            tp = TopicPartition(topic, partition, 0)
            _, high = consumer.get_watermark_offsets(tp, timeout=30)
            if high == 0:
                continue
            consumer.assign([tp])
            while not out or out[-1].partition() != partition or out[-1].offset() < high - 1:
                message = consumer.poll(10)
                if message is None:
                    break  # the last offsets may be transaction markers
                if message.error() is None:
                    out.append(message)
        return out
    finally:
        consumer.close()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_mllp_acks_after_commit_events_match_translate_and_rejects_go_to_the_dlq(
    kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path
) -> None:
    agency = f"t{uuid.uuid4().hex[:10]}"
    generate(tmp_path / "samples", people=40, seed=1)
    feed = tmp_path / "samples" / "hl7" / "hospital_adt.hl7"
    messages = [record.data for record in hl7v2.split(feed.read_bytes(), "feed")]
    expected_out = io.StringIO()
    assert (
        translate_files(
            load_adapter("hl7v2"),
            [feed],
            agency=agency,
            organisation="R9Z",
            out=expected_out,
            err=io.StringIO(),
        )
        == 0
    )
    expected = [json.loads(line) for line in expected_out.getvalue().splitlines()]
    assert {e["schema"] for e in expected} >= {"mais.v1.PersonRecorded", "mais.v1.PersonsMerged"}

    port = free_port()
    registry = SchemaRegistryClient(schema_registry_url)
    options = RunOptions(
        adapter=resolve_adapter("hl7v2"),
        agency=agency,
        source=ListenerSource("mllp", "127.0.0.1", port),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        registry=registry,
        organisation_id="R9Z",
        instance_id="it",
    )
    stop = StopSignal()
    thread = threading.Thread(target=run_adapter, args=(options, stop), daemon=True)
    thread.start()
    person_topic = f"mais.{agency}.person.v1"
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert time.monotonic() < deadline, "the MLLP source did not start"
            time.sleep(0.2)
        time.sleep(1)  # the listener accepts before the producer is ready; messages then wait in the queue
        first = MllpClient(port)
        assert first.send(messages[0]) == ("AA", "")
        # The ACK came after the commit: a read_committed consumer already sees the events.
        seen = _committed(kafka_bootstrap, person_topic)
        assert len(seen) == _person_events(messages[0], agency, tmp_path) >= 1

        # A client that disconnects mid-message leaves nothing behind and disturbs nobody.
        broken = socket.create_connection(("127.0.0.1", port))
        broken.sendall(b"\x0b" + messages[1][: len(messages[1]) // 2])
        broken.close()

        # The rest over four connections at once, each waiting for its ACKs in order.
        rest = messages[1:]
        codes: list[str] = []

        def sender(part: list[bytes]) -> None:
            client = MllpClient(port)
            try:
                codes.extend(client.send(m)[0] for m in part)
            finally:
                client.close()

        senders = [threading.Thread(target=sender, args=(rest[i::4],)) for i in range(4)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(120)
        assert codes == ["AA"] * len(rest)

        assert first.send(messages[0]) == ("AA", "")  # resent after a "lost" ACK: not written twice
        code, reason = first.send(NO_PID)
        assert (code, reason) == ("AE", "ADT message has no PID segment (stage map; in the DLQ)")
        assert first.send(NOT_HL7)[0] == "AR"
        first.close()
    finally:
        stop.stop()
        thread.join(60)
    assert not thread.is_alive()

    codec = AvroCodec(SchemaRegistryClient(schema_registry_url))
    got: list[dict[str, Any]] = []
    for entity in ("person", "episode"):
        topic = f"mais.{agency}.{entity}.v1"
        for message in _committed(kafka_bootstrap, topic):
            decoded = codec.decode(message.value())
            got.append({"topic": topic, "key": message.key().decode(), "value": jsonable(decoded.value)})
    want = [{"topic": e["topic"], "key": e["key"], "value": e["value"]} for e in expected]
    canon = Counter(json.dumps(_present(item), sort_keys=True) for item in got)
    assert canon == Counter(json.dumps(_present(item), sort_keys=True) for item in want)

    # Two record types on one topic, each under its own subject (topic-record naming).
    for name in ("mais.v1.PersonRecorded", "mais.v1.PersonsMerged"):
        assert registry.latest_version(f"{person_topic}-{name}").version >= 1

    dlq = {entry.value: entry for entry in read_dlq(options.kafka, agency)}
    assert sorted(dlq) == sorted([NO_PID, NOT_HL7])  # the original bytes, once each
    assert dlq[NO_PID].stage == "map"
    assert dlq[NOT_HL7].stage == "parse"
    assert dlq[NO_PID].origin.startswith("mllp/PAS.R9Z:BROKEN0001:")  # sender, facility, control id


def _present(value: Any) -> Any:
    """``value`` without absent optional fields: Avro decodes them as their defaults (null, [])."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


def _person_events(message: bytes, agency: str, tmp_path: Path) -> int:
    one = tmp_path / "one.hl7"
    one.write_bytes(message)
    out = io.StringIO()
    hl7 = load_adapter("hl7v2")
    translate_files(hl7, [one], agency=agency, organisation="R9Z", out=out, err=io.StringIO())
    return sum(1 for line in out.getvalue().splitlines() if json.loads(line)["topic"].endswith(".person.v1"))
