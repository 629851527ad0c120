"""Comparison levels: how alike two records are, field by field, as Splink's comparisons say it.

Each comparison turns a pair of records into a level (0 is the most alike, the last is
"different") or ``None`` when either record lacks the field. The model gives each level its m and
u probabilities; the levels themselves are defined here, once, for training, batch linking and
the online index alike. Every comparison is symmetric.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from rapidfuzz.distance import JaroWinkler, Levenshtein

from exchange.identifiers import NHS_NUMBER_SYSTEM
from exchange.matching._pub03 import dob_score
from exchange.matching._record import MatchRecord

__all__ = ["COMPARISONS", "LEVELS", "TF_FIELDS", "Comparator", "compare", "postcode_parts"]

Comparator = Callable[[MatchRecord, MatchRecord], "int | None"]

_jw = JaroWinkler.similarity
_lev = Levenshtein.distance
_HIGH: Final = 0.92
_LOW: Final = 0.8


def _nhs(a: MatchRecord, b: MatchRecord) -> int | None:
    if a.nhs_number is None or b.nhs_number is None:
        return None
    return 0 if a.nhs_number == b.nhs_number else 1


def _identifier(a: MatchRecord, b: MatchRecord) -> int | None:
    best: int | None = None
    for system, value in a.identifiers:
        if system == NHS_NUMBER_SYSTEM:
            continue
        for other_system, other in b.identifiers:
            if other_system != system:
                continue
            if other == value:
                return 0
            level = 1 if _lev(value, other, score_cutoff=1) <= 1 else 2
            best = level if best is None else min(best, level)
    return best


def _given(a: MatchRecord, b: MatchRecord) -> int | None:
    ga, gb = a.given_names, b.given_names
    if not (ga or a.preferred_names) or not (gb or b.preferred_names):
        return None
    first_a = ga[0] if ga else ""
    first_b = gb[0] if gb else ""
    if first_a and first_a == first_b:
        return 0
    if a.given_forms & b.given_forms:
        return 1
    if first_a and first_b:
        similarity = _jw(first_a, first_b)
        if similarity >= _HIGH:
            return 2
        if similarity >= _LOW:
            return 3
    names_a = set(ga) | set(a.preferred_names)
    names_b = set(gb) | set(b.preferred_names)
    return 4 if names_a & names_b else 5


def _family(a: MatchRecord, b: MatchRecord) -> int | None:
    fa, fb = a.family_names, b.family_names
    if not fa or not fb:
        return None
    if fa[0] == fb[0]:
        return 0
    similarity = _jw(fa[0], fb[0])
    if similarity >= _HIGH:
        return 1
    if similarity >= _LOW:
        return 2
    return 3 if set(fa) & set(fb) else 4


def _birth_date(a: MatchRecord, b: MatchRecord) -> int | None:
    da, db = a.birth_date, b.birth_date
    if da is None or db is None:
        return None
    score = dob_score(da, db)
    if score == 100:
        return 0
    if score == 66:
        if da.year == db.year and da.month is not None and da.month == db.day and da.day == db.month:
            return 1
        return 2
    return 3 if score == 33 else 4


def postcode_parts(postcode: str) -> tuple[str, str, str]:
    """(sector, district, area) of a normalised postcode: ``MF31AB`` -> ``MF31A``, ``MF3``, ``MF``.

    A postcode not shaped like a UK one (``2615``) is cut by trailing characters instead
    (``261``, ``26``, ``2``), which keeps its own hierarchy where it has one.
    """
    if len(postcode) >= 5 and postcode[-3].isdigit() and postcode[-2:].isalpha():
        outward = postcode[:-3]
        area = outward[:2] if len(outward) > 1 and outward[1].isalpha() else outward[:1]
        return postcode[:-2], outward, area
    return postcode[:-1], postcode[:-2], postcode[:1]


def _postcode(a: MatchRecord, b: MatchRecord) -> int | None:
    pa, pb = a.postcodes, b.postcodes
    if not pa or not pb:
        return None
    best = 4
    for x in pa:
        for y in pb:
            if x == y:
                return 0
            if best == 1 or x[0] != y[0]:  # every part starts with the first character
                continue
            px, py = postcode_parts(x), postcode_parts(y)
            for level in range(1, best):
                if px[level - 1] and px[level - 1] == py[level - 1]:
                    best = level
                    break
    return best


def _address(a: MatchRecord, b: MatchRecord) -> int | None:
    if a.uprns and b.uprns and set(a.uprns) & set(b.uprns):
        return 0
    la, lb = a.address_lines, b.address_lines
    if not la or not lb:
        return None
    best = 2
    for x in la:
        for y in lb:
            if x == y:
                return 0
            if best > 1 and _jw(x, y) >= _HIGH:
                best = 1
    return best


def _city(a: MatchRecord, b: MatchRecord) -> int | None:
    ca, cb = a.cities, b.cities
    if not ca or not cb:
        return None
    best = 2
    for x in ca:
        for y in cb:
            if x == y:
                return 0
            if best > 1 and _jw(x, y) >= _HIGH:
                best = 1
    return best


COMPARISONS: Final[tuple[tuple[str, Comparator], ...]] = (
    ("nhs_number", _nhs),
    ("identifier", _identifier),
    ("given_name", _given),
    ("family_name", _family),
    ("birth_date", _birth_date),
    ("postcode", _postcode),
    ("address", _address),
    ("city", _city),
)
"""Every comparison, in the order of a comparison vector."""

LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "nhs_number": ("exact", "different"),
    "identifier": ("exact", "one character apart", "different"),
    "given_name": ("exact", "nickname or variant", "Jaro-Winkler >= 0.92", "Jaro-Winkler >= 0.8",
                   "another given name", "different"),
    "family_name": ("exact", "Jaro-Winkler >= 0.92", "Jaro-Winkler >= 0.8", "another family name",
                    "different"),
    "birth_date": ("exact", "day and month swapped", "two of year, month, day", "year only",
                   "different"),
    "postcode": ("exact", "sector", "district", "area", "different"),
    "address": ("exact line or UPRN", "Jaro-Winkler >= 0.92", "different"),
    "city": ("exact", "Jaro-Winkler >= 0.92", "different"),
}  # fmt: skip
"""The labels of each comparison's levels, most alike first (the model file uses them)."""

TF_FIELDS: Final[dict[str, Callable[[MatchRecord], str | None]]] = {
    "given_name": lambda r: r.given_names[0] if r.given_names else None,
    "family_name": lambda r: r.family_names[0] if r.family_names else None,
}
"""Comparisons whose exact level is adjusted by how common the value is, and the value compared."""


def compare(a: MatchRecord, b: MatchRecord) -> tuple[int | None, ...]:
    """The comparison vector of a pair: one level (or ``None``) per entry of :data:`COMPARISONS`."""
    return tuple(fn(a, b) for _, fn in COMPARISONS)
