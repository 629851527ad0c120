"""Batch linking: all records at once, the same blocking, scores and clustering as online."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exchange.matching._model import Model
from exchange.matching._record import MatchRecord

__all__ = ["Linkage", "link"]


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


def link(records: Iterable[MatchRecord], model: Model, *, link_only: bool = False) -> Linkage:
    """Cluster ``records`` into persons. ``link_only`` compares only records of different sources
    (two data sets linked to each other, as FEBRL4), never two of one source.

    Not yet implemented.
    """
    raise NotImplementedError("link: not yet implemented")
