"""Settings shared by every process: validated once at start-up, secrets never printed.

Values come from ``MAIS_*`` environment variables (``MAIS_KAFKA_BOOTSTRAP_SERVERS`` …) or are
passed in by the deployment's TOML file. Both Kafka clients (confluent-kafka on the hot path,
aiokafka inside asyncio services) are configured from the same :class:`KafkaSettings`.
"""

from __future__ import annotations

import re
import ssl
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["KafkaSettings"]

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(BaseSettings):
    """How to reach a Kafka cluster."""

    model_config = SettingsConfigDict(env_prefix="MAIS_KAFKA_", extra="forbid", frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None
    client_id: str = "mais-exchange"
    group_prefix: str = "mais-"
    """Start of the consumer group ids that tools make up for themselves (``mais tail``): on a
    secured exchange a principal may only use groups under its own prefix (``mais.<agency>.``)."""

    @field_validator("bootstrap_servers")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        bad = [s for s in servers if not _HOST_PORT.match(s)]
        if not servers or bad:
            raise ValueError(
                "expected a comma-separated list of host:port, e.g. 127.0.0.1:9092"
                + (f" (not host:port: {', '.join(bad)})" if bad else "")
            )
        return ",".join(servers)

    @model_validator(mode="after")
    def _check_sasl(self) -> KafkaSettings:
        incomplete = self.sasl_mechanism is None or not self.sasl_username or self.sasl_password is None
        if self.security_protocol.startswith("SASL_") and incomplete:
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_mechanism, "
                "sasl_username and sasl_password"
            )
        return self

    def scratch_group(self, purpose: str) -> str:
        """A fresh consumer group id for a reader that never commits (``purpose`` names it)."""
        return f"{self.group_prefix}{purpose}.{uuid.uuid4().hex}"

    def confluent_config(self) -> dict[str, str]:
        """Configuration keys for confluent-kafka (librdkafka) clients."""
        conf = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "client.id": self.client_id,
        }
        if self.sasl_mechanism is not None:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username is not None:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location is not None:
            conf["ssl.ca.location"] = str(self.ssl_ca_location)
        return conf

    def environment(self) -> dict[str, str]:
        """These settings as ``MAIS_KAFKA_*`` variables, secret included: for a child process's
        environment or a client settings file only, never for printing or logging."""
        env = {
            "MAIS_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "MAIS_KAFKA_SECURITY_PROTOCOL": self.security_protocol,
        }
        if self.sasl_mechanism is not None:
            env["MAIS_KAFKA_SASL_MECHANISM"] = self.sasl_mechanism
        if self.sasl_username is not None:
            env["MAIS_KAFKA_SASL_USERNAME"] = self.sasl_username
        if self.sasl_password is not None:
            env["MAIS_KAFKA_SASL_PASSWORD"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location is not None:
            env["MAIS_KAFKA_SSL_CA_LOCATION"] = str(self.ssl_ca_location)
        if self.group_prefix != "mais-":
            env["MAIS_KAFKA_GROUP_PREFIX"] = self.group_prefix
        return env

    def aiokafka_config(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka clients."""
        conf: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol,
            "client_id": self.client_id,
        }
        if self.sasl_mechanism is not None:
            conf["sasl_mechanism"] = self.sasl_mechanism
            conf["sasl_plain_username"] = self.sasl_username
            conf["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        if self.security_protocol in ("SSL", "SASL_SSL"):
            conf["ssl_context"] = ssl.create_default_context(
                cafile=str(self.ssl_ca_location) if self.ssl_ca_location else None
            )
        return conf
