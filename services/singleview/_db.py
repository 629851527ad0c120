"""The store's database: an embedded SQLite file by default, PostgreSQL for production.

One schema for both, in portable SQL under ``migrations/`` (``NNNN_name.sql``, applied in order,
each in its own transaction, recorded in ``sv_schema_version``). Code writes ``?`` placeholders;
:class:`Connection` turns them into ``%s`` for PostgreSQL. SQLite runs in WAL mode with
``synchronous=NORMAL``: a committed transaction survives the process being killed (only a power
cut may lose the last ones), which is what exactly-once into the store needs.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from exchange.errors import ConfigError, TransientError

__all__ = ["Connection", "Database"]

Dialect = Literal["sqlite", "postgresql"]
_CHUNK = 500
_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class Connection:
    """A DB-API connection with ``?`` placeholders on both dialects and explicit transactions."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if rows:
            self.raw.cursor().executemany(self._sql(sql), rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.raw.execute(self._sql(sql), tuple(params))
        return [tuple(row) for row in cursor.fetchall()]

    def lookup(self, sql: str, keys: Sequence[str]) -> dict[str, int]:
        """``key -> number`` rows of ``sql`` (``SELECT key, number ... WHERE key IN``) for ``keys``,
        asked in chunks of 500 (the IN list is appended)."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            found.update((str(k), int(n)) for k, n in self.query(f"{sql} {self.in_list(len(chunk))}", chunk))
        return found

    def in_list(self, count: int) -> str:
        """``(?, ?, …)`` for ``count`` values (at least one, so that the SQL stays valid)."""
        return "(" + ", ".join("?" * max(count, 1)) + ")"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """``BEGIN`` … ``COMMIT``, or ``ROLLBACK`` on any exception."""
        if self.dialect == "sqlite":
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")
        else:
            with self.raw.transaction():
                yield self

    def close(self) -> None:
        self.raw.close()


class Database:
    """Where the store lives: ``sqlite:///path/to/file.db`` or ``postgresql://user@host:port/db``."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect: Dialect = "sqlite"
            self.path: Path | None = Path(url.removeprefix("sqlite:///"))
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
            self.path = None
        else:
            raise ConfigError(
                "MAIS_SINGLEVIEW_DATABASE_URL must start with sqlite:/// or postgresql://",
                hint="e.g. sqlite:///.mais/singleview.db or postgresql://singleview@db.example.org/singleview",
            )

    def connect(self) -> Connection:
        """A new connection (one per thread; connections are not shared between threads)."""
        if self.path is not None:  # SQLite
            self.path.parent.mkdir(parents=True, exist_ok=True)
            raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=NORMAL")
            raw.execute("PRAGMA foreign_keys=OFF")
            return Connection(raw, "sqlite")
        import psycopg  # noqa: PLC0415 - only PostgreSQL deployments need the driver loaded

        try:
            raw = psycopg.connect(self.url, autocommit=True, connect_timeout=10)  # type: ignore[assignment]
        except psycopg.OperationalError as exc:
            raise TransientError(
                f"cannot connect to PostgreSQL ({type(exc).__name__})",
                hint="check MAIS_SINGLEVIEW_DATABASE_URL and that the server is running",
            ) from None
        return Connection(raw, "postgresql")

    def migrate(self) -> list[int]:
        """Apply the migrations not applied yet; return their versions."""
        connection = self.connect()
        try:
            connection.execute("CREATE TABLE IF NOT EXISTS sv_schema_version (version INTEGER PRIMARY KEY)")
            done = {row[0] for row in connection.query("SELECT version FROM sv_schema_version")}
            applied: list[int] = []
            for version, sql in migrations():
                if version in done:
                    continue
                with connection.transaction():
                    for statement in _statements(sql):
                        connection.execute(statement)
                    connection.execute("INSERT INTO sv_schema_version (version) VALUES (?)", (version,))
                applied.append(version)
            return applied
        finally:
            connection.close()


def migrations() -> list[tuple[int, str]]:
    """Every migration shipped with the package, in order."""
    folder = resources.files("services.singleview") / "migrations"
    found: list[tuple[int, str]] = []
    for entry in folder.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append((int(match[1]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in code.split(";") if part.strip()]
