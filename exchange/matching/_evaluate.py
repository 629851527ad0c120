"""How good a clustering is against the truth: pairwise and B-cubed precision and recall, and the
blocking ceiling (true pairs that blocking ever put forward)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Accuracy", "evaluate"]


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Accuracy figures of one clustering (each 0..1)."""

    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    blocking_ceiling: float | None
    true_pairs: int
    predicted_pairs: int
    reachable_ceiling: float | None = None
    """The share of true pairs joined through a chain of true pairs that blocking put forward: the
    recall a perfect scorer could reach by clustering (a record with no name, linked to its
    person only through an identifier another record shares, counts here and not above)."""


def evaluate(
    clusters: Iterable[Collection[str]],
    truth: Mapping[str, str],
    *,
    candidate_pairs: Collection[tuple[str, str]] | None = None,
) -> Accuracy:
    """Score ``clusters`` (record keys) against ``truth`` (record key -> true person id); records
    the truth does not name are left out.

    With ``n_ij`` the records of predicted cluster i and true person j: true positives
    ``sum n_ij (n_ij - 1) / 2``; precision divides by the predicted pairs, recall by the true
    pairs. B-cubed averages, over records, the share of a record's cluster that is its person
    (precision) and of its person that is its cluster (recall). The blocking ceiling is the share
    of true pairs among ``candidate_pairs`` (pairs of keys, in either order).
    """
    overlap: Counter[tuple[int, str]] = Counter()
    cluster_size: Counter[int] = Counter()
    person_size: Counter[str] = Counter()
    for number, cluster in enumerate(clusters):
        for key in cluster:
            person = truth.get(key)
            if person is None:
                continue
            overlap[number, person] += 1
            cluster_size[number] += 1
            person_size[person] += 1
    true_positive = sum(n * (n - 1) // 2 for n in overlap.values())
    predicted = sum(n * (n - 1) // 2 for n in cluster_size.values())
    true_pairs = sum(n * (n - 1) // 2 for n in person_size.values())
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    records = sum(cluster_size.values())
    bcubed_p = sum(n * n / cluster_size[c] for (c, _), n in overlap.items()) / records if records else 1.0
    bcubed_r = sum(n * n / person_size[p] for (_, p), n in overlap.items()) / records if records else 1.0
    ceiling: float | None = None
    reachable: float | None = None
    if candidate_pairs is not None:
        true_candidates = [
            (a, b) for a, b in candidate_pairs if truth.get(a) is not None and truth.get(a) == truth.get(b)
        ]
        ceiling = len(true_candidates) / true_pairs if true_pairs else 1.0
        reachable = _joined_pairs(true_candidates) / true_pairs if true_pairs else 1.0
    return Accuracy(precision, recall, f1, bcubed_p, bcubed_r, ceiling, true_pairs, predicted, reachable)


def _joined_pairs(pairs: Iterable[tuple[str, str]]) -> int:
    """How many pairs of keys the connected components of ``pairs`` join."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    sizes = Counter(root(key) for key in list(parent))
    return sum(n * (n - 1) // 2 for n in sizes.values())
