"""The broker and the registry ``mais run`` talks to: given, found running, or started here."""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange.cli.dev import DevSettings
from exchange.errors import PrerequisiteError
from exchange.localkafka import LocalKafkaCluster, LocalRegistry, free_port

__all__ = ["Stack", "ensure_stack"]


@dataclass
class Stack:
    """Where Kafka and the registry are; ``started`` if ``mais run`` started them (and stops them)."""

    bootstrap_servers: str
    registry_url: str
    started: list[str] = field(default_factory=list)
    _cluster: LocalKafkaCluster | None = None
    _registry: LocalRegistry | None = None

    def stop(self) -> None:
        """Stop what this run started, nothing else."""
        if self._registry is not None:
            self._registry.stop(timeout=30)
        if self._cluster is not None:
            self._cluster.stop(timeout=60)


def ensure_stack(*, kafka_port: int, registry_port: int, free_ports: bool, timeout: float = 180.0) -> Stack:
    """Use the local cluster of ``mais dev up`` if it runs; otherwise start one (and a registry)."""
    settings = DevSettings()
    cluster = LocalKafkaCluster.from_state(settings.cluster_dir(1))
    if cluster is not None and cluster.is_running():
        registry = LocalRegistry.from_state(cluster.state_dir)
        if registry is not None and registry.running_pid() is not None:
            return Stack(cluster.bootstrap_servers, registry.url)
        registry = registry or LocalRegistry(cluster.state_dir, port=_port(registry_port, free_ports))
        url = registry.start(cluster.bootstrap_servers, timeout=timeout)
        return Stack(cluster.bootstrap_servers, url, ["schema registry"], None, registry)
    if cluster is None:  # first time: a new cluster; afterwards the same ports as before
        if free_ports:
            cluster = LocalKafkaCluster(settings.cluster_dir(1), ports=[(free_port(), free_port())])
        else:
            cluster = LocalKafkaCluster(settings.cluster_dir(1), base_port=kafka_port)
    registry = LocalRegistry.from_state(cluster.state_dir) or LocalRegistry(
        cluster.state_dir, port=_port(registry_port, free_ports)
    )
    try:
        info = cluster.start(timeout=timeout)
        url = registry.start(info.bootstrap_servers, timeout=timeout)
    except (PrerequisiteError, KeyboardInterrupt):
        registry.stop(timeout=10)
        cluster.stop(timeout=30)
        raise
    return Stack(info.bootstrap_servers, url, ["Kafka", "schema registry"], cluster, registry)


def _port(port: int, free: bool) -> int:
    return free_port() if free else port
