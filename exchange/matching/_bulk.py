"""Comparison vectors of many pairs at once: the levels of :mod:`exchange.matching._compare`,
computed over aligned arrays of pairs instead of one pair at a time.

Batch linking and training compare hundreds of thousands of pairs; calling eight comparators
per pair cost about as much as everything else together. :class:`RecordColumns` holds each
record's fields once as small integer codes (a value's code is the same in every field and
record, 0 meaning none) in numpy arrays, with the text Jaro-Winkler and Levenshtein need;
:meth:`RecordColumns.levels` then decides each comparison for every pair with array operations
(rapidfuzz's ``cpdist`` for string similarity over aligned pairs). Multi-valued fields
(postcodes, address lines, identifiers) are padded columns compared slot against slot: the best
level over every combination, which is what the pairwise comparators return. The levels are
exactly those of :func:`exchange.matching._compare.compare` (property-tested), with ``-1`` where
that gives ``None``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from exchange.identifiers import NHS_NUMBER_SYSTEM
from exchange.matching._compare import COMPARISONS, LEVELS, postcode_parts
from exchange.matching._pairs import sorted_unique
from exchange.matching._record import MatchRecord
from exchange.matching._score import Scorer

__all__ = ["NONE", "Levels", "RecordColumns", "match_weights", "vector_counts"]

Indices = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Weights = npt.NDArray[np.float64]
Levels = npt.NDArray[np.int8]
"""One row per pair, one column per entry of ``COMPARISONS``; ``NONE`` where a record lacks the field."""

NONE = -1
_HIGH = 0.92
_LOW = 0.8
_FIELDS = {name: f for f, (name, _) in enumerate(COMPARISONS)}


def _family_names(record: MatchRecord) -> Sequence[str]:
    return record.family_names


def _postcodes(record: MatchRecord) -> Sequence[str]:
    return record.postcodes


def _uprns(record: MatchRecord) -> Sequence[str]:
    return record.uprns


def _lines(record: MatchRecord) -> Sequence[str]:
    return record.address_lines


def _cities(record: MatchRecord) -> Sequence[str]:
    return record.cities


def _positions(counts: Indices) -> Indices:
    """For runs of ``counts`` laid end to end, each element's position within its run."""
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def _any_shared(left: Codes, right: Codes) -> Mask:
    """Per pair of padded rows: whether they hold a code (not 0) in common."""
    shared = np.zeros(left.shape[0], np.bool_)
    for k in range(left.shape[1]):
        column = left[:, k : k + 1]
        shared |= ((column == right) & (column != 0)).any(axis=1)
    return shared


def _similarity(left: Sequence[str], right: Sequence[str]) -> npt.NDArray[np.float64]:
    if not left:
        return np.zeros(0, np.float64)
    return process.cpdist(left, right, scorer=JaroWinkler.similarity, dtype=np.float64)


class RecordColumns:
    """The fields of a sequence of records as columns, for comparing pairs of them in bulk."""

    def __init__(self, records: Sequence[MatchRecord]) -> None:
        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__  # a new value gets the next code
        vocabulary[""] = 0
        code = vocabulary.__getitem__
        n = len(records)

        def single(values: Iterable[str]) -> Codes:
            return np.fromiter(map(code, values), np.int64, n)

        def padded(counts: Iterable[int], values: Iterable[str]) -> Codes:
            """Each record's values as one row of codes, short rows padded with 0."""
            sizes = np.fromiter(counts, np.int64, n)
            flat = np.fromiter(map(code, values), np.int64, int(sizes.sum()))
            out = np.zeros((n, max(int(sizes.max(initial=0)), 1)), np.int64)
            out[np.repeat(np.arange(n), sizes), _positions(sizes)] = flat
            return out

        def multi(values_of: Callable[[MatchRecord], Sequence[str]]) -> Codes:
            return padded((len(values_of(r)) for r in records), chain.from_iterable(map(values_of, records)))

        self.nhs = single(r.nhs_number or "" for r in records)
        identifiers = [r.identifiers for r in records]
        self.system = padded(map(len, identifiers), (s for row in identifiers for s, _ in row))
        self.value = padded(map(len, identifiers), (v for row in identifiers for _, v in row))
        self.nhs_system = code(NHS_NUMBER_SYSTEM)
        """Identifiers of this system are the ``nhs_number`` comparison's, not ``identifier``'s."""
        self.named = np.fromiter((bool(r.given_names or r.preferred_names) for r in records), np.bool_, n)
        self.given = single(r.given_names[0] if r.given_names else "" for r in records)
        self.given_all = padded(
            (len(r.given_names) + len(r.preferred_names) for r in records),
            chain.from_iterable(chain(r.given_names, r.preferred_names) for r in records),
        )
        self.forms = [r.given_forms for r in records]
        self.family = single(r.family_names[0] if r.family_names else "" for r in records)
        self.family_all = multi(_family_names)
        births = [r.birth_date for r in records]
        self.born = np.fromiter((b is not None for b in births), np.bool_, n)
        self.year = np.fromiter(((b.year or 0) if b else 0 for b in births), np.int64, n)
        self.month = np.fromiter(((b.month or 0) if b else 0 for b in births), np.int64, n)
        self.day = np.fromiter(((b.day or 0) if b else 0 for b in births), np.int64, n)
        self.postcode = multi(_postcodes)
        self.uprn = multi(_uprns)
        self.line = multi(_lines)
        self.city = multi(_cities)
        # Postcode parts through the codes of whole postcodes (0, no postcode, has no parts).
        postcodes = sorted_unique(self.postcode.reshape(-1))
        parts = np.zeros((3, int(postcodes.max(initial=0)) + 1), np.int64)
        text = list(vocabulary)
        for number in postcodes[postcodes != 0].tolist():
            parts[:, number] = [code(part) for part in postcode_parts(text[number])]
        self.sector, self.district, self.area = (row[self.postcode] for row in parts)
        self.text = list(vocabulary)
        """Each code's text (codes are given in order, so a code is its position)."""
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def _strings(self, column: Codes, rows: Indices) -> list[str]:
        text = self.text
        return [text[c] for c in column[rows].tolist()]

    def levels(self, left: Indices, right: Indices) -> Levels:
        """The comparison levels of the pairs ``(left[k], right[k])`` (record indices)."""
        out = np.full((left.size, len(COMPARISONS)), NONE, np.int8)
        for name, method in self._comparisons().items():
            out[:, _FIELDS[name]] = method(left, right)
        return out

    def _comparisons(self) -> dict[str, Callable[[Indices, Indices], Any]]:
        return {
            "nhs_number": self._nhs,
            "identifier": self._identifier,
            "given_name": self._given,
            "family_name": self._family,
            "birth_date": self._birth_date,
            "postcode": self._postcode,
            "address": self._address,
            "city": self._city,
        }

    def _nhs(self, left: Indices, right: Indices) -> Levels:
        a, b = self.nhs[left], self.nhs[right]
        return np.where((a == 0) | (b == 0), NONE, np.where(a == b, 0, 1)).astype(np.int8)

    def _identifier(self, left: Indices, right: Indices) -> Levels:
        out = np.full(left.size, NONE, np.int8)
        exact = np.zeros(left.size, np.bool_)
        width = self.system.shape[1]
        for k in range(width):
            for q in range(width):
                system = self.system[left, k]
                same = (system != 0) & (system != self.nhs_system) & (system == self.system[right, q])
                if not same.any():
                    continue
                exact |= same & (self.value[left, k] == self.value[right, q])
                rows = np.flatnonzero(same)
                texts_a = self._strings(self.value[:, k], left[rows])
                texts_b = self._strings(self.value[:, q], right[rows])
                distance = process.cpdist(texts_a, texts_b, scorer=Levenshtein.distance, score_cutoff=1)
                level = np.where(distance <= 1, 1, 2).astype(np.int8)
                held = out[rows]
                out[rows] = np.where(held == NONE, level, np.minimum(held, level))
        out[exact] = 0
        return out

    def _given(self, left: Indices, right: Indices) -> Levels:
        out = np.full(left.size, 5, np.int8)
        first_a, first_b = self.given[left], self.given[right]
        named = self.named[left] & self.named[right]
        exact = (first_a != 0) & (first_a == first_b)
        out[exact] = 0
        rest = np.flatnonzero(named & ~exact)
        forms = self.forms
        pairs = zip(left[rest].tolist(), right[rest].tolist(), strict=True)
        shared = np.fromiter((not forms[i].isdisjoint(forms[j]) for i, j in pairs), np.bool_, rest.size)
        out[rest[shared]] = 1
        rest = rest[~shared]
        both = (first_a[rest] != 0) & (first_b[rest] != 0)
        compared = rest[both]
        similarity = _similarity(
            self._strings(self.given, left[compared]), self._strings(self.given, right[compared])
        )
        out[compared[similarity >= _HIGH]] = 2
        out[compared[(similarity < _HIGH) & (similarity >= _LOW)]] = 3
        rest = np.concatenate((rest[~both], compared[similarity < _LOW]))
        out[rest[_any_shared(self.given_all[left[rest]], self.given_all[right[rest]])]] = 4
        out[~named] = NONE
        return out

    def _family(self, left: Indices, right: Indices) -> Levels:
        out = np.full(left.size, 4, np.int8)
        first_a, first_b = self.family[left], self.family[right]
        present = (first_a != 0) & (first_b != 0)
        exact = present & (first_a == first_b)
        out[exact] = 0
        rest = np.flatnonzero(present & ~exact)
        similarity = _similarity(
            self._strings(self.family, left[rest]), self._strings(self.family, right[rest])
        )
        out[rest[similarity >= _HIGH]] = 1
        out[rest[(similarity < _HIGH) & (similarity >= _LOW)]] = 2
        rest = rest[similarity < _LOW]
        out[rest[_any_shared(self.family_all[left[rest]], self.family_all[right[rest]])]] = 3
        out[~present] = NONE
        return out

    def _birth_date(self, left: Indices, right: Indices) -> Levels:
        ya, ma, da = self.year[left], self.month[left], self.day[left]
        yb, mb, db = self.year[right], self.month[right], self.day[right]
        year = (ya != 0) & (ya == yb)
        month = (ma != 0) & (ma == mb)
        day = (da != 0) & (da == db)
        transposed = (ma != 0) & (ma == db) & (da == mb)
        two = (month & day) | (year & month) | (year & day) | (year & transposed)
        swapped = (ya == yb) & transposed  # as the pairwise comparator tests it (None == None)
        out = np.where(year & month & day, 0, np.where(two, np.where(swapped, 1, 2), np.where(year, 3, 4)))
        return np.where(self.born[left] & self.born[right], out, NONE).astype(np.int8)

    def _postcode(self, left: Indices, right: Indices) -> Levels:
        out = np.full(left.size, 4, np.int8)
        width = self.postcode.shape[1]
        for k in range(width):
            for q in range(width):
                for level, column in enumerate((self.postcode, self.sector, self.district, self.area)):
                    a = column[left, k]
                    out[(a != 0) & (a == column[right, q]) & (out > level)] = level
        missing = (self.postcode[left, 0] == 0) | (self.postcode[right, 0] == 0)
        out[missing] = NONE
        return out

    def _lines(self, column: Codes, left: Indices, right: Indices) -> Levels:
        """Exact (0), Jaro-Winkler >= 0.92 (1) or different (2) over every pair of values."""
        out = np.full(left.size, 2, np.int8)
        width = column.shape[1]
        for k in range(width):
            for q in range(width):
                a, b = column[left, k], column[right, q]
                valid = (a != 0) & (b != 0)
                out[valid & (a == b)] = 0
                rows = np.flatnonzero(valid & (a != b) & (out == 2))
                text = self.text
                similarity = _similarity(
                    [text[c] for c in a[rows].tolist()], [text[c] for c in b[rows].tolist()]
                )
                out[rows[similarity >= _HIGH]] = 1
        out[(column[left, 0] == 0) | (column[right, 0] == 0)] = NONE
        return out

    def _address(self, left: Indices, right: Indices) -> Levels:
        out = self._lines(self.line, left, right)
        out[_any_shared(self.uprn[left], self.uprn[right])] = 0
        return out

    def _city(self, left: Indices, right: Indices) -> Levels:
        return self._lines(self.city, left, right)


_NAME_COLUMNS = {"given_name": "given", "family_name": "family"}
"""The column holding the value each term-frequency-adjusted comparison looks up."""


def match_weights(scorer: Scorer, columns: RecordColumns, left: Indices, levels: Levels) -> Weights:
    """The match weight of each pair, exactly as :meth:`Scorer.weight` adds it up (the same
    additions in the same order; an exact name's adjustment is the left record's value's)."""
    total = np.full(left.size, scorer.model.prior_weight, np.float64)
    for f, (name, _) in enumerate(COMPARISONS):
        table = np.array((*scorer.level_weights(f), 0.0))  # NONE (-1) picks the trailing 0.0
        level = levels[:, f]
        total += table[level]
        if scorer.adjusts(f):
            values = getattr(columns, _NAME_COLUMNS[name])[left]
            exact = np.flatnonzero(level == 0)
            codes, position = np.unique(values[exact], return_inverse=True)
            text = columns.text
            adjustment = np.array(
                [scorer.value_adjustment(f, text[c] or None) for c in codes.tolist()], np.float64
            )
            added = np.zeros(left.size, np.float64)
            added[exact] = adjustment[position.reshape(-1)]
            total += added
    return total


def vector_counts(levels: Levels) -> Counter[tuple[int | None, ...]]:
    """How many pairs have each comparison vector, vectors in the order they first appear (as
    counting them one by one in a :class:`~collections.Counter` would give them)."""
    base = max(len(labels) for labels in LEVELS.values()) + 1  # NONE and every level, as digits
    digits = (levels.astype(np.int64) + 1) * (base ** np.arange(levels.shape[1], dtype=np.int64))
    _, first, counts = np.unique(digits.sum(axis=1), return_index=True, return_counts=True)
    out: Counter[tuple[int | None, ...]] = Counter()
    order = np.argsort(first)
    for row, count in zip(levels[first[order]].tolist(), counts[order].tolist(), strict=True):
        out[tuple(None if v == NONE else v for v in row)] = count
    return out
