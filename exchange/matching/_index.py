"""The online index: records in memory, found again through their blocking keys.

Blocking keys are held as their hashes (a collision only adds a candidate, which scoring then
judges), each mapped to one record slot or a compact array of slots; records are kept with their
shared parts interned, so a million people fit in well under the memory of a small service.

A block larger than :data:`LARGE_BLOCK` (a common name) is not scored member by member: numpy
bounds every member's match weight from cheap columns first (:mod:`exchange.matching._bound`)
and only members that could reach the floor are scored, which gives the same candidates as
scoring them all.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from exchange.matching._blocking import blocking_keys
from exchange.matching._bound import Columns, WeightBound
from exchange.matching._model import Model, load_model
from exchange.matching._pub03 import Grade, pub03_grade
from exchange.matching._record import MatchRecord
from exchange.matching._score import MatchScore, Scorer, hard_rule

__all__ = ["Candidate", "MatchIndex"]

DEFAULT_MAX_BLOCK = 5000
"""Blocks larger than this (a name shared by thousands) are not used to find candidates."""
LARGE_BLOCK = 48
"""Blocks larger than this are filtered by a weight bound before their members are scored."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record found for a query: its PUB03 grade and its probabilistic score with explanation."""

    record: MatchRecord
    grade: Grade
    score: MatchScore

    @property
    def key(self) -> str:
        """The candidate record's key."""
        return self.record.key

    @property
    def probability(self) -> float:
        """The match probability (0.0 when a hard rule forbids the link)."""
        return self.score.probability


class _Interner:
    """Keeps one copy of equal tuples, sets and dates, shared by every record holding them."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[object, object] = {}

    def __call__(self, record: MatchRecord) -> MatchRecord:
        seen = self._seen

        def one(value: object) -> object:
            return seen.setdefault(value, value)

        return MatchRecord(
            key=record.key,
            source=one(record.source),  # type: ignore[arg-type]
            identifiers=tuple((one(s), v) for s, v in record.identifiers),  # type: ignore[misc]
            nhs_number=record.nhs_number,
            given_names=one(record.given_names),  # type: ignore[arg-type]
            preferred_names=one(record.preferred_names),  # type: ignore[arg-type]
            family_names=one(record.family_names),  # type: ignore[arg-type]
            given_forms=one(record.given_forms),  # type: ignore[arg-type]
            birth_date=one(record.birth_date),  # type: ignore[arg-type]
            postcodes=one(record.postcodes),  # type: ignore[arg-type]
            address_lines=one(record.address_lines),  # type: ignore[arg-type]
            cities=one(record.cities),  # type: ignore[arg-type]
            uprns=one(record.uprns),  # type: ignore[arg-type]
            sex=one(record.sex),  # type: ignore[arg-type]
        )


class MatchIndex:
    """Records held in memory for matching: add, update, remove, and query for ranked candidates.

    Not thread-safe: one owner (a consumer loop, a request handler behind a lock) mutates it.
    """

    def __init__(self, model: Model | None = None, *, max_block: int = DEFAULT_MAX_BLOCK) -> None:
        self.model = model if model is not None else load_model()
        self.scorer = Scorer(self.model)
        self.max_block = max_block
        self._records: list[MatchRecord | None] = []
        self._slots: dict[str, int] = {}
        self._free: list[int] = []
        self._blocks: dict[int, int | array[int]] = {}
        self._columns = Columns()
        self._bound = WeightBound(self.scorer)
        self._intern = _Interner()
        self._last: tuple[MatchRecord | None, list[str]] = (None, [])
        """The record added last and its blocking keys: an upsert asks for its candidates next."""

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: object) -> bool:
        return key in self._slots

    def __iter__(self) -> Iterator[MatchRecord]:
        return (r for r in self._records if r is not None)

    def get(self, key: str) -> MatchRecord | None:
        """The record held under ``key``, if any."""
        slot = self._slots.get(key)
        return None if slot is None else self._records[slot]

    def add(self, record: MatchRecord) -> None:
        """Hold ``record``; a record already held under the same key is replaced (an update)."""
        if record.key in self._slots:
            self.remove(record.key)
        record = self._intern(record)
        if self._free:
            slot = self._free.pop()
            self._records[slot] = record
        else:
            slot = len(self._records)
            self._records.append(record)
        self._slots[record.key] = slot
        self._columns.set(slot, record)
        blocks = self._blocks
        keys = blocking_keys(record)
        self._last = (record, keys)
        for key in keys:
            h = hash(key)
            held = blocks.get(h)
            if held is None:
                blocks[h] = slot
            elif isinstance(held, int):
                blocks[h] = array("i", (held, slot))
            else:
                held.append(slot)

    update = add

    def remove(self, key: str) -> MatchRecord | None:
        """Forget the record held under ``key``; returns it (``None`` when none was held)."""
        slot = self._slots.pop(key, None)
        if slot is None:
            return None
        record = self._records[slot]
        if record is None:  # a slot in _slots always holds its record
            return None
        blocks = self._blocks
        for block_key in blocking_keys(record):
            h = hash(block_key)
            held = blocks.get(h)
            if held is None:
                continue
            if isinstance(held, int):
                if held == slot:
                    del blocks[h]
                continue
            if slot in held:
                held.remove(slot)
            if len(held) == 1:
                blocks[h] = held[0]
        self._records[slot] = None
        self._last = (None, [])
        self._columns.clear(slot)
        self._free.append(slot)
        return record

    def candidates(self, record: MatchRecord, *, min_probability: float = 0.0) -> list[MatchRecord]:
        """Records sharing a blocking key with ``record`` (never the record itself).

        With ``min_probability``, members of large blocks whose match probability with ``record``
        cannot reach it are left out (records sharing an identifier never are).
        """
        floor = _weight_of(min_probability)
        blocks = self._blocks
        found: set[int] = set()
        last, keys = self._last
        for key in keys if last is record else blocking_keys(record):
            held = blocks.get(hash(key))
            if held is None:
                continue
            if isinstance(held, int):
                found.add(held)
            elif key.startswith("i|") or len(held) <= LARGE_BLOCK:
                found.update(held)
            elif len(held) <= self.max_block:
                slots = np.frombuffer(held, dtype=np.int32).copy()
                found.update(self._bound.survivors(record, slots, self._columns, floor).tolist())
        records = self._records
        own = self._slots.get(record.key)
        return [r for s in found if s != own and (r := records[s]) is not None]

    def query(
        self, record: MatchRecord, *, limit: int = 10, min_probability: float | None = None
    ) -> list[Candidate]:
        """Candidates for ``record``, best first: by probability, then PUB03 grade.

        ``min_probability`` defaults to the model's review threshold; a candidate that shares an
        identifier (PUB03 grade Best) is returned whatever its probability, with any hard rule
        that forbids linking it in its score.
        """
        floor = self.model.thresholds.review if min_probability is None else min_probability
        weight, probability, model = self.scorer.weight, self.scorer.probability, self.model
        shared = set(record.identifiers)
        ranked: list[tuple[float, MatchRecord]] = []
        for other in self.candidates(record, min_probability=floor):
            p = probability(weight(record, other))
            if p < floor and not shared.intersection(other.identifiers):
                continue
            ranked.append((0.0 if hard_rule(record, other, model) else p, other))
        if len(ranked) > limit:  # only the best (and any tied with the last) need grade and explanation
            ranked.sort(key=lambda item: item[0], reverse=True)
            cut = ranked[limit - 1][0]
            ranked = [item for item in ranked if item[0] >= cut]
        graded = [(p, pub03_grade(record, other), other) for p, other in ranked]
        graded.sort(key=lambda item: (item[0], item[1].score, item[2].key), reverse=True)
        return [
            Candidate(other, grade, self.scorer.score(record, other)) for _, grade, other in graded[:limit]
        ]


def _weight_of(probability: float) -> float:
    """The match weight of a probability (``-inf`` for 0)."""
    if probability <= 0.0:
        return -math.inf
    if probability >= 1.0:
        return math.inf
    return math.log2(probability / (1.0 - probability))
