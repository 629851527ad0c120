"""The online index: records in memory, found again through their blocking keys.

Blocking keys are held as their hashes (a collision only adds a candidate, which scoring then
judges), each mapped to one record slot or a list of slots; records are kept with their shared
parts interned, so a million people fit in well under the memory of a small service.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exchange.matching._blocking import blocking_keys
from exchange.matching._model import Model, load_model
from exchange.matching._pub03 import Grade, pub03_grade
from exchange.matching._record import MatchRecord
from exchange.matching._score import MatchScore, Scorer

__all__ = ["Candidate", "MatchIndex"]

DEFAULT_MAX_BLOCK = 5000
"""Blocks larger than this (a name shared by thousands) are not used to find candidates."""


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
        self._blocks: dict[int, int | list[int]] = {}
        self._intern = _Interner()

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
        blocks = self._blocks
        for key in blocking_keys(record):
            h = hash(key)
            held = blocks.get(h)
            if held is None:
                blocks[h] = slot
            elif isinstance(held, int):
                blocks[h] = [held, slot]
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
        self._free.append(slot)
        return record

    def candidates(self, record: MatchRecord) -> list[MatchRecord]:
        """Records sharing a blocking key with ``record`` (never the record itself)."""
        blocks = self._blocks
        found: set[int] = set()
        for key in blocking_keys(record):
            held = blocks.get(hash(key))
            if held is None:
                continue
            if isinstance(held, int):
                found.add(held)
            elif len(held) <= self.max_block or key.startswith("i|"):
                found.update(held)
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
        weight = self.scorer.weight
        probability = self.scorer.probability
        shared = {i for i in record.identifiers}
        found: list[Candidate] = []
        for other in self.candidates(record):
            if probability(weight(record, other)) < floor and not shared.intersection(other.identifiers):
                continue
            full = self.scorer.score(record, other)
            found.append(Candidate(other, pub03_grade(record, other), full))
        found.sort(key=lambda c: (c.score.probability, c.grade.score, c.key), reverse=True)
        return found[:limit]
