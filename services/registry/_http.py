"""HTTP plumbing: the v1 JSON response, Confluent-shaped error bodies, metrics and request logs."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.registry._auth import BasicAuth
from services.registry._errors import RegistryError
from services.registry._metrics import REQUEST_SECONDS, REQUESTS

if TYPE_CHECKING:
    from services.registry._api import RegistryApi

__all__ = ["CONTENT_TYPE", "RegistryJSON", "build_app"]

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_log = structlog.get_logger("mais.registry.http")


class RegistryJSON(JSONResponse):
    media_type = CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


async def _registry_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)  # noqa: S101 - registered for RegistryError only
    return RegistryJSON(exc.body(), status_code=exc.status)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    return RegistryJSON(
        {"error_code": exc.status_code, "message": f"HTTP {exc.status_code} {exc.detail}"},
        status_code=exc.status_code,
    )


async def _unexpected(_request: Request, exc: Exception) -> Response:
    _log.error("registry_request_failed", error=type(exc).__name__)
    return RegistryJSON({"error_code": 50001, "message": "Internal server error"}, status_code=500)


class _Observe:
    """Request metrics and one structured log line per request (route names, never subjects)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", "unmatched")
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], route, str(status[0])).inc()
            REQUEST_SECONDS.labels(scope["method"], route).observe(elapsed)
            if route not in ("healthz", "metrics"):
                _log.info(
                    "http_request",
                    method=scope["method"],
                    route=route,
                    status=status[0],
                    duration_ms=round(elapsed * 1000, 2),
                )


def build_app(
    api: RegistryApi,
    lifespan: Callable[[Starlette], Any] | None = None,
    *,
    users_file: Path | None = None,
) -> Starlette:
    """The ASGI application for ``api`` (``lifespan`` starts and stops its store).

    With ``users_file``, requests are authenticated and authorised by role (``_auth.py``).
    """
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        RegistryError: _registry_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }
    app = Starlette(routes=api.routes(), exception_handlers=handlers, lifespan=lifespan)
    if users_file is not None:
        app.add_middleware(BasicAuth, users_file=users_file)
    app.add_middleware(_Observe)
    return app
