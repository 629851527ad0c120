"""What the reading process hands the store: prepared changes, pickled, give the same store."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from services.singleview import Database, Event, Store
from services.singleview._changes import PersonChange, change_of
from services.singleview._matcher import MatchingLinker
from services.singleview.testing import as_events, sample_events, store_snapshot


@pytest.fixture(scope="module")
def decoded(tmp_path_factory: pytest.TempPathFactory) -> list[Event]:
    return as_events(sample_events(tmp_path_factory.mktemp("samples"), people=150, seed=5))


def _prepared(event: Event) -> Event:
    """``event`` as the reading process sends it: the change worked out, the value left behind."""
    change = change_of(event, MatchingLinker.prepare)
    if change is None:
        return event
    sent = Event(event.topic, event.partition, event.offset, event.key, event.type, {}, change)
    return pickle.loads(pickle.dumps(sent))  # noqa: S301 - our own bytes, as the pipe carries them


def _fill(url: str, events: list[Event]) -> None:
    store = Store(Database(url)).open()
    for start in range(0, len(events), 100):
        chunk = events[start : start + 100]
        store.apply_batch(chunk, {(e.topic, e.partition): e.offset + 1 for e in chunk})
    store.close()


def test_a_store_fed_prepared_changes_equals_one_fed_decoded_values(
    decoded: list[Event], tmp_path: Path
) -> None:
    prepared = [_prepared(e) for e in decoded]
    assert sum(e.change is not None and not e.value for e in prepared) > len(decoded) * 0.9
    _fill(f"sqlite:///{tmp_path}/decoded.db", decoded)
    _fill(f"sqlite:///{tmp_path}/prepared.db", prepared)
    assert store_snapshot(f"sqlite:///{tmp_path}/prepared.db") == store_snapshot(
        f"sqlite:///{tmp_path}/decoded.db"
    )


def test_a_person_change_carries_search_columns_identifiers_and_the_record_normalised(
    decoded: list[Event],
) -> None:
    event = next(e for e in decoded if e.short_type == "PersonRecorded")
    change = change_of(event, MatchingLinker.prepare)
    assert isinstance(change, PersonChange)
    person = event.value["person"]
    assert change.birth_date == person["dateOfBirth"]["date"].isoformat()
    assert event.key in change.identifiers
    assert set(change.identifiers) >= {f"{i['system']}|{i['value']}" for i in person["identifier"]}
    assert change.match[0] == event.key  # the match record's key comes first
    assert change_of(event, MatchingLinker.prepare) == change  # pure: the same event, the same change
