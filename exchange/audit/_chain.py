"""The hash chain of one audit writer (pure).

Every entry a writer appends carries its sequence number and the SHA-256 of the Avro body of the
writer's previous entry. The hash of an entry is taken over the exact bytes written (the Avro body
after the 5-byte Confluent header), so changing any byte of a stored entry changes its hash and
breaks the link from the next entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["GENESIS_HASH", "HEADER_SIZE", "ChainHead", "body_of", "entry_hash"]

GENESIS_HASH = "0" * 64
"""``previousHash`` of a writer's first entry."""

HEADER_SIZE = 5
"""Bytes of Confluent framing before the Avro body (magic byte + schema id)."""


def body_of(framed: bytes) -> bytes:
    """The Avro body of a Confluent-framed value (what the chain hashes)."""
    return framed[HEADER_SIZE:]


def entry_hash(framed: bytes) -> str:
    """SHA-256 (hex) of the Avro body of a framed audit value."""
    return hashlib.sha256(body_of(framed)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a writer's chain stands: the sequence number and hash of its last entry."""

    writer: str
    sequence: int = 0
    entry_hash: str = GENESIS_HASH

    def next_link(self) -> dict[str, object]:
        """The ``chain`` field of the writer's next entry."""
        return {"writer": self.writer, "sequence": self.sequence + 1, "previousHash": self.entry_hash}

    def advanced(self, framed: bytes) -> ChainHead:
        """The head after appending the entry whose framed value is ``framed``."""
        return ChainHead(self.writer, self.sequence + 1, entry_hash(framed))
