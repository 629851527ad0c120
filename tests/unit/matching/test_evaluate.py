"""Accuracy figures against a truth: pairwise, B-cubed, and the two blocking ceilings."""

from __future__ import annotations

import pytest

from exchange.matching import evaluate

TRUTH = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C"}


def test_pairwise_and_bcubed_figures_of_a_clustering() -> None:
    accuracy = evaluate([("a1", "a2"), ("a3", "b1", "b2"), ("c1",)], TRUTH)
    # true pairs: a1a2 a1a3 a2a3 b1b2 = 4; predicted: a1a2 a3b1 a3b2 b1b2 = 4; right: a1a2 b1b2
    assert (accuracy.true_pairs, accuracy.predicted_pairs) == (4, 4)
    assert accuracy.precision == pytest.approx(0.5) and accuracy.recall == pytest.approx(0.5)
    assert accuracy.blocking_ceiling is None and accuracy.reachable_ceiling is None


def test_a_record_reached_through_another_counts_in_the_reachable_ceiling_only() -> None:
    # a3 (say a record with no name) meets only a2, through a shared identifier; b1 b2 never meet
    candidates = [("a1", "a2"), ("a2", "a3"), ("a1", "b1"), ("c1", "b2")]
    accuracy = evaluate([("a1", "a2", "a3"), ("b1",), ("b2",), ("c1",)], TRUTH, candidate_pairs=candidates)
    assert accuracy.blocking_ceiling == pytest.approx(2 / 4)  # a1a2, a2a3
    assert accuracy.reachable_ceiling == pytest.approx(3 / 4)  # and a1a3 through a2; not b1b2
