"""What the clustering tells its caller, and how standard person events drive it.

Person events (:data:`PersonEvent`) are returned by every change to :class:`PersonClusters`, so
a subscriber can store them, show them, or publish them. Record operations
(:data:`RecordChange`) are what the standard's ``PersonRecorded``, ``PersonRemoved`` and
``PersonsMerged`` events ask of a matcher; :func:`record_change` reads one from an event value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exchange.matching._record import MatchRecord, normalise

__all__ = [
    "PersonChanged",
    "PersonCreated",
    "PersonEvent",
    "PersonMerged",
    "PersonRetired",
    "PersonSplit",
    "RecordChange",
    "RecordMerge",
    "RecordRemoval",
    "RecordUpsert",
    "record_change",
]


@dataclass(frozen=True, slots=True)
class PersonCreated:
    """A new person: records that matched no existing person."""

    person_id: str
    records: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersonChanged:
    """Records joined or left an existing person, whose id stays."""

    person_id: str
    joined: tuple[str, ...]
    left: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersonMerged:
    """``person_id`` turned out to be the same person as ``into``: its records moved there and the
    id is retired (kept only to redirect whoever still holds it)."""

    person_id: str
    into: str
    records: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersonSplit:
    """Records of ``person_id`` no longer link to it (a record was removed or changed): they form
    a new person ``new_person_id``."""

    person_id: str
    new_person_id: str
    records: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersonRetired:
    """The last record of ``person_id`` was removed."""

    person_id: str


PersonEvent = PersonCreated | PersonChanged | PersonMerged | PersonSplit | PersonRetired
"""Everything a change to the clustering can report."""


@dataclass(frozen=True, slots=True)
class RecordUpsert:
    """A ``PersonRecorded``: hold this record (new or replacing the one with its key)."""

    record: MatchRecord


@dataclass(frozen=True, slots=True)
class RecordRemoval:
    """A ``PersonRemoved``: forget the record with this key everywhere."""

    key: str


@dataclass(frozen=True, slots=True)
class RecordMerge:
    """A ``PersonsMerged``: the agency itself says the retired records are the survivor's person."""

    survivor: str
    retired: tuple[str, ...]


RecordChange = RecordUpsert | RecordRemoval | RecordMerge


def _key(identifiers: Any) -> str:
    first = (identifiers or [{}])[0]
    return f"{first.get('system', '')}|{first.get('value', '')}"


def record_change(
    schema: str, value: Mapping[str, Any], *, source: str, key: str | None = None
) -> RecordChange | None:
    """The record operation a standard person event asks for, or ``None`` for other events.

    ``schema`` is the event's full name (``mais.v1.PersonRecorded``) or short name; ``value`` the
    event value (Avro dict, or JSON from ``mais translate``); ``source`` the publishing agency;
    ``key`` the Kafka key (defaults to the first subject identifier as ``system|value``).
    """
    name = schema.rsplit(".", 1)[-1]
    if name == "PersonRecorded":
        record_key = key or _key(value["subjectIdentifier"])
        return RecordUpsert(normalise(value["person"], source=source, key=record_key))
    if name == "PersonRemoved":
        return RecordRemoval(key or _key(value["subjectIdentifier"]))
    if name == "PersonsMerged":
        retired = tuple(f"{i['system']}|{i['value']}" for i in value["mergedIdentifier"])
        return RecordMerge(key or _key(value["subjectIdentifier"]), retired)
    return None
