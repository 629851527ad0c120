"""The MAIS standard as Avro: loading schemas, translating vocabulary codes, validating values.

Public API (other parts of the kernel call exactly these):

* :func:`load_schema` - the fastavro-parsed schema of any named type (``mais.v1.Person``).
* :func:`schema_json` - self-contained JSON text of a schema (for a registry or a codec).
* :func:`event_names` - full names of every event that travels on topics.
* :func:`to_symbol` / :func:`to_code` - published vocabulary codes <-> Avro enum symbols.
"""

from __future__ import annotations

from typing import Any

from exchange.schemas._repository import (
    NAMESPACE,
    SchemaRepository,
    default_repository,
    default_schemas_dir,
)
from exchange.schemas._vocabularies import code_table, enum_names, to_code, to_symbol

__all__ = [
    "NAMESPACE",
    "SchemaRepository",
    "code_table",
    "default_repository",
    "default_schemas_dir",
    "enum_names",
    "event_names",
    "load_schema",
    "schema_json",
    "to_code",
    "to_symbol",
]


def load_schema(full_name: str) -> dict[str, Any]:
    """The fastavro-parsed schema of ``full_name`` (e.g. ``"mais.v1.PersonRecorded"``), cached."""
    return default_repository().parsed(full_name)


def schema_json(full_name: str) -> str:
    """Self-contained JSON text of ``full_name``: every named type it uses written out at first use."""
    return default_repository().schema_json(full_name)


def event_names() -> list[str]:
    """Full names of every event record (the payloads that travel on topics), sorted."""
    return default_repository().names_of_kind("events")
