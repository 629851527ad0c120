"""No personal data in keys or headers: a record whose only identifier is an NHS number is keyed by
its keyed hash, never by the number itself (real broker and registry, the real hl7v2 adapter)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from runtime_it_helpers import TEST_SECRET, read_all, wait_for

from exchange.codec import AvroCodec
from exchange.envelope import parse_headers
from exchange.hashing import KEYED_HASH_SYSTEM_BASE, KeyedHasher
from exchange.identifiers import NHS_NUMBER_SYSTEM
from exchange.registry_client import SchemaRegistryClient
from exchange.runtime import DirectorySource, RunOptions, StopSignal, resolve_adapter, run_adapter
from exchange.runtime._replay import read_dlq
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration

NHS_NUMBER = "9434765919"
ADT_A28 = (
    "MSH|^~\\&|PAS|RGT01|MAIS|LA202|20240412093015+0100||ADT^A28^ADT_A05|Q901|P|2.5.1\r"
    "EVN||20240412093000+0100\r"
    f"PID|1||{NHS_NUMBER}^^^NHS&2.16.840.1.113883.2.1.4.1&ISO^NH||OKONKWO^AMELIA||20140309|F\r"
)


def test_an_hl7_message_whose_only_identifier_is_an_nhs_number_is_keyed_by_its_keyed_hash(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, tmp_path: Path
) -> None:
    hasher = KeyedHasher(TEST_SECRET.encode(), f"{agency}/1")
    options = RunOptions(
        adapter=resolve_adapter("hl7v2"),
        agency=agency,
        source=DirectorySource(tmp_path),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        registry=SchemaRegistryClient(schema_registry_url),
        organisation_id="RGT01",
        instance_id="it",
        keyed_hash=hasher,
    )
    (tmp_path / ".a28.tmp").write_text(ADT_A28)
    (tmp_path / ".a28.tmp").rename(tmp_path / "a28.hl7")
    stop = StopSignal()
    thread = threading.Thread(target=run_adapter, args=(options, stop), daemon=True)
    thread.start()
    try:
        wait_for((tmp_path / "done" / "a28.hl7").exists, 60, "the file to be ingested")
        (message,) = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=1)
    finally:
        stop.stop()
        thread.join(60)
    key = bytes(message.key()).decode()
    subject = parse_headers(message.headers()).subject
    digits = {NHS_NUMBER, "943 476 5919", "943-476-5919", NHS_NUMBER[-6:]}
    for text in (key, subject or ""):
        assert not any(d in text for d in digits), "the NHS number reached a key or ce_subject"
    assert subject == key
    assert key == f"{KEYED_HASH_SYSTEM_BASE}{agency}/1|{hasher.hexdigest(NHS_NUMBER_SYSTEM, NHS_NUMBER)}"
    headers = " ".join((v or b"").decode(errors="replace") for _, v in message.headers())
    assert not any(d in headers for d in digits)
    # The identifier still travels in the event itself, for subscribers that match people:
    value = AvroCodec(SchemaRegistryClient(schema_registry_url)).decode(message.value()).value
    assert {"system": NHS_NUMBER_SYSTEM, "value": NHS_NUMBER} in [
        {"system": i["system"], "value": i["value"]} for i in value["person"]["identifier"]
    ]
    assert read_dlq(options.kafka, agency) == []
