"""The JSON API (described by ``/openapi.json``), health, readiness and metrics."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from exchange.errors import MaisError
from services.singleview._access import WebContext, query_of
from services.singleview._auth import User
from services.singleview._fhir import person_bundle
from services.singleview._openapi import OPENAPI
from services.singleview._pages import moved
from services.singleview._purposes import PURPOSES

__all__ = ["Api"]


def _unauthorised() -> Response:
    return JSONResponse(
        {"error": "sign in (session) or send HTTP Basic credentials"},
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="SingleView"'},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class Api:
    """The JSON routes: a purpose with every search and view, as on the pages."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def _caller(self, request: Request) -> tuple[User | None, str, Response | None]:
        """(user, purpose, the error to answer instead)."""
        user = self.ctx.user_of(request)
        if user is None:
            return None, "", _unauthorised()
        purpose = request.query_params.get("purpose", "")
        if purpose not in PURPOSES:
            refusal = JSONResponse({"error": "purpose is required", "purposes": PURPOSES}, status_code=400)
            return user, purpose, refusal
        return user, purpose, None

    def search(self, request: Request) -> Response:
        user, purpose, refusal = self._caller(request)
        if refusal is not None or user is None:
            return refusal or _unauthorised()
        query = query_of(request)
        if query.is_empty():
            wanted = "give at least one of given, family, dob, identifier, postcode"
            return JSONResponse({"error": wanted}, status_code=400)
        try:
            search_id, results = self.ctx.search(user, purpose, query)
        except MaisError as exc:
            return JSONResponse({"error": exc.message}, status_code=503)
        return JSONResponse({"search": search_id, "purpose": purpose, "people": _jsonable(results)})

    def person(self, request: Request) -> Response:
        """One person (``/api/people/{id}``), or the same person as a FHIR Bundle (``…/fhir``)."""
        user, purpose, refusal = self._caller(request)
        if refusal is not None or user is None:
            return refusal or _unauthorised()
        person_id = request.path_params["person_id"]
        search_id = request.query_params.get("search", "") or str(uuid.uuid4())
        try:
            view = self.ctx.view(user, purpose, search_id, person_id)
        except MaisError as exc:
            return JSONResponse({"error": exc.message}, status_code=503)
        if view is None:
            return moved(self.ctx, request, person_id) or JSONResponse(
                {"error": "not found"}, status_code=404
            )
        if request.url.path.endswith("/fhir"):
            episodes = [e["key"] for a in view["agencies"] for e in a["involvements"]]
            bundle = person_bundle(self.ctx.store.reader(), view["person_id"], view["record_keys"], episodes)
            return JSONResponse(bundle, media_type="application/fhir+json")
        return JSONResponse(_jsonable(view))

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(self, request: Request) -> Response:
        ready, reason = self.ctx.is_ready()
        status = 200 if ready else 503
        return PlainTextResponse(f"{'ready' if ready else 'not ready'}: {reason}\n", status_code=status)

    def metrics(self, request: Request) -> Response:
        counts = self.ctx.store.counts()
        self.ctx.metrics.records.set(counts["records"])
        self.ctx.metrics.persons.set(counts["persons"])
        self.ctx.metrics.possible.set(counts["possible_matches"])
        return Response(self.ctx.metrics.exposition(), media_type="text/plain; version=0.0.4")
