"""PUB03's deterministic grades, its date-of-birth score table and its postcode score.

The grade says which elements two records share, exactly as the standard's table:

| grade | score | elements matching |
|---|---|---|
| Best | 0.99 | identifier system and identifier value |
| Superior | 0.8 | given name, family name, date of birth, address line and postcode (or city) |
| Very Good | 0.7 | given name, family name, date of birth and postcode |
| Good | 0.6 | given name, family name and date of birth |

Names match after normalisation and nickname mapping (:mod:`exchange.matching._names`); a date
of birth matches when its PUB03 score is 100; an address line matches when a first line or the
UPRN is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from exchange.matching._record import BirthDate, MatchRecord

__all__ = ["Grade", "dob_score", "postcode_score", "pub03_grade"]


class Grade(NamedTuple):
    """A PUB03 grade: ``score`` (0.99, 0.8, 0.7, 0.6, or 0.0 when no row applies), the ``quality``
    word of the standard's table ("Best" ... "Good", or "" for none) and the ``elements`` that
    matched (``identifier``, ``given``, ``family``, ``birth_date``, ``address_line``,
    ``postcode``, ``city``)."""

    score: float
    quality: str
    elements: tuple[str, ...]


def dob_score(query: BirthDate | None, candidate: BirthDate | None) -> int:
    """PUB03's date-of-birth score: 100 for the whole date, 66 for two of year, month and day (or
    the year with day and month transposed), 33 for the year only, 0 otherwise.

    Unknown parts (accuracy ``U``) never count as matching.
    """
    if query is None or candidate is None:
        return 0
    year = query.year is not None and query.year == candidate.year
    month = query.month is not None and query.month == candidate.month
    day = query.day is not None and query.day == candidate.day
    if year and month and day:
        return 100
    if (month and day) or (year and month) or (year and day):
        return 66
    transposed = query.month is not None and query.month == candidate.day and query.day == candidate.month
    if year and transposed:
        return 66
    return 33 if year else 0


def postcode_score(query: str, current: Sequence[str], former: Sequence[str] = ()) -> float:
    """PUB03's postcode score (normalised postcodes, no spaces): for each of the candidate's
    postcodes, the number of leading characters it shares with ``query`` over its own length; the
    best of the current postcodes, or of the former ones when no current one scores above 0.
    """

    def best(postcodes: Sequence[str]) -> float:
        top = 0.0
        for postcode in postcodes:
            if not postcode:
                continue
            shared = 0
            for a, b in zip(query, postcode, strict=False):
                if a != b:
                    break
                shared += 1
            top = max(top, shared / len(postcode))
        return top

    return best(current) or best(former)


def _elements(query: MatchRecord, candidate: MatchRecord) -> tuple[str, ...]:
    found: list[str] = []
    if set(query.identifiers) & set(candidate.identifiers):
        found.append("identifier")
    if query.given_forms & candidate.given_forms or set(query.given_names[:1]) & set(candidate.given_names):
        found.append("given")
    if set(query.family_names) & set(candidate.family_names):
        found.append("family")
    if dob_score(query.birth_date, candidate.birth_date) == 100:
        found.append("birth_date")
    if set(query.address_lines) & set(candidate.address_lines) or set(query.uprns) & set(candidate.uprns):
        found.append("address_line")
    if set(query.postcodes) & set(candidate.postcodes):
        found.append("postcode")
    if set(query.cities) & set(candidate.cities):
        found.append("city")
    return tuple(found)


def pub03_grade(query: MatchRecord, candidate: MatchRecord) -> Grade:
    """The PUB03 grade of ``candidate`` as an answer to ``query`` (the highest row that applies)."""
    elements = _elements(query, candidate)
    have = set(elements)
    if "identifier" in have:
        return Grade(0.99, "Best", elements)
    if {"given", "family", "birth_date"} <= have:
        if "address_line" in have and ("postcode" in have or "city" in have):
            return Grade(0.8, "Superior", elements)
        if "postcode" in have:
            return Grade(0.7, "Very Good", elements)
        return Grade(0.6, "Good", elements)
    return Grade(0.0, "", elements)
