"""A secured local exchange for tests: TLS, SASL/SCRAM-SHA-512, ACLs, an HTTPS registry with basic auth.

One per test session (the ``secure_exchange`` fixture in ``tests/conftest.py``): a JVM start is
slow on a small machine. Tests add the agencies they need with :meth:`SecureExchange.add_agency`,
exactly as ``mais agency add`` does, with ids no other test uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from exchange.localkafka import LocalKafkaCluster, LocalRegistry, SecureStack, free_port, provision
from exchange.security import AgencyBook, AgencyDefinition
from services.agency import AgencyCredentials, Operator, add_agency


@dataclass
class SecureExchange:
    cluster: LocalKafkaCluster
    registry: LocalRegistry
    stack: SecureStack
    book: AgencyBook

    @property
    def operator(self) -> Operator:
        return Operator(self.stack.operator, self.stack.operator_registry, self.stack.registry_users_file)

    def new_agency_id(self, stem: str) -> str:
        return f"{stem}-{uuid.uuid4().hex[:8]}"

    def add_agency(self, agency_id: str, *, reads: Iterable[str] = (), name: str = "") -> AgencyCredentials:
        definition = AgencyDefinition(id=agency_id, name=name, reads=tuple(reads))
        credentials, _ = add_agency(self.book, definition, self.operator)
        return credentials

    def stop(self) -> None:
        self.registry.stop()
        self.cluster.stop()


def start_secure_exchange(state_dir: Path) -> SecureExchange:
    cluster = LocalKafkaCluster(state_dir, ports=[(free_port(), free_port())], secure=True)
    cluster.start(timeout=180)
    registry = LocalRegistry(state_dir, port=free_port(), secure=True)
    try:
        stack = provision(cluster, registry, timeout=120)
    except BaseException:
        registry.stop()
        cluster.stop()
        raise
    return SecureExchange(cluster, registry, stack, AgencyBook(state_dir / "agencies.toml"))
