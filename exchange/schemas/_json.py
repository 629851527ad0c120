"""Plain JSON <-> the Python values fastavro encodes, driven by the schema.

Standard JSON (examples, ``mais translate`` output, HTTP bodies) writes dates as ``YYYY-MM-DD``
and date-times as ISO 8601 strings, and leaves optional fields out. :func:`from_json` turns that
into the values a codec needs (``datetime.date``, timezone-aware ``datetime``; absent fields
filled with their defaults; date-times cut to milliseconds), so that encode -> decode gives back
an equal value; :func:`to_json` goes the other way. A date-time without an offset is taken as UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from exchange.errors import DataError
from exchange.schemas._repository import NAMESPACE, SchemaRepository, default_repository

__all__ = ["from_json", "to_json"]

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def from_json(full_name: str, data: Any, repository: SchemaRepository | None = None) -> Any:
    """Values ready for fastavro from plain JSON ``data`` of type ``full_name``.

    Raises :class:`DataError` (stage ``parse``) naming the field when a date or date-time is not
    in ISO 8601 form. Anything else is passed through for :func:`validate` to judge.
    """
    return _Converter(repository or default_repository(), full_name, inbound=True).convert(
        full_name, data, ""
    )


def to_json(full_name: str, value: Any, repository: SchemaRepository | None = None) -> Any:
    """Plain JSON (dates and date-times as ISO 8601 strings) from a decoded value of ``full_name``."""
    return _Converter(repository or default_repository(), full_name, inbound=False).convert(
        full_name, value, ""
    )


class _Converter:
    def __init__(self, repository: SchemaRepository, root: str, *, inbound: bool) -> None:
        self.repo = repository
        self.root = root
        self.inbound = inbound

    def convert(self, schema: Any, value: Any, path: str) -> Any:
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return value
            full = schema if "." in schema else f"{NAMESPACE}.{schema}"
            return self.convert(self.repo.source(full), value, path)
        if isinstance(schema, list):
            others = [b for b in schema if b != "null"]
            if value is None or len(others) != 1:
                return value
            return self.convert(others[0], value, path)
        if isinstance(schema, Mapping):
            return self.complex(schema, value, path)
        return value

    def complex(self, schema: Mapping[str, Any], value: Any, path: str) -> Any:
        kind = schema["type"]
        if kind == "record":
            return self.record(schema, value, path)
        if kind == "array" and isinstance(value, list):
            return [self.convert(schema["items"], item, f"{path}[{i}]") for i, item in enumerate(value)]
        if "logicalType" in schema:
            return self.logical(schema["logicalType"], value, path)
        if isinstance(kind, (dict, list)):
            return self.convert(kind, value, path)
        return value

    def record(self, schema: Mapping[str, Any], value: Any, path: str) -> Any:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        known = set()
        for field in schema["fields"]:
            name = field["name"]
            known.add(name)
            where = f"{path}.{name}" if path else name
            if name in value:
                out[name] = self.convert(field["type"], value[name], where)
            elif self.inbound and "default" in field:
                default = field["default"]
                out[name] = list(default) if isinstance(default, list) else default
        for extra in value:
            if extra not in known:
                out[extra] = value[extra]  # left for validation to report
        return out

    def logical(self, logical: str, value: Any, path: str) -> Any:
        if self.inbound:
            if not isinstance(value, str):
                return value
            try:
                if logical == "date":
                    return dt.date.fromisoformat(value)
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                kind = "a date (YYYY-MM-DD)" if logical == "date" else "an ISO 8601 date-time"
                raise DataError(
                    f"{self.root}: field {path!r}: expected {kind}",
                    stage="parse",
                    hint="write dates as YYYY-MM-DD and date-times as YYYY-MM-DDThh:mm:ss[+offset]",
                ) from None
            if logical == "timestamp-millis":  # what the wire keeps, so that decode(encode(x)) == x
                parsed = parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        if isinstance(value, dt.datetime):
            text = value.astimezone(dt.UTC).isoformat(timespec="milliseconds")
            return text.replace("+00:00", "Z")
        if isinstance(value, dt.date):
            return value.isoformat()
        return value
