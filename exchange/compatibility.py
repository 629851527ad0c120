"""Schema evolution rules: is a new schema compatible with the versions before it?

The judgement is the maintained ``avro`` package's reader/writer checker
(:class:`avro.compatibility.ReaderWriterCompatibilityChecker`); this module only decides which
pairs to check for a :class:`CompatibilityLevel` and turns the checker's answer into
:class:`Incompatibility` values that name the record, the field and the rule broken.

* BACKWARD: the new schema (as reader) can read data written with the old one.
* FORWARD: the old schema (as reader) can read data written with the new one.
* FULL: both. ``*_TRANSITIVE`` levels check every previous version, the others only the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityType,
    lookup_writer_field,
)
from avro.schema import Schema

__all__ = ["CompatibilityLevel", "Incompatibility", "check_compatibility"]


class CompatibilityLevel(StrEnum):
    """Confluent-compatible names of the compatibility levels."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"


@dataclass(frozen=True)
class Incompatibility:
    """One reason a new schema breaks an older one.

    ``record`` is the full name of the record (or enum) where the break is, ``field`` the field
    name inside it (``None`` when the break is the type as a whole), ``rule`` the avro checker's
    incompatibility type (``reader_field_missing_default_value``, ``type_mismatch``,
    ``missing_enum_symbols``, ``missing_union_branch``, ``name_mismatch``, ``fixed_size_mismatch``),
    ``version`` the 1-based position in ``previous`` of the older schema it broke against.
    """

    record: str
    field: str | None
    rule: str
    message: str
    version: int | None

    def __str__(self) -> str:
        where = f"{self.record}.{self.field}" if self.field else self.record
        against = f" (against version {self.version})" if self.version is not None else ""
        return f"{where}: {self.rule}{against}: {self.message}"


_BACKWARD = {
    CompatibilityLevel.BACKWARD,
    CompatibilityLevel.BACKWARD_TRANSITIVE,
    CompatibilityLevel.FULL,
    CompatibilityLevel.FULL_TRANSITIVE,
}
_FORWARD = {
    CompatibilityLevel.FORWARD,
    CompatibilityLevel.FORWARD_TRANSITIVE,
    CompatibilityLevel.FULL,
    CompatibilityLevel.FULL_TRANSITIVE,
}
_TRANSITIVE = {
    CompatibilityLevel.BACKWARD_TRANSITIVE,
    CompatibilityLevel.FORWARD_TRANSITIVE,
    CompatibilityLevel.FULL_TRANSITIVE,
}


def check_compatibility(
    new: Schema, previous: Sequence[Schema], level: CompatibilityLevel
) -> list[Incompatibility]:
    """Every way ``new`` breaks ``previous`` (oldest first) under ``level``; empty means compatible."""
    level = CompatibilityLevel(level)
    if level is CompatibilityLevel.NONE or not previous:
        return []
    numbered = list(enumerate(previous, start=1))
    if level not in _TRANSITIVE:
        numbered = numbered[-1:]
    found: list[Incompatibility] = []
    for version, old in numbered:
        if level in _BACKWARD:
            found += _pair(reader=new, writer=old, version=version, direction="backward")
        if level in _FORWARD:
            found += _pair(reader=old, writer=new, version=version, direction="forward")
    unique: dict[tuple[str, str | None, str, str, int | None], Incompatibility] = {}
    for item in found:
        unique.setdefault((item.record, item.field, item.rule, item.message, item.version), item)
    return list(unique.values())


def _pair(*, reader: Schema, writer: Schema, version: int, direction: str) -> list[Incompatibility]:
    checker = _Search()
    top = _name(reader) or _name(writer) or str(reader.type)
    return [
        Incompatibility(record, field, rule, _explain(direction, version, message), version)
        for record, field, rule, message in _locate(checker, reader, writer, top, None)
    ]


def _explain(direction: str, version: int, detail: str) -> str:
    if direction == "backward":
        return f"the new schema cannot read data written with version {version} ({detail})"
    return f"readers on version {version} cannot read data written with the new schema ({detail})"


_Found = tuple[str, str | None, str, str]


class _Search:
    """The avro checker plus the record pairs already descended into (for recursive schemas)."""

    def __init__(self) -> None:
        self._checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
        self._visited: set[tuple[int, int]] = set()

    def get_compatibility(self, reader: Schema, writer: Schema) -> Any:
        return self._checker.get_compatibility(reader, writer)

    def first_visit(self, reader: Schema, writer: Schema) -> bool:
        pair = (id(reader), id(writer))
        if pair in self._visited:
            return False
        self._visited.add(pair)
        return True


def _locate(checker: Any, reader: Schema, writer: Schema, record: str, field: str | None) -> list[_Found]:
    """Descend as deep as the two schemas keep the same shape, to name the innermost record/field."""
    result = checker.get_compatibility(reader, writer)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    found = _descend(checker, reader, writer, record, field)
    if found:
        return found
    rule = result.incompatibilities[0].value if result.incompatibilities else "incompatible"
    detail = "; ".join(sorted(result.messages)) or f"{_label(reader)} cannot read {_label(writer)}"
    if rule == "type_mismatch":
        detail = f"reader type {_label(reader)} cannot read writer type {_label(writer)}"
    return [(record, field, rule, detail)]


def _descend(checker: Any, reader: Any, writer: Any, record: str, field: str | None) -> list[_Found]:
    rtype, wtype = reader.type, writer.type
    if wtype == "union":
        return _writer_union(checker, reader, writer, record, field)
    if rtype == "union":
        partner = _partner(reader, writer)
        return [] if partner is None else _locate(checker, partner, writer, record, field)
    if rtype == wtype and rtype in ("array", "map"):
        part = "items" if rtype == "array" else "values"
        return _locate(checker, getattr(reader, part), getattr(writer, part), record, field)
    if rtype == wtype == "record" and _name(reader) == _name(writer):
        return _record_fields(checker, reader, writer, _name(reader) or record)
    if rtype == wtype == "enum" and _name(reader) == _name(writer):
        return _enum_symbols(reader, writer, record, field)
    return []


def _enum_symbols(reader: Any, writer: Any, record: str, field: str | None) -> list[_Found]:
    missing = sorted(set(writer.symbols) - set(reader.symbols))
    if not missing:
        return []
    where = record if field is not None else (_name(reader) or record)
    message = f"enum {_name(reader)} lacks symbol(s) {', '.join(missing)} the writer may use"
    return [(where, field, "missing_enum_symbols", message)]


def _writer_union(checker: Any, reader: Any, writer: Any, record: str, field: str | None) -> list[_Found]:
    found: list[_Found] = []
    for branch in writer.schemas:
        partner = _partner(reader, branch)
        if partner is not None:
            found += _locate(checker, partner, branch, record, field)
        elif (
            checker.get_compatibility(reader, branch).compatibility is not SchemaCompatibilityType.compatible
        ):
            message = f"reader has no branch for {_label(branch)}"
            found.append((record, field, "missing_union_branch", message))
    return found


def _record_fields(checker: Any, reader: Any, writer: Any, name: str) -> list[_Found]:
    found: list[_Found] = []
    if not checker.first_visit(reader, writer):  # recursive types: each record pair once
        return found
    for reader_field in reader.fields:
        writer_field = lookup_writer_field(writer_schema=writer, reader_field=reader_field)
        if writer_field is not None:
            found += _locate(checker, reader_field.type, writer_field.type, name, reader_field.name)
        elif not reader_field.has_default:
            message = f"field {reader_field.name!r} is in the reader but not the writer, and has no default"
            found.append((name, reader_field.name, "reader_field_missing_default_value", message))
    return found


def _partner(union: Schema, branch: Schema) -> Schema | None:
    """The branch of ``union`` with the same type (and name, when named) as ``branch``."""
    candidates: list[Any] = list(union.schemas) if union.type == "union" else [union]  # type: ignore[attr-defined]
    for candidate in candidates:
        if candidate.type == branch.type and _name(candidate) == _name(branch):
            return candidate  # type: ignore[no-any-return]
    return None


def _name(schema: Schema) -> str | None:
    name = getattr(schema, "fullname", None)
    return name if isinstance(name, str) else None


def _label(schema: Schema) -> str:
    logical = schema.get_prop("logicalType") if hasattr(schema, "get_prop") else None
    base = _name(schema) or str(schema.type)
    return f"{base} ({logical})" if logical else base
