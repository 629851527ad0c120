"""Fixtures every test may use: a real Kafka broker, unique topic names, a 3-node cluster.

``kafka_bootstrap`` uses the cluster named by ``KAFKA_BOOTSTRAP_SERVERS`` when that is set;
otherwise it starts one real Kafka broker from the cached Maven jars for the whole session
(on free loopback ports, in a temporary folder) and stops it at the end. ``schema_registry_url``
does the same for the schema registry service.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from secure_exchange import SecureExchange, start_secure_exchange

from exchange.localkafka import LocalKafkaCluster, LocalRegistry, free_port
from exchange.settings import KafkaSettings

pytest_plugins = ["browser"]  # tests/browser.py: the `browser`, `page` and `screenshot` fixtures


def _start_cluster(state_dir: Path, nodes: int) -> LocalKafkaCluster:
    cluster = LocalKafkaCluster(
        state_dir, nodes=nodes, ports=[(free_port(), free_port()) for _ in range(nodes)]
    )
    cluster.start(timeout=180)
    return cluster


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real Kafka cluster for this test session."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    cluster = _start_cluster(tmp_path_factory.mktemp("kafka"), nodes=1)
    try:
        yield cluster.bootstrap_servers
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def schema_registry_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real schema registry for this session.

    ``MAIS_TEST_SCHEMA_REGISTRY_URL`` names any running Confluent-compatible registry; otherwise
    our registry service runs as a child process against the session's broker, with a topic of
    its own so runs against a shared cluster never mix.
    """
    external = os.environ.get("MAIS_TEST_SCHEMA_REGISTRY_URL")
    if external:
        yield external
        return
    registry = LocalRegistry(tmp_path_factory.mktemp("registry"), port=free_port())
    url = registry.start(kafka_bootstrap, topic=f"_schemas-test-{uuid.uuid4().hex[:8]}", timeout=120)
    try:
        yield url
    finally:
        registry.stop()


@pytest.fixture
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap)


@pytest.fixture(scope="session")
def kafka_cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafkaCluster]:
    """A local three-node cluster (RF 3, min ISR 2) whose nodes tests may kill and restart.

    Always local, even when KAFKA_BOOTSTRAP_SERVERS is set: failover tests signal the brokers.
    """
    cluster = _start_cluster(tmp_path_factory.mktemp("kafka3"), nodes=3)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def secure_exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureExchange]:
    """A secured local exchange (TLS, SCRAM, ACLs; HTTPS registry with basic auth) for this session.

    Always local: the tests need its super user, its CA and its registry users file.
    """
    exchange = start_secure_exchange(tmp_path_factory.mktemp("secure"))
    try:
        yield exchange
    finally:
        exchange.stop()


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> Callable[..., str]:
    """Make topic names no other test (or earlier run against the same cluster) uses."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-")

    def make(suffix: str = "") -> str:
        return f"test.{base}{'.' + suffix if suffix else ''}.{uuid.uuid4().hex[:10]}"

    return make
