"""The MAIS standard as Avro: loading schemas, translating vocabulary codes, validating values.

Public API (other parts of the kernel call exactly these):

* :func:`load_schema` - the fastavro-parsed schema of any named type (``mais.v1.Person``).
* :func:`schema_json` - self-contained JSON text of a schema (for a registry or a codec).
* :func:`event_names` - full names of every event that travels on topics.
* :func:`to_symbol` / :func:`to_code` - published vocabulary codes <-> Avro enum symbols.
* :func:`validate` / :func:`problems` - field-level checks beyond Avro (1..*, vocabularies,
  NHS number check digits, PUB01 conformance minimum).
* :func:`from_json` / :func:`to_json` - plain JSON (ISO dates) <-> values a codec encodes.

Tooling behind ``mais schemas``: :func:`check_against_released`, :func:`generate_models`,
:func:`render_standard`.
"""

from __future__ import annotations

from typing import Any

from exchange.identifiers import NHS_NUMBER_SYSTEM, is_valid_nhs_number, nhs_check_digit
from exchange.schemas._catalogue import VOCABULARIES, Vocabulary, coding_problem
from exchange.schemas._docgen import render_standard
from exchange.schemas._evolution import check_against_released, released_versions
from exchange.schemas._json import from_json, to_json
from exchange.schemas._modelgen import generate_models, render_models
from exchange.schemas._repository import (
    NAMESPACE,
    SchemaRepository,
    default_repository,
    default_schemas_dir,
)
from exchange.schemas._validate import Problem, problems, validate
from exchange.schemas._vocabularies import code_table, enum_names, to_code, to_symbol

__all__ = [
    "NAMESPACE",
    "NHS_NUMBER_SYSTEM",
    "VOCABULARIES",
    "Problem",
    "SchemaRepository",
    "Vocabulary",
    "check_against_released",
    "code_table",
    "coding_problem",
    "default_repository",
    "default_schemas_dir",
    "entity_names",
    "enum_names",
    "event_names",
    "from_json",
    "generate_models",
    "is_valid_nhs_number",
    "load_schema",
    "nhs_check_digit",
    "problems",
    "released_versions",
    "render_models",
    "render_standard",
    "schema_json",
    "to_code",
    "to_json",
    "to_symbol",
    "validate",
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


def entity_names() -> list[str]:
    """Full names of the top-level entities of PUB01, PUB02 and the IG sharing policy, sorted."""
    return default_repository().names_of_kind("entities")
