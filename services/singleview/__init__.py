"""The reference SingleView subscriber: "who knows this person, and whom can I call?".

It follows every agency's standard topics, keeps a store (SQLite or PostgreSQL) exactly once,
links records into persons, and serves a page and a JSON API where every search has a purpose
and every view is audited. ``docs/singleview.md`` describes it; a vendor can copy this package.

Public API: :class:`SingleView`, :class:`SingleViewSettings`, :class:`Store`, :class:`Database`,
:class:`Linker` (the matching interface) and :class:`MatchingLinker` (it, on
``exchange.matching``), :func:`person_view`, :func:`search_people`.
"""

from services.singleview._db import Database
from services.singleview._linking import Linker, SearchQuery
from services.singleview._matcher import MatchingLinker
from services.singleview._queries import person_view, search_people
from services.singleview._records import Event
from services.singleview._service import SingleView
from services.singleview._settings import SingleViewSettings
from services.singleview._store import PERSONAL_TABLES
from services.singleview._storeapi import Store

__all__ = [
    "PERSONAL_TABLES",
    "Database",
    "Event",
    "Linker",
    "MatchingLinker",
    "SearchQuery",
    "SingleView",
    "SingleViewSettings",
    "Store",
    "person_view",
    "search_people",
]
