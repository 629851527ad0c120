"""HTTP: the JSON API (with its OpenAPI document), the pages, live updates, health and metrics.

Every route but ``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``, ``/static`` and the
sign-in page needs a signed-in user. Searches and person views need a purpose and are audited
before anything is sent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from exchange.errors import MaisError
from services.singleview._audit import AuditLog
from services.singleview._auth import Authenticator, User
from services.singleview._directory import Directory
from services.singleview._fhir import person_bundle
from services.singleview._linking import SearchQuery
from services.singleview._live import Notifier
from services.singleview._metrics import SingleViewMetrics
from services.singleview._openapi import OPENAPI
from services.singleview._purposes import PURPOSES
from services.singleview._queries import current_person_id, person_view, search_people
from services.singleview._storeapi import Store

__all__ = ["WebContext", "create_app"]


@dataclass
class WebContext:
    """What the routes need; assembled by the service (see ``_service.py``)."""

    store: Store
    audit: AuditLog
    authenticator: Authenticator
    directory: Directory
    notifier: Notifier
    metrics: SingleViewMetrics
    session_secret: str
    is_ready: Any  # () -> tuple[bool, str]
    demo: bool = False


_templates = Environment(
    loader=PackageLoader("services.singleview", "templates"), autoescape=select_autoescape()
)


def create_app(ctx: WebContext) -> Starlette:
    def user_of(request: Request) -> User | None:
        name = request.session.get("user")
        return User(name) if name else ctx.authenticator.authenticate(request)

    def page(name: str, request: Request, status: int = 200, **values: Any) -> HTMLResponse:
        html = _templates.get_template(name).render(user=user_of(request), purposes=PURPOSES, **values)
        return HTMLResponse(html, status_code=status)

    def query_of(request: Request) -> SearchQuery:
        q = request.query_params
        return SearchQuery(
            given=q.get("given", "").strip(), family=q.get("family", "").strip(),
            birth_date=q.get("dob", "").strip(), identifier=q.get("identifier", "").strip(),
            postcode=q.get("postcode", "").strip(),
        )  # fmt: skip

    def do_search(user: User, purpose: str, query: SearchQuery) -> tuple[str, list[dict[str, Any]]]:
        results = search_people(ctx.store.reader(), ctx.store.linker, query)
        search_id = str(uuid.uuid4())
        ctx.metrics.searches.inc()
        keys = [k for r in results for k in _keys_of(ctx, r["person_id"])]
        if keys:
            ctx.audit.record(
                activity="REQUEST_RECEIVED",
                user=user.name,
                purpose=purpose,
                search_id=search_id,
                record_keys=keys,
            )
        return search_id, results

    def do_view(user: User, purpose: str, search_id: str, person_id: str) -> dict[str, Any] | None:
        view = person_view(ctx.store.reader(), ctx.store.linker, person_id, ctx.directory)
        if view is None:
            return None
        ctx.audit.record(activity="RESPONSE_SENT", user=user.name, purpose=purpose, search_id=search_id,
                         record_keys=view["record_keys"])  # fmt: skip
        ctx.metrics.views.inc()
        return view

    # -- pages -------------------------------------------------------------------------------
    async def home(request: Request) -> Response:
        return RedirectResponse("/search", status_code=303)

    async def signin_form(request: Request) -> Response:
        return page("signin.html", request, next=request.query_params.get("next", "/search"))

    async def signin(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        nxt = str(form.get("next", "/search"))
        user = await asyncio.to_thread(ctx.authenticator.check_password, name, password)
        if user is None:
            return page("signin.html", request, status=401, error="Wrong user name or password.", next=nxt)
        request.session["user"] = user.name
        return RedirectResponse(
            nxt if nxt.startswith("/") and not nxt.startswith("//") else "/search", status_code=303
        )

    async def signout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)

    def search_page(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        purpose = request.query_params.get("purpose", "")
        query = query_of(request)
        values: dict[str, Any] = {"query": query, "purpose": purpose, "results": None, "error": None}
        if ctx.demo:
            values["examples"] = _examples(ctx)
        if not query.is_empty():
            if purpose not in PURPOSES:
                values["error"] = "Choose why you are searching before you search."
                return page("search.html", request, status=400, **values)
            try:
                values["search_id"], values["results"] = do_search(user, purpose, query)
            except MaisError as exc:
                return page("search.html", request, status=503, **{**values, "error": exc.message})
        return page("search.html", request, **values)

    def person_page(request: Request) -> Response:
        user = user_of(request)
        person_id = request.path_params["person_id"]
        if user is None:
            return RedirectResponse(f"/signin?next=/people/{person_id}", status_code=303)
        purpose = request.query_params.get("purpose", "")
        if purpose not in PURPOSES:
            return page("purpose.html", request, status=400, person_id=person_id)
        search_id = request.query_params.get("search", "") or str(uuid.uuid4())
        try:
            view = do_view(user, purpose, search_id, person_id)
        except MaisError as exc:
            return page("error.html", request, status=503, message=exc.message)
        if view is None:
            return _moved(ctx, request, person_id) or page(
                "error.html", request, status=404, message="No record is linked to this person any more."
            )
        return page(
            "person.html",
            request,
            view=view,
            purpose=purpose,
            purpose_label=PURPOSES[purpose],
            search_id=search_id,
        )

    async def live(request: Request) -> Response:
        if user_of(request) is None:
            return PlainTextResponse("sign in first\n", status_code=401)
        person_id = request.path_params["person_id"]
        queue = ctx.notifier.listen()

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while not await request.is_disconnected():
                    try:
                        changed = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if changed == person_id:
                        yield b"event: changed\ndata: " + person_id.encode() + b"\n\n"
            finally:
                ctx.notifier.forget(queue)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    # -- JSON API ------------------------------------------------------------------------------
    def api_user(request: Request) -> User | None:
        return user_of(request)

    def api_search(request: Request) -> Response:
        user = api_user(request)
        if user is None:
            return _unauthorised()
        purpose = request.query_params.get("purpose", "")
        if purpose not in PURPOSES:
            return JSONResponse({"error": "purpose is required", "purposes": PURPOSES}, status_code=400)
        query = query_of(request)
        if query.is_empty():
            return JSONResponse(
                {"error": "give at least one of given, family, dob, identifier, postcode"}, status_code=400
            )
        try:
            search_id, results = do_search(user, purpose, query)
        except MaisError as exc:
            return JSONResponse({"error": exc.message}, status_code=503)
        return JSONResponse({"search": search_id, "purpose": purpose, "people": _jsonable(results)})

    def api_person(request: Request) -> Response:
        user = api_user(request)
        if user is None:
            return _unauthorised()
        purpose = request.query_params.get("purpose", "")
        if purpose not in PURPOSES:
            return JSONResponse({"error": "purpose is required", "purposes": PURPOSES}, status_code=400)
        search_id = request.query_params.get("search", "") or str(uuid.uuid4())
        try:
            view = do_view(user, purpose, search_id, request.path_params["person_id"])
        except MaisError as exc:
            return JSONResponse({"error": exc.message}, status_code=503)
        if view is None:
            return _moved(ctx, request, request.path_params["person_id"]) or JSONResponse(
                {"error": "not found"}, status_code=404
            )
        if request.url.path.endswith("/fhir"):
            episodes = [e["key"] for a in view["agencies"] for e in a["involvements"]]
            bundle = person_bundle(ctx.store.reader(), view["person_id"], view["record_keys"], episodes)
            return JSONResponse(bundle, media_type="application/fhir+json")
        return JSONResponse(_jsonable(view))

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        ready, reason = ctx.is_ready()
        return PlainTextResponse(
            f"{'ready' if ready else 'not ready'}: {reason}\n", status_code=200 if ready else 503
        )

    def metrics(request: Request) -> Response:
        counts = ctx.store.counts()
        ctx.metrics.records.set(counts["records"])
        ctx.metrics.persons.set(counts["persons"])
        ctx.metrics.possible.set(counts["possible_matches"])
        return Response(ctx.metrics.exposition(), media_type="text/plain; version=0.0.4")

    static = resources.files("services.singleview") / "static"
    routes = [
        Route("/", home), Route("/signin", signin_form, methods=["GET"]), Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]), Route("/search", search_page),
        Route("/people/{person_id}", person_page), Route("/people/{person_id}/live", live),
        Route("/api/search", api_search), Route("/api/people/{person_id}", api_person),
        Route("/api/people/{person_id}/fhir", api_person), Route("/openapi.json", openapi),
        Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]  # fmt: skip
    middleware = [
        Middleware(SessionMiddleware, secret_key=ctx.session_secret, same_site="strict", https_only=False)
    ]
    return Starlette(routes=routes, middleware=middleware)


def _unauthorised() -> Response:
    return JSONResponse({"error": "sign in (session) or send HTTP Basic credentials"}, status_code=401,
                        headers={"WWW-Authenticate": 'Basic realm="SingleView"'})  # fmt: skip


def _moved(ctx: WebContext, request: Request, person_id: str) -> Response | None:
    """A redirect to the person a retired person id was merged into, if it was."""
    into = current_person_id(ctx.store.reader(), person_id)
    if into is None:
        return None
    path = request.url.path.replace(f"/{person_id}", f"/{into}", 1)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=303)


def _keys_of(ctx: WebContext, person_id: str) -> list[str]:
    rows = ctx.store.reader().query("SELECT record_key FROM sv_link WHERE person_id = ?", (person_id,))
    return [str(r[0]) for r in rows]


def _examples(ctx: WebContext) -> list[dict[str, Any]]:
    """People known to the most agencies (demo mode, generated data only)."""
    rows = ctx.store.reader().query(
        "SELECT l.person_id, COUNT(DISTINCT r.agency) AS n FROM sv_link l JOIN sv_person_record r "
        "ON r.record_key = l.record_key GROUP BY l.person_id ORDER BY n DESC, l.person_id LIMIT 5"
    )
    return [{"person_id": p, "agencies": n} for p, n in rows]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
