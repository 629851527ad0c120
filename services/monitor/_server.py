"""``mais monitor serve``: run the monitor with uvicorn until SIGINT/SIGTERM."""

from __future__ import annotations

import uvicorn

from exchange.errors import PrerequisiteError
from exchange.logging import configure_logging
from services.monitor._app import build_app
from services.monitor._monitor import Monitor
from services.monitor._settings import MonitorSettings

__all__ = ["serve"]


def serve(settings: MonitorSettings) -> None:
    configure_logging("INFO")
    config = uvicorn.Config(
        build_app(Monitor(settings)),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise PrerequisiteError(
            f"the monitor did not start on {settings.host}:{settings.port}; its log above says why",
            hint="check the port is free (MAIS_MONITOR_PORT) and Kafka is reachable with MAIS_KAFKA_*",
        )
