"""Bulk pairs and comparisons are exactly the pairwise ones: pairs of the plain nested loops in
their order, levels of the pairwise comparators, the same match weights to the last bit."""

from __future__ import annotations

from datetime import date
from itertools import combinations
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import drawn_records, people, person

from exchange.matching import MatchRecord, Scorer, blocking_keys, compare, link, load_model, normalise, train
from exchange.matching._bulk import NONE, RecordColumns, match_weights, vector_counts
from exchange.matching._pairs import block_pairs, blocked_pairs
from exchange.matching._prepared import forget, prepared

MODEL = load_model()
SCORER = Scorer(MODEL)
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


def _all_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    left, right = np.triu_indices(n, 1)
    return np.concatenate((left, right)).astype(np.int64), np.concatenate((right, left)).astype(np.int64)


@checks
@given(st.lists(people, min_size=2, max_size=20))
def test_bulk_levels_and_weights_are_those_of_the_pairwise_comparators(drawn: list[dict[str, Any]]) -> None:
    records = drawn_records(drawn)
    columns = RecordColumns(records)
    left, right = _all_pairs(len(records))  # every pair, both ways round
    levels = columns.levels(left, right)
    expected = [compare(records[i], records[j]) for i, j in zip(left.tolist(), right.tolist(), strict=True)]
    assert [tuple(None if v == NONE else v for v in row) for row in levels.tolist()] == expected
    weights = match_weights(SCORER, columns, left, levels)
    pairwise = [
        SCORER.weight(records[i], records[j]) for i, j in zip(left.tolist(), right.tolist(), strict=True)
    ]
    assert weights.tolist() == pairwise  # the same floats, not merely close


def test_vector_counts_count_vectors_in_the_order_they_first_appear() -> None:
    rows = [[0, 1, -1, 2, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, -1], [0, 1, -1, 2, 0, 0, 0, 0]]
    counted = vector_counts(np.array(rows, np.int8))
    assert list(counted.items()) == [
        ((0, 1, None, 2, 0, 0, 0, 0), 2),
        ((1, 0, 0, 0, 0, 0, 0, None), 1),
    ]


def test_bulk_dates_of_birth_agree_with_the_pairwise_comparator_for_every_partial_date() -> None:
    days = [date(2015, 3, 4), date(2015, 4, 3), date(2015, 5, 5), date(2016, 3, 4), date(2015, 3, 9)]
    accuracies = ["AAA", "UAA", "AUA", "AAU", "UUA", "UAU", "AUU", "UUU"]
    records = [
        normalise(person(f"R{n}", given="Ann", born=day, accuracy=accuracy), source="gp")
        for n, (day, accuracy) in enumerate((d, a) for d in days for a in accuracies for _ in range(2))
    ]
    left, right = _all_pairs(len(records))
    levels = RecordColumns(records).levels(left, right)[:, 4]
    expected = [
        compare(records[i], records[j])[4] for i, j in zip(left.tolist(), right.tolist(), strict=True)
    ]
    assert [None if v == NONE else v for v in levels.tolist()] == expected


def test_records_linked_after_training_are_blocked_once_and_a_changed_list_is_blocked_again() -> None:
    born = date(2015, 3, 4)
    oliver = person("A", given="Oliver", family="Smith", born=born, postcode="MF3 1AB")
    same = [normalise(oliver, source="gp", key="gp|A"), normalise(oliver, source="school", key="school|B")]
    amelia = person("B", given="Amelia", family="Jones", born=born)
    moved = [same[0], normalise(amelia, source="school", key="school|B")]  # same keys, one new record
    model = train(same)
    assert prepared(same).holds(same)  # what training blocked is kept for linking
    assert link(same, MODEL).clusters == (("gp|A", "school|B"),)
    assert link(moved, MODEL).clusters == (("gp|A",), ("school|B",))
    kept = prepared(moved)
    assert kept.holds(moved) and not kept.holds(same)
    left, right = kept.pairs(link_only=False, max_block=5000)
    assert not left.flags.writeable and not right.flags.writeable  # shared, so never changed in place
    forget()
    cold = link(same, model)
    assert link(same, model) == cold
