"""The store as the subscriber and the web side see it: open, apply a batch exactly once, read.

:meth:`Store.apply_batch` writes a batch of events *and* the consumer positions they reach in one
database transaction; the linker's output goes into the same transaction. If anything fails the
transaction rolls back and the linker is rebuilt from the database, so memory never runs ahead of
what is stored. After a crash, :meth:`Store.open` does the same and the consumer starts from the
stored positions: the store ends up exactly as a clean replay would have left it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from services.singleview._batch import write_links
from services.singleview._checkpoint import WalCheckpointer
from services.singleview._db import Connection, Database
from services.singleview._linking import Linker
from services.singleview._matcher import MatchingLinker
from services.singleview._records import Applied, Event
from services.singleview._store import apply_events

__all__ = ["Store"]

LinkerFactory = Callable[[], Linker]
_PAGE = 5000
_WAL_KEPT_BYTES = 64 << 20
"""A write-ahead log file larger than this is cut back to it once fully copied into the database."""


class Store:
    """A database plus the in-memory linker that mirrors its ``sv_link`` table."""

    def __init__(self, database: Database, linker_factory: LinkerFactory = MatchingLinker) -> None:
        self.database = database
        self._linker_factory = linker_factory
        self.linker: Linker = linker_factory()
        self._writer: Connection | None = None
        self._local = threading.local()
        self._linker_matches_store = False
        self._checkpointer: WalCheckpointer | None = None

    def open(self) -> Store:
        self.database.migrate()
        self._writer = self.database.connect()
        if self.database.dialect == "sqlite":  # the log is copied on a thread of its own
            self._writer.execute("PRAGMA wal_autocheckpoint=0")
            self._writer.execute(f"PRAGMA journal_size_limit={_WAL_KEPT_BYTES}")
            self._checkpointer = WalCheckpointer(self.database).start()
        self._restore()
        gc.freeze()  # the linker's records live as long as the process: keep them out of GC passes
        return self

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
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

    def _records(self, db: Connection) -> Iterator[tuple[str, str, Any]]:
        """Every person record, a page at a time (a million do not fit in one result comfortably)."""
        after = ""
        while True:
            rows = db.query(
                "SELECT record_key, agency, person_json FROM sv_person_record WHERE record_key > ? "
                "ORDER BY record_key LIMIT ?",
                (after, _PAGE),
            )
            for key, agency, body in rows:
                yield str(key), str(agency), json.loads(body)
            if len(rows) < _PAGE:
                return
            after = str(rows[-1][0])

    def _restore(self) -> None:
        """Rebuild the linker from the store (start-up, or after a transaction that failed)."""
        db = self._require_writer()
        linker = self._linker_factory()
        persons = {str(k): str(p) for k, p in db.query("SELECT record_key, person_id FROM sv_link")}
        state = {str(k): str(v) for k, v in db.query("SELECT name, value FROM sv_linker_state")}
        changes = linker.restore(self._records(db), persons, state)
        if changes.persons or changes.unlinked or changes.redirects:  # the model changed since
            with db.transaction():
                write_links(db, changes, Applied())
                self._save_state(db, linker)
        self.linker = linker
        self._linker_matches_store = True

    def _require_writer(self) -> Connection:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer

    @staticmethod
    def _save_state(db: Connection, linker: Linker) -> None:
        db.executemany(
            "INSERT INTO sv_linker_state (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            sorted(linker.state().items()),
        )

    def offsets(self) -> dict[tuple[str, int], int]:
        """The next offset to read in every partition the store has seen."""
        rows = self._require_writer().query("SELECT topic, partition_id, next_offset FROM sv_offset")
        return {(str(t), int(p)): int(o) for t, p, o in rows}

    def apply_batch(self, events: Sequence[Event], positions: dict[tuple[str, int], int]) -> Applied:
        """Apply ``events`` and store ``positions`` (topic, partition -> next offset) atomically."""
        db = self._require_writer()
        if not self._linker_matches_store:
            self._restore()
        try:
            with db.transaction():
                applied = apply_events(db, self.linker, events)
                db.executemany(
                    "INSERT INTO sv_offset (topic, partition_id, next_offset) VALUES (?, ?, ?) "
                    "ON CONFLICT (topic, partition_id) DO UPDATE SET next_offset = excluded.next_offset",
                    [(t, p, o) for (t, p), o in sorted(positions.items())],
                )
                self._save_state(db, self.linker)
        except BaseException:
            self._linker_matches_store = False  # it saw changes the database did not keep
            with contextlib.suppress(Exception):  # the database may be gone: then at the next batch
                self._restore()
            raise
        return applied

    def counts(self) -> dict[str, int]:
        """Records, persons and possible matches held (from the linker: no table scan)."""
        return self.linker.counts()
