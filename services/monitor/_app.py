"""HTTP: the page, its JSON API, a Server-Sent Events stream of the same picture, and replays.

``GET /`` the page (static HTML + a small script, every asset shipped here) · ``GET /api/overview``
the whole picture as JSON · ``GET /api/stream`` the picture again each time it changes (SSE) ·
``POST /api/replay`` ``{"agency", "adapter", "entries": ["P:O", …]}`` asks the agency's adapter to
replay those DLQ entries (202 with the request id; the outcome appears in the picture) ·
``/healthz``, ``/readyz``, ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import structlog
from confluent_kafka import KafkaException
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from exchange.topics import validate_agency
from services.monitor._metrics import exposition
from services.monitor._monitor import Monitor

__all__ = ["build_app"]

_STATIC = Path(__file__).parent / "static"
_ENTRY = re.compile(r"^\d{1,6}:\d{1,19}$")
_ADAPTER = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_log = structlog.get_logger("mais.monitor.http")
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def build_app(monitor: Monitor, *, manage: bool = True, keepalive_s: float = 15.0) -> Starlette:
    """The monitor's ASGI app; with ``manage`` its lifespan starts and stops ``monitor``."""

    async def page(_request: Request) -> Response:
        return FileResponse(_STATIC / "index.html", headers={**_HEADERS, "Content-Security-Policy": _CSP})

    async def overview(_request: Request) -> Response:
        return JSONResponse(monitor.view(), headers=_HEADERS)

    async def stream(request: Request) -> Response:
        async def events() -> AsyncIterator[str]:
            version = -1
            while not await request.is_disconnected():
                if version != monitor.version:
                    version = monitor.version
                    yield f"event: overview\ndata: {json.dumps(monitor.view())}\n\n"
                    continue
                version_now = await run_in_threadpool(monitor.wait_change, version, keepalive_s)
                if version_now == version:
                    yield ": keepalive\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers=_HEADERS)

    async def replay(request: Request) -> Response:
        try:
            body = await request.json()
            agency = validate_agency(str(body["agency"]))
            adapter = str(body["adapter"])
            entries = [str(e) for e in body["entries"]]
        except Exception:  # any malformed request body is the client's error
            return _problem(400, "expected {agency, adapter, entries: [PARTITION:OFFSET, ...]}")
        if not _ADAPTER.match(adapter) or not entries or not all(_ENTRY.match(e) for e in entries):
            return _problem(400, "adapter must be a name and entries PARTITION:OFFSET coordinates")
        try:
            sent = await run_in_threadpool(monitor.ops.request_replay, agency, adapter, entries)
        except KafkaException as exc:
            _log.warning("replay_request_failed", agency=agency, error_class=type(exc).__name__)
            return _problem(503, "the replay request could not be sent; try again")
        _log.info("replay_requested", agency=agency, adapter=adapter, count=len(entries))
        return JSONResponse({"request_id": sent.request_id, "status": "requested"}, status_code=202)

    async def healthz(_request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    async def readyz(_request: Request) -> Response:
        reachable = bool(monitor.view().get("broker", {}).get("reachable"))
        return Response(
            "ready\n" if reachable else "broker unreachable\n",
            status_code=200 if reachable else 503,
            media_type="text/plain",
        )

    async def metrics(_request: Request) -> Response:
        return Response(exposition(monitor.view), media_type="text/plain; version=0.0.4")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if manage:
            await run_in_threadpool(monitor.start)
        try:
            yield
        finally:
            if manage:
                await asyncio.to_thread(monitor.stop)

    routes = [
        Route("/", page),
        Route("/api/overview", overview),
        Route("/api/stream", stream),
        Route("/api/replay", replay, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'"


def _problem(status: int, detail: str) -> Response:
    body: dict[str, Any] = {"error": detail}
    return JSONResponse(body, status_code=status, headers=_HEADERS)
