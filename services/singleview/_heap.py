"""Garbage collection for a process whose heap is mostly long-lived linker state.

The linker holds every record, blocking key and link in memory: hundreds of thousands of small
containers that live as long as the process. CPython's cyclic collector walks all of them in every
full collection and runs one each time the heap has grown by a quarter, which during a catch-up is
all the time. Measured on a drain of 53,102 events (14 s): 1.5 s in the collector, 0.9 s of it in
21 full collections.

So while the subscriber is busy, what survives a batch is frozen (``gc.freeze``: the collector stops
walking it) and young collections wait for a batch's worth of new objects. When the subscriber has
caught up and the frozen set has grown by a quarter since the last full collection, everything is
handed back to the collector, collected once, and frozen again. Garbage cycles made while busy wait
for that idle collection (the same drain left 497 unreachable objects).

The collector's settings are the process's: the first :class:`HeapKeeper` started sets them, the
last one stopped puts back what it found.
"""

from __future__ import annotations

import gc
import threading

__all__ = ["HeapKeeper"]

YOUNG_THRESHOLD = 50_000
"""Container allocations between young collections while a keeper runs (CPython's default: 700)."""
_GROWTH = 0.25
"""Objects frozen since the last full collection, as a share of those it left, that earn another."""
_SMALL = 100_000
"""A heap of fewer objects counts as this many (collecting it is cheap either way)."""


class _Process:
    """How many keepers run in this process, and the collector thresholds found before the first."""

    lock = threading.Lock()
    keepers = 0
    found: tuple[int, int, int] = gc.get_threshold()


class HeapKeeper:
    """:meth:`settle` after each batch, :meth:`idle` when caught up; :meth:`start`/:meth:`stop` once."""

    def __init__(self) -> None:
        self._kept = 0
        self._grown = 0

    def start(self) -> HeapKeeper:
        with _Process.lock:
            if _Process.keepers == 0:
                _Process.found = gc.get_threshold()
                gc.set_threshold(YOUNG_THRESHOLD, *_Process.found[1:])
            _Process.keepers += 1
        self._kept = gc.get_freeze_count()
        return self

    def stop(self) -> None:
        with _Process.lock:
            _Process.keepers -= 1
            if _Process.keepers == 0:
                gc.set_threshold(*_Process.found)
                gc.unfreeze()

    def settle(self) -> None:
        """A batch is applied: what it left in memory is long-lived, stop walking it."""
        self._grown += gc.get_count()[0]  # objects made since the last young collection or freeze
        gc.freeze()

    def idle(self) -> bool:
        """Caught up: a full collection if enough was frozen since the last one (True if it ran)."""
        if self._grown < max(self._kept, _SMALL) * _GROWTH:
            return False
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._kept, self._grown = gc.get_freeze_count(), 0
        return True
