"""A secured local stack: the cluster's own principals, the registry over HTTPS, settings files.

After a secured cluster starts, :func:`provision` (as the cluster's super user ``admin``)
creates the registry's state topic, the ``mais-registry`` and ``mais-monitor`` principals with
their ACL rules, the registry's users file (``admin`` is the operator; the monitor reads), and
starts the registry with TLS and basic auth. It writes two client settings files, mode 0600:
``operator.env`` (super user, may register schemas and add agencies) and ``monitor.env``
(describe-only). Agencies are added afterwards with ``mais agency add``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from exchange.localkafka._cluster import LocalKafkaCluster
from exchange.localkafka._registry_process import LocalRegistry
from exchange.localkafka._secrets import stored_secret
from exchange.registry_client import RegistrySettings
from exchange.security import RegistryUsers, Role, SecurityAdmin, monitor_rules, registry_rules
from exchange.settings import KafkaSettings
from exchange.topics import TopicSpec

__all__ = [
    "MONITOR_PRINCIPAL",
    "REGISTRY_PRINCIPAL",
    "SecureStack",
    "provision",
    "stack_settings",
    "write_env_file",
]

REGISTRY_PRINCIPAL = "mais-registry"
MONITOR_PRINCIPAL = "mais-monitor"


@dataclass(frozen=True)
class SecureStack:
    """Client settings of a running secured local stack, by principal."""

    operator: KafkaSettings
    operator_registry: RegistrySettings
    monitor: KafkaSettings
    monitor_registry: RegistrySettings
    registry_users_file: Path
    state_dir: Path

    @property
    def operator_env_file(self) -> Path:
        return self.state_dir / "operator.env"

    @property
    def monitor_env_file(self) -> Path:
        return self.state_dir / "monitor.env"


def _principal(cluster: LocalKafkaCluster, name: str) -> KafkaSettings:
    return cluster.admin_settings().model_copy(
        update={
            "sasl_username": name,
            "sasl_password": stored_secret(cluster.secrets_dir / f"{name}.password"),
            "client_id": name,
            # the only consumer groups it may use: the monitor describes groups under mais.
            "group_prefix": "mais.monitor." if name == MONITOR_PRINCIPAL else f"{name}-",
        }
    )


def _registry(url: str, ca: Path | None, user: str, password: SecretStr) -> RegistrySettings:
    return RegistrySettings(url=url, username=user, password=password, ca_location=ca)


def stack_settings(cluster: LocalKafkaCluster, registry: LocalRegistry) -> SecureStack:
    """The settings of an already provisioned secured stack (read from its state folder)."""
    operator = cluster.admin_settings()
    monitor = _principal(cluster, MONITOR_PRINCIPAL)
    assert operator.sasl_password is not None and monitor.sasl_password is not None  # noqa: S101 - secured
    return SecureStack(
        operator=operator,
        operator_registry=_registry(registry.url, registry.ca_file, "admin", operator.sasl_password),
        monitor=monitor,
        monitor_registry=_registry(registry.url, registry.ca_file, MONITOR_PRINCIPAL, monitor.sasl_password),
        registry_users_file=registry.users_file,
        state_dir=cluster.state_dir,
    )


def provision(
    cluster: LocalKafkaCluster,
    registry: LocalRegistry,
    *,
    topic: str = "_schemas",
    agencies: tuple[str, ...] = (),
    timeout: float = 120.0,
) -> SecureStack:
    """Create the stack's principals and ACLs, start the secured registry, write settings files."""
    admin = SecurityAdmin(cluster.admin_settings())
    admin.ensure_topics([TopicSpec(topic, 1, {"cleanup.policy": "compact"})])
    registry_kafka = _principal(cluster, REGISTRY_PRINCIPAL)
    monitor_kafka = _principal(cluster, MONITOR_PRINCIPAL)
    for settings, rules in (
        (registry_kafka, registry_rules(topic)),
        (monitor_kafka, monitor_rules(agencies)),
    ):
        assert settings.sasl_username is not None and settings.sasl_password is not None  # noqa: S101
        admin.upsert_user(settings.sasl_username, settings.sasl_password.get_secret_value())
        admin.sync_acls(settings.sasl_username, rules)
    stack = stack_settings(cluster, registry)
    users = RegistryUsers.load(registry.users_file, missing_ok=True)
    roles: tuple[tuple[str, Role, SecretStr | None], ...] = (
        ("admin", "operator", stack.operator.sasl_password),
        (MONITOR_PRINCIPAL, "reader", stack.monitor.sasl_password),
    )
    for name, role, secret in roles:
        if secret is not None and users.authenticate(name, secret.get_secret_value()) is None:
            users.set(name, role, secret.get_secret_value())
    users.save()
    if registry.running_pid() is None:
        registry.start(cluster.bootstrap_servers, topic=topic, timeout=timeout, kafka=registry_kafka)
    write_env_file(
        stack.operator_env_file,
        stack.operator,
        stack.operator_registry,
        extra={"MAIS_REGISTRY_USERS_FILE": str(registry.users_file)},
    )
    write_env_file(stack.monitor_env_file, stack.monitor, stack.monitor_registry)
    return stack


def write_env_file(
    path: Path, kafka: KafkaSettings, registry: RegistrySettings, *, extra: dict[str, str] | None = None
) -> None:
    """Write client settings as ``KEY=value`` lines (``set -a; . FILE`` loads them), mode 0600."""
    env = {**kafka.environment(), **registry.environment(), **(extra or {})}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# MAIS Exchange client settings; secret: keep this file to yourself\n")
        out.writelines(f"{key}={value}\n" for key, value in env.items())
