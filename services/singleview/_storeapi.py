"""The store as the subscriber and the web side see it: open, apply a batch exactly once, read.

:meth:`Store.apply_batch` writes a batch of events *and* the consumer positions they reach in one
database transaction; the linker's output goes into the same transaction. If anything fails the
transaction rolls back and the linker is rebuilt from the database, so memory never runs ahead of
what is stored. After a crash, :meth:`Store.open` does the same and the consumer starts from the
stored positions: the store ends up exactly as a clean replay would have left it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from exchange.schemas import from_json
from services.singleview._db import Connection, Database
from services.singleview._linking import IdentifierLinker, Linker
from services.singleview._store import Applied, Event, apply_event

__all__ = ["Store"]

LinkerFactory = Callable[[], Linker]


class Store:
    """A database plus the in-memory linker that mirrors its ``sv_link`` table."""

    def __init__(self, database: Database, linker_factory: LinkerFactory = IdentifierLinker) -> None:
        self.database = database
        self._linker_factory = linker_factory
        self.linker: Linker = linker_factory()
        self._writer: Connection | None = None
        self._local = threading.local()
        self.lock = threading.RLock()
        """Held while the linker changes; searches take it too (the index is not thread-safe)."""

    def open(self) -> Store:
        self.database.migrate()
        self._writer = self.database.connect()
        self._restore()
        return self

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def reader(self) -> Connection:
        """A connection for the calling thread (web requests read through these)."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.database.connect()
            self._local.connection = connection
        return connection

    def _restore(self) -> None:
        db = self._require_writer()
        linker = self._linker_factory()
        rows = db.query(
            "SELECT r.record_key, r.agency, r.person_json, l.person_id FROM sv_person_record r "
            "JOIN sv_link l ON l.record_key = r.record_key ORDER BY r.record_key"
        )
        state = dict(db.query("SELECT name, value FROM sv_linker_state"))
        with self.lock:
            linker.restore(
                (
                    (key, agency, from_json("mais.v1.Person", json.loads(body)), pid)
                    for key, agency, body, pid in rows
                ),
                {str(k): str(v) for k, v in state.items()},
            )
            self.linker = linker

    def _require_writer(self) -> Connection:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer

    def offsets(self) -> dict[tuple[str, int], int]:
        """The next offset to read in every partition the store has seen."""
        rows = self._require_writer().query("SELECT topic, partition_id, next_offset FROM sv_offset")
        return {(str(t), int(p)): int(o) for t, p, o in rows}

    def apply_batch(self, events: Iterable[Event], positions: dict[tuple[str, int], int]) -> Applied:
        """Apply ``events`` and store ``positions`` (topic, partition -> next offset) atomically."""
        db = self._require_writer()
        applied = Applied(set(), set())
        with self.lock:
            try:
                with db.transaction():
                    for event in events:
                        apply_event(db, self.linker, event, applied)
                    db.executemany(
                        "INSERT INTO sv_offset (topic, partition_id, next_offset) VALUES (?, ?, ?) "
                        "ON CONFLICT (topic, partition_id) DO UPDATE SET next_offset = excluded.next_offset",
                        [(t, p, o) for (t, p), o in sorted(positions.items())],
                    )
                    db.executemany(
                        "INSERT INTO sv_linker_state (name, value) VALUES (?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        sorted(self.linker.state().items()),
                    )
            except BaseException:
                self._restore()  # the linker saw changes the database did not keep
                raise
        return applied

    def counts(self) -> dict[str, Any]:
        db = self.reader()
        return {
            "records": db.query("SELECT COUNT(*) FROM sv_person_record")[0][0],
            "persons": db.query("SELECT COUNT(DISTINCT person_id) FROM sv_link")[0][0],
            "possible_matches": db.query("SELECT COUNT(*) FROM sv_possible_match")[0][0],
        }
