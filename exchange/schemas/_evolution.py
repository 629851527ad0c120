"""Comparing the working schemas with the frozen released sets (``mais schemas check``).

Released sets live in ``schemas/released/<version>/`` (``v1``, then ``v1.1``, ... - a copy of
``schemas/avro/`` at release time, never edited afterwards). Every named type of every released
set must still exist, and the working version of it must be compatible with all released
versions of it, oldest first, under FULL_TRANSITIVE: old readers can read new data and new
readers can read old data.
"""

from __future__ import annotations

import re
from pathlib import Path

import avro.schema

from exchange.compatibility import CompatibilityLevel, Incompatibility, check_compatibility
from exchange.errors import ConfigError
from exchange.schemas._repository import SchemaRepository

__all__ = ["check_against_released", "released_versions"]


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name))


def released_versions(released_root: Path) -> list[Path]:
    """Folders of released sets, oldest first (``v1`` < ``v1.1`` < ``v2``)."""
    if not released_root.is_dir():
        raise ConfigError(
            f"released schemas folder {released_root} does not exist",
            hint="point --released at schemas/released (one sub-folder per released version)",
        )
    folders = [p for p in released_root.iterdir() if p.is_dir() and re.fullmatch(r"v\d+(\.\d+)*", p.name)]
    return sorted(folders, key=_version_key)


def check_against_released(
    working: SchemaRepository,
    released_root: Path,
    level: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE,
) -> list[Incompatibility]:
    """Every incompatibility of the working schemas with the released sets; empty means safe."""
    releases = [SchemaRepository(folder) for folder in released_versions(released_root)]
    if not releases:
        raise ConfigError(
            f"no released schema set under {released_root}",
            hint="release the first set by copying schemas/avro to schemas/released/v1",
        )
    found: list[Incompatibility] = []
    names = sorted({name for release in releases for name in release.names()})
    for name in names:
        if name not in working.sources:
            found.append(
                Incompatibility(name, None, "type_removed", "a released type no longer exists", None)
            )
            continue
        previous = [_parse(release, name) for release in releases if name in release.sources]
        found += check_compatibility(_parse(working, name), previous, level)
    unique: dict[tuple[str, str | None, str], Incompatibility] = {}
    for item in found:  # a shared type breaks once, not once per record that uses it
        unique.setdefault((item.record, item.field, item.rule), item)
    return list(unique.values())


def _parse(repository: SchemaRepository, name: str) -> avro.schema.Schema:
    return avro.schema.parse(repository.schema_json(name))
