"""``mais dev``: a local Kafka cluster for development, from Maven Central jars (no Docker)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console

from exchange.cli._options import renamed_help
from exchange.errors import PrerequisiteError
from exchange.localkafka import (
    ClusterInfo,
    LocalKafkaCluster,
    LocalRegistry,
    SecureStack,
    provision,
    stack_settings,
)
from exchange.security import AgencyBook

app = typer.Typer(
    help="Run a real Kafka cluster and the schema registry on this machine for development.",
    no_args_is_help=True,
)

_out = Console(highlight=False, soft_wrap=True)


class DevSettings(BaseSettings):
    """Where ``mais dev`` keeps its clusters' state (``MAIS_DEV_STATE_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="MAIS_DEV_", extra="forbid")

    state_dir: Path = Path(".mais/dev")

    def cluster_dir(self, nodes: int, *, secure: bool = False) -> Path:
        return self.state_dir / f"kafka-{nodes}node{'-secure' if secure else ''}"


def _known_clusters(settings: DevSettings) -> list[LocalKafkaCluster]:
    found = (
        LocalKafkaCluster.from_state(settings.cluster_dir(n, secure=s)) for n in (1, 3) for s in (False, True)
    )
    return [cluster for cluster in found if cluster is not None]


def running_secure_stack(settings: DevSettings) -> SecureStack | None:
    """The client settings of the running secured local stack, if one runs."""
    cluster = _running(settings)
    if cluster is None or not cluster.secure:
        return None
    registry = LocalRegistry.from_state(cluster.state_dir)
    if registry is None or registry.running_pid() is None:
        return None
    return stack_settings(cluster, registry)


def _start_registry(cluster: LocalKafkaCluster, registry: LocalRegistry, timeout: float) -> str:
    """Start the registry (a secured cluster's: with its principals, TLS and basic auth)."""
    if not cluster.secure:
        return registry.start(cluster.bootstrap_servers, timeout=timeout)
    book = AgencyBook.load(missing_ok=True)
    provision(cluster, registry, agencies=tuple(book.agencies), timeout=timeout)
    return registry.url


def _running(settings: DevSettings) -> LocalKafkaCluster | None:
    return next((c for c in _known_clusters(settings) if c.is_running()), None)


@app.command()
def up(
    nodes: Annotated[int, typer.Option(help="1 node, or 3 for replication factor 3 / min ISR 2.")] = 1,
    kafka_port: Annotated[
        int,
        typer.Option(
            "--kafka-port",
            "--port",
            help=renamed_help("Broker port of the first node (node i: port + 100*i).", "--port"),
        ),
    ] = 9092,
    registry_port: Annotated[int, typer.Option(help="Port of the schema registry.")] = 8081,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each service to answer.")] = 120.0,
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="TLS (a CA of its own), SASL/SCRAM-SHA-512 and ACLs on the broker; HTTPS and basic auth "
            "on the registry. Agencies are then added with `mais agency add`.",
        ),
    ] = False,
) -> None:
    """Start a local Kafka cluster and the schema registry (fetches the jars the first time)."""
    settings = DevSettings()
    running = _running(settings)
    if running is not None:
        registry = LocalRegistry.from_state(running.state_dir)
        if registry is not None and registry.running_pid() is not None:
            note = "" if len(running.nodes) == nodes else f" (with {len(running.nodes)} nodes, not {nodes})"
            _out.print(
                f"A local cluster is already running{note} at {running.bootstrap_servers}, with the "
                f"schema registry at {registry.url}; nothing changed.\n"
                "Use `mais dev status` to see it, or `mais dev down` to stop it."
            )
            return
        registry = registry or LocalRegistry(running.state_dir, port=registry_port, secure=running.secure)
        with _out.status("Kafka is running; starting the schema registry …"):
            url = _start_registry(running, registry, timeout)
        _out.print(
            f"Kafka was already running at {running.bootstrap_servers}; started the registry at {url}."
        )
        return
    cluster = LocalKafkaCluster(
        settings.cluster_dir(nodes, secure=secure), nodes=nodes, base_port=kafka_port, secure=secure
    )
    registry = LocalRegistry(cluster.state_dir, port=registry_port, secure=secure)
    progress: list[str] = []
    try:
        with _out.status(f"Starting Kafka ({nodes} node{'s' if nodes > 1 else ''}) …"):
            info = cluster.start(timeout=timeout, progress=progress)
        with _out.status("Starting the schema registry …"):
            url = _start_registry(cluster, registry, timeout)
    except PrerequisiteError:
        registry.stop(timeout=10)
        cluster.stop(timeout=30)
        raise
    for line in progress:
        _out.print(line)
    _print_info(info, url)
    _print_security(cluster)
    _out.print("Stop it with `mais dev down`.")


@app.command()
def down(
    reset: Annotated[bool, typer.Option(help="Also delete the clusters' data and logs.")] = False,
) -> None:
    """Stop the registry and the brokers by their own process ids and wait until they exited."""
    settings = DevSettings()
    stopped = 0
    for cluster in _known_clusters(settings):
        registry = LocalRegistry.from_state(cluster.state_dir)
        if registry is not None and registry.stop():
            _out.print(f"Stopped the schema registry at {registry.url}.")
        stopped += len(cluster.stop())
        if reset:
            shutil.rmtree(cluster.state_dir, ignore_errors=True)
    if stopped:
        _out.print(f"Stopped {stopped} broker process{'es' if stopped > 1 else ''}.")
    else:
        _out.print("No local cluster was running.")
    if reset:
        _out.print(f"Deleted local cluster state under {settings.state_dir}.")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show the local cluster (bootstrap servers, cluster id, brokers, Kafka version) and registry URL.

    Exits 0 when a cluster runs and answers, 3 when none is running.
    """
    settings = DevSettings()
    cluster = _running(settings)
    if cluster is None:
        if as_json:
            typer.echo(json.dumps({"running": False}))
        else:
            _out.print("No local cluster is running. Start one with `mais dev up`.")
        raise typer.Exit(3)
    info = cluster.wait_ready(str(cluster.recorded_state().get("cluster_id", "")), timeout=30)
    registry = LocalRegistry.from_state(cluster.state_dir)
    url = registry.url if registry is not None and registry.running_pid() is not None else None
    if as_json:
        payload = {
            "running": True,
            "bootstrap_servers": info.bootstrap_servers,
            "cluster_id": info.cluster_id,
            "brokers": info.brokers,
            "kafka_version": info.kafka_version,
            "schema_registry_url": url,
            "state_dir": str(cluster.state_dir),
            "secure": cluster.secure,
        }
        typer.echo(json.dumps(payload))
    else:
        _print_info(info, url)
        _print_security(cluster)
        _out.print(f"State and logs: {cluster.state_dir}")


def _print_info(info: ClusterInfo, registry_url: str | None) -> None:
    _out.print(f"Kafka {info.kafka_version} is running.")
    _out.print(f"  bootstrap servers: {info.bootstrap_servers}")
    _out.print(f"  cluster id:        {info.cluster_id}")
    _out.print(f"  brokers:           {info.brokers}")
    _out.print(f"  schema registry:   {registry_url or 'not running (`mais dev up` starts it)'}")


def _print_security(cluster: LocalKafkaCluster) -> None:
    if not cluster.secure:
        return
    _out.print("  security:          TLS + SASL/SCRAM-SHA-512, ACLs enforced; registry HTTPS + basic auth")
    _out.print(f"  CA certificate:    {cluster.certificate_authority.cert_file}")
    _out.print(f"  operator settings: set -a; . {cluster.state_dir / 'operator.env'}; set +a")
    _out.print(f"  monitor settings:  {cluster.state_dir / 'monitor.env'} (describe-only)")
    _out.print("  add an agency:     mais agency add ID (prints its client settings once)")
