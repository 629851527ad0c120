"""Settings of an audit writer (``MAIS_AUDIT_*``), validated at start-up; the secret never prints."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.audit._signing import CheckpointSigner, load_signer
from exchange.audit._writer import AUDIT_TOPIC
from exchange.errors import ConfigError
from exchange.hashing import KeyedHasher

__all__ = ["AuditSettings"]


class AuditSettings(BaseSettings):
    """Where audit entries go and which keys a writer uses."""

    model_config = SettingsConfigDict(env_prefix="MAIS_AUDIT_", extra="forbid", frozen=True)

    topic: str = AUDIT_TOPIC
    signing_key_file: Path | None = None
    """PEM file of the writer's Ed25519 private key (``mais audit keygen``)."""
    hash_secret: SecretStr | None = None
    """The agency's secret for keyed hashes of identifiers (at least 16 bytes)."""
    hash_key_id: str | None = None
    """Names the secret (not secret itself), e.g. ``northvale-nhs-trust/1``; default ``<agency>/1``."""
    checkpoint_every: int = 50

    def signer(self) -> CheckpointSigner:
        if self.signing_key_file is None:
            raise ConfigError(
                "no audit signing key",
                hint="set MAIS_AUDIT_SIGNING_KEY_FILE (create one with mais audit keygen)",
            )
        return load_signer(self.signing_key_file)

    def hasher(self, agency: str) -> KeyedHasher:
        if self.hash_secret is None:
            raise ConfigError(
                "no secret for keyed hashes of identifiers",
                hint="set MAIS_AUDIT_HASH_SECRET to the agency's secret (at least 16 bytes)",
            )
        return KeyedHasher(self.hash_secret, self.hash_key_id or f"{agency}/1")
