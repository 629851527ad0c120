"""Options and wiring shared by ``mais adapter`` and ``mais dlq``."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.settings import KafkaSettings
from exchange.topics import validate_agency

AgencyOption = Annotated[
    str, typer.Option("--agency", help="Agency id, e.g. leeds-cc (topics mais.<agency>.*).")
]
BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap-servers", help="Kafka bootstrap servers (default: MAIS_KAFKA_BOOTSTRAP_SERVERS)."
    ),
]
RegistryOption = Annotated[
    str | None,
    typer.Option("--registry-url", help="Schema registry URL (default: MAIS_SCHEMA_REGISTRY_URL)."),
]


def kafka_settings(bootstrap_servers: str | None) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=bootstrap_servers) if bootstrap_servers else KafkaSettings()


def registry_client(url: str | None) -> SchemaRegistryClient:
    settings = RegistrySettings(url=url) if url else RegistrySettings()
    return SchemaRegistryClient.from_settings(settings)


def agency_id(agency: str) -> str:
    return validate_agency(agency)


def default_instance_id() -> str:
    """This host's name, made safe for Kafka ids: stable across restarts of the same host."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname().lower()) or "0"
