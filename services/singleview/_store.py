"""Applying standard events to the store: upserts by record key, in order per key, erasure, merges.

Each function takes an open transaction and one decoded event. A key's stored ``recorded_at``
guards it: an event recorded before what the store already holds for that key is skipped, so
a late older event never overwrites a newer one (equal times apply, the later offset wins).

Tables that can hold a person's data are listed in :data:`PERSONAL_TABLES`; erasure
(``PersonRemoved``) clears the record's rows from each and from the linker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.singleview._db import Connection
from services.singleview._linking import LinkChanges, Linker, normalise_name, normalise_postcode

__all__ = ["PERSONAL_TABLES", "Applied", "Event", "apply_event", "dumps", "key_of"]

PERSONAL_TABLES = (
    "sv_person_record", "sv_identifier", "sv_episode", "sv_episode_subject", "sv_life_event",
    "sv_life_event_subject", "sv_merged", "sv_link", "sv_possible_match",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded message: where it came from, its key and its standard event."""

    topic: str
    partition: int
    offset: int
    key: str
    type: str
    value: Mapping[str, Any]

    @property
    def agency(self) -> str:
        return self.topic.split(".")[1]


@dataclass
class Applied:
    """What one transaction changed, for live updates: person ids and subject keys touched."""

    person_ids: set[str]
    subject_keys: set[str]


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"), sort_keys=True)


def key_of(identifier: Mapping[str, Any]) -> str:
    """The record key form of an identifier: ``system|value``."""
    return f"{identifier['system']}|{identifier['value']}"


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def apply_event(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    """Apply one event inside the caller's transaction."""
    handler = _HANDLERS.get(event.type.rsplit(".", 1)[-1])
    if handler is not None:
        handler(db, linker, event, applied)


def _write_links(db: Connection, changes: LinkChanges, applied: Applied) -> None:
    for linked in changes.linked:
        applied.person_ids.add(linked.person_id)
        db.execute(
            "INSERT INTO sv_link (record_key, person_id, reason_json) VALUES (?, ?, ?) "
            "ON CONFLICT (record_key) DO UPDATE SET person_id = excluded.person_id, "
            "reason_json = excluded.reason_json",
            (linked.record_key, linked.person_id, dumps(linked.reason)),
        )
    for key in changes.unlinked:
        db.execute("DELETE FROM sv_link WHERE record_key = ?", (key,))
        db.execute("DELETE FROM sv_possible_match WHERE record_key = ? OR other_key = ?", (key, key))
    for key, matches in changes.possible.items():
        db.execute("DELETE FROM sv_possible_match WHERE record_key = ?", (key,))
        db.executemany(
            "INSERT INTO sv_possible_match (record_key, other_key, grade, probability, reason_json) "
            "VALUES (?, ?, ?, ?, ?)",
            [(m.record_key, m.other_key, m.grade, m.probability, dumps(m.reason)) for m in matches],
        )


def _person_of(db: Connection, key: str) -> str | None:
    rows = db.query("SELECT person_id FROM sv_link WHERE record_key = ?", (key,))
    return str(rows[0][0]) if rows else None


def _stale(db: Connection, table: str, column: str, key: str, recorded: int) -> bool:
    rows = db.query(f"SELECT recorded_at FROM {table} WHERE {column} = ?", (key,))  # noqa: S608 - fixed names
    if rows and int(rows[0][0]) > recorded:
        return True
    removed = db.query("SELECT removed_at FROM sv_removed WHERE key_hash = ?", (_key_hash(key),))
    if removed and int(removed[0][0]) >= recorded:
        return True
    merged = db.query("SELECT recorded_at FROM sv_merged WHERE retired_key = ?", (key,))
    return table == "sv_person_record" and bool(merged) and int(merged[0][0]) >= recorded


def _person_recorded(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    recorded = _ms(event.value["recordedAt"]) or 0
    key = event.key
    if _stale(db, "sv_person_record", "record_key", key, recorded):
        return
    person = event.value["person"]
    names = person.get("name") or []
    first = names[0] if names else {}
    born = (person.get("dateOfBirth") or {}).get("date")
    address = (person.get("address") or [{}])[0]
    previous = _person_of(db, key)
    if previous:
        applied.person_ids.add(previous)
    db.execute("DELETE FROM sv_removed WHERE key_hash = ?", (_key_hash(key),))
    db.execute(
        "INSERT INTO sv_person_record (record_key, agency, publisher, recorded_at, person_json, "
        "family_name, given_name, birth_date, postcode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (record_key) DO UPDATE SET agency = excluded.agency, publisher = excluded.publisher, "
        "recorded_at = excluded.recorded_at, person_json = excluded.person_json, "
        "family_name = excluded.family_name, given_name = excluded.given_name, "
        "birth_date = excluded.birth_date, postcode = excluded.postcode",
        (
            key, event.agency, key_of(event.value["publisher"]), recorded, dumps(person),
            normalise_name(" ".join(first.get("familyName") or [])) or None,
            normalise_name((first.get("givenName") or [""])[0]) or None,
            born.isoformat() if isinstance(born, date) else None,
            normalise_postcode(address.get("postcode") or "") or None,
        ),
    )  # fmt: skip
    db.execute("DELETE FROM sv_identifier WHERE record_key = ?", (key,))
    id_keys = {key} | {key_of(i) for i in person.get("identifier") or []}
    db.executemany(
        "INSERT INTO sv_identifier (id_key, record_key) VALUES (?, ?)", [(i, key) for i in id_keys]
    )
    _write_links(db, linker.upsert(key, event.agency, person), applied)


def _erase(db: Connection, linker: Linker, key: str, agency: str, applied: Applied) -> None:
    """Delete a person record and everything derived from it, from the store and the linker."""
    previous = _person_of(db, key)
    if previous:
        applied.person_ids.add(previous)
    subjects = {key} | {
        row[0] for row in db.query("SELECT id_key FROM sv_identifier WHERE record_key = ?", (key,))
    }
    subjects |= {
        row[0] for row in db.query("SELECT retired_key FROM sv_merged WHERE survivor_key = ?", (key,))
    }
    marks = db.in_list(len(subjects))
    for table, subject_table, column in (
        ("sv_episode", "sv_episode_subject", "episode_key"),
        ("sv_life_event", "sv_life_event_subject", "event_key"),
    ):
        owned = db.query(
            f"SELECT DISTINCT s.{column} FROM {subject_table} s JOIN {table} t ON t.{column} = s.{column} "  # noqa: S608
            f"WHERE t.agency = ? AND s.subject_key IN {marks}",
            (agency, *sorted(subjects)),
        )
        for (owned_key,) in owned:
            db.execute(f"DELETE FROM {subject_table} WHERE {column} = ?", (owned_key,))  # noqa: S608
            db.execute(f"DELETE FROM {table} WHERE {column} = ?", (owned_key,))  # noqa: S608
    db.execute("DELETE FROM sv_merged WHERE survivor_key = ? OR retired_key = ?", (key, key))
    db.execute("DELETE FROM sv_identifier WHERE record_key = ?", (key,))
    db.execute("DELETE FROM sv_person_record WHERE record_key = ?", (key,))
    _write_links(db, linker.remove(key), applied)
    applied.subject_keys |= subjects


def _person_removed(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    recorded = _ms(event.value["recordedAt"]) or 0
    if _stale(db, "sv_person_record", "record_key", event.key, recorded):
        return
    _erase(db, linker, event.key, event.agency, applied)
    db.execute(
        "INSERT INTO sv_removed (key_hash, removed_at) VALUES (?, ?) "
        "ON CONFLICT (key_hash) DO UPDATE SET removed_at = excluded.removed_at",
        (_key_hash(event.key), recorded),
    )


def _persons_merged(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    recorded = _ms(event.value["recordedAt"]) or 0
    survivor = event.key
    retired = [key_of(i) for i in event.value["mergedIdentifier"]]
    retired = [k for k in retired if k != survivor]
    for key in retired:
        # The retired record's own data goes; its episodes and events stay and follow the survivor.
        previous = _person_of(db, key)
        if previous:
            applied.person_ids.add(previous)
        db.execute("DELETE FROM sv_identifier WHERE record_key = ?", (key,))
        db.execute("DELETE FROM sv_person_record WHERE record_key = ?", (key,))
        db.execute("UPDATE sv_merged SET survivor_key = ? WHERE survivor_key = ?", (survivor, key))
        db.execute(
            "INSERT INTO sv_merged (retired_key, survivor_key, recorded_at) VALUES (?, ?, ?) "
            "ON CONFLICT (retired_key) DO UPDATE SET survivor_key = excluded.survivor_key, "
            "recorded_at = excluded.recorded_at",
            (key, survivor, recorded),
        )
    _write_links(db, linker.merge(survivor, retired), applied)
    survivor_person = _person_of(db, survivor)
    if survivor_person:
        applied.person_ids.add(survivor_person)


def _subjects(items: list[Mapping[str, Any]]) -> set[str]:
    return {key_of(item["person"]) for item in items}


def _write_subjects(db: Connection, table: str, column: str, key: str, subjects: set[str]) -> None:
    db.execute(f"DELETE FROM {table} WHERE {column} = ?", (key,))  # noqa: S608 - fixed names
    db.executemany(
        f"INSERT INTO {table} ({column}, subject_key) VALUES (?, ?)",  # noqa: S608
        [(key, s) for s in sorted(subjects)],
    )


def _episode_recorded(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    recorded = _ms(event.value["recordedAt"]) or 0
    if _stale(db, "sv_episode", "episode_key", event.key, recorded):
        return
    episode = event.value["serviceEpisode"]
    times = episode.get("timeInformation") or [{}]
    subjects = _subjects(episode.get("subjectPerson") or []) | {
        key_of(i) for i in event.value["subjectIdentifier"]
    }
    db.execute(
        "INSERT INTO sv_episode (episode_key, agency, publisher, recorded_at, start_at, end_at, episode_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (episode_key) DO UPDATE SET agency = excluded.agency, "
        "publisher = excluded.publisher, recorded_at = excluded.recorded_at, start_at = excluded.start_at, "
        "end_at = excluded.end_at, episode_json = excluded.episode_json",
        (
            event.key, event.agency, key_of(event.value["publisher"]), recorded,
            _ms(times[0].get("startDateTime")), _ms(times[0].get("endDateTime")), dumps(episode),
        ),
    )  # fmt: skip
    _write_subjects(db, "sv_episode_subject", "episode_key", event.key, subjects)
    applied.subject_keys |= subjects


def _episode_closed(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    recorded = _ms(event.value["recordedAt"]) or 0
    if _stale(db, "sv_episode", "episode_key", event.key, recorded):
        return
    subjects = {key_of(i) for i in event.value["subjectIdentifier"]}
    ended = _ms(event.value["endDateTime"])
    rows = db.query("SELECT 1 FROM sv_episode WHERE episode_key = ?", (event.key,))
    if rows:
        db.execute(
            "UPDATE sv_episode SET end_at = ?, recorded_at = ? WHERE episode_key = ?",
            (ended, recorded, event.key),
        )
    else:  # closed before we saw it open: keep what we know, the full record may follow
        db.execute(
            "INSERT INTO sv_episode (episode_key, agency, publisher, recorded_at, start_at, end_at, episode_json) "
            "VALUES (?, ?, ?, ?, NULL, ?, NULL)",
            (event.key, event.agency, key_of(event.value["publisher"]), recorded, ended),
        )
        _write_subjects(db, "sv_episode_subject", "episode_key", event.key, subjects)
    applied.subject_keys |= subjects


def _life_event_recorded(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    recorded = _ms(event.value["recordedAt"]) or 0
    if _stale(db, "sv_life_event", "event_key", event.key, recorded):
        return
    life_event = event.value["lifeEvent"]
    times = life_event.get("timeInformation") or [{}]
    subjects = _subjects(life_event.get("subjectPerson") or []) | {
        key_of(i) for i in event.value["subjectIdentifier"]
    }
    db.execute(
        "INSERT INTO sv_life_event (event_key, agency, publisher, recorded_at, start_at, event_json) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO UPDATE SET agency = excluded.agency, "
        "publisher = excluded.publisher, recorded_at = excluded.recorded_at, start_at = excluded.start_at, "
        "event_json = excluded.event_json",
        (
            event.key, event.agency, key_of(event.value["publisher"]), recorded,
            _ms(times[0].get("startDateTime")) if times else None, dumps(life_event),
        ),
    )  # fmt: skip
    _write_subjects(db, "sv_life_event_subject", "event_key", event.key, subjects)
    applied.subject_keys |= subjects


_HANDLERS = {
    "PersonRecorded": _person_recorded,
    "PersonRemoved": _person_removed,
    "PersonsMerged": _persons_merged,
    "ServiceEpisodeRecorded": _episode_recorded,
    "ServiceEpisodeClosed": _episode_closed,
    "LifeEventRecorded": _life_event_recorded,
}
