"""Settings of the schema registry service (``MAIS_REGISTRY_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.compatibility import CompatibilityLevel
from exchange.settings import KafkaSettings

__all__ = ["RegistrySettings"]


class RegistrySettings(BaseSettings):
    """Where the registry listens, which topic holds its state, and its compatibility defaults.

    ``tls_cert``/``tls_key`` (PEM) serve HTTPS; ``users_file`` turns on basic authentication with
    the operator and reader roles (see ``services/registry/_auth.py``).
    """

    model_config = SettingsConfigDict(env_prefix="MAIS_REGISTRY_", extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)
    topic: str = Field(default="_schemas", min_length=1, max_length=249, pattern=r"^[A-Za-z0-9._-]+$")
    default_compatibility: CompatibilityLevel = CompatibilityLevel.BACKWARD
    standard_subject_prefixes: tuple[str, ...] = ("mais.",)
    standard_compatibility: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE
    timeout_seconds: float = Field(default=15.0, gt=0)
    instance_id: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    users_file: Path | None = None
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)

    @model_validator(mode="after")
    def _check_tls(self) -> RegistrySettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        for path in (self.tls_cert, self.tls_key):
            if path is not None and not path.is_file():
                raise ValueError(f"TLS file {path} does not exist")
        return self

    @property
    def url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{self.host}:{self.port}"
