"""The audit chain: every kind of tampering is named by writer and offset; identifiers are keyed hashes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.audit import (
    AuditRecord,
    AuditStep,
    AuditWriter,
    ChainHead,
    CheckpointSigner,
    entry_hash,
    generate_key_pair,
    load_public_keys,
    load_signer,
    verify_records,
)
from exchange.codec import AvroCodec
from exchange.hashing import KeyedHasher
from exchange.testing import InMemorySchemaRegistry

ORG = {"system": "https://mais.example.org/Id/organisation", "value": "northvale-nhs-trust"}
NHS = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
SECRET = b"a-secret-of-at-least-sixteen-bytes"


@pytest.fixture
def codec() -> AvroCodec:
    return AvroCodec(InMemorySchemaRegistry())


def _decoder(codec: AvroCodec) -> Callable[[bytes], Mapping[str, Any]]:
    return lambda value: codec.decode(value).value


def _log(
    codec: AvroCodec, signers: dict[str, CheckpointSigner], entries: int = 10, every: int = 4
) -> list[AuditRecord]:
    """Two writers interleaved on one partition; each checkpoints every ``every`` entries and at the end."""
    writers = {
        name: AuditWriter(
            codec,
            writer=name,
            organisation=ORG,
            signer=signer,
            hasher=KeyedHasher(SECRET, "northvale/1"),
            checkpoint_every=every,
        )
        for name, signer in signers.items()
    }
    records: list[AuditRecord] = []

    def put(message: Any) -> None:
        records.append(AuditRecord(0, len(records), message.key, message.value))

    for i in range(entries):
        for writer in writers.values():
            put(writer.append(AuditStep("REQUEST_RECEIVED", {"system": "urn:req", "value": f"r{i}"}, [NHS])))
            if writer.checkpoint_due:
                put(writer.checkpoint())
    for writer in writers.values():
        checkpoint = writer.checkpoint()
        if checkpoint is not None:
            put(checkpoint)
    return records


@pytest.fixture
def signers() -> dict[str, CheckpointSigner]:
    return {name: CheckpointSigner(Ed25519PrivateKey.generate()) for name in ("responder.a", "gateway.g")}


def _keys(signers: dict[str, CheckpointSigner]) -> dict[str, Any]:
    return {name: signer.public_key for name, signer in signers.items()}


def _entries_of(records: list[AuditRecord], writer: str, codec: AvroCodec) -> list[int]:
    return [
        i
        for i, r in enumerate(records)
        if r.key == writer.encode() and "chain" in codec.decode(r.value).value
    ]


def _renumber(records: list[AuditRecord]) -> list[AuditRecord]:
    return [replace(r, offset=i) for i, r in enumerate(records)]


def test_an_untouched_log_verifies(codec: AvroCodec, signers: dict[str, CheckpointSigner]) -> None:
    report = verify_records(_log(codec, signers), _decoder(codec), _keys(signers))
    assert report.ok, [str(f) for f in report.findings]
    assert {w: (s.entries, s.sealed_through, s.unsealed) for w, s in report.writers.items()} == {
        "responder.a": (10, 10, 0),
        "gateway.g": (10, 10, 0),
    }


def test_entries_carry_keyed_hashes_not_identifiers(
    codec: AvroCodec, signers: dict[str, CheckpointSigner]
) -> None:
    records = _log(codec, signers, entries=1)
    entry = codec.decode(records[0].value).value
    assert NHS["value"].encode() not in records[0].value
    [subject] = entry["subjectIdentifier"]
    assert subject["system"] == "https://mais-exchange.org/Id/keyed-hash/northvale/1"
    assert subject["value"] == KeyedHasher(SECRET, "northvale/1").hash_identifier(NHS)["value"]
    # the same number written with spaces hashes alike; another key gives another hash
    assert (
        KeyedHasher(SECRET, "northvale/1").hash_identifier({**NHS, "value": "943 476 5919"})["value"]
        == subject["value"]
    )
    assert KeyedHasher(b"another-secret-of-16-bytes", "x/1").hash_identifier(NHS)["value"] != subject["value"]


def _alter_byte(value: bytes, old: bytes, new: bytes) -> bytes:
    at = value.index(old)
    return value[:at] + new + value[at + len(old) :]


@pytest.mark.parametrize("position", [0, 3, 9])  # first, middle, last (sealed by the final checkpoint)
def test_one_changed_byte_names_the_entry(
    codec: AvroCodec, signers: dict[str, CheckpointSigner], position: int
) -> None:
    records = _log(codec, signers)
    target = _entries_of(records, "responder.a", codec)[position]
    records[target] = replace(records[target], value=_alter_byte(records[target].value, b"r", b"x"))
    report = verify_records(records, _decoder(codec), _keys(signers))
    [finding] = report.findings
    assert (finding.kind, finding.writer, finding.offset) == ("altered", "responder.a", target)


def test_a_changed_link_field_names_the_entry(codec: AvroCodec, signers: dict[str, CheckpointSigner]) -> None:
    records = _log(codec, signers)
    target = _entries_of(records, "gateway.g", codec)[5]
    value = records[target].value
    previous = codec.decode(value).value["chain"]["previousHash"].encode()
    flipped = previous[:10] + (b"0" if previous[10:11] != b"0" else b"1") + previous[11:]
    records[target] = replace(records[target], value=_alter_byte(value, previous, flipped))
    [finding] = verify_records(records, _decoder(codec), _keys(signers)).findings
    assert (finding.kind, finding.writer, finding.offset) == ("altered", "gateway.g", target)


def test_an_undecodable_entry_is_named(codec: AvroCodec, signers: dict[str, CheckpointSigner]) -> None:
    records = _log(codec, signers)
    target = _entries_of(records, "responder.a", codec)[2]
    records[target] = replace(records[target], value=records[target].value[:-7])
    [finding] = verify_records(records, _decoder(codec), _keys(signers)).findings
    assert (finding.kind, finding.writer, finding.offset) == ("undecodable", "responder.a", target)


@pytest.mark.parametrize("position", [0, 4, 9])
def test_a_removed_entry_is_named(
    codec: AvroCodec, signers: dict[str, CheckpointSigner], position: int
) -> None:
    records = _log(codec, signers)
    entries = _entries_of(records, "responder.a", codec)
    del records[entries[position]]
    records = _renumber(records)
    [finding] = verify_records(records, _decoder(codec), _keys(signers)).findings
    assert (finding.kind, finding.writer) == ("removed", "responder.a")
    if position < 9:  # named at the entry that follows the gap (shifted up by one after the deletion)
        assert finding.offset == entries[position + 1] - 1
        assert f"{position + 1}..{position + 1}" in finding.detail
    else:  # the last entry: the final checkpoint seals it
        assert "seals sequence 10" in finding.detail


def test_two_swapped_entries_are_named(codec: AvroCodec, signers: dict[str, CheckpointSigner]) -> None:
    records = _log(codec, signers)
    entries = _entries_of(records, "gateway.g", codec)
    a, b = entries[3], entries[6]
    records[a], records[b] = replace(records[b], offset=a), replace(records[a], offset=b)
    [finding] = verify_records(records, _decoder(codec), _keys(signers)).findings
    assert (finding.kind, finding.writer, finding.offset) == ("reordered", "gateway.g", a)
    assert "sequence 7 stored before sequence 4" in finding.detail


def test_an_inserted_entry_is_named(codec: AvroCodec, signers: dict[str, CheckpointSigner]) -> None:
    records = _log(codec, signers)
    entries = _entries_of(records, "responder.a", codec)
    # a forger continues the chain from entry 3 with their own writer object (same links, no key)
    forger = AuditWriter(
        codec,
        writer="responder.a",
        organisation=ORG,
        signer=CheckpointSigner(Ed25519PrivateKey.generate()),
        hasher=KeyedHasher(SECRET, "northvale/1"),
        head=ChainHead(
            "responder.a",
            3,
            entry_hash(records[entries[2]].value),
        ),
    )
    forged = forger.append(AuditStep("RESPONSE_SENT", {"system": "urn:req", "value": "forged"}, [NHS]))
    at = entries[3]
    records.insert(at, AuditRecord(0, at, forged.key, forged.value))
    records = _renumber(records)
    [finding] = verify_records(records, _decoder(codec), _keys(signers)).findings
    assert (finding.kind, finding.writer, finding.offset) == ("inserted", "responder.a", at)


def test_a_forged_checkpoint_fails_its_signature(
    codec: AvroCodec, signers: dict[str, CheckpointSigner]
) -> None:
    records = _log(codec, signers)
    target = next(i for i, r in enumerate(records) if "signature" in codec.decode(r.value).value)
    value = codec.decode(records[target].value).value
    records[target] = replace(
        records[target],
        value=_alter_byte(records[target].value, value["entryHash"][:8].encode(), b"deadbeef"),
    )
    [finding] = verify_records(records, _decoder(codec), _keys(signers)).findings
    assert (finding.kind, finding.offset) == ("bad-signature", target)


def test_a_writer_without_a_key_is_reported(codec: AvroCodec, signers: dict[str, CheckpointSigner]) -> None:
    report = verify_records(
        _log(codec, signers), _decoder(codec), {"responder.a": signers["responder.a"].public_key}
    )
    assert [(f.kind, f.writer) for f in report.findings] == [("unknown-writer", "gateway.g")]


def test_unsealed_entries_are_counted_not_failed(
    codec: AvroCodec, signers: dict[str, CheckpointSigner]
) -> None:
    records = _log(codec, signers, entries=6, every=4)
    records = records[:-1]  # without the last writer's final checkpoint: entries 5 and 6 unsealed
    report = verify_records(_renumber(records), _decoder(codec), _keys(signers))
    assert report.ok
    assert sorted(s.unsealed for s in report.writers.values()) == [0, 2]


def test_rewind_after_an_aborted_transaction_keeps_the_chain(
    codec: AvroCodec, signers: dict[str, CheckpointSigner]
) -> None:
    writer = AuditWriter(
        codec,
        writer="responder.a",
        organisation=ORG,
        signer=signers["responder.a"],
        hasher=KeyedHasher(SECRET, "k/1"),
    )
    kept = [writer.append(AuditStep("REQUEST_RECEIVED", {"system": "urn:req", "value": "1"}))]
    before = writer.head
    writer.append(
        AuditStep("DECISION_MADE", {"system": "urn:req", "value": "1"}, decision="PERMIT")
    )  # aborted
    writer.rewind(before)
    kept.append(
        writer.append(AuditStep("DECISION_MADE", {"system": "urn:req", "value": "1"}, decision="PERMIT"))
    )
    kept.append(writer.checkpoint())
    records = [AuditRecord(0, i, m.key, m.value) for i, m in enumerate(kept)]
    report = verify_records(records, _decoder(codec), {"responder.a": signers["responder.a"].public_key})
    assert report.ok and report.writers["responder.a"].sealed_through == 2


def test_keys_round_trip_through_files(tmp_path: Path) -> None:
    key_file, _ = generate_key_pair(tmp_path, "responder.a")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    signer = load_signer(key_file)
    assert (
        load_public_keys(tmp_path)["responder.a"].public_bytes_raw() == signer.public_key.public_bytes_raw()
    )
