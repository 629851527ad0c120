"""``mais gateway serve``: the FHIR ``$person-info-query`` gateway."""

from __future__ import annotations

from typing import Annotated

import typer

from exchange.logging import configure_logging
from services.gateway._server import serve as run
from services.gateway._settings import GatewaySettings

__all__ = ["app"]

app = typer.Typer(
    help="The FHIR gateway ($person-info-query, $match) over the enquiry pattern.", no_args_is_help=True
)


@app.command()
def serve(
    port: Annotated[
        int | None, typer.Option(help="Port to listen on [default: MAIS_GATEWAY_PORT or 8443].")
    ] = None,
) -> None:
    """Serve HTTPS until interrupted; configured by MAIS_GATEWAY_* (docs/gateway.md)."""
    configure_logging(extra_safe_keys=("method", "rule", "status"))
    # the required settings come from MAIS_GATEWAY_* variables
    settings = GatewaySettings(port=port) if port else GatewaySettings()
    run(settings)
