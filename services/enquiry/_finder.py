"""The PersonFinder of a responder: the matching library's online index over the agency's own records.

A record is *known* to be the person asked about when no hard rule forbids it (two different valid
NHS numbers never match) and either a row of PUB03's table applies (grade 0.6 and above: an
identifier, or names and date of birth with more) or the probabilistic score reaches the model's
``auto_link`` threshold. The answer reports both the PUB03 grade and the probability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from exchange.matching import MatchIndex, Model, load_model, normalise
from services.enquiry._records import Found, PersonFinder

__all__ = ["MatchingFinder", "default_finder"]

_GOOD = 0.6  # PUB03's lowest grade: given and family names and date of birth


class MatchingFinder:
    """:class:`PersonFinder` over ``exchange.matching.MatchIndex``."""

    def __init__(self, agency: str, model: Model | None = None, *, limit: int = 5) -> None:
        self.agency = agency
        self.index = MatchIndex(model or load_model())
        self.limit = limit

    def upsert(self, key: str, person: Mapping[str, Any]) -> None:
        self.index.add(normalise(person, source=self.agency, key=key))

    def remove(self, key: str) -> None:
        self.index.remove(key)

    def find(self, query: Mapping[str, Any]) -> Sequence[Found]:
        record = normalise(query, source="enquiry", key="enquiry-query")
        auto_link = self.index.model.thresholds.auto_link
        found = []
        for candidate in self.index.query(record, limit=self.limit):
            allowed = candidate.score.rule is None
            known = allowed and (candidate.grade.score >= _GOOD or candidate.probability >= auto_link)
            found.append(Found(candidate.key, candidate.grade.score, candidate.probability, known))
        return found


def default_finder(agency: str) -> PersonFinder:
    """The finder for ``agency``'s own records (the shipped matching model)."""
    return MatchingFinder(agency)
