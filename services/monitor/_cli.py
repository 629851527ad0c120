"""``mais monitor``: the operator's monitor (web page and JSON API)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["app"]

app = typer.Typer(
    help="The operator's monitor: feeds, rejects, lag, schemas and brokers, live.", no_args_is_help=True
)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: 8090].")] = None,
    quiet_after: Annotated[
        float | None, typer.Option(help="Seconds without an event before a feed is flagged quiet [900].")
    ] = None,
) -> None:
    """Serve the monitor until interrupted. Run it with the describe-only monitor principal.

    Kafka settings are MAIS_KAFKA_* (e.g. `monitor.env` of `mais dev up --secure`), the registry's
    MAIS_SCHEMA_REGISTRY_*; MAIS_MONITOR_* sets the rest.
    """
    from services.monitor import MonitorSettings  # noqa: PLC0415 - loaded when used
    from services.monitor import serve as run  # noqa: PLC0415

    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port, "quiet_after_s": quiet_after}.items() if v is not None
    }
    run(MonitorSettings(**overrides))
