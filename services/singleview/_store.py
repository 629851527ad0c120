"""Applying standard events to the store: upserts by record key, in order per key, erasure, merges.

:func:`apply_events` runs inside the caller's transaction. Record, episode and life events go
through the fast path (``_batch.py``: a few statements per batch); ``PersonRemoved`` and
``PersonsMerged`` are applied one at a time here, between two fast runs, so the order of events
holds. A key's stored ``recorded_at`` guards it: an event recorded before what the store already
holds for that key is skipped, so a late older event never overwrites a newer one (equal times
apply, the later offset wins).

Tables that can hold a person's data are listed in :data:`PERSONAL_TABLES`; erasure
(``PersonRemoved``) clears the record's rows from each and from the linker.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.singleview._batch import Batch, write_links
from services.singleview._changes import FAST_TYPES
from services.singleview._db import Connection
from services.singleview._linking import Linker
from services.singleview._records import Applied, Event, key_hash, key_of, ms

__all__ = ["PERSONAL_TABLES", "apply_events"]

PERSONAL_TABLES = (
    "sv_person_record", "sv_identifier", "sv_episode", "sv_episode_subject", "sv_life_event",
    "sv_life_event_subject", "sv_merged", "sv_link",
)  # fmt: skip
"""Every table a person's data (or a record key, which may be an NHS number) can reach."""


def apply_events(db: Connection, linker: Linker, events: Sequence[Event]) -> Applied:
    """Apply ``events`` in order inside the caller's transaction; what changed, for live updates."""
    applied = Applied()
    run: list[Event] = []
    for event in events:
        if event.short_type in FAST_TYPES:
            run.append(event)
            continue
        _fast(db, linker, run, applied)
        run = []
        handler = _SLOW.get(event.short_type)
        if handler is not None:
            handler(db, linker, event, applied)
    _fast(db, linker, run, applied)
    return applied


def _fast(db: Connection, linker: Linker, events: list[Event], applied: Applied) -> None:
    if not events:
        return
    batch = Batch(db, linker, events, applied)
    for event in events:
        batch.add(event)
    batch.write()


def _person_is_newer(db: Connection, key: str, recorded: int) -> bool:
    """True when the store holds something about ``key`` recorded after ``recorded``."""
    rows = db.query("SELECT recorded_at FROM sv_person_record WHERE record_key = ?", (key,))
    if rows and int(rows[0][0]) > recorded:
        return True
    removed = db.query("SELECT removed_at FROM sv_removed WHERE key_hash = ?", (key_hash(key),))
    if removed and int(removed[0][0]) >= recorded:
        return True
    merged = db.query("SELECT recorded_at FROM sv_merged WHERE retired_key = ?", (key,))
    return bool(merged) and int(merged[0][0]) >= recorded


def _erase(db: Connection, linker: Linker, key: str, agency: str, applied: Applied) -> None:
    """Delete a person record and everything derived from it, from the store and the linker."""
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
    write_links(db, linker.remove(key), applied)
    applied.subject_keys |= subjects


def _person_removed(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    recorded = ms(event.value["recordedAt"]) or 0
    if _person_is_newer(db, event.key, recorded):
        return
    _erase(db, linker, event.key, event.agency, applied)
    db.execute(
        "INSERT INTO sv_removed (key_hash, removed_at) VALUES (?, ?) "
        "ON CONFLICT (key_hash) DO UPDATE SET removed_at = excluded.removed_at",
        (key_hash(event.key), recorded),
    )


def _persons_merged(db: Connection, linker: Linker, event: Event, applied: Applied) -> None:
    """The agency merged duplicate records into one: the retired records' own data goes, their
    episodes and events follow the survivor (through ``sv_merged``)."""
    recorded = ms(event.value["recordedAt"]) or 0
    survivor = event.key
    retired = [k for k in (key_of(i) for i in event.value["mergedIdentifier"]) if k != survivor]
    for key in retired:
        db.execute("DELETE FROM sv_identifier WHERE record_key = ?", (key,))
        db.execute("DELETE FROM sv_person_record WHERE record_key = ?", (key,))
        db.execute("UPDATE sv_merged SET survivor_key = ? WHERE survivor_key = ?", (survivor, key))
        db.execute(
            "INSERT INTO sv_merged (retired_key, survivor_key, recorded_at) VALUES (?, ?, ?) "
            "ON CONFLICT (retired_key) DO UPDATE SET survivor_key = excluded.survivor_key, "
            "recorded_at = excluded.recorded_at",
            (key, survivor, recorded),
        )
        write_links(db, linker.remove(key), applied)
    survivor_person = linker.person_of(survivor)
    if survivor_person:
        applied.person_ids.add(survivor_person)


_SLOW = {"PersonRemoved": _person_removed, "PersonsMerged": _persons_merged}
