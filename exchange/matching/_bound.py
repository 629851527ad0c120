"""The highest match weight a pair could reach, for many candidates at once, from cheap columns.

A block of thousands of records (a given and family name shared by thousands of people) would
cost tens of milliseconds to score one record at a time. So each record held also has its date of
birth, first postcode and first address line as small integers in numpy columns
(:class:`Columns`). For a large block, :class:`WeightBound` computes from them, for every member
at once, an upper bound on the pair's match weight: the date of birth at its real level, postcode
and address line exact or not, every other field at the best level it could be at. A member whose
bound is below the floor cannot reach the floor when scored, so it is skipped without changing
any result: the candidates kept are those that scoring every member would keep.

Two fields are bounded as if never exact: the NHS number and other identifiers. A record sharing
an identifier with the query shares its identifier block, which is never skipped, so it is found
there whatever its bound here.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from exchange.identifiers import NHS_NUMBER_SYSTEM
from exchange.matching._model import Model
from exchange.matching._record import MatchRecord
from exchange.matching._score import Scorer

__all__ = ["Columns", "WeightBound"]

Slots = npt.NDArray[np.int32]
Codes = npt.NDArray[np.int32]
Flags = npt.NDArray[np.uint8]
Bound = npt.NDArray[np.float64] | float

_DOB_MISSING = 1
_DOB_PARTIAL = 2
_POSTCODE_MISSING = 4
_POSTCODE_UNSURE = 8  # several postcodes: the first one does not decide the level
_LINE_MISSING = 16
_LINE_UNSURE = 32  # several first lines, or a UPRN: the first line does not decide the level
_EMPTY = _DOB_MISSING | _POSTCODE_MISSING | _LINE_MISSING


def _code(text: str) -> int:
    """A 32-bit code of ``text`` (a collision only makes a bound higher, never lower)."""
    return (hash(text) & 0x7FFFFFFF) or 1


class Columns:
    """Per-slot columns of the cheap fields, grown as slots are added (13 bytes a record)."""

    __slots__ = ("day", "flags", "line", "month", "postcode", "year")

    def __init__(self, capacity: int = 1024) -> None:
        self.year = np.zeros(capacity, np.int16)
        self.month = np.zeros(capacity, np.int8)
        self.day = np.zeros(capacity, np.int8)
        self.postcode = np.zeros(capacity, np.int32)
        self.line = np.zeros(capacity, np.int32)
        self.flags = np.full(capacity, _EMPTY, np.uint8)

    def _grow(self, slot: int) -> None:
        size = len(self.flags)
        if slot < size:
            return
        new = max(size * 2, slot + 1)
        for name in ("year", "month", "day", "postcode", "line"):
            old = getattr(self, name)
            grown = np.zeros(new, old.dtype)
            grown[:size] = old
            setattr(self, name, grown)
        flags = np.full(new, _EMPTY, np.uint8)
        flags[:size] = self.flags
        self.flags = flags

    def set(self, slot: int, record: MatchRecord) -> None:
        """Hold the cheap fields of ``record`` in ``slot``."""
        self._grow(slot)
        flags = 0
        birth = record.birth_date
        if birth is None:
            flags |= _DOB_MISSING
        elif not birth.complete:
            flags |= _DOB_PARTIAL
        else:
            self.year[slot] = birth.year or 0
            self.month[slot] = birth.month or 0
            self.day[slot] = birth.day or 0
        if not record.postcodes:
            flags |= _POSTCODE_MISSING
        else:
            self.postcode[slot] = _code(record.postcodes[0])
            if len(record.postcodes) > 1:
                flags |= _POSTCODE_UNSURE
        if not record.address_lines:
            flags |= _LINE_MISSING
        else:
            self.line[slot] = _code(record.address_lines[0])
        if len(record.address_lines) > 1 or record.uprns:
            flags |= _LINE_UNSURE
        self.flags[slot] = flags

    def clear(self, slot: int) -> None:
        """Forget ``slot`` (its record was removed)."""
        if slot < len(self.flags):
            self.flags[slot] = _EMPTY


def _best(weights: tuple[float, ...], *, present: bool = False) -> float:
    """The best weight of some levels; 0 is possible too unless the field is ``present``."""
    top = max(weights) if weights else 0.0
    return top if present else max(top, 0.0)


class WeightBound:
    """Upper bounds on the match weight of a query against many held records (see the module)."""

    __slots__ = ("_address", "_birth", "_city", "_family", "_given", "_identifiers", "_postcode", "_scorer")

    def __init__(self, scorer: Scorer) -> None:
        model: Model = scorer.model
        self._scorer = scorer

        def weights(name: str) -> tuple[float, ...]:
            return tuple(level.weight for level in model.comparison(name).levels)

        self._birth = weights("birth_date")
        self._postcode = weights("postcode")
        self._address = weights("address")
        self._given = weights("given_name")
        self._family = weights("family_name")
        self._city = weights("city")
        nhs, other = weights("nhs_number"), weights("identifier")
        # Exact identifier levels are found through identifier blocks (see the module).
        self._identifiers = (_best(nhs[1:]), _best(other[1:]))

    def _fixed(self, query: MatchRecord) -> float:
        """The bound of the fields not held in columns: each at its best level."""
        total = self._scorer.model.prior_weight
        if query.nhs_number is not None:
            total += self._identifiers[0]
        if any(s != NHS_NUMBER_SYSTEM for s, _ in query.identifiers):
            total += self._identifiers[1]
        for index, weights, present in (
            (2, self._given, bool(query.given_names or query.preferred_names)),
            (3, self._family, bool(query.family_names)),
        ):
            if present:
                exact = weights[0] + self._scorer.tf_adjustment(index, query)
                total += _best((exact, *weights[1:]))
        if query.cities:
            total += _best(self._city)
        return total

    def survivors(self, query: MatchRecord, slots: Slots, columns: Columns, floor: float) -> Slots:
        """The ``slots`` whose pair with ``query`` could reach match weight ``floor``."""
        if floor == -math.inf or len(slots) == 0:
            return slots
        flags = columns.flags[slots]
        bound = self._fixed(query) + self._birth_bound(query, slots, columns, flags)
        bound = bound + self._postcode_bound(query, columns.postcode[slots], flags)
        bound = bound + self._address_bound(query, columns.line[slots], flags)
        if isinstance(bound, float):
            return slots if bound >= floor else slots[:0]
        return slots[bound >= floor]

    def _birth_bound(self, query: MatchRecord, slots: Slots, columns: Columns, flags: Flags) -> Bound:
        birth = query.birth_date
        w = self._birth
        if birth is None:
            return 0.0
        missing = (flags & _DOB_MISSING) != 0
        if not birth.complete:
            return np.where(missing, 0.0, _best(w))
        year, month, day = columns.year[slots], columns.month[slots], columns.day[slots]
        same_year, same_month, same_day = year == birth.year, month == birth.month, day == birth.day
        exact = same_year & same_month & same_day
        swapped = same_year & (month == birth.day) & (day == birth.month)
        two = (same_month & same_day) | (same_year & same_month) | (same_year & same_day)
        level = np.select([exact, swapped, two, same_year], [w[0], w[1], w[2], w[3]], w[4])
        partial = (flags & _DOB_PARTIAL) != 0
        return np.where(missing, 0.0, np.where(partial, _best(w, present=True), level))

    def _postcode_bound(self, query: MatchRecord, codes: Codes, flags: Flags) -> Bound:
        if not query.postcodes:
            return 0.0
        w = self._postcode
        level = np.where(_any_code(codes, query.postcodes), w[0], _best(w[1:], present=True))
        unsure = np.where((flags & _POSTCODE_UNSURE) != 0, _best(w, present=True), level)
        return np.where((flags & _POSTCODE_MISSING) != 0, 0.0, unsure)

    def _address_bound(self, query: MatchRecord, codes: Codes, flags: Flags) -> Bound:
        w = self._address
        missing = (flags & _LINE_MISSING) != 0
        unsure = (flags & _LINE_UNSURE) != 0  # several lines or a UPRN
        if query.uprns or len(query.address_lines) > 1:
            return np.where(missing & ~unsure, 0.0, _best(w))
        if not query.address_lines:
            return 0.0
        level = np.where(_any_code(codes, query.address_lines), w[0], _best(w[1:], present=True))
        return np.where(missing, 0.0, np.where(unsure, _best(w, present=True), level))


def _any_code(codes: Codes, values: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    found: npt.NDArray[np.bool_] = codes == _code(values[0])
    for value in values[1:]:
        found |= codes == _code(value)
    return found
