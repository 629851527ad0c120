"""Pairs of records within blocks, enumerated in bulk with numpy.

Batch linking and training compare the pairs of records that share a blocking key, and training
also compares pairs within the blocks of its EM sessions. Writing the pairs out one Python tuple
at a time, with a set to drop pairs two blocks share, was most of what linking 50,000 records
cost; here blocks are flat arrays of record indices and the pairs of every block come out at
once, in the order the nested loops would give them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import numpy.typing as npt

from exchange.matching._blocking import blocking_keys
from exchange.matching._record import MatchRecord

__all__ = ["PairArrays", "block_pairs", "blocked_pairs", "blocks", "sorted_unique", "sources_of"]

Indices = npt.NDArray[np.int64]
PairArrays = tuple[Indices, Indices]
"""Record indices ``(left, right)`` of each pair, aligned."""


def _runs(lengths: Indices) -> Indices:
    """For runs of ``lengths`` laid end to end, each element's position within its run."""
    return np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def block_pairs(members: Indices, sizes: Indices) -> PairArrays:
    """Every pair of members of each block, ``members`` being the blocks laid end to end
    (``sizes`` long each): blocks in order, a block's pairs in :func:`itertools.combinations`
    order."""
    ends = np.cumsum(sizes)
    lefts_per_block = np.maximum(sizes - 1, 0)
    # One run per (block, left position): the positions after it in its block.
    left_at = np.repeat(ends - sizes, lefts_per_block) + _runs(lefts_per_block)
    runs = np.repeat(ends, lefts_per_block) - left_at - 1
    left = np.repeat(left_at, runs)
    right = left + 1 + _runs(runs)
    return members[left], members[right]


def sources_of(records: Sequence[MatchRecord]) -> Indices:
    """A small integer per record naming its source (equal sources, equal codes)."""
    codes: dict[str, int] = {}
    return np.fromiter((codes.setdefault(r.source, len(codes)) for r in records), np.int64, len(records))


def sorted_unique(values: Indices) -> Indices:
    """The distinct values, sorted (``np.unique`` without its hash-table path, several times
    slower than sorting on integer arrays of this size in NumPy 2.4)."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _first_unique(left: Indices, right: Indices, n: int) -> PairArrays:
    """The pairs without repeats, each kept where it first appears."""
    _, first = np.unique(left * n + right, return_index=True)
    first.sort()
    return left[first], right[first]


def blocks(owner: Indices, key: Indices) -> tuple[Indices, Indices, Indices]:
    """Owners grouped by key: ``(members, sizes, block)``.

    Blocks come in the order their key first appears in ``key``, each holding its owners in
    the order of the rows, an owner once (``owner`` is non-decreasing: rows are grouped by
    record). ``members`` lays the blocks end to end, ``sizes`` cuts them, and ``block[r]`` is the
    block of row ``r``.
    """
    unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rank = np.empty(unique.size, np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(unique.size)
    block = rank[inverse.reshape(-1)]
    order = np.argsort(block, kind="stable")  # members of a block stay in row order
    grouped, members = block[order], owner[order]
    keep = np.ones(grouped.size, np.bool_)
    keep[1:] = (grouped[1:] != grouped[:-1]) | (members[1:] != members[:-1])  # one owner twice
    sizes = np.bincount(grouped[keep], minlength=unique.size)
    return members[keep], sizes, block


def blocked_pairs(records: Sequence[MatchRecord], *, link_only: bool, max_block: int) -> PairArrays:
    """Pairs ``(i, j)``, ``i < j``, of records sharing a blocking key, each pair once.

    Keys are hashed as the online index hashes them (a collision joins two blocks there too);
    blocks are taken in the order their first key appeared, and blocks above ``max_block`` are
    skipped unless they are identifier blocks.
    """
    n = len(records)
    keys = [blocking_keys(record) for record in records]
    counts = np.fromiter(map(len, keys), np.int64, n)
    total = int(counts.sum())
    hashes = np.fromiter(map(hash, chain.from_iterable(keys)), np.int64, total)
    identifier = np.fromiter((k[:2] == "i|" for k in chain.from_iterable(keys)), np.bool_, total)
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    members, sizes, block = blocks(owner, hashes)
    exempt = np.zeros(sizes.size, np.bool_)
    exempt[block[identifier]] = True
    wanted = (sizes >= 2) & ((sizes <= max_block) | exempt)
    left, right = block_pairs(members[np.repeat(wanted, sizes)], sizes[wanted])
    if link_only:
        source = sources_of(records)
        differ = source[left] != source[right]
        left, right = left[differ], right[differ]
    return _first_unique(left, right, max(n, 1))
