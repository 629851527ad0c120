"""``mais dev``: a local Kafka cluster for development, from Maven Central jars (no Docker)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console

from exchange.errors import PrerequisiteError
from exchange.localkafka import ClusterInfo, LocalKafkaCluster

app = typer.Typer(help="Run a real Kafka cluster on this machine for development.", no_args_is_help=True)

_out = Console(highlight=False)


class DevSettings(BaseSettings):
    """Where ``mais dev`` keeps its clusters' state (``MAIS_DEV_STATE_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="MAIS_DEV_", extra="forbid")

    state_dir: Path = Path(".mais/dev")

    def cluster_dir(self, nodes: int) -> Path:
        return self.state_dir / f"kafka-{nodes}node"


def _known_clusters(settings: DevSettings) -> list[LocalKafkaCluster]:
    found = (LocalKafkaCluster.from_state(settings.cluster_dir(n)) for n in (1, 3))
    return [cluster for cluster in found if cluster is not None]


def _running(settings: DevSettings) -> LocalKafkaCluster | None:
    return next((c for c in _known_clusters(settings) if c.is_running()), None)


@app.command()
def up(
    nodes: Annotated[int, typer.Option(help="1 node, or 3 for replication factor 3 / min ISR 2.")] = 1,
    port: Annotated[int, typer.Option(help="Broker port of the first node (node i: port + 100*i).")] = 9092,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the brokers to answer.")] = 120.0,
) -> None:
    """Start a local Kafka cluster (fetches the jars with Maven the first time)."""
    settings = DevSettings()
    running = _running(settings)
    if running is not None:
        note = "" if len(running.nodes) == nodes else f" (with {len(running.nodes)} nodes, not {nodes})"
        _out.print(
            f"A local cluster is already running{note} at {running.bootstrap_servers}; nothing changed.\n"
            "Use `mais dev status` to see it, or `mais dev down` to stop it."
        )
        return
    cluster = LocalKafkaCluster(settings.cluster_dir(nodes), nodes=nodes, base_port=port)
    progress: list[str] = []
    with _out.status(f"Starting Kafka ({nodes} node{'s' if nodes > 1 else ''}) …"):
        try:
            info = cluster.start(timeout=timeout, progress=progress)
        except PrerequisiteError:
            cluster.stop(timeout=30)
            raise
    for line in progress:
        _out.print(line)
    _print_info(info)
    _out.print("Stop it with `mais dev down`.")


@app.command()
def down(
    reset: Annotated[bool, typer.Option(help="Also delete the clusters' data and logs.")] = False,
) -> None:
    """Stop the local cluster by its brokers' own process ids and wait until they exited."""
    settings = DevSettings()
    stopped = 0
    for cluster in _known_clusters(settings):
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
    """Show the running local cluster: bootstrap servers, cluster id, brokers, Kafka version.

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
    if as_json:
        payload = {
            "running": True,
            "bootstrap_servers": info.bootstrap_servers,
            "cluster_id": info.cluster_id,
            "brokers": info.brokers,
            "kafka_version": info.kafka_version,
            "state_dir": str(cluster.state_dir),
        }
        typer.echo(json.dumps(payload))
    else:
        _print_info(info)
        _out.print(f"State and logs: {cluster.state_dir}")


def _print_info(info: ClusterInfo) -> None:
    _out.print(f"Kafka {info.kafka_version} is running.")
    _out.print(f"  bootstrap servers: {info.bootstrap_servers}")
    _out.print(f"  cluster id:        {info.cluster_id}")
    _out.print(f"  brokers:           {info.brokers}")
