"""Limits and timings of the runtime (``MAIS_RUNTIME_*``), validated once at start-up.

Every value bounds something that would otherwise grow or wait without limit: the size of a
unit read into memory, the size of a DLQ entry, how long a stop may take, how long a Kafka
transaction may stay open, how many idempotency keys a push source remembers and for how long.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["RuntimeSettings"]

_MIB = 2**20


class RuntimeSettings(BaseSettings):
    """Limits of one adapter process; the defaults suit the broker's default limits."""

    model_config = SettingsConfigDict(env_prefix="MAIS_RUNTIME_", extra="forbid", frozen=True)

    max_unit_bytes: int = Field(64 * _MIB, ge=1024)
    """A unit (file, HTTP body, Kafka message) larger than this is refused up front as one reject."""

    max_message_bytes: int = Field(1_000_000, ge=64 * 1024, le=1_000_000_000)
    """The producer's ``message.max.bytes``: a DLQ entry whose original bytes would make a larger
    message is written as a stub (headers, size, SHA-256) instead."""

    oversize_content: Literal["omit", "chunks"] = "omit"
    """What an oversize DLQ stub carries: nothing of the content (``omit``), or the content in
    chunks of at most ``max_message_bytes`` each (``chunks``: the operator allows the bytes in the DLQ)."""

    drain_s: float = Field(30.0, gt=0, le=600)
    """After SIGTERM: the longest the process takes to finish (or abort) its open transaction and exit."""

    transaction_timeout_s: float = Field(60.0, ge=1, le=900)
    """The producer's ``transaction.timeout.ms``: the broker aborts a transaction left open longer."""

    dedup_window_s: float = Field(24 * 3600.0, gt=0)
    """How long an ``http:``/``mllp:`` idempotency key is remembered after its unit committed."""

    dedup_max_keys: int = Field(1_000_000, ge=1)
    """At most this many idempotency keys are remembered (the oldest are forgotten first)."""

    @property
    def transaction_timeout_ms(self) -> int:
        return int(self.transaction_timeout_s * 1000)

    @property
    def step_timeout_s(self) -> float:
        """The longest one blocking Kafka call (commit, abort, flush) may wait before it is retried."""
        return max(1.0, min(self.drain_s / 2, self.transaction_timeout_s / 2, 30.0))
