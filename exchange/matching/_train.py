"""Estimating a model from records, as Splink does: u from random pairs, m by expectation
maximisation on blocked pairs (or by counting labelled pairs when a truth is given), term
frequencies from the records themselves.

EM runs over the distinct comparison vectors with their counts, not over pairs, so it costs
microseconds however many pairs there are; comparing the pairs is the work.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from exchange.matching._bulk import NONE, RecordColumns, vector_counts
from exchange.matching._compare import COMPARISONS, LEVELS
from exchange.matching._index import DEFAULT_MAX_BLOCK
from exchange.matching._model import Comparison, Level, Model, Thresholds, term_frequencies
from exchange.matching._pairs import Indices, block_pairs, blocks, sorted_unique, sources_of
from exchange.matching._prepared import prepared
from exchange.matching._record import MatchRecord
from exchange.matching._score import hard_rule

__all__ = ["TrainingSettings", "train"]

Vector = tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    """How to train: random pairs for u, EM iterations and tolerance, seed, thresholds to save."""

    random_pairs: int = 50_000
    max_iterations: int = 25
    tolerance: float = 1e-4
    seed: int = 1
    thresholds: Thresholds = field(default_factory=Thresholds)
    term_frequencies: int = 2000
    """How many of the most common values of each name field to keep."""
    link_only: bool = False
    """Pairs within one source are never compared (two data sets linked to each other)."""
    em_pairs: int = 20_000
    """Pairs compared in each EM session, drawn at random from the session's blocks."""
    blocked_pairs: int = 50_000
    """Candidate pairs compared to estimate the share of matches among them (drawn at random;
    with a truth every candidate pair is compared)."""


def _level_counts(vectors: Mapping[Vector, float]) -> list[list[float]]:
    counts = [[0.0] * len(LEVELS[name]) for name, _ in COMPARISONS]
    for vector, weight in vectors.items():
        for f, level in enumerate(vector):
            if level is not None:
                counts[f][level] += weight
    return counts


def _proportions(counts: list[list[float]], smoothing: float) -> list[list[float]]:
    out = []
    for row in counts:
        total = sum(row) + smoothing * len(row)
        out.append([(c + smoothing) / total for c in row])
    return out


def _random_vectors(
    records: Sequence[MatchRecord], columns: RecordColumns, settings: TrainingSettings
) -> Counter[Vector]:
    rng = random.Random(settings.seed)  # noqa: S311 - sampling pairs, not secrets
    n = len(records)
    if n < 2:
        return Counter()
    left: list[int] = []
    right: list[int] = []
    for _ in range(settings.random_pairs * 3):
        if len(left) >= settings.random_pairs:
            break
        i, j = rng.randrange(n), rng.randrange(n)
        if i == j or (settings.link_only and records[i].source == records[j].source):
            continue
        left.append(i)
        right.append(j)
    a, b = np.array(left, np.int64), np.array(right, np.int64)
    return vector_counts(columns.levels(a, b))


def _em(
    vectors: Counter[Vector], m: list[list[float]], u: list[list[float]], settings: TrainingSettings
) -> tuple[list[list[float]], float]:
    """m and the share of matches among ``vectors``, with u held fixed."""
    share = 0.1
    for _ in range(settings.max_iterations):
        posterior: dict[Vector, float] = {}
        for vector, count in vectors.items():
            pm, pu = share, 1.0 - share
            for f, level in enumerate(vector):
                if level is not None:
                    pm *= m[f][level]
                    pu *= u[f][level]
            posterior[vector] = count * pm / (pm + pu) if pm + pu > 0 else 0.0
        new_m = _proportions(_level_counts(posterior), 1e-3)
        new_share = sum(posterior.values()) / max(sum(vectors.values()), 1)
        change = max(
            abs(a - b) for row, old in zip(new_m, m, strict=True) for a, b in zip(row, old, strict=True)
        )
        m, share = new_m, new_share
        if change < settings.tolerance:
            break
    return m, share


_SESSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("birth_date", ("birth_date",)),
    ("names", ("given_name", "family_name")),
    ("identifiers", ("nhs_number", "identifier")),
)
"""Splink-style EM sessions: pairs agreeing exactly on the named fields, whose m cannot be
estimated from those pairs (they agree by construction), so they are left out of that session."""
_FIELD_INDEX = {name: f for f, (name, _) in enumerate(COMPARISONS)}
_SESSION_CAP = 50


def _session_rows(session: str, columns: RecordColumns) -> tuple[Indices, Indices]:
    """(record, key) rows of a session's blocks, in record order: the complete date of birth,
    the first given and family names, or each identifier (any system)."""
    n = columns.year.size
    if session == "birth_date":
        complete = (columns.year != 0) & (columns.month != 0) & (columns.day != 0)
        owner = np.flatnonzero(complete)
        return owner, (columns.year * 10_000 + columns.month * 100 + columns.day)[owner]
    vocabulary = len(columns.text)
    if session == "names":
        owner = np.flatnonzero((columns.given != 0) & (columns.family != 0))
        return owner, columns.given[owner] * vocabulary + columns.family[owner]
    held = columns.system != 0  # row-major: each record's identifiers in order
    owner = np.repeat(np.arange(n, dtype=np.int64), held.sum(axis=1))
    return owner, (columns.system * vocabulary + columns.value)[held]


def _session_vectors(
    records: Sequence[MatchRecord],
    columns: RecordColumns,
    session: str,
    excluded: tuple[str, ...],
    settings: TrainingSettings,
) -> Counter[Vector]:
    """Comparison vectors of at most ``em_pairs`` pairs sharing a session key (blocks above
    ``_SESSION_CAP`` cut to a random ``_SESSION_CAP`` members), the session's fields left out."""
    members, sizes, _ = blocks(*_session_rows(session, columns))
    rng = random.Random(settings.seed)  # noqa: S311 - sampling pairs, not secrets
    keep = np.ones(members.size, np.bool_)
    starts = np.cumsum(sizes) - sizes
    for b in np.flatnonzero(sizes > _SESSION_CAP).tolist():
        kept = np.zeros(int(sizes[b]), np.bool_)
        kept[rng.sample(range(int(sizes[b])), _SESSION_CAP)] = True
        keep[starts[b] : starts[b] + sizes[b]] = kept
    left, right = block_pairs(members[keep], np.minimum(sizes, _SESSION_CAP))
    left, right = np.minimum(left, right), np.maximum(left, right)
    if settings.link_only:
        source = sources_of(records)
        differ = source[left] != source[right]
        left, right = left[differ], right[differ]
    n = len(records)
    codes = sorted_unique(left * n + right)  # (i, j) in order
    if codes.size > settings.em_pairs:
        codes = codes[rng.sample(range(codes.size), settings.em_pairs)]
    levels = columns.levels(*np.divmod(codes, n))
    levels[:, [_FIELD_INDEX[name] for name in excluded]] = NONE
    return vector_counts(levels)


def _estimate_m(
    records: Sequence[MatchRecord], columns: RecordColumns, u: list[list[float]], settings: TrainingSettings
) -> list[list[float]]:
    """m per field: the mean of the sessions that could estimate it."""
    sums = [[0.0] * len(row) for row in u]
    runs = [0] * len(u)
    for session, excluded in _SESSIONS:
        vectors = _session_vectors(records, columns, session, excluded, settings)
        if not vectors:
            continue
        start = [[0.9] + [0.1 / max(len(row) - 1, 1)] * (len(row) - 1) for row in u]
        m, _ = _em(vectors, start, u, settings)
        counts = _level_counts(vectors)
        for f, row in enumerate(m):
            if _FIELD_INDEX_NAMES[f] in excluded or sum(counts[f]) == 0:
                continue
            runs[f] += 1
            for k, value in enumerate(row):
                sums[f][k] += value
    out = []
    for f, row in enumerate(sums):
        if runs[f]:
            out.append([v / runs[f] for v in row])
        else:
            n = len(row)
            out.append([0.9] + [0.1 / max(n - 1, 1)] * (n - 1))
    return out


_FIELD_INDEX_NAMES = [name for name, _ in COMPARISONS]


def _share_of_matches(
    vectors: Counter[Vector], m: list[list[float]], u: list[list[float]], settings: TrainingSettings
) -> float:
    """The share of matches among ``vectors`` with m and u held fixed (EM on lambda alone)."""
    share = 0.1
    total = max(sum(vectors.values()), 1)
    for _ in range(settings.max_iterations * 4):
        expected = 0.0
        for vector, count in vectors.items():
            pm, pu = share, 1.0 - share
            for f, level in enumerate(vector):
                if level is not None:
                    pm *= m[f][level]
                    pu *= u[f][level]
            expected += count * pm / (pm + pu) if pm + pu > 0 else 0.0
        new_share = expected / total
        if abs(new_share - share) < settings.tolerance * 0.01:
            return new_share
        share = new_share
    return share


def _no_worse_than_different(levels: tuple[Level, ...]) -> tuple[Level, ...]:
    """Levels whose weight is at least the last ("different") level's.

    EM gives m near 0 to a level it never sees among matches (no postcode in the same sector but
    not the same, in generated samples), which would make a near miss count against a pair more
    than a total disagreement does. Such a level's m is raised until its weight equals the
    "different" level's (m then no longer sums to 1; the weights are what scoring uses).
    """
    last = levels[-1]
    floor = last.weight
    raised = tuple(
        Level(lv.label, max(lv.u, 1e-9) * 2.0**floor, lv.u) if lv.weight < floor else lv for lv in levels[:-1]
    )
    return (*raised, last)


def train(
    records: Iterable[MatchRecord],
    *,
    truth: Mapping[str, str] | None = None,
    settings: TrainingSettings | None = None,
    description: str = "",
) -> Model:
    """Estimate a model from ``records``.

    u comes from comparing random pairs. m comes from EM sessions as Splink runs them (pairs with
    the same date of birth, the same names, a shared identifier; each session estimates the
    fields it does not block on) or, when ``truth`` (record key -> true person id) is given, from
    the candidate pairs the truth says are matches. The prior is the expected share of matching
    pairs among all pairs, estimated over the pairs blocking puts forward.
    """
    settings = settings or TrainingSettings()
    items = list(records)
    n = len(items)
    if n < 2:
        raise ValueError("training needs at least two records")
    placeholder = Model(
        tuple(Comparison(name, ()) for name, _ in COMPARISONS), prior=0.5, thresholds=settings.thresholds
    )
    shared = prepared(items)
    columns = shared.columns()
    u = _proportions(_level_counts(_random_vectors(items, columns, settings)), 0.5)
    left, right = shared.pairs(link_only=settings.link_only, max_block=DEFAULT_MAX_BLOCK)
    scale = 1.0
    if truth is None and left.size > settings.blocked_pairs:
        chosen = random.Random(settings.seed).sample(range(left.size), settings.blocked_pairs)  # noqa: S311
        scale, left, right = left.size / len(chosen), left[chosen], right[chosen]
    pairs = [
        (i, j)
        for i, j in zip(left.tolist(), right.tolist(), strict=True)
        if not hard_rule(items[i], items[j], placeholder)
    ]
    a, b = (np.array(side, np.int64) for side in zip(*pairs, strict=True)) if pairs else (left[:0], right[:0])
    compared = columns.levels(a, b)
    blocked = vector_counts(compared)
    labelled: Counter[Vector] = Counter()
    if truth is not None:
        keys = [items[i].key for i in range(n)]
        same = [truth.get(keys[i]) is not None and truth.get(keys[i]) == truth.get(keys[j]) for i, j in pairs]
        labelled = vector_counts(compared[np.array(same, np.bool_)])
    if truth is not None:
        m = _proportions(_level_counts(labelled), 0.5)
        matches = float(sum(labelled.values()))
    else:
        m = _estimate_m(items, columns, u, settings)
        matches = _share_of_matches(blocked, m, u, settings) * sum(blocked.values()) * scale
    if settings.link_only:
        sizes = Counter(r.source for r in items)
        total_pairs = (n * n - sum(c * c for c in sizes.values())) / 2
    else:
        total_pairs = n * (n - 1) / 2
    prior = min(max(matches / total_pairs, 1e-12), 0.5)
    tf = term_frequencies(items, settings.term_frequencies)
    comparisons = []
    for f, (name, _) in enumerate(COMPARISONS):
        levels = _no_worse_than_different(
            tuple(Level(label, m[f][k], u[f][k]) for k, label in enumerate(LEVELS[name]))
        )
        table, floor = tf.get(name, ({}, 0.0))
        comparisons.append(Comparison(name, levels, table, floor))
    text = description or f"{n} records; m by {'labelled pairs' if truth is not None else 'EM'}"
    return Model(tuple(comparisons), prior=prior, thresholds=settings.thresholds, trained_on=text)
