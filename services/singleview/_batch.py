"""The fast path: a run of record and episode events applied with a few statements per batch.

:class:`Batch` reads what the store holds for every key of the run in one query per table, decides
each event in order in memory (the same rules as one event at a time: a late older event never
overwrites a newer one, a removed or merged-away record does not come back with an older event),
then writes the outcome with one ``executemany`` per table. PostgreSQL sends each
``executemany`` as one pipeline, so a batch costs a handful of round trips instead of several per
event. Erasure and agency merges are rare and touch many tables: they take the slow path in
``_store.py``, between two runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.singleview._changes import (
    Change,
    EpisodeChange,
    EpisodeClosure,
    LifeEventChange,
    PersonChange,
    change_of,
)
from services.singleview._db import Connection
from services.singleview._linking import LinkChanges, Linker
from services.singleview._records import Applied, Event, key_hash

__all__ = ["Batch", "write_links"]

_PERSON_UPSERT = (
    "INSERT INTO sv_person_record (record_key, agency, publisher, recorded_at, person_json, family_name, "
    "given_name, birth_date, postcode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_key) DO UPDATE "
    "SET agency = excluded.agency, publisher = excluded.publisher, recorded_at = excluded.recorded_at, "
    "person_json = excluded.person_json, family_name = excluded.family_name, "
    "given_name = excluded.given_name, birth_date = excluded.birth_date, postcode = excluded.postcode"
)
_EPISODE_UPSERT = (
    "INSERT INTO sv_episode (episode_key, agency, publisher, recorded_at, start_at, end_at, episode_json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (episode_key) DO UPDATE SET agency = excluded.agency, "
    "publisher = excluded.publisher, recorded_at = excluded.recorded_at, start_at = excluded.start_at, "
    "end_at = excluded.end_at, episode_json = excluded.episode_json"
)
_LIFE_EVENT_UPSERT = (
    "INSERT INTO sv_life_event (event_key, agency, publisher, recorded_at, start_at, event_json) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO UPDATE SET agency = excluded.agency, "
    "publisher = excluded.publisher, recorded_at = excluded.recorded_at, start_at = excluded.start_at, "
    "event_json = excluded.event_json"
)


class Batch:
    """One run of fast-path events: :meth:`add` each in order, then :meth:`write` once."""

    def __init__(self, db: Connection, linker: Linker, events: Sequence[Event], applied: Applied) -> None:
        self.db, self.linker, self.applied = db, linker, applied
        self.links = LinkChanges()
        persons = sorted({e.key for e in events if e.short_type == "PersonRecorded"})
        episodes = sorted({e.key for e in events if e.short_type.startswith("ServiceEpisode")})
        life_events = sorted({e.key for e in events if e.short_type == "LifeEventRecorded"})
        self.hashes = {key: key_hash(key) for key in persons}
        self.person_at = db.lookup(
            "SELECT record_key, recorded_at FROM sv_person_record WHERE record_key IN", persons
        )
        self.removed_at = db.lookup(
            "SELECT key_hash, removed_at FROM sv_removed WHERE key_hash IN", sorted(self.hashes.values())
        )
        self.merged_at = db.lookup(
            "SELECT retired_key, recorded_at FROM sv_merged WHERE retired_key IN", persons
        )
        self.episode_at = db.lookup(
            "SELECT episode_key, recorded_at FROM sv_episode WHERE episode_key IN", episodes
        )
        self.life_at = db.lookup(
            "SELECT event_key, recorded_at FROM sv_life_event WHERE event_key IN", life_events
        )
        self.stored_persons, self.stored_episodes = set(self.person_at), set(self.episode_at)
        self.stored_life = set(self.life_at)
        self.person_rows: dict[str, tuple[Any, ...]] = {}
        self.identifiers: dict[str, set[str]] = {}
        self.unremoved: set[str] = set()
        self.episode_rows: dict[str, list[Any]] = {}
        self.episode_subjects: dict[str, set[str]] = {}
        self.closes: dict[str, tuple[int | None, int]] = {}
        self.life_rows: dict[str, tuple[Any, ...]] = {}
        self.life_subjects: dict[str, set[str]] = {}

    def add(self, event: Event) -> None:
        change: Change | None = event.change or change_of(event, self.linker.prepare)
        if isinstance(change, PersonChange):
            self._person(event.key, event.agency, change)
        elif isinstance(change, EpisodeChange):
            self._episode(event.key, event.agency, change)
        elif isinstance(change, EpisodeClosure):
            self._closed(event.key, event.agency, change)
        elif isinstance(change, LifeEventChange):
            self._life_event(event.key, event.agency, change)

    def _person(self, key: str, agency: str, change: PersonChange) -> None:
        recorded, digest = change.recorded, self.hashes[key]
        if self.person_at.get(key, recorded) > recorded:
            return
        if self.removed_at.get(digest, recorded - 1) >= recorded:
            return
        if self.merged_at.get(key, recorded - 1) >= recorded:
            return
        self.person_at[key] = recorded
        if self.removed_at.pop(digest, None) is not None:
            self.unremoved.add(digest)
        self.person_rows[key] = (
            key,
            agency,
            change.publisher,
            recorded,
            change.person_json,
            change.family_name,
            change.given_name,
            change.birth_date,
            change.postcode,
        )
        self.identifiers[key] = set(change.identifiers)
        self.links.update(self.linker.upsert(key, change.match))

    def _episode(self, key: str, agency: str, change: EpisodeChange) -> None:
        recorded = change.recorded
        if self.episode_at.get(key, recorded) > recorded:
            return
        self.episode_at[key] = recorded
        self.episode_rows[key] = [
            key,
            agency,
            change.publisher,
            recorded,
            change.start_at,
            change.end_at,
            change.episode_json,
        ]
        self.closes.pop(key, None)
        self.episode_subjects[key] = set(change.subjects)
        self.applied.subject_keys.update(change.subjects)

    def _closed(self, key: str, agency: str, change: EpisodeClosure) -> None:
        recorded = change.recorded
        if self.episode_at.get(key, recorded) > recorded:
            return
        pending = self.episode_rows.get(key)
        if pending is not None:
            pending[3], pending[5] = recorded, change.end_at
        elif key in self.episode_at:
            self.closes[key] = (change.end_at, recorded)
        else:  # closed before we saw it open: keep what we know, the full record may follow
            self.episode_rows[key] = [key, agency, change.publisher, recorded, None, change.end_at, None]
            self.episode_subjects[key] = set(change.subjects)
        self.episode_at[key] = recorded
        self.applied.subject_keys.update(change.subjects)

    def _life_event(self, key: str, agency: str, change: LifeEventChange) -> None:
        recorded = change.recorded
        if self.life_at.get(key, recorded) > recorded:
            return
        self.life_at[key] = recorded
        self.life_rows[key] = (key, agency, change.publisher, recorded, change.start_at, change.event_json)
        self.life_subjects[key] = set(change.subjects)
        self.applied.subject_keys.update(change.subjects)

    def write(self) -> None:
        """Write everything decided, one statement per table and kind of change."""
        db = self.db
        db.executemany("DELETE FROM sv_removed WHERE key_hash = ?", [(h,) for h in sorted(self.unremoved)])
        db.executemany(_PERSON_UPSERT, [self.person_rows[k] for k in sorted(self.person_rows)])
        replaced = sorted(self.stored_persons & set(self.identifiers))
        db.executemany("DELETE FROM sv_identifier WHERE record_key = ?", [(k,) for k in replaced])
        db.executemany(
            "INSERT INTO sv_identifier (id_key, record_key, id_value) VALUES (?, ?, ?)",
            [
                (i, k, "".join(i.rpartition("|")[2].split()).upper())
                for k in sorted(self.identifiers)
                for i in sorted(self.identifiers[k])
            ],
        )
        db.executemany(
            "UPDATE sv_episode SET end_at = ?, recorded_at = ? WHERE episode_key = ?",
            [(end, at, k) for k, (end, at) in sorted(self.closes.items())],
        )
        db.executemany(_EPISODE_UPSERT, [tuple(self.episode_rows[k]) for k in sorted(self.episode_rows)])
        _replace_subjects(
            db, "sv_episode_subject", "episode_key", self.episode_subjects, self.stored_episodes
        )
        db.executemany(_LIFE_EVENT_UPSERT, [self.life_rows[k] for k in sorted(self.life_rows)])
        _replace_subjects(db, "sv_life_event_subject", "event_key", self.life_subjects, self.stored_life)
        write_links(db, self.links, self.applied)


def _replace_subjects(
    db: Connection, table: str, column: str, subjects: Mapping[str, set[str]], stored: set[str]
) -> None:
    replaced = sorted(stored & set(subjects))
    db.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(k,) for k in replaced])  # noqa: S608 - fixed names
    db.executemany(
        f"INSERT INTO {table} ({column}, subject_key) VALUES (?, ?)",  # noqa: S608 - fixed names
        [(k, s) for k in sorted(subjects) for s in sorted(subjects[k])],
    )


def write_links(db: Connection, changes: LinkChanges, applied: Applied) -> None:
    """Persist a linker's changes (record -> person, records it let go, retired person ids)."""
    applied.person_ids |= changes.touched
    db.executemany(
        "INSERT INTO sv_link (record_key, person_id) VALUES (?, ?) "
        "ON CONFLICT (record_key) DO UPDATE SET person_id = excluded.person_id",
        sorted(changes.persons.items()),
    )
    db.executemany("DELETE FROM sv_link WHERE record_key = ?", [(k,) for k in sorted(changes.unlinked)])
    db.executemany(
        "INSERT INTO sv_person_redirect (person_id, into_id) VALUES (?, ?) "
        "ON CONFLICT (person_id) DO UPDATE SET into_id = excluded.into_id",
        sorted(changes.redirects.items()),
    )
