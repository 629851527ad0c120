"""``mais run`` and ``mais tail``: bring the exchange up with live feeds, and watch a topic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console

from exchange.cli import tail as tail_cli

__all__ = ["app"]

app = typer.Typer()
app.command("tail")(tail_cli.tail)

_out = Console(highlight=False)


class RunEnv(BaseSettings):
    """Defaults from the environment: ``MAIS_RUN_STATE_DIR``, ``MAIS_RUN_CONFIG``."""

    model_config = SettingsConfigDict(env_prefix="MAIS_RUN_", extra="ignore")

    state_dir: Path = Path(".mais/run")
    config: Path = Path("mais.toml")


@app.command("run")
def run(  # noqa: PLR0917 - a Typer command takes its options as parameters
    config: Annotated[
        Path | None, typer.Option(help="The adapters to run (default: mais.toml, or MAIS_RUN_CONFIG).")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=1, help="Stop by itself after this many seconds.")
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Samples, drop folders and logs (default: .mais/run, or MAIS_RUN_STATE_DIR)."),
    ] = None,
    free_ports: Annotated[
        bool,
        typer.Option(help="Use free ports instead of the configured ones (broker, registry, MLLP, metrics)."),
    ] = False,
    kafka_port: Annotated[int, typer.Option(help="Broker port when mais run starts Kafka.")] = 9092,
    registry_port: Annotated[int, typer.Option(help="Registry port when mais run starts it.")] = 8081,
    metrics_port: Annotated[int, typer.Option(help="Metrics port of the first adapter (next: +1).")] = 9400,
    singleview_port: Annotated[int, typer.Option(help="Port of the SingleView page and API.")] = 8700,
    seed: Annotated[
        int | None, typer.Option(help="Sample seed instead of mais.toml's: a new seed, new people.")
    ] = None,
    bootstrap_servers: Annotated[
        str | None, typer.Option(help="Use this Kafka instead of the local one (with --registry-url).")
    ] = None,
    registry_url: Annotated[
        str | None, typer.Option(help="Use this schema registry (with --bootstrap-servers).")
    ] = None,
) -> None:
    """Run the exchange locally: broker, registry, schemas, adapters fed in real time, live table.

    Ctrl-C stops the feeds and the adapters (they drain and commit), and the broker and registry
    if this run started them.
    """
    from exchange.run import RunSettings, run_exchange  # noqa: PLC0415 - exchange.run imports exchange.cli

    env = RunEnv()
    settings = RunSettings(
        config=config or env.config,
        state_dir=state_dir or env.state_dir,
        duration=duration,
        free_ports=free_ports,
        kafka_port=kafka_port,
        registry_port=registry_port,
        metrics_port=metrics_port,
        singleview_port=singleview_port,
        seed=seed,
        bootstrap_servers=bootstrap_servers,
        registry_url=registry_url,
    )
    code = run_exchange(settings, _out)
    if code:
        raise typer.Exit(code)
