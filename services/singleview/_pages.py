"""The pages: sign in, search (a purpose first), a person's page, and its live updates (SSE).

Server-rendered from ``templates/`` (Jinja2, autoescaped); every asset is under ``static/``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse

from exchange.errors import MaisError
from services.singleview._access import WebContext, query_of
from services.singleview._purposes import PURPOSES

__all__ = ["Pages", "moved"]

_templates = Environment(
    loader=PackageLoader("services.singleview", "templates"), autoescape=select_autoescape()
)
_KEEP_ALIVE_S = 15


def moved(ctx: WebContext, request: Request, person_id: str) -> Response | None:
    """A redirect to the person a retired person id was merged into, if it was."""
    into = ctx.merged_into(person_id)
    if into is None:
        return None
    path = request.url.path.replace(f"/{person_id}", f"/{into}", 1)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=303)


class Pages:
    """The HTML routes."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def _page(self, name: str, request: Request, status: int = 200, **values: Any) -> HTMLResponse:
        user = self.ctx.user_of(request)
        html = _templates.get_template(name).render(user=user, purposes=PURPOSES, **values)
        return HTMLResponse(html, status_code=status)

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/search", status_code=303)

    async def signin_form(self, request: Request) -> Response:
        return self._page("signin.html", request, next=request.query_params.get("next", "/search"))

    async def signin(self, request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        after = str(form.get("next", "/search"))
        user = await asyncio.to_thread(self.ctx.authenticator.check_password, name, password)
        if user is None:
            return self._page(
                "signin.html", request, status=401, error="Wrong user name or password.", next=after
            )
        request.session["user"] = user.name
        safe = after.startswith("/") and not after.startswith("//")
        return RedirectResponse(after if safe else "/search", status_code=303)

    async def signout(self, request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)

    def search(self, request: Request) -> Response:
        user = self.ctx.user_of(request)
        if user is None:
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        purpose = request.query_params.get("purpose", "")
        query = query_of(request)
        values: dict[str, Any] = {"query": query, "purpose": purpose, "results": None, "error": None}
        if self.ctx.demo:
            values["examples"] = self.ctx.examples()
        if query.is_empty():
            return self._page("search.html", request, **values)
        if purpose not in PURPOSES:
            values["error"] = "Choose why you are searching before you search."
            return self._page("search.html", request, status=400, **values)
        try:
            values["search_id"], values["results"] = self.ctx.search(user, purpose, query)
        except MaisError as exc:
            return self._page("search.html", request, status=503, **{**values, "error": exc.message})
        agencies = {agency for result in values["results"] for agency in result["agencies"]}
        values["agency_names"] = {agency: self.ctx.directory.get(agency).name for agency in agencies}
        return self._page("search.html", request, **values)

    def person(self, request: Request) -> Response:
        user = self.ctx.user_of(request)
        person_id = request.path_params["person_id"]
        if user is None:
            return RedirectResponse(f"/signin?next=/people/{person_id}", status_code=303)
        purpose = request.query_params.get("purpose", "")
        if purpose not in PURPOSES:
            return self._page("purpose.html", request, status=400, person_id=person_id)
        search_id = request.query_params.get("search", "") or str(uuid.uuid4())
        try:
            view = self.ctx.view(user, purpose, search_id, person_id)
        except MaisError as exc:
            return self._page("error.html", request, status=503, message=exc.message)
        if view is None:
            gone = "No record is linked to this person any more."
            return moved(self.ctx, request, person_id) or self._page(
                "error.html", request, status=404, message=gone
            )
        return self._page(
            "person.html",
            request,
            view=view,
            purpose=purpose,
            purpose_label=PURPOSES[purpose],
            search_id=search_id,
        )

    async def live(self, request: Request) -> Response:
        """Server-Sent Events: ``changed`` whenever a committed batch touched this person."""
        if self.ctx.user_of(request) is None:
            return PlainTextResponse("sign in first\n", status_code=401)
        person_id = request.path_params["person_id"]
        notifier = self.ctx.notifier
        queue = notifier.listen()

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while not await request.is_disconnected():
                    try:
                        changed = await asyncio.wait_for(queue.get(), timeout=_KEEP_ALIVE_S)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if changed == person_id:
                        yield b"event: changed\ndata: " + person_id.encode() + b"\n\n"
            finally:
                notifier.forget(queue)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )
