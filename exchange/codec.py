"""Confluent-framed Avro: what every value on our topics looks like on the wire.

A framed value is byte ``0x00`` (the magic byte), the writer schema's registry id as a 4-byte
big-endian integer, then the Avro binary body (fastavro, schemaless). The schema is registered
under a subject chosen by a *subject name strategy*: by default ``<topic>-value``
(:func:`topic_name_strategy`), or the record's full name (:func:`record_name_strategy`), or
``<topic>-<record full name>`` (:func:`topic_record_name_strategy`) for topics that carry
several event types.

Parsed schemas are cached per id and per (subject, schema), so after warm-up encoding and
decoding never touch the registry. Bytes that are not ours (wrong magic byte, unknown schema
id, truncated or corrupt body, trailing garbage) become
``DataError(stage="read")``; a value that does not fit its schema becomes
``DataError(stage="serialize")``. Error messages name fields, never values. A schema the
registry refuses, or that is not registered when auto-registration is off, is a
:class:`~exchange.errors.ConfigError`: it is true of every record, so no record is rejected for it.
"""

from __future__ import annotations

import io
import json
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import fastavro
from fastavro.validation import validate

from exchange.errors import ConfigError, DataError
from exchange.registry_client import SchemaNotFoundError, SchemaRegistry

__all__ = [
    "MAGIC_BYTE",
    "AvroCodec",
    "Decoded",
    "SubjectNameStrategy",
    "record_name_strategy",
    "topic_name_strategy",
    "topic_record_name_strategy",
]

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")

SubjectNameStrategy = Callable[[str, str], str]
"""``(topic, record full name) -> subject``."""


def topic_name_strategy(topic: str, record_name: str) -> str:
    """``<topic>-value``: one schema (and its evolutions) per topic. The default."""
    return f"{topic}-value"


def record_name_strategy(topic: str, record_name: str) -> str:
    """``<record full name>``: one schema per event type, whatever the topic."""
    return record_name


def topic_record_name_strategy(topic: str, record_name: str) -> str:
    """``<topic>-<record full name>``: several event types per topic, each evolving on its own."""
    return f"{topic}-{record_name}"


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded value and the id of the schema it was written with."""

    schema_id: int
    value: Any


@dataclass(frozen=True, slots=True)
class _Writer:
    schema_id: int
    header: bytes
    parsed: Any


_UNKNOWN = object()


class AvroCodec:
    """Encodes and decodes Confluent-framed Avro values against a schema registry."""

    def __init__(
        self,
        registry: SchemaRegistry,
        *,
        subject_strategy: SubjectNameStrategy = topic_name_strategy,
        auto_register: bool = True,
    ) -> None:
        self._registry = registry
        self._subject_strategy = subject_strategy
        self._auto_register = auto_register
        self._writers: dict[tuple[str, str], _Writer] = {}
        self._readers: dict[int, Any] = {}
        self._resolved: dict[tuple[int, str], Any] = {}
        """(writer schema id, reader schema) -> the parsed reader schema, or None when it is the writer's."""
        self._lock = threading.Lock()

    def encode(self, topic: str, schema: str, value: Mapping[str, Any]) -> bytes:
        """Frame and encode ``value`` with ``schema`` (Avro JSON) for ``topic``.

        May raise :class:`~exchange.errors.TransientError` the first time a schema is seen (the
        registry is unreachable) and ``DataError(stage="serialize")`` if the value does not fit.
        """
        writer = self._writers.get((topic, schema))
        if writer is None:
            writer = self._writer(topic, schema)
        out = io.BytesIO()
        out.write(writer.header)
        try:
            fastavro.schemaless_writer(out, writer.parsed, value)
        except Exception as exc:
            raise _serialize_error(value, writer.parsed, exc) from None
        return out.getvalue()

    def decode(self, data: bytes, reader_schema: str | None = None) -> Decoded:
        """Decode a framed value; anything that is not a well-formed one is ``DataError(stage="read")``."""
        if len(data) < _HEADER.size:
            raise DataError(f"value of {len(data)} bytes is too short for Confluent framing", stage="read")
        magic, schema_id = _HEADER.unpack_from(data)
        if magic != MAGIC_BYTE:
            raise DataError(
                f"value does not start with the Confluent magic byte (found {magic & 0xFF:#04x})",
                stage="read",
                hint="the producer must use a Confluent-compatible Avro serializer",
            )
        parsed = self._readers.get(schema_id)
        if parsed is None:
            parsed = self._reader(schema_id)
        reader = None
        if reader_schema is not None:
            known = (schema_id, reader_schema)
            reader = self._resolved.get(known, _UNKNOWN)
            if reader is _UNKNOWN:
                reader = self._parse(reader_schema)
                reader = None if reader == parsed else reader  # same schema: no resolution needed
                with self._lock:
                    self._resolved[known] = reader
        body = io.BytesIO(data)
        body.seek(_HEADER.size)
        try:
            value = fastavro.schemaless_reader(body, parsed, reader)
        except Exception as exc:
            raise DataError(
                f"Avro body does not match schema id {schema_id} "
                f"({type(exc).__name__} at byte {body.tell()})",
                stage="read",
            ) from None
        if body.tell() != len(data):
            raise DataError(
                f"{len(data) - body.tell()} unexpected bytes after the Avro body (schema id {schema_id})",
                stage="read",
            )
        return Decoded(schema_id, value)

    def schema_id(self, topic: str, schema: str) -> int:
        """The registry id ``schema`` has (or gets) under its subject for ``topic``."""
        writer = self._writers.get((topic, schema))
        return (writer or self._writer(topic, schema)).schema_id

    def _writer(self, topic: str, schema: str) -> _Writer:
        parsed = self._parse(schema)
        record_name = str(parsed.get("name", "")) if isinstance(parsed, dict) else ""
        subject = self._subject_strategy(topic, record_name)
        if self._auto_register:
            schema_id = self._registry.register(subject, schema)
        else:
            found = self._registry.lookup(subject, schema)
            if found is None:  # true of every record of this type: a setting to fix, not a reject
                raise ConfigError(
                    f"schema {record_name} is not registered under subject {subject}",
                    hint="register the schema (mais schemas register) or enable auto-registration",
                )
            schema_id = found.id
        writer = _Writer(schema_id, _HEADER.pack(MAGIC_BYTE, schema_id), parsed)
        with self._lock:
            self._writers[(topic, schema)] = writer
            self._readers.setdefault(schema_id, parsed)
        return writer

    def _reader(self, schema_id: int) -> Any:
        try:
            schema = self._registry.get_schema(schema_id)
        except SchemaNotFoundError:
            raise DataError(f"schema id {schema_id} is not in the schema registry", stage="read") from None
        parsed = self._parse(schema)
        with self._lock:
            self._readers[schema_id] = parsed
        return parsed

    @staticmethod
    def _parse(schema: str) -> Any:
        return fastavro.parse_schema(json.loads(schema))


def _serialize_error(value: Mapping[str, Any], parsed: Any, exc: Exception) -> DataError:
    fields: list[str] = []
    try:
        validate(value, parsed, raise_errors=True)
    except Exception as invalid:
        fields = sorted({str(getattr(e, "field", "")) for e in getattr(invalid, "errors", ()) if e})
    where = f"field(s) {', '.join(f for f in fields if f)}" if any(fields) else "the value"
    return DataError(
        f"{where} do(es) not fit schema {parsed.get('name', '?') if isinstance(parsed, dict) else '?'} "
        f"({type(exc).__name__})",
        stage="serialize",
        hint="the adapter produced a value its schema does not allow; fix the mapping",
    )
