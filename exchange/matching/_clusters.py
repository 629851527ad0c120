"""Clustering records into persons online, with stable person ids and explicit merges and splits.

Links at or above the model's auto-link threshold join records into one person; pairs between
the review and auto-link thresholds are kept as possible matches and never joined. Hard rules
hold for whole persons: a person never holds two different valid NHS numbers, nor two records of
one agency's register that the agency has not merged itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from exchange.matching._events import PersonEvent, RecordChange
from exchange.matching._index import Candidate, MatchIndex
from exchange.matching._model import Model
from exchange.matching._record import MatchRecord

__all__ = ["PersonCandidate", "PersonClusters", "PossibleMatch"]


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    """Two records scored between the review and auto-link thresholds: for a person to decide."""

    key: str
    other_key: str
    probability: float


@dataclass(frozen=True, slots=True)
class PersonCandidate:
    """A person found for a query: the person id and its best-scoring record."""

    person_id: str
    best: Candidate


class PersonClusters:
    """Records clustered into persons, kept up to date one record event at a time.

    ``new_person_id`` makes ids (default: a random 16-hex-digit id); ``known_person_ids`` maps
    record keys to the person ids they had before a restart, so ids survive rebuilding.
    """

    def __init__(
        self,
        model: Model | None = None,
        *,
        new_person_id: Callable[[], str] | None = None,
        known_person_ids: Mapping[str, str] | None = None,
    ) -> None:
        raise NotImplementedError("PersonClusters: not yet implemented")

    @property
    def index(self) -> MatchIndex:
        """The record index underneath (query it for records rather than persons)."""
        raise NotImplementedError

    def upsert(self, record: MatchRecord) -> list[PersonEvent]:
        """Hold ``record`` (new or an update of its key) and relink; the person events it caused."""
        raise NotImplementedError

    def remove(self, key: str) -> list[PersonEvent]:
        """Forget the record with ``key`` everywhere (PersonRemoved); the person events it caused."""
        raise NotImplementedError

    def merge(self, survivor: str, retired: tuple[str, ...]) -> list[PersonEvent]:
        """The agency merged ``retired`` records into ``survivor`` (PersonsMerged): they become one
        person whatever their scores (the NHS number rule still holds)."""
        raise NotImplementedError

    def apply(self, change: RecordChange) -> list[PersonEvent]:
        """Apply one record change (see :func:`~exchange.matching.record_change`)."""
        raise NotImplementedError

    def person_of(self, key: str) -> str | None:
        """The person id of the record with ``key``."""
        raise NotImplementedError

    def records_of(self, person_id: str) -> tuple[str, ...]:
        """The record keys of a person (empty for an unknown or retired id)."""
        raise NotImplementedError

    def persons(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Every person with its record keys."""
        raise NotImplementedError

    def possible_matches(self, person_id: str | None = None) -> list[PossibleMatch]:
        """Pairs between the review and auto-link thresholds (of one person's records, or all)."""
        raise NotImplementedError

    def query(self, record: MatchRecord, *, limit: int = 10) -> list[PersonCandidate]:
        """Persons that ``record`` may be, best first (the record itself is not added)."""
        raise NotImplementedError
