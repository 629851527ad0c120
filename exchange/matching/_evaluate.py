"""How good a clustering is against the truth: pairwise and B-cubed precision and recall, and the
blocking ceiling (true pairs that blocking ever put forward)."""

from __future__ import annotations

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


def evaluate(
    clusters: Iterable[Collection[str]],
    truth: Mapping[str, str],
    *,
    candidate_pairs: Collection[tuple[str, str]] | None = None,
) -> Accuracy:
    """Score ``clusters`` (record keys) against ``truth`` (record key -> true person id); records
    the truth does not name are left out. Not yet implemented."""
    raise NotImplementedError("evaluate: not yet implemented")
