"""Batch linking: all records at once, with the same blocking, scores and clustering as online."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from exchange.matching._bulk import match_weights
from exchange.matching._index import DEFAULT_MAX_BLOCK
from exchange.matching._model import Model
from exchange.matching._pairs import blocked_pairs
from exchange.matching._partition import Identity, partition
from exchange.matching._prepared import prepared
from exchange.matching._record import MatchRecord
from exchange.matching._score import Scorer, hard_rule

__all__ = ["Linkage", "candidate_pairs", "identity_of", "link"]

_CHUNK = 200_000
"""Pairs compared at once (bounds the memory of the comparison arrays)."""


@dataclass(frozen=True, slots=True)
class Linkage:
    """The result of :func:`link`: persons as tuples of record keys, and what it took."""

    clusters: tuple[tuple[str, ...], ...]
    candidate_pairs: frozenset[tuple[str, str]]
    """Every pair blocking put forward (keys in sorted order), for the blocking ceiling."""
    links: tuple[tuple[str, str, float], ...]
    """Pairs at or above the auto-link threshold, with their probability."""
    possible: tuple[tuple[str, str, float], ...]
    """Pairs between the review and auto-link thresholds."""


def candidate_pairs(
    records: Sequence[MatchRecord], *, link_only: bool = False, max_block: int = DEFAULT_MAX_BLOCK
) -> Iterator[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of records sharing a blocking key, each pair once.

    Keys are hashed as the online index hashes them, and blocks above ``max_block`` are skipped
    (identifier blocks excepted), so batch and online see the same pairs.
    """
    left, right = blocked_pairs(records, link_only=link_only, max_block=max_block)
    return zip(left.tolist(), right.tolist(), strict=True)


def identity_of(
    records: Iterable[MatchRecord], model: Model, aliases: dict[str, str] | None = None
) -> Identity:
    """The hard-rule identity of each record key: its NHS number and its register entry (worked
    out when first asked: partitioning asks only for records that links would join)."""
    aliases = aliases or {}
    by_key = {record.key: record for record in records}
    repeatable = model.repeatable_systems

    def identity(key: str) -> tuple[str | None, tuple[str, str, str] | None]:
        record = by_key.get(key)
        if record is None:
            return None, None
        system, _, value = aliases.get(key, key).rpartition("|")
        register = None if system.endswith(repeatable) else (record.source, system, value)
        return record.nhs_number, register

    return identity


def link(
    records: Iterable[MatchRecord],
    model: Model,
    *,
    merges: Iterable[tuple[str, str]] = (),
    link_only: bool = False,
) -> Linkage:
    """Cluster ``records`` into persons.

    ``merges`` are (survivor key, retired key) pairs an agency merged itself (PersonsMerged).
    ``link_only`` compares only records of different sources (two data sets linked to each
    other, as FEBRL4), never two of one source.
    """
    items = list(records)
    merge_pairs = list(merges)
    aliases = {retired: survivor for survivor, retired in merge_pairs}
    scorer = Scorer(model)
    probability = scorer.probability
    review, auto = model.thresholds.review, model.thresholds.auto_link
    links: list[tuple[str, str, float]] = []
    possible: list[tuple[str, str, float]] = []
    edges: list[tuple[float, str, str]] = []
    shared = prepared(items)
    left, right = shared.pairs(link_only=link_only, max_block=DEFAULT_MAX_BLOCK)
    keys = [r.key for r in items]
    pairs = frozenset(
        (keys[i], keys[j]) if keys[i] < keys[j] else (keys[j], keys[i])
        for i, j in zip(left.tolist(), right.tolist(), strict=True)
    )
    columns = shared.columns()
    floor = math.log2(review / (1.0 - review)) - 1.0  # below it no pair can reach the review threshold
    for start in range(0, left.size, _CHUNK):
        a, b = left[start : start + _CHUNK], right[start : start + _CHUNK]
        weights = match_weights(scorer, columns, a, columns.levels(a, b))
        near = np.flatnonzero(weights >= floor)
        for i, j, w in zip(a[near].tolist(), b[near].tolist(), weights[near].tolist(), strict=True):
            p = probability(w)
            if p < review or hard_rule(items[i], items[j], model):
                continue
            if p >= auto:
                links.append((keys[i], keys[j], p))
                edges.append((w, keys[i], keys[j]))
            else:
                possible.append((keys[i], keys[j], p))
    groups = partition((r.key for r in items), edges, identity_of(items, model, aliases), merge_pairs)
    return Linkage(
        clusters=tuple(tuple(g) for g in groups),
        candidate_pairs=frozenset(pairs),
        links=tuple(links),
        possible=tuple(possible),
    )
