"""Finding, reading and resolving the ``.avsc`` files of the standard.

The standard lives in ``schemas/avro/`` at the root of the repository, one named type per file
(``<Name>.avsc``), in sub-folders by kind (see :data:`KINDS`).
Files refer to each other by full name (``"mais.v1.Identifier"``). A :class:`SchemaRepository`
reads a folder of such files and produces, for any named type, a self-contained schema in which
every referenced named type is written out in full at its first use (what a registry stores and a
codec parses).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import fastavro

from exchange.errors import ConfigError

__all__ = [
    "NAMESPACE",
    "SchemaRepository",
    "default_repository",
    "default_schemas_dir",
]

NAMESPACE = "mais.v1"
"""Avro namespace of every type in the standard."""

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})

KINDS = ("vocabularies", "types", "entities", "messages", "events")
"""Sub-folders of a schemas directory, in dependency order (for documentation only)."""


def default_schemas_dir() -> Path:
    """The folder holding the standard: ``$MAIS_SCHEMAS_DIR`` or ``schemas/avro`` of this checkout."""
    configured = os.environ.get("MAIS_SCHEMAS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "schemas" / "avro"


class SchemaRepository:
    """All named types found in one folder of ``.avsc`` files (read once, then cached)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._json_cache: dict[str, str] = {}
        self._parsed_cache: dict[str, dict[str, Any]] = {}

    @cached_property
    def sources(self) -> dict[str, dict[str, Any]]:
        """Full name -> the schema exactly as written in its file."""
        if not self.root.is_dir():
            raise ConfigError(
                f"schemas folder {self.root} does not exist",
                hint="point --schemas (or MAIS_SCHEMAS_DIR) at the folder holding the .avsc files",
            )
        found: dict[str, dict[str, Any]] = {}
        self._kinds: dict[str, str] = {}
        for path in sorted(self.root.rglob("*.avsc")):
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})",
                    hint="fix the file so that it parses as JSON",
                ) from exc
            name = _full_name(schema)
            if name is None:
                raise ConfigError(f"{path}: top level is not a named type", hint="one named type per file")
            if name in found:
                raise ConfigError(f"{path}: {name} is defined twice", hint="keep one file per named type")
            if path.stem != name.rsplit(".", 1)[-1]:
                raise ConfigError(
                    f"{path}: file name does not match the type name {name}",
                    hint="name each file after the type it defines",
                )
            found[name] = schema
            self._kinds[name] = path.parent.name
        return found

    def kind_of(self, full_name: str) -> str:
        """The sub-folder (one of :data:`KINDS`) a type lives in."""
        self.source(full_name)
        return self._kinds[full_name]

    def names(self) -> list[str]:
        """Full names of every named type, sorted."""
        return sorted(self.sources)

    def names_of_kind(self, kind: str) -> list[str]:
        """Full names of the types in one sub-folder, sorted."""
        return sorted(name for name in self.sources if self._kinds[name] == kind)

    def source(self, full_name: str) -> dict[str, Any]:
        """The schema of one named type as written (references to other types left as names)."""
        try:
            return self.sources[full_name]
        except KeyError:
            raise self._unknown(full_name) from None

    def inlined(self, full_name: str) -> dict[str, Any]:
        """The schema of ``full_name`` with every referenced named type written out at first use."""
        defined: set[str] = set()
        result: dict[str, Any] = self._inline(self.source(full_name), defined, NAMESPACE)
        return result

    def schema_json(self, full_name: str) -> str:
        """Self-contained JSON text for ``full_name`` (stable: same input, same bytes; cached)."""
        text = self._json_cache.get(full_name)
        if text is None:
            text = json.dumps(self.inlined(full_name), ensure_ascii=False, separators=(",", ":"))
            self._json_cache[full_name] = text
        return text

    def parsed(self, full_name: str) -> dict[str, Any]:
        """The fastavro-parsed schema of ``full_name`` (named types resolved; cached, do not mutate)."""
        parsed = self._parsed_cache.get(full_name)
        if parsed is None:
            parsed = self._parsed_cache[full_name] = _parse(self.schema_json(full_name))
        return parsed

    def references(self, full_name: str) -> Iterator[str]:
        """Full names of the named types ``full_name`` uses directly (in order of first use)."""
        seen: list[str] = []
        _collect_refs(self.source(full_name), seen, NAMESPACE, top=True)
        yield from seen

    def _inline(self, node: Any, defined: set[str], namespace: str) -> Any:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return node
            full = node if "." in node else f"{namespace}.{node}"
            return full if full in defined else self._inline(self.source(full), defined, namespace)
        if isinstance(node, list):
            return [self._inline(branch, defined, namespace) for branch in node]
        if isinstance(node, dict):
            return self._inline_complex(node, defined, namespace)
        return node

    def _inline_complex(self, node: dict[str, Any], defined: set[str], namespace: str) -> Any:
        kind = node.get("type")
        name = _full_name(node, namespace)
        if name is not None:
            if name in defined:
                return name
            defined.add(name)
            namespace = name.rsplit(".", 1)[0]
        out = dict(node)
        if kind in ("record", "error"):
            out["fields"] = [
                {**f, "type": self._inline(f["type"], defined, namespace)} for f in node.get("fields", [])
            ]
        elif kind == "array":
            out["items"] = self._inline(node["items"], defined, namespace)
        elif kind == "map":
            out["values"] = self._inline(node["values"], defined, namespace)
        elif kind not in _PRIMITIVES and kind not in ("enum", "fixed"):
            out["type"] = self._inline(kind, defined, namespace)
        return out

    def _unknown(self, full_name: str) -> ConfigError:
        return ConfigError(
            f"unknown schema {full_name!r}",
            hint=f"known types are defined in {self.root}; full names look like '{NAMESPACE}.Person'",
        )


def _full_name(schema: Mapping[str, Any], namespace: str = NAMESPACE) -> str | None:
    if not isinstance(schema, Mapping) or schema.get("type") not in ("record", "error", "enum", "fixed"):
        return None
    name = schema.get("name")
    if not isinstance(name, str):
        return None
    if "." in name:
        return name
    return f"{schema.get('namespace', namespace)}.{name}"


def _collect_refs(node: Any, seen: list[str], namespace: str, *, top: bool = False) -> None:
    if isinstance(node, str):
        if node not in _PRIMITIVES:
            full = node if "." in node else f"{namespace}.{node}"
            if full not in seen:
                seen.append(full)
        return
    if isinstance(node, list):
        for branch in node:
            _collect_refs(branch, seen, namespace)
        return
    if not isinstance(node, dict):
        return
    name = _full_name(node, namespace)
    if name is not None and not top:
        if name not in seen:
            seen.append(name)
        return
    for field in node.get("fields", []):
        _collect_refs(field["type"], seen, namespace)
    for key in ("items", "values"):
        if key in node:
            _collect_refs(node[key], seen, namespace)
    if isinstance(node.get("type"), (dict, list)):
        _collect_refs(node["type"], seen, namespace)


@lru_cache(maxsize=256)
def _parse(text: str) -> dict[str, Any]:
    parsed = fastavro.parse_schema(json.loads(text))
    if not isinstance(parsed, dict):  # pragma: no cover - named types always parse to a dict
        raise ConfigError("schema did not parse to a named type", hint="check the .avsc file")
    return parsed


@lru_cache(maxsize=8)
def _repository_for(root: str) -> SchemaRepository:
    return SchemaRepository(Path(root))


def default_repository() -> SchemaRepository:
    """The repository of the standard this process uses (see :func:`default_schemas_dir`)."""
    return _repository_for(str(default_schemas_dir()))
