"""Applying agency definitions to a running secured exchange, as its operator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from exchange.errors import ConfigError
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.schemas import schema_json
from exchange.security import (
    AgencyBook,
    AgencyDefinition,
    RegistryUsers,
    SecurityAdmin,
    new_password,
)
from exchange.settings import KafkaSettings
from exchange.topics import (
    AUDIT_TOPIC,
    ENQUIRY_DECISION_TOPIC,
    ENQUIRY_REQUEST_TOPIC,
    ENQUIRY_RESPONSE_TOPIC,
    ENTITY_EVENTS,
    agency_prefix,
    entity_topic,
    shared_topics,
)

__all__ = ["AgencyCredentials", "ApplyReport", "Operator", "add_agency", "apply_agencies", "apply_agency"]

MONITOR_PRINCIPAL = "mais-monitor"


@dataclass(frozen=True)
class Operator:
    """How the operator reaches the exchange: a Kafka super user, the registry's operator role,
    and (when the registry's users file is reachable from here) where agencies' registry
    credentials go."""

    kafka: KafkaSettings
    registry: RegistrySettings
    registry_users_file: Path | None = None
    monitor_principal: str = MONITOR_PRINCIPAL

    def __post_init__(self) -> None:
        if not self.kafka.security_protocol.startswith("SASL_"):
            raise ConfigError(
                f"agencies are added to a secured cluster, but MAIS_KAFKA_SECURITY_PROTOCOL is "
                f"{self.kafka.security_protocol}",
                hint="load the operator's settings (`set -a; . .mais/dev/kafka-1node-secure/operator.env`), "
                "or start a secured local stack with `mais dev up --secure`",
            )


@dataclass(frozen=True)
class AgencyCredentials:
    """An agency's client settings, secrets included: shown once, then only the agency has them."""

    agency: str
    kafka: KafkaSettings
    registry: RegistrySettings
    registry_user_written: bool

    def environment(self) -> dict[str, str]:
        return {**self.kafka.environment(), **self.registry.environment()}


@dataclass
class ApplyReport:
    topics_created: list[str] = field(default_factory=list)
    acls_created: int = 0
    acls_deleted: int = 0
    subjects_registered: int = 0


def apply_agency(definition: AgencyDefinition, book: AgencyBook, operator: Operator) -> ApplyReport:
    """Topics (the agency's and the exchange's shared ones), ACLs (the agency's and the
    monitor's) and schema subjects for ``definition``."""
    admin = SecurityAdmin(operator.kafka)
    report = ApplyReport()
    report.topics_created = admin.ensure_topics([*definition.topics(), *shared_topics()])
    created, deleted = admin.sync_acls(definition.id, definition.acl_rules())
    m_created, m_deleted = admin.sync_acls(operator.monitor_principal, book.monitor_rules())
    report.acls_created, report.acls_deleted = created + m_created, deleted + m_deleted
    report.subjects_registered = _register_schemas(definition, operator.registry)
    return report


def apply_agencies(book: AgencyBook, operator: Operator) -> dict[str, ApplyReport]:
    """Re-apply every definition of ``book`` (no credential changes)."""
    return {definition.id: apply_agency(definition, book, operator) for definition in book}


def add_agency(
    book: AgencyBook, definition: AgencyDefinition, operator: Operator
) -> tuple[AgencyCredentials, ApplyReport]:
    """Define ``definition`` in ``book``, apply it and give the agency a new password."""
    book.put(definition)
    report = apply_agency(definition, book, operator)
    password = new_password()
    SecurityAdmin(operator.kafka).upsert_user(definition.id, password)
    written = False
    if operator.registry_users_file is not None:
        users = RegistryUsers.load(operator.registry_users_file, missing_ok=True)
        users.set(definition.id, "reader", password)
        users.save()
        written = True
    book.save()
    kafka = operator.kafka.model_copy(
        update={
            "sasl_username": definition.id,
            "sasl_password": SecretStr(password),
            "client_id": definition.id,
            "group_prefix": agency_prefix(definition.id),
        }
    )
    registry = RegistrySettings(
        url=operator.registry.url,
        username=definition.id,
        password=SecretStr(password),
        ca_location=operator.registry.ca_location,
    )
    return AgencyCredentials(definition.id, kafka, registry, written), report


_SHARED_EVENTS: dict[str, tuple[str, ...]] = {
    ENQUIRY_REQUEST_TOPIC: ("mais.v1.InformationRequest",),
    ENQUIRY_DECISION_TOPIC: ("mais.v1.SharingDecision",),
    ENQUIRY_RESPONSE_TOPIC: ("mais.v1.InformationResponse",),
    AUDIT_TOPIC: ("mais.v1.AuditEntry", "mais.v1.AuditCheckpoint"),
}
"""The events of the shared topics: agencies only look their ids up, the operator registers them."""


def _register_schemas(definition: AgencyDefinition, settings: RegistrySettings) -> int:
    """The standard's events under each of the agency's topics and the shared topics it writes
    (``<topic>-<record name>``; registering an existing schema again changes nothing)."""
    client = SchemaRegistryClient.from_settings(settings)
    count = 0
    subjects = [
        (entity_topic(definition.id, entity), name)
        for entity in definition.publishes
        for name in ENTITY_EVENTS[entity]
    ]
    subjects += [
        (topic, name)
        for topic, names in _SHARED_EVENTS.items()
        if definition.enquiries or topic == AUDIT_TOPIC
        for name in names
    ]
    try:
        for topic, name in subjects:
            client.register(f"{topic}-{name}", schema_json(name))
            count += 1
    finally:
        client.close()
    return count
