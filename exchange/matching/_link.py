"""Batch linking: all records at once, with the same blocking, scores and clustering as online."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from exchange.matching._blocking import blocking_keys
from exchange.matching._index import DEFAULT_MAX_BLOCK
from exchange.matching._model import Model
from exchange.matching._partition import Identity, partition
from exchange.matching._record import MatchRecord
from exchange.matching._score import Scorer, hard_rule

__all__ = ["Linkage", "candidate_pairs", "identity_of", "link"]


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
    blocks: dict[int, list[int]] = {}
    exempt: set[int] = set()
    for i, record in enumerate(records):
        for key in blocking_keys(record):
            h = hash(key)
            blocks.setdefault(h, []).append(i)
            if key.startswith("i|"):
                exempt.add(h)
    seen: set[int] = set()
    n = len(records)
    for h, members in blocks.items():
        size = len(members)
        if size < 2 or (size > max_block and h not in exempt):
            continue
        for x in range(size):
            i = members[x]
            source = records[i].source
            for y in range(x + 1, size):
                j = members[y]
                if link_only and records[j].source == source:
                    continue
                code = i * n + j if i < j else j * n + i
                if code not in seen:
                    seen.add(code)
                    yield (i, j) if i < j else (j, i)


def identity_of(
    records: Iterable[MatchRecord], model: Model, aliases: dict[str, str] | None = None
) -> Identity:
    """The hard-rule identity of each record key: its NHS number and its register entry."""
    aliases = aliases or {}
    table: dict[str, tuple[str | None, tuple[str, str, str] | None]] = {}
    for record in records:
        system, _, value = aliases.get(record.key, record.key).rpartition("|")
        register = None if system.endswith(model.repeatable_systems) else (record.source, system, value)
        table[record.key] = (record.nhs_number, register)
    return lambda key: table.get(key, (None, None))


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
    weight, probability = scorer.weight, scorer.probability
    review, auto = model.thresholds.review, model.thresholds.auto_link
    pairs: set[tuple[str, str]] = set()
    links: list[tuple[str, str, float]] = []
    possible: list[tuple[str, str, float]] = []
    edges: list[tuple[float, str, str]] = []
    for i, j in candidate_pairs(items, link_only=link_only):
        a, b = items[i], items[j]
        pairs.add((a.key, b.key) if a.key < b.key else (b.key, a.key))
        w = weight(a, b)
        p = probability(w)
        if p < review or hard_rule(a, b, model):
            continue
        if p >= auto:
            links.append((a.key, b.key, p))
            edges.append((w, a.key, b.key))
        else:
            possible.append((a.key, b.key, p))
    groups = partition((r.key for r in items), edges, identity_of(items, model, aliases), merge_pairs)
    return Linkage(
        clusters=tuple(tuple(g) for g in groups),
        candidate_pairs=frozenset(pairs),
        links=tuple(links),
        possible=tuple(possible),
    )
