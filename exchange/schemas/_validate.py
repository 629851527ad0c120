"""Validating a value against a standard schema, with messages that name fields, never values.

:func:`problems` walks a value alongside its schema and reports every problem at its field path
(``person.name[0].familyName``). Beyond Avro's own type rules it enforces what Avro cannot say:

* ``1..*`` arrays (``cardinality`` attribute) must not be empty;
* a ``Coding`` field's code and system must fit the vocabulary its ``vocabulary`` attribute names;
* an NHS-number identifier must carry a valid modulus-11 check digit;
* a ``Person`` must have a name with at least one family name and one given name (PUB01
  conformance minimum).

:func:`validate` raises :class:`~exchange.errors.DataError` (stage ``validate``) listing them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchange.errors import DataError
from exchange.identifiers import NHS_NUMBER_SYSTEM, is_valid_nhs_number
from exchange.schemas._catalogue import coding_problem
from exchange.schemas._repository import NAMESPACE, SchemaRepository, default_repository

__all__ = ["Problem", "problems", "validate"]

_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_MAX_LISTED = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a value: where (a field path) and what (no personal data)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"field {self.path!r}: {self.message}" if self.path else self.message


def problems(full_name: str, value: Any, repository: SchemaRepository | None = None) -> list[Problem]:
    """Every problem with ``value`` as an instance of ``full_name``; empty when it is valid."""
    walker = _Walker(repository or default_repository())
    walker.walk(full_name, value, "")
    return walker.found


def validate(full_name: str, value: Any, repository: SchemaRepository | None = None) -> None:
    """Raise :class:`DataError` (stage ``validate``) naming the fields of ``value`` that are wrong."""
    found = problems(full_name, value, repository)
    if not found:
        return
    listed = "; ".join(str(p) for p in found[:_MAX_LISTED])
    more = f" (and {len(found) - _MAX_LISTED} more)" if len(found) > _MAX_LISTED else ""
    raise DataError(
        f"{full_name} is not valid: {listed}{more}",
        stage="validate",
        hint="fix the mapping that produced these fields; docs/standard.md lists types and vocabularies",
    )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Walker:
    def __init__(self, repository: SchemaRepository) -> None:
        self.repo = repository
        self.found: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.found.append(Problem(path, message))

    def walk(self, schema: Any, value: Any, path: str) -> None:
        if isinstance(schema, str):
            if schema in _PRIMITIVE_CHECKS:
                self.primitive(schema, None, value, path)
            else:
                full = schema if "." in schema else f"{NAMESPACE}.{schema}"
                self.walk(self.repo.source(full), value, path)
        elif isinstance(schema, list):
            self.union(schema, value, path)
        elif isinstance(schema, Mapping):
            self.complex(schema, value, path)

    def complex(self, schema: Mapping[str, Any], value: Any, path: str) -> None:
        kind = schema["type"]
        if kind == "record":
            self.record(schema, value, path)
        elif kind == "enum":
            if not isinstance(value, str) or value not in schema["symbols"]:
                self.problem(path, f"not a symbol of {_name(schema)}")
        elif kind == "array":
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                self.problem(path, "expected a list")
                return
            for index, item in enumerate(value):
                self.walk(schema["items"], item, f"{path}[{index}]")
        elif isinstance(kind, str) and kind in _PRIMITIVE_CHECKS:
            self.primitive(kind, schema.get("logicalType"), value, path)
        else:
            self.walk(kind, value, path)

    def union(self, branches: list[Any], value: Any, path: str) -> None:
        if value is None:
            if "null" not in branches:
                self.problem(path, "must not be null")
            return
        others = [b for b in branches if b != "null"]
        if len(others) == 1:
            self.walk(others[0], value, path)
            return
        for branch in others:  # general unions: valid if any branch accepts the value
            trial = _Walker(self.repo)
            trial.walk(branch, value, path)
            if not trial.found:
                return
        self.problem(path, "matches no branch of the union")

    def record(self, schema: Mapping[str, Any], value: Any, path: str) -> None:
        name = _name(schema)
        if not isinstance(value, Mapping):
            self.problem(path, f"expected a {name} record")
            return
        known = {f["name"] for f in schema["fields"]}
        for extra in sorted(set(value) - known):
            self.problem(_join(path, str(extra)), f"is not a field of {name}")
        for field in schema["fields"]:
            self.field(field, value, path)
        if name == f"{NAMESPACE}.Identifier":
            self.identifier(value, path)
        elif name == f"{NAMESPACE}.Person":
            self.person(value, path)

    def field(self, field: Mapping[str, Any], record: Mapping[str, Any], path: str) -> None:
        where = _join(path, field["name"])
        if field["name"] not in record:
            if "default" not in field:
                self.problem(where, f"is required ({field.get('cardinality', '1..1')})")
            return
        value = record[field["name"]]
        before = len(self.found)
        self.walk(field["type"], value, where)
        if len(self.found) > before:
            return
        if field.get("cardinality") == "1..*" and isinstance(value, Sequence) and not value:
            self.problem(where, "needs at least one entry (1..*)")
        vocabulary = field.get("vocabulary")
        if vocabulary and value is not None:
            self.codings(vocabulary, value, where)

    def codings(self, vocabulary: str, value: Any, path: str) -> None:
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = path if index is None else f"{path}[{index}]"
            codings = item.get("coding", []) if "coding" in item else [item]
            for position, coding in enumerate(codings):
                at = where if codings == [item] else f"{where}.coding[{position}]"
                issue = coding_problem(vocabulary, coding["code"], coding["system"])
                if issue:
                    self.problem(at, issue)

    def identifier(self, value: Mapping[str, Any], path: str) -> None:
        system, ident = value.get("system"), value.get("value")
        if system == NHS_NUMBER_SYSTEM and isinstance(ident, str) and not is_valid_nhs_number(ident):
            self.problem(
                _join(path, "value"), "is not a valid NHS number (10 digits, modulus-11 check digit)"
            )

    def person(self, value: Mapping[str, Any], path: str) -> None:
        names = value.get("name")
        if not isinstance(names, list) or not names:
            return  # already reported as a 1..* problem
        if not any(n.get("familyName") and n.get("givenName") for n in names if isinstance(n, Mapping)):
            self.problem(_join(path, "name"), "needs a name with a family name and a given name (PUB01)")

    def primitive(self, kind: str, logical: str | None, value: Any, path: str) -> None:
        if logical == "date":
            if not (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) and not _is_int(value):
                self.problem(path, "expected a date")
            return
        if logical in ("timestamp-millis", "timestamp-micros"):
            if not isinstance(value, dt.datetime) and not _is_int(value):
                self.problem(path, "expected a date-time")
            return
        if not _PRIMITIVE_CHECKS[kind](value):
            self.problem(path, f"expected {kind}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_range(kind: str) -> Any:
    low, high = _INT_RANGE[kind]
    return lambda v: _is_int(v) and low <= v <= high


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not (isinstance(value, float) and math.isnan(value))


_PRIMITIVE_CHECKS: dict[str, Any] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "int": _in_range("int"),
    "long": _in_range("long"),
    "float": _is_number,
    "double": _is_number,
    "bytes": lambda v: isinstance(v, (bytes, bytearray)),
    "string": lambda v: isinstance(v, str),
}


def _name(schema: Mapping[str, Any]) -> str:
    name = str(schema.get("name", "?"))
    return name if "." in name else f"{schema.get('namespace', NAMESPACE)}.{name}"
