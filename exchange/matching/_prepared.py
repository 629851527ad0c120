"""What training and batch linking derive from a list of records, kept for the last list seen.

``train(records)`` then ``link(records, model)`` (how a freshly trained model is used) would
block the same records and lay out their columns twice, and blocking is most of what either
costs. Both are functions of the records alone (records are immutable) and of the blocking
options, so the last list's columns and candidate pairs are kept and given again when the same
record objects come back in the same order. One list is held at a time; its arrays are
read-only.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from exchange.matching._bulk import RecordColumns
from exchange.matching._pairs import PairArrays, blocked_pairs
from exchange.matching._record import MatchRecord

__all__ = ["Prepared", "forget", "prepared"]


class Prepared:
    """One list of records with its columns and candidate pairs, each computed when first asked."""

    __slots__ = ("_columns", "_pairs", "records")

    def __init__(self, records: tuple[MatchRecord, ...]) -> None:
        self.records = records
        self._columns: RecordColumns | None = None
        self._pairs: dict[tuple[bool, int], PairArrays] = {}

    def holds(self, records: Sequence[MatchRecord]) -> bool:
        """Whether ``records`` are these very record objects, in this order."""
        return len(records) == len(self.records) and all(map(operator.is_, records, self.records))

    def columns(self) -> RecordColumns:
        """The records' fields as columns for bulk comparison."""
        if self._columns is None:
            self._columns = RecordColumns(self.records)
        return self._columns

    def pairs(self, *, link_only: bool, max_block: int) -> PairArrays:
        """The candidate pairs blocking puts forward (see :func:`blocked_pairs`)."""
        found = self._pairs.get((link_only, max_block))
        if found is None:
            left, right = blocked_pairs(self.records, link_only=link_only, max_block=max_block)
            left.flags.writeable = right.flags.writeable = False
            found = self._pairs[link_only, max_block] = (left, right)
        return found


class _Last:
    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held: Prepared | None = None


_last = _Last()


def prepared(records: Sequence[MatchRecord]) -> Prepared:
    """The :class:`Prepared` of ``records``: the one kept if it holds them, else a new one kept
    in its place."""
    held = _last.held
    if held is None or not held.holds(records):
        held = _last.held = Prepared(tuple(records))
    return held


def forget() -> None:
    """Let go of the list kept (a benchmark measuring a cold start, a caller freeing memory)."""
    _last.held = None
