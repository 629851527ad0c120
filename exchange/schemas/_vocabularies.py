"""Controlled vocabularies: codes as published versus symbols as written in Avro.

A closed list is an Avro enum. Where every published code is a valid Avro name (``home``,
``MTH``, ``AAA``) the symbol *is* the code. Where it is not (``1``, ``9``, ``-8``) the enum
carries a ``codes`` attribute mapping each documented symbol to its published code, and
:func:`to_symbol` / :func:`to_code` translate both ways without loss.

An open or unsettled list is a ``Coding`` (code + system + display) whose field names the
vocabulary in a ``vocabulary`` attribute; :func:`check_coding` checks a coding against the
catalogue in :mod:`exchange.schemas._catalogue`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchange.errors import DataError
from exchange.schemas._repository import NAMESPACE, SchemaRepository, default_repository

__all__ = ["code_table", "enum_names", "to_code", "to_symbol"]


def _qualify(vocabulary: str) -> str:
    return vocabulary if "." in vocabulary else f"{NAMESPACE}.{vocabulary}"


def enum_names(repository: SchemaRepository | None = None) -> list[str]:
    """Full names of every closed vocabulary (Avro enum) in the standard."""
    repo = repository or default_repository()
    return [n for n in repo.names() if repo.source(n).get("type") == "enum"]


def code_table(vocabulary: str, repository: SchemaRepository | None = None) -> dict[str, str]:
    """Symbol -> published code for a closed vocabulary, in the order of the enum's symbols."""
    repo = repository or default_repository()
    full = _qualify(vocabulary)
    schema = repo.source(full)
    if schema.get("type") != "enum":
        raise DataError(
            f"{full} is not a closed vocabulary (Avro enum)",
            stage="validate",
            hint="open vocabularies are Codings; check them with check_coding",
        )
    codes: Mapping[str, str] = schema.get("codes", {})
    return {symbol: codes.get(symbol, symbol) for symbol in schema["symbols"]}


def to_symbol(vocabulary: str, code: str, *, field: str | None = None) -> str:
    """The Avro symbol for a published ``code`` of a closed ``vocabulary`` (e.g. ``"1"`` -> ``MALE``).

    Raises :class:`DataError` (stage ``validate``) naming the vocabulary and field, never the value.
    """
    table = code_table(vocabulary)
    for symbol, published in table.items():
        if published == code:
            return symbol
    where = f"field {field!r}: " if field else ""
    raise DataError(
        f"{where}code is not in vocabulary {_qualify(vocabulary)}",
        stage="validate",
        hint=f"use one of the {len(table)} published codes of {_qualify(vocabulary)} (see docs/standard.md)",
    )


def to_code(vocabulary: str, symbol: str, *, field: str | None = None) -> str:
    """The published code for an Avro ``symbol`` of a closed ``vocabulary`` (``MALE`` -> ``"1"``)."""
    table = code_table(vocabulary)
    try:
        return table[symbol]
    except KeyError:
        where = f"field {field!r}: " if field else ""
        raise DataError(
            f"{where}symbol is not in vocabulary {_qualify(vocabulary)}",
            stage="validate",
            hint=f"use one of the symbols of {_qualify(vocabulary)} (see docs/standard.md)",
        ) from None


def symbol_doc(vocabulary: str, repository: SchemaRepository | None = None) -> dict[str, Any]:
    """Symbol -> label as documented in the enum's ``labels`` attribute (empty if none)."""
    repo = repository or default_repository()
    labels: dict[str, Any] = repo.source(_qualify(vocabulary)).get("labels", {})
    return labels
