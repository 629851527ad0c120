"""Applying credentials, ACL rules and topics to a running Kafka cluster (as its operator).

Every call is idempotent: a SCRAM credential is upserted, a principal's ACLs are made equal to
its rules (missing ones created, others of that principal deleted), and only missing topics are
created. Failures are :class:`~exchange.errors.PrerequisiteError` naming the step and the
broker's error code, never a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from exchange.errors import PrerequisiteError
from exchange.security._acl import AclRule
from exchange.settings import KafkaSettings
from exchange.topics import TopicSpec

__all__ = ["SecurityAdmin", "to_bindings"]

_RESOURCES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "transactionalId": ResourceType.TRANSACTIONAL_ID,
    "cluster": ResourceType.BROKER,
}
_PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefix": ResourcePatternType.PREFIXED}
_OPERATIONS = {
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
    "Describe": AclOperation.DESCRIBE,
    "Create": AclOperation.CREATE,
    "DescribeConfigs": AclOperation.DESCRIBE_CONFIGS,
    "All": AclOperation.ALL,
}
_SCRAM_ITERATIONS = 8192


def to_bindings(principal: str, rules: Iterable[AclRule]) -> list[AclBinding]:
    """Kafka ACL bindings (ALLOW, any host) for ``User:<principal>``."""
    bindings = []
    for rule in rules:
        name = "kafka-cluster" if rule.resource == "cluster" else rule.name
        for operation in rule.operations:
            bindings.append(
                AclBinding(
                    _RESOURCES[rule.resource],
                    name,
                    _PATTERNS[rule.pattern],
                    f"User:{principal}",
                    "*",
                    _OPERATIONS[operation],
                    AclPermissionType.ALLOW,
                )
            )
    return bindings


def _key(binding: Any) -> tuple[object, ...]:
    return (
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


class SecurityAdmin:
    """An admin client with the operator's (super user's) settings."""

    def __init__(self, kafka: KafkaSettings, *, timeout_s: float = 30.0) -> None:
        self._admin = AdminClient({**kafka.confluent_config(), "log_level": 0})
        self._timeout = timeout_s

    def upsert_user(self, name: str, password: str) -> None:
        """Create or replace ``name``'s SCRAM-SHA-512 credential."""
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, _SCRAM_ITERATIONS)
        futures = self._admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(name, info, password.encode())], request_timeout=self._timeout
        )
        self._wait(futures.values(), f"setting the credential of {name}")

    def acls_of(self, principal: str) -> list[AclBinding]:
        flt = AclBindingFilter(
            ResourceType.ANY,
            None,  # type: ignore[arg-type]  # None matches any name (the stubs say str)
            ResourcePatternType.ANY,
            f"User:{principal}",
            None,  # type: ignore[arg-type]  # any host
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        try:
            return list(self._admin.describe_acls(flt, request_timeout=self._timeout).result())
        except KafkaException as exc:
            raise _failed(f"reading the ACLs of {principal}", exc) from None

    def sync_acls(self, principal: str, rules: Sequence[AclRule]) -> tuple[int, int]:
        """Make ``principal``'s ACLs exactly ``rules``; returns (created, deleted)."""
        wanted = {_key(b): b for b in to_bindings(principal, rules)}
        present = {_key(b): b for b in self.acls_of(principal)}
        missing = [b for k, b in wanted.items() if k not in present]
        stale = [b for k, b in present.items() if k not in wanted]
        if missing:
            self._wait(
                self._admin.create_acls(missing, request_timeout=self._timeout).values(),
                f"creating the ACLs of {principal}",
            )
        if stale:
            filters = [
                AclBindingFilter(
                    b.restype,
                    b.name,
                    b.resource_pattern_type,
                    b.principal,
                    b.host,
                    b.operation,
                    b.permission_type,
                )
                for b in stale
            ]
            self._wait(
                self._admin.delete_acls(filters, request_timeout=self._timeout).values(),
                f"removing stale ACLs of {principal}",
            )
        return len(missing), len(stale)

    def ensure_topics(self, specs: Iterable[TopicSpec], replicas: int = -1) -> list[str]:
        """Create the topics of ``specs`` that do not exist yet; returns the names created."""
        try:
            existing = set(self._admin.list_topics(timeout=self._timeout).topics)
        except KafkaException as exc:
            raise _failed("listing topics", exc) from None
        new = [
            NewTopic(s.name, num_partitions=s.partitions, replication_factor=replicas, config=s.config)
            for s in specs
            if s.name not in existing
        ]
        if new:
            futures = self._admin.create_topics(new, operation_timeout=self._timeout)
            for name, future in futures.items():
                try:
                    future.result(self._timeout)
                except KafkaException as exc:
                    if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                        raise _failed(f"creating topic {name}", exc) from None
        return [topic.topic for topic in new]

    def _wait(self, futures: Iterable[Any], what: str) -> None:
        for future in futures:
            try:
                future.result(self._timeout)
            except KafkaException as exc:
                raise _failed(what, exc) from None


def _failed(what: str, exc: KafkaException) -> PrerequisiteError:
    error = exc.args[0]
    code = error.name() if hasattr(error, "name") else type(error).__name__
    return PrerequisiteError(
        f"{what} failed: {code}",
        hint="run this with the operator's settings (MAIS_KAFKA_* of a super user) against a cluster "
        "with SASL and the StandardAuthorizer (`mais dev up --secure`)",
    )
