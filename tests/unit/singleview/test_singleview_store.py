"""The store and its linker without a broker: stable person ids across restarts, persons that do
not depend on arrival order and agree with batch linking, late older events, agency merges."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from exchange.matching import link, load_model, normalise
from services.singleview import Database, Event, Store
from services.singleview._queries import person_ids_for_subjects
from services.singleview.testing import SampleEvent, as_events, sample_events, store_snapshot


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[SampleEvent]:
    return sample_events(tmp_path_factory.mktemp("samples"), people=150, seed=3)


def _apply(store: Store, events: Sequence[Event], batch: int) -> None:
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        positions: dict[tuple[str, int], int] = {}
        for event in chunk:
            positions[(event.topic, event.partition)] = event.offset + 1
        store.apply_batch(chunk, positions)


def _url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path}/{name}.db"


def test_a_restart_after_every_batch_changes_no_row_and_no_person_id(
    events: list[SampleEvent], tmp_path: Path
) -> None:
    decoded = as_events(events)
    one_run = Store(Database(_url(tmp_path, "one"))).open()
    _apply(one_run, decoded, 97)
    one_run.close()
    restarted_url = _url(tmp_path, "restarted")
    for start in range(0, len(decoded), 97):
        store = Store(Database(restarted_url)).open()  # a new process: the linker is rebuilt
        _apply(store, decoded[start : start + 97], 97)
        store.close()
    assert store_snapshot(restarted_url) == store_snapshot(_url(tmp_path, "one"))


def _round_robin(events: list[SampleEvent]) -> list[SampleEvent]:
    """Every topic's events in their order, topics interleaved one event at a time, last first."""
    by_topic: dict[str, list[SampleEvent]] = {}
    for event in events:
        by_topic.setdefault(f"{event.agency}.{event.entity}", []).append(event)
    lanes = list(reversed(by_topic.values()))
    return [e for group in itertools.zip_longest(*lanes) for e in group if e is not None]


def test_persons_do_not_depend_on_arrival_order_and_equal_batch_linking(
    events: list[SampleEvent], tmp_path: Path
) -> None:
    first, second = _url(tmp_path, "in-order"), _url(tmp_path, "interleaved")
    _apply(Store(Database(first)).open(), as_events(events), 200)
    _apply(Store(Database(second)).open(), as_events(_round_robin(events)), 50)
    assert store_snapshot(second, person_ids=False) == store_snapshot(first, person_ids=False)

    db = Database(first).connect()
    records = [
        normalise(json.loads(body), source=agency, key=key)
        for key, agency, body in db.query("SELECT record_key, agency, person_json FROM sv_person_record")
    ]
    batch = link(records, load_model())
    assert sorted(map(list, batch.clusters)) == store_snapshot(first)["persons"]
    assert len(batch.clusters) < len(records)  # records of several agencies were linked


def test_a_late_older_event_never_overwrites_a_newer_one(events: list[SampleEvent], tmp_path: Path) -> None:
    recorded = [e for e in events if e.schema == "mais.v1.PersonRecorded"]
    newer = recorded[0]
    older_value = {**newer.value, "recordedAt": newer.value["recordedAt"] - timedelta(days=1)}
    older_value["person"] = {**newer.value["person"], "name": []}
    older = SampleEvent(newer.agency, newer.entity, newer.key, newer.schema, older_value)
    url = _url(tmp_path, "late")
    store = Store(Database(url)).open()
    _apply(store, as_events([newer, older]), 10)  # in one batch
    _apply(store, as_events([older], partition=1), 10)  # and in a later one
    db = store.reader()
    (body,) = db.query("SELECT person_json FROM sv_person_record WHERE record_key = ?", (newer.key,))[0]
    assert '"name":[]' not in body and '"givenName"' in body


def test_an_agency_merge_keeps_the_survivor_and_moves_the_retired_records_episodes(
    events: list[SampleEvent], tmp_path: Path
) -> None:
    merges = [e for e in events if e.schema == "mais.v1.PersonsMerged"]
    assert merges, "the sample set has agency merges"
    merge = merges[0]
    retired = [f"{i['system']}|{i['value']}" for i in merge.value["mergedIdentifier"] if i["value"]]
    url = _url(tmp_path, "merged")
    store = Store(Database(url)).open()
    _apply(store, as_events(events), 500)
    db = store.reader()
    for key in retired:
        assert not db.query("SELECT 1 FROM sv_person_record WHERE record_key = ?", (key,))
    assert store.linker.person_of(merge.key) is not None
    assert all(store.linker.person_of(key) is None for key in retired if key != merge.key)
    episodes = [r for key in retired for r in db.query(
        "SELECT episode_key FROM sv_episode_subject WHERE subject_key = ?", (key,))]  # fmt: skip
    assert episodes, "the hospital's episodes of the retired record are kept"
    assert person_ids_for_subjects(db, retired) == {store.linker.person_of(merge.key)}


def test_the_write_ahead_log_reaches_the_database_file_from_a_thread_of_its_own(
    events: list[SampleEvent], tmp_path: Path
) -> None:
    before = set(_checkpointers())
    store = Store(Database(_url(tmp_path, "wal"))).open()
    mine = set(_checkpointers()) - before
    assert len(mine) == 1
    _apply(store, as_events(events), 100)
    expected = store.reader().query("SELECT count(*) FROM sv_person_record")[0][0]
    copy = tmp_path / "file-only.db"  # the database file without its log: what checkpoints copied
    deadline = time.monotonic() + 30
    while True:
        shutil.copyfile(tmp_path / "wal.db", copy)
        with contextlib.closing(sqlite3.connect(copy)) as alone:
            found = alone.execute("SELECT count(*) FROM sv_person_record").fetchone()[0]
        copy.unlink()
        if found == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    store.close()
    assert expected > 0 and found == expected
    assert not any(thread.is_alive() for thread in mine)  # close() stops it


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "singleview-checkpoint"]
