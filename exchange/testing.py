"""Helpers for unit tests of code built on the kernel.

:class:`InMemorySchemaRegistry` has the interface of
:class:`~exchange.registry_client.SchemaRegistryClient` and keeps everything in memory. It is
for unit tests of pure code only: integration tests use a real registry. :class:`WarningLog` is
an ``AdapterContext.warn`` that keeps what an adapter warned, for tests of adapters.
"""

from __future__ import annotations

import json
import threading

from exchange.registry_client import RegisteredSchema, SchemaNotFoundError

__all__ = ["InMemorySchemaRegistry", "WarningLog"]


class WarningLog:
    """``AdapterContext(..., warn=WarningLog())``: every ``(code, message)`` an adapter warned."""

    def __init__(self) -> None:
        self.warnings: list[tuple[str, str]] = []

    def __call__(self, code: str, message: str) -> None:
        self.warnings.append((code, message))

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.warnings]

    @property
    def messages(self) -> list[str]:
        return [message for _, message in self.warnings]


def _canonical(schema: str) -> str:
    return json.dumps(json.loads(schema), sort_keys=True, separators=(",", ":"))


class InMemorySchemaRegistry:
    """A schema registry in a dict: ids are global, one schema keeps one id across subjects."""

    def __init__(self, compatibility: str = "BACKWARD") -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}
        self._schemas: dict[int, str] = {}
        self._subjects: dict[str, list[int]] = {}
        self._compatibility: dict[str | None, str] = {None: compatibility}
        self.requests = 0

    def register(self, subject: str, schema: str) -> int:
        self.requests += 1
        key = _canonical(schema)
        with self._lock:
            schema_id = self._ids.get(key)
            if schema_id is None:
                schema_id = len(self._ids) + 1
                self._ids[key] = schema_id
                self._schemas[schema_id] = schema
            versions = self._subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        self.requests += 1
        schema_id = self._ids.get(_canonical(schema))
        versions = self._subjects.get(subject, [])
        if schema_id is None or schema_id not in versions:
            return None
        return RegisteredSchema(subject, schema_id, versions.index(schema_id) + 1, self._schemas[schema_id])

    def get_schema(self, schema_id: int) -> str:
        self.requests += 1
        try:
            return self._schemas[schema_id]
        except KeyError:
            raise SchemaNotFoundError(f"schema id {schema_id} is not registered") from None

    def latest_version(self, subject: str) -> RegisteredSchema:
        self.requests += 1
        versions = self._subjects.get(subject)
        if not versions:
            raise SchemaNotFoundError(f"subject {subject!r} is not registered")
        return RegisteredSchema(subject, versions[-1], len(versions), self._schemas[versions[-1]])

    def get_compatibility(self, subject: str | None = None) -> str:
        return self._compatibility.get(subject, self._compatibility[None])

    def set_compatibility(self, level: str, subject: str | None = None) -> str:
        self._compatibility[subject] = level
        return level
