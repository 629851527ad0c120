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

from exchange.matching._compare import COMPARISONS, LEVELS, compare
from exchange.matching._link import candidate_pairs
from exchange.matching._model import Comparison, Level, Model, Thresholds, term_frequencies
from exchange.matching._pairs import block_pairs, sources_of
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


def _random_vectors(records: Sequence[MatchRecord], settings: TrainingSettings) -> Counter[Vector]:
    rng = random.Random(settings.seed)  # noqa: S311 - sampling pairs, not secrets
    n = len(records)
    vectors: Counter[Vector] = Counter()
    if n < 2:
        return vectors
    compared = 0
    for _ in range(settings.random_pairs * 3):
        if compared >= settings.random_pairs:
            break
        i, j = rng.randrange(n), rng.randrange(n)
        if i == j or (settings.link_only and records[i].source == records[j].source):
            continue
        vectors[compare(records[i], records[j])] += 1
        compared += 1
    return vectors


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


def _session_key(session: str, record: MatchRecord) -> list[str]:
    if session == "birth_date":
        birth = record.birth_date
        return [f"{birth.year}-{birth.month}-{birth.day}"] if birth is not None and birth.complete else []
    if session == "names":
        if record.given_names and record.family_names:
            return [f"{record.given_names[0]}|{record.family_names[0]}"]
        return []
    return [f"{s}|{v}" for s, v in record.identifiers]


def _session_vectors(
    records: Sequence[MatchRecord], session: str, excluded: tuple[str, ...], settings: TrainingSettings
) -> Counter[Vector]:
    blocks: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        for key in _session_key(session, record):
            blocks.setdefault(key, []).append(i)
    rng = random.Random(settings.seed)  # noqa: S311 - sampling pairs, not secrets
    drop = {_FIELD_INDEX[name] for name in excluded}
    members: list[int] = []
    sizes: list[int] = []
    for block in blocks.values():
        if len(block) > 1:
            chosen = rng.sample(block, _SESSION_CAP) if len(block) > _SESSION_CAP else block
            members.extend(chosen)
            sizes.append(len(chosen))
    left, right = block_pairs(np.array(members, np.int64), np.array(sizes, np.int64))
    left, right = np.minimum(left, right), np.maximum(left, right)
    keep = left != right
    if settings.link_only:
        source = sources_of(records)
        keep &= source[left] != source[right]
    codes = np.unique(left[keep] * len(records) + right[keep])  # sorted: (i, j) in order
    if codes.size > settings.em_pairs:
        codes = codes[rng.sample(range(codes.size), settings.em_pairs)]
    vectors: Counter[Vector] = Counter()
    first, second = np.divmod(codes, len(records))
    for i, j in zip(first.tolist(), second.tolist(), strict=True):
        vector = compare(records[i], records[j])
        vectors[tuple(None if f in drop else v for f, v in enumerate(vector))] += 1
    return vectors


def _estimate_m(
    records: Sequence[MatchRecord], u: list[list[float]], settings: TrainingSettings
) -> list[list[float]]:
    """m per field: the mean of the sessions that could estimate it."""
    sums = [[0.0] * len(row) for row in u]
    runs = [0] * len(u)
    for session, excluded in _SESSIONS:
        vectors = _session_vectors(records, session, excluded, settings)
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
    u = _proportions(_level_counts(_random_vectors(items, settings)), 0.5)
    blocked: Counter[Vector] = Counter()
    labelled: Counter[Vector] = Counter()
    pairs = list(candidate_pairs(items, link_only=settings.link_only))
    scale = 1.0
    if truth is None and len(pairs) > settings.blocked_pairs:
        sampled = random.Random(settings.seed).sample(pairs, settings.blocked_pairs)  # noqa: S311
        scale, pairs = len(pairs) / len(sampled), sampled
    for i, j in pairs:
        a, b = items[i], items[j]
        if hard_rule(a, b, placeholder):
            continue
        vector = compare(a, b)
        blocked[vector] += 1
        if truth is not None and truth.get(a.key) is not None and truth.get(a.key) == truth.get(b.key):
            labelled[vector] += 1
    if truth is not None:
        m = _proportions(_level_counts(labelled), 0.5)
        matches = float(sum(labelled.values()))
    else:
        m = _estimate_m(items, u, settings)
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
