"""``mais registry``: run the schema registry (reached through the ``mais.commands`` entry point)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from exchange.errors import ConfigError
from services.registry import RegistrySettings
from services.registry import serve as run

__all__ = ["app"]

app = typer.Typer(help="The schema registry (Confluent Schema Registry REST API, state in Kafka).")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: 8081].")] = None,
    topic: Annotated[str | None, typer.Option(help="Kafka topic of the state [default: _schemas].")] = None,
) -> None:
    """Serve the registry until interrupted (SIGINT/SIGTERM stop it cleanly)."""
    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port, "topic": topic}.items() if v is not None
    }
    try:
        settings = RegistrySettings(**overrides)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        raise ConfigError(
            f"invalid registry settings: {fields}",
            hint="check the MAIS_REGISTRY_* and MAIS_KAFKA_* environment variables and the options",
        ) from None
    run(settings)
