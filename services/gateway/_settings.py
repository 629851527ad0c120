"""Settings of the FHIR gateway (``MAIS_GATEWAY_*``), validated at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GatewaySettings"]


class GatewaySettings(BaseSettings):
    """Where the gateway listens, whom it trusts and how long it waits for answers."""

    model_config = SettingsConfigDict(env_prefix="MAIS_GATEWAY_", extra="forbid", frozen=True)

    agency: str
    """The agency operating the gateway (its audit chain is ``gateway.<agency>``)."""
    policies: Path
    """Folder of the sharing policies the gateway's callers make requests under."""
    clients: Path
    """``clients.toml``: organisations allowed to call, with their token public keys."""
    tls_cert_file: Path
    tls_key_file: Path
    tls_ca_file: Path
    """CA whose certificates identify calling organisations (mutual TLS)."""
    host: str = "127.0.0.1"
    port: int = 8443
    base_path: str = "/fhir"
    audience: str = "mais-gateway"
    """The ``aud`` a signed token must carry."""
    deadline_s: float = Field(default=5.0, gt=0, le=120)
    """How long to gather answers."""
    responders: list[str] = Field(default_factory=list)
    """Agencies expected to answer: the answer returns as soon as all of them did."""

    @model_validator(mode="after")
    def _files_exist(self) -> GatewaySettings:
        for name in ("clients", "tls_cert_file", "tls_key_file", "tls_ca_file"):
            path: Path = getattr(self, name)
            if not path.is_file():
                raise ValueError(f"{name}: {path} is not a file")
        if not self.policies.is_dir():
            raise ValueError(f"policies: {self.policies} is not a folder")
        return self
