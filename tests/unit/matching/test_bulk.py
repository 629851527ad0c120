"""Pairs enumerated in bulk are exactly those of the plain nested loops, in the same order."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import drawn_records, people

from exchange.matching import MatchRecord, blocking_keys
from exchange.matching._pairs import block_pairs, blocked_pairs

checks = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _loop_pairs(records: list[MatchRecord], link_only: bool, max_block: int) -> list[tuple[int, int]]:
    """Candidate pairs as a dictionary of blocks and two loops give them."""
    blocks: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        for key in blocking_keys(record):
            blocks.setdefault(key, []).append(i)
    out: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for key, members in blocks.items():
        if len(members) > max_block and not key.startswith("i|"):
            continue
        for i, j in combinations(members, 2):
            if (i, j) in seen or (link_only and records[i].source == records[j].source):
                continue
            seen.add((i, j))
            out.append((i, j))
    return out


@checks
@given(st.lists(people, min_size=0, max_size=30), st.booleans(), st.sampled_from([2, 3, 5000]))
def test_blocked_pairs_are_the_pairs_of_the_loops_in_their_order(
    drawn: list[dict[str, Any]], link_only: bool, max_block: int
) -> None:
    records = drawn_records(drawn)
    left, right = blocked_pairs(records, link_only=link_only, max_block=max_block)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == _loop_pairs(records, link_only, max_block)


@given(st.lists(st.lists(st.integers(0, 99), max_size=7), max_size=8))
def test_block_pairs_are_each_blocks_combinations_in_order(blocks: list[list[int]]) -> None:
    members = np.array([m for block in blocks for m in block], np.int64)
    sizes = np.array([len(block) for block in blocks], np.int64)
    left, right = block_pairs(members, sizes)
    expected = [pair for block in blocks for pair in combinations(block, 2)]
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == expected
