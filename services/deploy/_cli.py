"""``mais deploy``: render Kubernetes resources from the agency definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Deployment resources (Strimzi on Kubernetes) from agencies.toml.", no_args_is_help=True
)

DEFAULT_OUT = Path("deploy/k8s/generated/agencies.yaml")


@app.command()
def render(
    agencies_file: Annotated[
        Path | None,
        typer.Option(help="Agency definitions (default: MAIS_AGENCIES_FILE, else ./agencies.toml)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the resources ('-' for stdout).")] = DEFAULT_OUT,
    cluster: Annotated[
        str, typer.Option(help="Name of the Strimzi Kafka cluster (strimzi.io/cluster).")
    ] = "mais",
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if OUT differs from a fresh render.")
    ] = False,
) -> None:
    """Write KafkaTopic and KafkaUser resources for every agency (and the monitor and registry)."""
    from exchange.security import AgencyBook, default_agencies_file  # noqa: PLC0415
    from services.deploy import render_agencies  # noqa: PLC0415

    text = render_agencies(AgencyBook.load(agencies_file or default_agencies_file()), cluster=cluster)
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    if check:
        if not out.is_file() or out.read_text() != text:
            typer.echo(f"{out} is not what agencies.toml renders to; run `mais deploy render`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    typer.echo(f"wrote {out}")
