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
from datetime import date
from typing import Any

from services.singleview._db import Connection
from services.singleview._linking import LinkChanges, Linker, normalise_name, normalise_postcode
from services.singleview._records import Applied, Event, dumps, key_hash, key_of, ms, subjects_of

__all__ = ["FAST_TYPES", "Batch"]

FAST_TYPES = frozenset(
    {"PersonRecorded", "ServiceEpisodeRecorded", "ServiceEpisodeClosed", "LifeEventRecorded"}
)
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


def _search_columns(person: Mapping[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """(family name, given name, date of birth, postcode) as the store keeps them for look-ups."""
    names = person.get("name") or []
    first = names[0] if names else {}
    born = (person.get("dateOfBirth") or {}).get("date")
    address = (person.get("address") or [{}])[0]
    return (
        normalise_name(" ".join(first.get("familyName") or [])) or None,
        normalise_name((first.get("givenName") or [""])[0]) or None,
        born.isoformat() if isinstance(born, date) else None,
        normalise_postcode(address.get("postcode") or "") or None,
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
        recorded = ms(event.value["recordedAt"]) or 0
        kind = event.short_type
        if kind == "PersonRecorded":
            self._person(event, recorded)
        elif kind == "ServiceEpisodeRecorded":
            self._episode(event, recorded)
        elif kind == "ServiceEpisodeClosed":
            self._closed(event, recorded)
        else:
            self._life_event(event, recorded)

    def _person(self, event: Event, recorded: int) -> None:
        key, digest = event.key, self.hashes[event.key]
        if self.person_at.get(key, recorded) > recorded:
            return
        if self.removed_at.get(digest, recorded - 1) >= recorded:
            return
        if self.merged_at.get(key, recorded - 1) >= recorded:
            return
        person = event.value["person"]
        self.person_at[key] = recorded
        if self.removed_at.pop(digest, None) is not None:
            self.unremoved.add(digest)
        self.person_rows[key] = (
            key,
            event.agency,
            key_of(event.value["publisher"]),
            recorded,
            dumps(person),
            *_search_columns(person),
        )
        self.identifiers[key] = {key} | {key_of(i) for i in person.get("identifier") or []}
        self.links.update(self.linker.upsert(key, event.agency, person))

    def _episode(self, event: Event, recorded: int) -> None:
        if self.episode_at.get(event.key, recorded) > recorded:
            return
        self.episode_at[event.key] = recorded
        episode = event.value["serviceEpisode"]
        times = episode.get("timeInformation") or [{}]
        subjects = subjects_of(episode.get("subjectPerson") or [], event.value["subjectIdentifier"])
        self.episode_rows[event.key] = [
            event.key,
            event.agency,
            key_of(event.value["publisher"]),
            recorded,
            ms(times[0].get("startDateTime")),
            ms(times[0].get("endDateTime")),
            dumps(episode),
        ]
        self.closes.pop(event.key, None)
        self.episode_subjects[event.key] = subjects
        self.applied.subject_keys |= subjects

    def _closed(self, event: Event, recorded: int) -> None:
        if self.episode_at.get(event.key, recorded) > recorded:
            return
        subjects = {key_of(i) for i in event.value["subjectIdentifier"]}
        ended = ms(event.value["endDateTime"])
        pending = self.episode_rows.get(event.key)
        if pending is not None:
            pending[3], pending[5] = recorded, ended
        elif event.key in self.episode_at:
            self.closes[event.key] = (ended, recorded)
        else:  # closed before we saw it open: keep what we know, the full record may follow
            self.episode_rows[event.key] = [
                event.key,
                event.agency,
                key_of(event.value["publisher"]),
                recorded,
                None,
                ended,
                None,
            ]
            self.episode_subjects[event.key] = subjects
        self.episode_at[event.key] = recorded
        self.applied.subject_keys |= subjects

    def _life_event(self, event: Event, recorded: int) -> None:
        if self.life_at.get(event.key, recorded) > recorded:
            return
        self.life_at[event.key] = recorded
        life_event = event.value["lifeEvent"]
        times = life_event.get("timeInformation") or [{}]
        subjects = subjects_of(life_event.get("subjectPerson") or [], event.value["subjectIdentifier"])
        self.life_rows[event.key] = (
            event.key,
            event.agency,
            key_of(event.value["publisher"]),
            recorded,
            ms(times[0].get("startDateTime")) if times else None,
            dumps(life_event),
        )
        self.life_subjects[event.key] = subjects
        self.applied.subject_keys |= subjects

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
