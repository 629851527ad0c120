"""Settings of the schema registry service (``MAIS_REGISTRY_*`` environment variables)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.compatibility import CompatibilityLevel
from exchange.settings import KafkaSettings

__all__ = ["RegistrySettings"]


class RegistrySettings(BaseSettings):
    """Where the registry listens, which topic holds its state, and its compatibility defaults."""

    model_config = SettingsConfigDict(env_prefix="MAIS_REGISTRY_", extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)
    topic: str = Field(default="_schemas", min_length=1, max_length=249, pattern=r"^[A-Za-z0-9._-]+$")
    default_compatibility: CompatibilityLevel = CompatibilityLevel.BACKWARD
    standard_subject_prefixes: tuple[str, ...] = ("mais.",)
    standard_compatibility: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE
    timeout_seconds: float = Field(default=15.0, gt=0)
    instance_id: str | None = None
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
