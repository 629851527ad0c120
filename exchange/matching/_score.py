"""Fellegi-Sunter scores with their explanation, and the hard rules that beat any score.

A pair's match weight is the prior weight plus, for each field, the weight of the level the pair
is at (term-frequency adjusted for an exact name: a common surname says less than a rare one).
The probability is ``1 / (1 + 2**-weight)``. Hard rules: two different valid NHS numbers never
link; two records of one agency in the same identifier system (different records of one register)
never link unless the agency merged them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from exchange.matching._compare import COMPARISONS, LEVELS, TF_FIELDS
from exchange.matching._model import Model
from exchange.matching._record import MatchRecord

__all__ = [
    "RULE_DIFFERENT_NHS",
    "RULE_SAME_REGISTER",
    "FieldContribution",
    "MatchScore",
    "Scorer",
    "hard_rule",
    "score",
]

RULE_DIFFERENT_NHS = "different NHS numbers"
RULE_SAME_REGISTER = "different records of one agency's register"


@dataclass(frozen=True, slots=True)
class FieldContribution:
    """What one field added to a match weight: the level the pair is at and its weight in bits
    (``tf_adjustment`` is the part due to how common the shared value is; ``level`` is ``None``
    and the weight 0 when either record lacks the field)."""

    field: str
    level: str | None
    weight: float
    tf_adjustment: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchScore:
    """The probabilistic score of a pair with its explanation.

    ``match_weight`` = ``prior_weight`` + the sum of the contributions' weights;
    ``probability`` follows from it, or is 0.0 when a hard ``rule`` forbids the link.
    """

    probability: float
    match_weight: float
    prior_weight: float
    contributions: tuple[FieldContribution, ...]
    rule: str | None = None

    def explain(self) -> str:
        """One line a practitioner can read: each field's level and weight (no record values)."""
        parts = [f"{c.field}={c.level} ({c.weight:+.1f})" for c in self.contributions if c.level]
        head = f"p={self.probability:.4f} weight={self.match_weight:+.1f}"
        if self.rule:
            head += f" blocked: {self.rule}"
        return head + "; " + ", ".join(parts)


def hard_rule(a: MatchRecord, b: MatchRecord, model: Model) -> str | None:
    """The hard rule that forbids linking ``a`` and ``b``, or ``None`` (agency merges aside)."""
    if a.nhs_number is not None and b.nhs_number is not None and a.nhs_number != b.nhs_number:
        return RULE_DIFFERENT_NHS
    if a.source == b.source and a.key != b.key:
        system_a, _, _ = a.key.rpartition("|")
        system_b, _, _ = b.key.rpartition("|")
        if system_a == system_b and not system_a.endswith(model.repeatable_systems):
            return RULE_SAME_REGISTER
    return None


def _probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + math.pow(2.0, -weight))


class Scorer:
    """A model's weights laid out for fast scoring (one table lookup per field)."""

    __slots__ = ("_fields", "_tf", "_weights", "model")

    def __init__(self, model: Model) -> None:
        self.model = model
        self._fields = tuple(COMPARISONS)
        self._weights = tuple(
            tuple(level.weight for level in model.comparison(name).levels) for name, _ in COMPARISONS
        )
        tf: list[tuple[int, object, dict[str, float], float, float] | None] = []
        for name, _ in COMPARISONS:
            getter = TF_FIELDS.get(name)
            comparison = model.comparison(name)
            if getter is None or not comparison.term_frequencies:
                tf.append(None)
                continue
            exact = comparison.levels[0]
            floor = max(comparison.tf_floor, 1e-9)
            tf.append((0, getter, dict(comparison.term_frequencies), floor, math.log2(max(exact.u, 1e-9))))
        self._tf = tuple(tf)

    def tf_adjustment(self, index: int, record: MatchRecord) -> float:
        """The term-frequency adjustment of comparison ``index``'s exact level for ``record``'s value."""
        entry = self._tf[index]
        if entry is None:
            return 0.0
        return self.value_adjustment(index, entry[1](record))  # type: ignore[operator]

    def value_adjustment(self, index: int, value: str | None) -> float:
        """The term-frequency adjustment of comparison ``index``'s exact level for ``value``."""
        entry = self._tf[index]
        if entry is None:
            return 0.0
        _, _, table, floor, log_u = entry
        frequency = table.get(value, floor) if value is not None else floor
        # Splink's adjustment: replace u of the exact level by the value's own frequency.
        return log_u - math.log2(max(frequency, floor))

    def adjusts(self, index: int) -> bool:
        """Whether comparison ``index``'s exact level is adjusted by term frequencies."""
        return self._tf[index] is not None

    def level_weights(self, index: int) -> tuple[float, ...]:
        """The weight of each level of comparison ``index``."""
        return self._weights[index]

    def weight(self, a: MatchRecord, b: MatchRecord) -> float:
        """The match weight of a pair (no explanation, no hard rules): the fast path."""
        total = self.model.prior_weight
        weights = self._weights
        tf = self._tf
        for i, (_, fn) in enumerate(self._fields):
            level = fn(a, b)
            if level is None:
                continue
            total += weights[i][level]
            if level == 0 and tf[i] is not None:
                total += self.tf_adjustment(i, a)
        return total

    def weight_of_levels(self, levels: tuple[int | None, ...], a: MatchRecord) -> float:
        """The match weight of a comparison vector already computed for ``a`` and another record."""
        total = self.model.prior_weight
        for i, level in enumerate(levels):
            if level is None:
                continue
            total += self._weights[i][level]
            if level == 0 and self._tf[i] is not None:
                total += self.tf_adjustment(i, a)
        return total

    def score(self, a: MatchRecord, b: MatchRecord) -> MatchScore:
        """The full score of a pair, with each field's contribution and any hard rule."""
        contributions: list[FieldContribution] = []
        total = self.model.prior_weight
        for i, (name, fn) in enumerate(self._fields):
            level = fn(a, b)
            if level is None:
                contributions.append(FieldContribution(name, None, 0.0))
                continue
            adjustment = self.tf_adjustment(i, a) if level == 0 and self._tf[i] is not None else 0.0
            total += self._weights[i][level]  # added as weight() adds them: the same float
            if adjustment:
                total += adjustment
            weight = self._weights[i][level] + adjustment
            contributions.append(FieldContribution(name, LEVELS[name][level], weight, adjustment))
        rule = hard_rule(a, b, self.model)
        probability = 0.0 if rule else _probability(total)
        return MatchScore(probability, total, self.model.prior_weight, tuple(contributions), rule)

    @staticmethod
    def probability(weight: float) -> float:
        """The probability of a match weight."""
        return _probability(weight)


def score(a: MatchRecord, b: MatchRecord, model: Model) -> MatchScore:
    """Score one pair with ``model`` (for many pairs, keep a :class:`Scorer`)."""
    return Scorer(model).score(a, b)
