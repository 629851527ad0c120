"""A fast yes/no check that a value encodes under an Avro schema, generated once per schema.

:func:`encodable_check` turns a fastavro-parsed schema into a compiled Python predicate. It is
*sound*: it answers ``True`` only for values fastavro's binary encoder (``schemaless_writer``)
writes without error. It is deliberately narrower than the encoder, which also takes values no
adapter should produce (``None`` or text for a non-union boolean, a float for a long, a tuple or
a string for an array, tuple notation in unions ...): for those it answers ``False`` and the
caller falls back to the encoder itself, so the overall verdict is always the encoder's.

What it accepts, by Avro type: ``null`` only ``None``; ``boolean`` only ``bool``; ``int`` /
``long`` an ``int`` (not ``bool``) in range; ``double`` a ``float`` or an ``int`` in long range;
``string`` a ``str`` that is valid UTF-8 (no lone surrogates); ``enum`` one of its symbols;
``array`` a ``list``; ``record`` a ``dict`` whose fields are present and valid, or absent and
defaulted (keys the schema does not name are ignored, as the encoder ignores them, except a
``-type`` key in a union branch); logical
``date`` a ``date`` or ``datetime`` (or an int); ``timestamp-millis`` / ``timestamp-micros`` a
``datetime`` with a ``timezone`` / ``ZoneInfo`` (or a long); unions of ``null``
and one other type. Types outside this list (``bytes``, ``fixed``, ``map``, ``float``, other
unions, non-empty defaults) make :func:`encodable_check` return ``None``: such schemas are
checked by encoding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["encodable_check"]

_MISSING = object()


class _Unsupported(Exception):
    """The schema uses a construct this generator does not compile."""


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encodable_check(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """A predicate ``value -> bool`` for the parsed record ``schema``, or ``None`` if unsupported."""
    try:
        source = _Generator(schema.get("__named_schemas", {})).module(schema)
        code = compile(source, f"<encodable_check {schema.get('name', '?')}>", "exec")
    except (_Unsupported, SyntaxError, RecursionError):  # too deeply nested to compile: encode instead
        return None
    namespace: dict[str, Any] = {
        "dt_date": dt.date,
        "dt_datetime": dt.datetime,
        "_utf8": _utf8,
        # naive datetimes are left to the encoder: it converts them through the local time zone,
        # which can fail near the ends of the calendar
        "_plain_tz": frozenset({dt.timezone, ZoneInfo}),
    }
    exec(code, namespace)  # noqa: S102 - source generated above from the schema, names quoted with repr
    check: Callable[[Any], bool] = namespace["check"]
    return check


class _Generator:
    """Writes one function ``check(v)`` with every record's checks inlined (no calls, no recursion)."""

    def __init__(self, named: dict[str, Any]) -> None:
        self.named = named
        self.counter = 0
        self.constants: list[str] = []
        self.inlining: list[str] = []
        self.unions = 0

    def module(self, schema: dict[str, Any]) -> str:
        body = self.record(schema, "v", 2)
        # A field without a default is read by subscript: a missing one raises KeyError (rejected).
        lines = ["def check(v):", "    try:", *body, "    except KeyError:", "        return False"]
        return "\n".join([*self.constants, *lines, "    return True", ""])

    def fresh(self) -> str:
        self.counter += 1
        return f"x{self.counter}"

    def record(self, schema: dict[str, Any], var: str, depth: int) -> list[str]:
        name = str(schema["name"])
        if name in self.inlining:
            raise _Unsupported(f"recursive type {name}")
        self.inlining.append(name)
        pad = "    " * depth
        lines = [f"{pad}if type({var}) is not dict:", f"{pad}    return False"]
        if self.unions:  # in a union branch a "-type" key names the branch: left to the encoder
            lines += [f"{pad}if '-type' in {var}:", f"{pad}    return False"]
        for field in schema["fields"]:
            lines += self.field(field, var, depth)
        self.inlining.pop()
        return lines

    def field(self, field: dict[str, Any], record: str, depth: int) -> list[str]:
        name = field["name"]
        var = self.fresh()
        pad = "    " * depth
        default = field.get("default", _MISSING)
        if default is _MISSING:
            # A field with no default must be present (a missing one is left to the encoder, which
            # writes None for it): subscript, KeyError is caught around the whole check.
            get = f"{pad}{var} = {record}[{name!r}]"
        elif default is None or default == []:
            get = f"{pad}{var} = {record}.get({name!r}, {default!r})"
        else:
            raise _Unsupported(f"default of {name}")
        return [get, *self.statements(field["type"], var, depth)]

    def statements(self, schema: Any, var: str, depth: int) -> list[str]:
        """Lines that ``return False`` unless ``var`` is valid for ``schema``."""
        pad = "    " * depth
        if isinstance(schema, list):
            return self.union(schema, var, depth)
        if isinstance(schema, str) and schema in self.named:
            schema = self.named[schema]
        kind = schema if isinstance(schema, str) else schema.get("type")
        if isinstance(schema, dict) and kind == "record":
            return self.record(schema, var, depth)
        if isinstance(schema, dict) and kind == "array":
            item = self.fresh()
            inner = self.statements(schema["items"], item, depth + 2)
            return [
                f"{pad}if type({var}) is not list:",
                f"{pad}    return False",
                f"{pad}if {var}:",
                f"{pad}    for {item} in {var}:",
                *inner,
            ]
        return [f"{pad}if not ({self.scalar(schema, kind, var)}):", f"{pad}    return False"]

    def union(self, branches: list[Any], var: str, depth: int) -> list[str]:
        others = [b for b in branches if b != "null"]
        if len(branches) != 2 or len(others) != 1:
            raise _Unsupported("union")
        pad = "    " * depth
        self.unions += 1
        lines = [f"{pad}if {var} is not None:", *self.statements(others[0], var, depth + 1)]
        self.unions -= 1
        return lines

    def scalar(self, schema: Any, kind: Any, var: str) -> str:
        logical = schema.get("logicalType") if isinstance(schema, dict) else None
        if kind == "enum":
            constant = f"symbols_{len(self.constants)}"
            self.constants.append(f"{constant} = frozenset({sorted(schema['symbols'])!r})")
            return f"type({var}) is str and {var} in {constant}"
        template = _LOGICAL.get((kind, logical)) or _SIMPLE.get(kind)
        if template is None:
            raise _Unsupported(str(kind))
        return template.format(v=var)


_INT = f"type({{v}}) is int and {-(2**31)} <= {{v}} <= {2**31 - 1}"
_LONG = f"type({{v}}) is int and {-(2**63)} <= {{v}} <= {2**63 - 1}"
_SIMPLE = {
    "null": "{v} is None",
    "boolean": "type({v}) is bool",
    "int": _INT,
    "long": _LONG,
    "double": f"type({{v}}) is float or ({_LONG})",
    "string": "type({v}) is str and ({v}.isascii() or _utf8({v}))",
}
_MOMENT = "(type({v}) is dt_datetime and type({v}.tzinfo) in _plain_tz)"
_LOGICAL: dict[tuple[Any, Any], str] = {
    ("int", "date"): f"type({{v}}) is dt_date or type({{v}}) is dt_datetime or ({_INT})",
    ("long", "timestamp-millis"): f"{_MOMENT} or ({_LONG})",
    ("long", "timestamp-micros"): f"{_MOMENT} or ({_LONG})",
}
