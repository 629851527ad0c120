"""Reading JSON from other organisations safely: bounded depth, no giant numbers, no NaN.

Python's ``json`` accepts ``NaN`` and ``Infinity`` (not JSON), refuses integers of more than
4,300 digits with a ``ValueError`` that is not a ``JSONDecodeError``, turns a lone ``\\ud800``
escape into a string that cannot be written as UTF-8 again, and nests as deep as the
interpreter's recursion limit, which the code walking the result may then exceed. Everything
here turns those into a ``parse`` :class:`~exchange.errors.DataError` that says which part of
the input (``what``) and what was wrong, never the content.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from exchange.errors import DataError

__all__ = ["MAX_DEPTH", "parse_json"]

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays accepted (FHIR resources and exports need far less)."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Constant(ValueError):
    pass


def _refuse_constant(name: str) -> NoReturn:
    raise _Constant(name)


def parse_json(data: bytes | str, what: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in ``data`` (UTF-8, an optional BOM), at most ``max_depth`` levels deep."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} is not UTF-8 (byte {exc.start})", stage="parse") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno})", stage="parse"
        ) from None
    except _Constant:
        raise DataError(f"{what} holds NaN or Infinity, which JSON does not allow", stage="parse") from None
    except RecursionError:
        raise DataError(f"{what} is nested too deeply", stage="parse") from None
    except ValueError:  # an integer longer than the interpreter converts
        raise DataError(f"{what} holds a number too long to read", stage="parse") from None
    if _depth_exceeds(value, max_depth):
        raise DataError(f"{what} is nested more than {max_depth} levels deep", stage="parse")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise DataError(f"{what} holds a lone UTF-16 surrogate escape, which is not text", stage="parse")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """True when a string (key or value) holds a surrogate: JSON pairs were already combined."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
