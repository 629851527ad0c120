"""The subscriber's garbage-collection keeper: batches' survivors frozen, cycles reclaimed when idle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from services.singleview import _heap
from services.singleview._heap import YOUNG_THRESHOLD, HeapKeeper


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A garbage cycle only the cyclic collector can reclaim; a weak reference to watch it."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def _no_subscriber_left_running() -> None:
    """These tests own the process's collector: a subscriber another test left running would share it."""
    assert _heap._Process.keepers == 0


@pytest.fixture
def keeper() -> Iterator[HeapKeeper]:
    gc.unfreeze()  # what earlier tests' stores froze would count as this keeper's heap
    gc.collect()
    running = HeapKeeper().start()
    try:
        yield running
    finally:
        running.stop()


def test_young_collections_wait_while_a_keeper_runs_and_the_settings_come_back_after_the_last() -> None:
    found = gc.get_threshold()
    first, second = HeapKeeper().start(), HeapKeeper().start()
    try:
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *found[1:])
        first.stop()
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the other one still runs
    finally:
        second.stop()
    assert gc.get_threshold() == found
    assert gc.get_freeze_count() == 0


def test_a_batch_survivors_are_frozen_and_a_cycle_made_meanwhile_waits_for_the_idle_collection(
    keeper: HeapKeeper,
) -> None:
    kept = [[n] for n in range(40_000)]  # what a batch leaves: linker state
    garbage = _cycle()
    keeper.settle()
    assert gc.get_freeze_count() >= len(kept)
    gc.collect()
    assert garbage() is not None  # frozen: ordinary collections no longer walk it

    assert keeper.idle() is True
    assert garbage() is None
    assert gc.get_freeze_count() >= len(kept)  # the survivors are frozen again
    assert keeper.idle() is False  # nothing new since: no second walk of the heap


def test_small_batches_do_not_earn_a_full_collection_each_time_the_subscriber_is_idle(
    keeper: HeapKeeper,
) -> None:
    kept = [[n] for n in range(1_000)]
    garbage = _cycle()
    keeper.settle()
    assert keeper.idle() is False
    assert garbage() is not None and kept
