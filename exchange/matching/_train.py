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

from exchange.matching._compare import COMPARISONS, LEVELS, TF_FIELDS, compare
from exchange.matching._link import candidate_pairs
from exchange.matching._model import Comparison, Level, Model, Thresholds
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
    attempts = 0
    while sum(vectors.values()) < settings.random_pairs and attempts < settings.random_pairs * 3:
        attempts += 1
        i, j = rng.randrange(n), rng.randrange(n)
        if i == j or (settings.link_only and records[i].source == records[j].source):
            continue
        vectors[compare(records[i], records[j])] += 1
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


def _term_frequencies(records: Sequence[MatchRecord], keep: int) -> dict[str, tuple[dict[str, float], float]]:
    out: dict[str, tuple[dict[str, float], float]] = {}
    for name, getter in TF_FIELDS.items():
        counts = Counter(v for r in records if (v := getter(r)) is not None)
        total = sum(counts.values())
        if not total:
            out[name] = ({}, 0.0)
            continue
        table = {value: round(c / total, 6) for value, c in counts.most_common(keep) if c > 1}
        out[name] = (table, 1.0 / total)
    return out


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
    seen: set[tuple[int, int]] = set()
    vectors: Counter[Vector] = Counter()
    for block in blocks.values():
        members = rng.sample(block, _SESSION_CAP) if len(block) > _SESSION_CAP else block
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                pair = (i, j) if i < j else (j, i)
                a, b = records[i], records[j]
                if pair in seen or (settings.link_only and a.source == b.source):
                    continue
                seen.add(pair)
                vector = compare(a, b)
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
    for i, j in candidate_pairs(items, link_only=settings.link_only):
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
        matches = _share_of_matches(blocked, m, u, settings) * sum(blocked.values())
    if settings.link_only:
        sizes = Counter(r.source for r in items)
        total_pairs = (n * n - sum(c * c for c in sizes.values())) / 2
    else:
        total_pairs = n * (n - 1) / 2
    prior = min(max(matches / total_pairs, 1e-12), 0.5)
    tf = _term_frequencies(items, settings.term_frequencies)
    comparisons = []
    for f, (name, _) in enumerate(COMPARISONS):
        levels = tuple(Level(label, m[f][k], u[f][k]) for k, label in enumerate(LEVELS[name]))
        table, floor = tf.get(name, ({}, 0.0))
        comparisons.append(Comparison(name, levels, table, floor))
    text = description or f"{n} records; m by {'labelled pairs' if truth is not None else 'EM'}"
    return Model(tuple(comparisons), prior=prior, thresholds=settings.thresholds, trained_on=text)
