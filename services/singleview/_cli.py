"""``mais singleview …``: serve the SingleView, run its subscriber alone, hash a password."""

from __future__ import annotations

import getpass
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


@app.command("hash-password")
def hash_password_command() -> None:
    """Print a scrypt hash of a password for the users file (the password is read without echo)."""
    from services.singleview._auth import hash_password  # noqa: PLC0415

    password = getpass.getpass("Password: ")
    typer.echo(hash_password(password))
