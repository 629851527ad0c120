"""What the store is fed: decoded events, and small helpers for keys, times and JSON."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # _changes builds on this module
    from services.singleview._changes import Change

__all__ = ["Applied", "Event", "dumps", "key_hash", "key_of", "ms", "subjects_of"]


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded message: where it came from, its key and its standard event."""

    topic: str
    partition: int
    offset: int
    key: str
    type: str
    value: Mapping[str, Any]
    change: Change | None = None
    """What the event asks of the store, when worked out where it was decoded (``_changes.py``)."""

    @property
    def agency(self) -> str:
        return self.topic.split(".")[1]

    @property
    def short_type(self) -> str:
        """``PersonRecorded`` for ``mais.v1.PersonRecorded``."""
        return self.type.rsplit(".", 1)[-1]


@dataclass
class Applied:
    """What one transaction changed, for live updates: person ids and subject keys touched."""

    person_ids: set[str] = field(default_factory=set)
    subject_keys: set[str] = field(default_factory=set)


def dumps(value: Any) -> str:
    """``value`` as compact JSON with sorted keys; dates and times in ISO 8601 (``isoformat()``)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def key_of(identifier: Mapping[str, Any]) -> str:
    """The record key form of an identifier: ``system|value``."""
    return f"{identifier['system']}|{identifier['value']}"


def ms(moment: datetime | None) -> int | None:
    """Milliseconds since the epoch (how the store keeps times)."""
    return None if moment is None else int(moment.timestamp() * 1000)


def key_hash(key: str) -> str:
    """A one-way hash of a record key (what the store keeps of a removed record)."""
    return hashlib.sha256(key.encode()).hexdigest()


def subjects_of(people: Iterable[Mapping[str, Any]], identifiers: Iterable[Mapping[str, Any]]) -> set[str]:
    """The record keys an episode or life event is about."""
    return {key_of(item["person"]) for item in people} | {key_of(i) for i in identifiers}
