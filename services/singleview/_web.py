"""HTTP: the pages (``_pages.py``), the JSON API (``_api.py``), live updates, health and metrics.

Every route but ``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``, ``/static`` and the
sign-in page needs a signed-in user. Searches and person views need a purpose and are audited
before anything is sent (``_access.py``).
"""

from __future__ import annotations

from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from services.singleview._access import WebContext
from services.singleview._api import Api
from services.singleview._pages import Pages

__all__ = ["WebContext", "create_app"]


def create_app(ctx: WebContext) -> Starlette:
    pages, api = Pages(ctx), Api(ctx)
    static = resources.files("services.singleview") / "static"
    routes = [
        Route("/", pages.home),
        Route("/signin", pages.signin_form, methods=["GET"]),
        Route("/signin", pages.signin, methods=["POST"]),
        Route("/signout", pages.signout, methods=["POST"]),
        Route("/search", pages.search),
        Route("/people/{person_id}", pages.person),
        Route("/people/{person_id}/live", pages.live),
        Route("/api/search", api.search),
        Route("/api/people/{person_id}", api.person),
        Route("/api/people/{person_id}/fhir", api.person),
        Route("/openapi.json", api.openapi),
        Route("/healthz", api.healthz),
        Route("/readyz", api.readyz),
        Route("/metrics", api.metrics),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    session = Middleware(
        SessionMiddleware, secret_key=ctx.session_secret, same_site="strict", https_only=False
    )
    return Starlette(routes=routes, middleware=[session])
