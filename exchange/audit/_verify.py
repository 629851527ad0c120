"""Recompute every writer's hash chain from the records of an audit topic (pure).

Given the records in topic order (per partition, by offset), a decoder and the writers' public
keys, :func:`verify_records` reports, per writer, the *first* place where the stored log differs
from what the writer wrote:

* ``altered`` - an entry's bytes changed (its hash is not what the next entry or a signed
  checkpoint recorded), or its link fields changed;
* ``removed`` - entries are missing (a gap in the chain, or a checkpoint seals entries that are
  not there);
* ``reordered`` - an entry appears before the entry it follows in the chain;
* ``inserted`` - an entry that no other entry or checkpoint vouches for claims a place in the chain;
* ``undecodable`` - a record is not a readable audit entry any more;
* ``bad-signature`` / ``unknown-writer`` - a checkpoint does not verify, or no key is known.

Entries after a writer's last checkpoint are reported as *unsealed* (not an error: the next
checkpoint will cover them; removing or altering the very last unsealed entries cannot be
detected, which is why writers checkpoint often and on shutdown).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.audit._chain import GENESIS_HASH, entry_hash
from exchange.audit._signing import key_id, verify_checkpoint_signature
from exchange.errors import DataError

__all__ = ["AuditRecord", "Finding", "VerifyReport", "WriterSummary", "verify_records"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One record of the audit topic, as stored."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class Finding:
    """What is wrong, for which writer, at which record."""

    kind: str
    writer: str
    partition: int
    offset: int
    detail: str

    def __str__(self) -> str:
        where = f"writer {self.writer}, partition {self.partition}, offset {self.offset}"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class WriterSummary:
    """How far one writer's chain verified."""

    writer: str
    entries: int = 0
    checkpoints: int = 0
    sealed_through: int = 0
    last_sequence: int = 0

    @property
    def unsealed(self) -> int:
        return max(0, self.last_sequence - self.sealed_through)


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    writers: dict[str, WriterSummary] = field(default_factory=dict)
    foreign: int = 0
    """Records on the topic without a chain (written by something that does not chain)."""

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class _Entry:
    partition: int
    offset: int
    sequence: int
    previous: str
    hash: str


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    partition: int
    offset: int
    sequence: int
    entry_hash: str
    valid: bool


Decoder = Callable[[bytes], Mapping[str, Any]]


def verify_records(
    records: Iterable[AuditRecord], decode: Decoder, public_keys: Mapping[str, Ed25519PublicKey]
) -> VerifyReport:
    """Verify every writer's chain in ``records`` (topic order) and return the report."""
    report = VerifyReport()
    entries: dict[str, list[_Entry]] = defaultdict(list)
    checkpoints: dict[str, list[_Checkpoint]] = defaultdict(list)
    broken: set[str] = set()
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        keyed = record.key.decode("utf-8", "replace") if record.key else "?"
        try:
            value = decode(record.value)
        except DataError as exc:
            _report(
                report, broken, Finding("undecodable", keyed, record.partition, record.offset, exc.message)
            )
            continue
        if "signature" in value and "entryHash" in value:
            checkpoints[str(value["writer"])].append(_checkpoint(record, value, public_keys, report, broken))
            continue
        chain = value.get("chain")
        if not chain:
            report.foreign += 1
            continue
        writer = str(chain["writer"])
        if record.key is not None and keyed != writer:
            _report(
                report,
                broken,
                Finding("altered", writer, record.partition, record.offset, "key does not name the writer"),
            )
        entries[writer].append(
            _Entry(
                record.partition,
                record.offset,
                int(chain["sequence"]),
                str(chain["previousHash"]),
                entry_hash(record.value),
            )
        )
    for writer in sorted(set(entries) | set(checkpoints)):
        summary = report.writers.setdefault(writer, WriterSummary(writer))
        summary.entries = len(entries[writer])
        summary.checkpoints = len(checkpoints[writer])
        if writer not in broken:
            finding = _verify_chain(writer, entries[writer], checkpoints[writer], summary)
            if finding is not None:
                _report(report, broken, finding)
    return report


def _report(report: VerifyReport, broken: set[str], finding: Finding) -> None:
    if finding.writer not in broken:  # only the first finding per writer: later ones follow from it
        broken.add(finding.writer)
        report.findings.append(finding)


def _checkpoint(
    record: AuditRecord,
    value: Mapping[str, Any],
    public_keys: Mapping[str, Ed25519PublicKey],
    report: VerifyReport,
    broken: set[str],
) -> _Checkpoint:
    writer = str(value["writer"])
    key = public_keys.get(writer)
    recorded = value["recordedAt"]
    recorded_ms = int(recorded.timestamp() * 1000) if hasattr(recorded, "timestamp") else int(recorded)
    valid = (
        key is not None
        and key_id(key) == value["keyId"]
        and verify_checkpoint_signature(
            key,
            str(value["signature"]),
            writer=writer,
            sequence=int(value["sequence"]),
            entry_hash=str(value["entryHash"]),
            recorded_at_ms=recorded_ms,
        )
    )
    if key is None:
        _report(
            report,
            broken,
            Finding(
                "unknown-writer", writer, record.partition, record.offset, "no public key for this writer"
            ),
        )
    elif not valid:
        _report(
            report,
            broken,
            Finding(
                "bad-signature",
                writer,
                record.partition,
                record.offset,
                "checkpoint signature does not verify",
            ),
        )
    return _Checkpoint(
        record.partition, record.offset, int(value["sequence"]), str(value["entryHash"]), valid
    )


def _verify_chain(  # noqa: PLR0911, PLR0912 - one decision table; each branch names a kind of tampering
    writer: str, entries: list[_Entry], checkpoints: list[_Checkpoint], summary: WriterSummary
) -> Finding | None:
    sealed = {c.sequence: c for c in checkpoints if c.valid}
    referenced: dict[str, int] = {}
    claims: Counter[str] = Counter()
    for position, entry in enumerate(entries):
        referenced.setdefault(entry.previous, position)
        claims[entry.previous] += 1
    accepted: list[_Entry] = []  # the chain as verified so far, sequence i at index i-1
    by_hash: dict[str, int] = {GENESIS_HASH: 0}
    last_hash, last_sequence = GENESIS_HASH, 0

    def vouched(position: int) -> bool:
        entry = entries[position]
        later = referenced.get(entry.hash)
        return (later is not None and later > position) or (
            entry.sequence in sealed and sealed[entry.sequence].entry_hash == entry.hash
        )

    def where(entry: _Entry, kind: str, detail: str) -> Finding:
        return Finding(kind, writer, entry.partition, entry.offset, detail)

    for position, entry in enumerate(entries):
        if entry.previous == last_hash:
            if entry.sequence != last_sequence + 1:
                return where(entry, "altered", f"sequence {entry.sequence} where {last_sequence + 1} was due")
        elif entry.previous in by_hash:  # a second entry claims a place already taken
            rival = accepted[by_hash[entry.previous]] if by_hash[entry.previous] < len(accepted) else None
            if rival is not None and vouched(position):
                return where(
                    rival,
                    "inserted",
                    f"entry at offset {entry.offset} is the genuine sequence {entry.sequence}",
                )
            return where(
                entry, "inserted", f"claims sequence {entry.sequence}, already held at an earlier offset"
            )
        elif (later := referenced.get(last_hash)) is not None and later > position:
            missing = entries[later]
            return where(
                entry,
                "reordered",
                f"sequence {entry.sequence} stored before sequence {missing.sequence} "
                f"(offset {missing.offset})",
            )
        elif vouched(position):
            if entry.sequence > last_sequence + 1:
                return where(
                    entry,
                    "removed",
                    f"sequence(s) {last_sequence + 1}..{entry.sequence - 1} missing before this entry",
                )
            if accepted:
                previous = accepted[-1]
                return where(
                    previous, "altered", f"its hash is not the one entry sequence {entry.sequence} recorded"
                )
            return where(entry, "altered", "link fields changed")
        elif entry.sequence > last_sequence + 1:
            return where(
                entry,
                "removed",
                f"sequence(s) {last_sequence + 1}..{entry.sequence - 1} missing before this entry",
            )
        else:
            return where(entry, "altered", "does not link to the entry before it")
        seal = sealed.get(entry.sequence)
        if seal is not None and seal.entry_hash != entry.hash:
            if claims[entry.previous] > 1:  # another entry claims the same place: this one is the extra
                return where(entry, "inserted", f"sequence {entry.sequence} is sealed with another entry")
            return where(entry, "altered", f"hash differs from the checkpoint at offset {seal.offset}")
        accepted.append(entry)
        by_hash[entry.hash] = len(accepted)
        last_hash, last_sequence = entry.hash, entry.sequence
    summary.last_sequence = last_sequence
    for checkpoint in checkpoints:
        if not checkpoint.valid:
            continue
        if checkpoint.sequence > last_sequence:
            return Finding(
                "removed",
                writer,
                checkpoint.partition,
                checkpoint.offset,
                f"checkpoint seals sequence {checkpoint.sequence} but the chain ends at {last_sequence}",
            )
        summary.sealed_through = max(summary.sealed_through, checkpoint.sequence)
    return None
