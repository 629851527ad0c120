"""Tamper-evident audit: hash-chained ``AuditEntry`` records with signed checkpoints on ``mais.audit.v1``.

Every process that logs steps of an information exchange (responder, gateway, requester,
SingleView) is a *writer* with its own chain and its own Ed25519 key. See ``docs/audit.md``.

Writing (no I/O; the caller produces the messages, inside its transaction if it has one)::

    writer = AuditWriter(codec, writer="enquiry.responder.northvale", organisation=org,
                         signer=load_signer(key_file), hasher=KeyedHasher(secret, "northvale/1"),
                         head=find_head(kafka, "enquiry.responder.northvale", decode))
    message = writer.append(AuditStep("DECISION_MADE", request_id, subjects=[nhs_number], ...))
    producer.produce(message.topic, message.value, message.key, headers=message.headers)
    if writer.checkpoint_due: ... writer.checkpoint() ...

or, without a transaction of one's own, :class:`AuditProducer` (append, flush, checkpoint, close).

Verifying: :func:`verify_records` over :func:`read_audit_records` (``mais audit verify``).
"""

from exchange.audit._chain import GENESIS_HASH, ChainHead, entry_hash
from exchange.audit._kafka import AuditProducer, ensure_audit_topic, find_head, read_audit_records
from exchange.audit._settings import AuditSettings
from exchange.audit._signing import (
    CheckpointSigner,
    generate_key_pair,
    key_id,
    load_public_keys,
    load_signer,
    verify_checkpoint_signature,
)
from exchange.audit._verify import AuditRecord, Finding, VerifyReport, WriterSummary, verify_records
from exchange.audit._writer import (
    AUDIT_TOPIC,
    AUDIT_WRITER_SYSTEM,
    NO_SUBJECT,
    RULE_SYSTEM,
    AuditMessage,
    AuditStep,
    AuditWriter,
)

__all__ = [
    "AUDIT_TOPIC",
    "AUDIT_WRITER_SYSTEM",
    "GENESIS_HASH",
    "NO_SUBJECT",
    "RULE_SYSTEM",
    "AuditMessage",
    "AuditProducer",
    "AuditRecord",
    "AuditSettings",
    "AuditStep",
    "AuditWriter",
    "ChainHead",
    "CheckpointSigner",
    "Finding",
    "VerifyReport",
    "WriterSummary",
    "ensure_audit_topic",
    "entry_hash",
    "find_head",
    "generate_key_pair",
    "key_id",
    "load_public_keys",
    "load_signer",
    "read_audit_records",
    "verify_checkpoint_signature",
    "verify_records",
]
