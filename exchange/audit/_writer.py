"""Builds the audit records of one writer: chained entries and signed checkpoints (no I/O).

:class:`AuditWriter` turns an :class:`AuditStep` into the Kafka message of a chained
``AuditEntry`` (subject identifiers replaced by keyed hashes, the chain link filled in, encoded
with the codec) and, when due, a signed ``AuditCheckpoint``. It does not produce: the caller puts
the messages into its own producer or transaction. If a transaction aborts, :meth:`rewind` to the
head taken before it, so the chain continues from what the topic really holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from exchange.audit._chain import ChainHead, entry_hash
from exchange.audit._signing import CheckpointSigner
from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers
from exchange.hashing import KeyedHasher
from exchange.identifiers import MAIS_ID_BASE
from exchange.schemas import schema_json
from exchange.topics import AUDIT_TOPIC

__all__ = [
    "AUDIT_TOPIC",
    "AUDIT_WRITER_SYSTEM",
    "NO_SUBJECT",
    "RULE_SYSTEM",
    "AuditMessage",
    "AuditStep",
    "AuditWriter",
]

AUDIT_WRITER_SYSTEM = MAIS_ID_BASE + "audit-writer"
RULE_SYSTEM = "https://mais-exchange.org/CodeSystem/decision-rationale"
"""Code system of the rule ids in ``AuditEntry.rationale`` and ``SharingDecision.rationale``."""
NO_SUBJECT: Mapping[str, str] = {"system": MAIS_ID_BASE + "no-subject", "value": "none"}
"""Stand-in subject of a step about no identifiable person (e.g. a request refused unread)."""

_ENTRY = "mais.v1.AuditEntry"
_CHECKPOINT = "mais.v1.AuditCheckpoint"


@dataclass(frozen=True, slots=True)
class AuditStep:
    """One step to log. Identifiers are given in plain; the writer hashes the subjects."""

    activity: str  # REQUEST_SENT | REQUEST_RECEIVED | DECISION_MADE | RESPONSE_SENT | RESPONSE_RECEIVED
    request_identifier: Mapping[str, str]
    subjects: Sequence[Mapping[str, str]] = ()
    counterparty: Mapping[str, str] | None = None
    policies: Sequence[Mapping[str, str]] = ()
    decision: str | None = None
    match: bool | None = None
    rules: Sequence[str] = ()
    agent: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class AuditMessage:
    """A Kafka message for the audit topic."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class AuditWriter:
    """One audit chain: appends entries and signs checkpoints for ``writer``."""

    def __init__(
        self,
        codec: AvroCodec,
        *,
        writer: str,
        organisation: Mapping[str, str],
        signer: CheckpointSigner,
        hasher: KeyedHasher,
        head: ChainHead | None = None,
        topic: str = AUDIT_TOPIC,
        checkpoint_every: int = 50,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._codec = codec
        self._entry_schema = schema_json(_ENTRY)
        self._checkpoint_schema = schema_json(_CHECKPOINT)
        self.writer = writer
        self.organisation = dict(organisation)
        self._signer = signer
        self._hasher = hasher
        self._head = head or ChainHead(writer)
        self._sealed = self._head.sequence
        self.topic = topic
        self.checkpoint_every = checkpoint_every
        self._clock = clock

    @property
    def head(self) -> ChainHead:
        return self._head

    def rewind(self, head: ChainHead) -> None:
        """Go back to ``head`` (taken before a transaction that aborted)."""
        self._head = head
        self._sealed = min(self._sealed, head.sequence)

    @property
    def checkpoint_due(self) -> bool:
        return self._head.sequence - self._sealed >= self.checkpoint_every

    def append(self, step: AuditStep) -> AuditMessage:
        """The message of the next chained entry for ``step``; the head moves past it."""
        now = self._now()
        subjects = [self._hasher.hash_identifier(s) for s in step.subjects] or [
            self._hasher.hash_identifier(NO_SUBJECT)
        ]
        value = {
            "publisher": self.organisation,
            "recordedAt": now,
            "subjectIdentifier": subjects,
            "activity": step.activity,
            "agent": dict(step.agent or self.organisation),
            "requestIdentifier": dict(step.request_identifier),
            "sharingPolicyIdentifier": [dict(p) for p in step.policies],
            "decision": step.decision,
            "match": step.match,
            "counterparty": dict(step.counterparty) if step.counterparty else None,
            "rationale": [{"code": rule, "system": RULE_SYSTEM, "display": None} for rule in step.rules],
            "chain": self._head.next_link(),
        }
        framed = self._codec.encode(self.topic, self._entry_schema, value)
        self._head = self._head.advanced(framed)
        return self._message(framed, _ENTRY, now, str(step.request_identifier.get("value", "")))

    def checkpoint(self) -> AuditMessage | None:
        """A signed checkpoint over the head, or ``None`` if nothing was appended since the last one."""
        head = self._head
        if head.sequence in (0, self._sealed):
            return None
        now = self._now()
        millis = int(now.timestamp() * 1000)
        value = {
            "publisher": self.organisation,
            "recordedAt": now,
            "subjectIdentifier": [{"system": AUDIT_WRITER_SYSTEM, "value": self.writer}],
            "writer": self.writer,
            "sequence": head.sequence,
            "entryHash": head.entry_hash,
            "keyId": self._signer.key_id,
            "signature": self._signer.sign(self.writer, head.sequence, head.entry_hash, millis),
        }
        framed = self._codec.encode(self.topic, self._checkpoint_schema, value)
        self._sealed = head.sequence
        return self._message(framed, _CHECKPOINT, now, None)

    def _now(self) -> datetime:
        # whole milliseconds: what timestamp-millis stores, so the signed text survives a round trip
        return datetime.fromtimestamp(int(self._clock() * 1000) / 1000, UTC)

    def _message(self, framed: bytes, record: str, now: datetime, correlation: str | None) -> AuditMessage:
        envelope = Envelope(
            id=f"{self.writer}:{entry_hash(framed)[:32]}",
            source=f"urn:mais:audit:{self.writer}",
            type=record,
            time=now,
            correlation_id=correlation if correlation and len(correlation) <= 256 else None,
        )
        return AuditMessage(self.topic, self.writer.encode(), framed, build_headers(envelope))
