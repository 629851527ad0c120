"""Parse submitted Avro schemas (with references) and give them a stable identity.

Two registrations are "the same schema" when their normalised forms and references are equal:
the normalised form is the ``avro`` package's JSON rendering of the parsed schema with object keys
sorted and whitespace removed, so key order, spacing and ``{"type": "string"}`` versus
``"string"`` do not create new ids. Named types that come from references stay references in the
normalised text (they are not inlined), so a normalised schema can be registered again as is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import avro.errors
import avro.name
import avro.schema

from services.registry._errors import RegistryError

__all__ = [
    "AVRO",
    "ParsedSchema",
    "Reference",
    "ReferenceResolver",
    "compact_json",
    "parse_references",
    "parse_schema",
]

AVRO = "AVRO"
_MAX_REFERENCE_DEPTH = 32


@dataclass(frozen=True)
class Reference:
    """A named type this schema uses, registered elsewhere as ``subject`` / ``version``."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


# Given a reference, the referenced schema's text and its own references (or a RegistryError).
ReferenceResolver = Callable[[Reference], tuple[str, tuple[Reference, ...]]]


@dataclass(frozen=True)
class ParsedSchema:
    """A submitted schema after parsing: the avro object and its identity."""

    schema: avro.schema.Schema
    text: str
    normalised: str
    fingerprint: str
    references: tuple[Reference, ...]


def compact_json(value: object) -> str:
    """JSON without insignificant whitespace, keys in their given order."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_references(raw: object) -> tuple[Reference, ...]:
    """Validate the ``references`` member of a request body."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RegistryError.invalid_schema("references must be a list")
    refs: list[Reference] = []
    for item in raw:
        if not isinstance(item, dict):
            raise RegistryError.invalid_schema("each reference must be an object")
        name, subject, version = item.get("name"), item.get("subject"), item.get("version")
        if not isinstance(name, str) or not isinstance(subject, str) or not name or not subject:
            raise RegistryError.invalid_schema("a reference needs a name and a subject")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise RegistryError.invalid_schema(f"reference {name} needs a version >= 1")
        refs.append(Reference(name, subject, version))
    return tuple(refs)


def _load_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError.invalid_schema(f"not JSON (line {exc.lineno}, column {exc.colno})") from exc


def _make(json_data: object, names: avro.name.Names) -> avro.schema.Schema:
    try:
        return avro.schema.make_avsc_object(json_data, names)
    except (avro.errors.AvroException, TypeError, ValueError, KeyError) as exc:
        raise RegistryError.invalid_schema(str(exc)) from exc


def _load_references(
    refs: Sequence[Reference],
    resolve: ReferenceResolver,
    names: avro.name.Names,
    seen: set[tuple[str, int]],
    depth: int,
) -> None:
    if depth > _MAX_REFERENCE_DEPTH:
        raise RegistryError.invalid_schema("references nest too deeply")
    for ref in refs:
        if (ref.subject, ref.version) in seen:
            continue
        seen.add((ref.subject, ref.version))
        text, nested = resolve(ref)
        _load_references(nested, resolve, names, seen, depth + 1)
        if names.has_name(ref.name, None):
            continue
        names.default_namespace = None
        _make(_load_json(text), names)
        if not names.has_name(ref.name, None):
            raise RegistryError.invalid_schema(
                f"reference {ref.name} ({ref.subject} version {ref.version}) does not define that name"
            )


def parse_schema(
    text: str,
    references: Sequence[Reference],
    resolve: ReferenceResolver,
    *,
    schema_type: str = AVRO,
) -> ParsedSchema:
    """Parse ``text`` as an Avro schema whose named references come from ``resolve``."""
    if schema_type != AVRO:
        raise RegistryError.invalid_schema(f"schema type {schema_type} is not supported; only AVRO is")
    data = _load_json(text)
    names = avro.name.Names()
    _load_references(references, resolve, names, set(), 0)
    reference_names = avro.name.Names()
    reference_names.names = dict(names.names)
    names.default_namespace = None
    schema = _make(data, names)
    normalised_json = schema.to_json(reference_names)
    normalised = json.dumps(normalised_json, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    identity = compact_json([schema_type, normalised, [r.to_json() for r in references]])
    fingerprint = hashlib.sha256(identity.encode()).hexdigest()
    return ParsedSchema(
        schema=schema,
        text=compact_json(data),
        normalised=normalised,
        fingerprint=fingerprint,
        references=tuple(references),
    )
