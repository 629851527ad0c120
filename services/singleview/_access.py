"""Who may see what, and the record of it: every search and every view of a person is audited.

:class:`WebContext` holds what the routes need. :meth:`WebContext.search` and
:meth:`WebContext.view` are the only ways the pages and the API read people: each writes its
``AuditEntry`` (acknowledged by Kafka) before returning anything, so nothing is shown unaudited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from services.singleview._audit import AuditLog
from services.singleview._auth import Authenticator, User
from services.singleview._directory import Directory
from services.singleview._linking import SearchQuery
from services.singleview._live import Notifier
from services.singleview._metrics import SingleViewMetrics
from services.singleview._queries import current_person_id, person_view, search_people
from services.singleview._storeapi import Store

__all__ = ["WebContext", "query_of"]

_KEY_MEMBERS = ("GP practice", "School", "Children's social care", "Police")
"""The agencies a demonstration child is best known to (directory kinds)."""


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
    is_ready: Callable[[], tuple[bool, str]]
    demo: bool = False

    def user_of(self, request: Request) -> User | None:
        """The signed-in user (session), or one the authenticator vouches for (Basic, IdP header)."""
        name = request.session.get("user")
        return User(name) if name else self.authenticator.authenticate(request)

    def search(self, user: User, purpose: str, query: SearchQuery) -> tuple[str, list[dict[str, Any]]]:
        """People matching ``query`` and the search id, audited as ``REQUEST_RECEIVED``."""
        results = search_people(self.store.reader(), self.store.linker, query)
        search_id = str(uuid.uuid4())
        self.metrics.searches.inc()
        keys = [k for r in results for k in self._keys_of(r["person_id"])]
        if keys:
            self.audit.record(
                activity="REQUEST_RECEIVED",
                user=user.name,
                purpose=purpose,
                search_id=search_id,
                record_keys=keys,
            )
        return search_id, results

    def view(self, user: User, purpose: str, search_id: str, person_id: str) -> dict[str, Any] | None:
        """One person's page data, audited as ``RESPONSE_SENT``; ``None`` when no record is linked."""
        view = person_view(self.store.reader(), self.store.linker, person_id, self.directory)
        if view is None:
            return None
        self.audit.record(
            activity="RESPONSE_SENT",
            user=user.name,
            purpose=purpose,
            search_id=search_id,
            record_keys=view["record_keys"],
        )
        self.metrics.views.inc()
        return view

    def merged_into(self, person_id: str) -> str | None:
        """The person a retired person id was merged into, if it was."""
        return current_person_id(self.store.reader(), person_id)

    def _keys_of(self, person_id: str) -> list[str]:
        rows = self.store.reader().query("SELECT record_key FROM sv_link WHERE person_id = ?", (person_id,))
        return [str(r[0]) for r in rows]

    def examples(self, limit: int = 5) -> list[dict[str, Any]]:
        """Demo mode: people known to the GP, school, children's social care and police first, then
        to the most agencies (ids and agency kinds only: no personal data before a purpose)."""
        rows = self.store.reader().query(
            "SELECT l.person_id, r.agency FROM sv_link l "
            "JOIN sv_person_record r ON r.record_key = l.record_key WHERE l.person_id IN "
            "(SELECT l2.person_id FROM sv_link l2 GROUP BY l2.person_id ORDER BY COUNT(*) DESC LIMIT 500)"
        )
        kinds: dict[str, set[str]] = {}
        for person_id, agency in rows:
            contact = self.directory.get(str(agency))
            kinds.setdefault(str(person_id), set()).add(contact.kind or contact.name)
        ranked = sorted(
            kinds.items(), key=lambda item: (-len(set(_KEY_MEMBERS) & item[1]), -len(item[1]), item[0])
        )
        return [{"person_id": p, "agencies": len(k), "kinds": sorted(k)} for p, k in ranked[:limit]]


def query_of(request: Request) -> SearchQuery:
    """What was typed into the search form (or the API's query string)."""
    q = request.query_params
    return SearchQuery(
        given=q.get("given", "").strip(),
        family=q.get("family", "").strip(),
        birth_date=q.get("dob", "").strip(),
        identifier=q.get("identifier", "").strip(),
        postcode=q.get("postcode", "").strip(),
    )
