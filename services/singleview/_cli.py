"""``mais singleview …``: serve the SingleView, run its subscriber alone, hash a password."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from exchange.logging import configure_logging

__all__ = ["app"]

app = typer.Typer(help="The SingleView: who knows this person, and whom to call.", no_args_is_help=True)


@app.command("serve")
def serve(
    port: Annotated[
        int | None, typer.Option(help="HTTP port (default MAIS_SINGLEVIEW_PORT or 8700).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="sqlite:///file.db or postgresql://… (default MAIS_SINGLEVIEW_DATABASE_URL)."),
    ] = None,
    ingest_only: Annotated[bool, typer.Option(help="Run the subscriber without the web server.")] = False,
) -> None:
    """Subscribe to every agency's topics, keep the store, and serve the page and API."""
    from exchange.registry_client import RegistrySettings  # noqa: PLC0415 - fast --help
    from exchange.settings import KafkaSettings  # noqa: PLC0415
    from services.singleview._service import SingleView  # noqa: PLC0415
    from services.singleview._service import ingest_only as run_ingest  # noqa: PLC0415
    from services.singleview._settings import SingleViewSettings  # noqa: PLC0415

    configure_logging()
    overrides = {k: v for k, v in {"port": port, "database_url": database_url}.items() if v is not None}
    settings = SingleViewSettings(**overrides)  # type: ignore[arg-type]
    view = SingleView(settings, KafkaSettings(), RegistrySettings())
    if ingest_only:
        run_ingest(view)
        return
    view.start()
    view.serve()


@app.command("evaluate")
def evaluate_command(
    truth: Annotated[Path, typer.Option(help="truth.csv of the sample set the store was fed.")],
    database_url: Annotated[
        str | None,
        typer.Option(help="sqlite:///file.db or postgresql://… (default MAIS_SINGLEVIEW_DATABASE_URL)."),
    ] = None,
) -> None:
    """Print the precision and recall of the person pages against a sample set's truth."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from services.singleview._db import Database  # noqa: PLC0415
    from services.singleview._evaluate import evaluate_store  # noqa: PLC0415
    from services.singleview._settings import SingleViewSettings  # noqa: PLC0415

    url = database_url or SingleViewSettings().database_url
    db = Database(url).connect()
    try:
        accuracy = evaluate_store(db, truth)
    finally:
        db.close()
    table = Table(title="person pages against the truth")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in (
        ("pairwise precision", accuracy.precision),
        ("pairwise recall", accuracy.recall),
        ("pairwise F1", accuracy.f1),
        ("B-cubed precision", accuracy.bcubed_precision),
        ("B-cubed recall", accuracy.bcubed_recall),
    ):
        table.add_row(name, f"{value:.4f}")
    Console(highlight=False).print(table)


@app.command("hash-password")
def hash_password_command() -> None:
    """Print a scrypt hash of a password for the users file (the password is read without echo)."""
    from services.singleview._auth import hash_password  # noqa: PLC0415

    password = getpass.getpass("Password: ")
    typer.echo(hash_password(password))
