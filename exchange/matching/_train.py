"""Estimating a model from records, as Splink does: u from random pairs, m by EM on blocked pairs
(or from labelled pairs when a truth is given), term frequencies from the records themselves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from exchange.matching._model import Model, Thresholds
from exchange.matching._record import MatchRecord

__all__ = ["TrainingSettings", "train"]


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    """How to train: random pairs for u, EM iterations and tolerance, seed, thresholds to save."""

    random_pairs: int = 200_000
    max_iterations: int = 25
    tolerance: float = 1e-4
    seed: int = 1
    thresholds: Thresholds = field(default_factory=Thresholds)
    term_frequencies: int = 2000
    """How many of the most common values of each name field to keep."""


def train(
    records: Iterable[MatchRecord],
    *,
    truth: Mapping[str, str] | None = None,
    settings: TrainingSettings | None = None,
    description: str = "",
) -> Model:
    """Estimate a model from ``records``; ``truth`` (record key -> true person id) switches m from
    EM to counting labelled pairs. Not yet implemented."""
    raise NotImplementedError("train: not yet implemented")
