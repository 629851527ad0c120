"""Settings of the operator's monitor (``MAIS_MONITOR_*``; Kafka and registry as everywhere)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.registry_client import RegistrySettings
from exchange.settings import KafkaSettings

__all__ = ["MonitorSettings"]


class MonitorSettings(BaseSettings):
    """Where the monitor listens and how often it looks.

    It runs with a principal that may describe topics and groups but not read records
    (``mais-monitor``, see ``docs/security.md``), and a registry reader.
    """

    model_config = SettingsConfigDict(env_prefix="MAIS_MONITOR_", extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    refresh_s: float = Field(default=2.0, gt=0)
    quiet_after_s: float = Field(default=900.0, gt=0)
    """A feed whose last event is older than this is flagged quiet."""
    schema_refresh_s: float = Field(default=30.0, gt=0)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
