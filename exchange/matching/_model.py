"""The saved model: comparison levels with their m and u, the prior, term frequencies and the
thresholds, as a reviewable, versioned JSON file.

``m`` is the chance a level is seen when two records are the same person, ``u`` when they are
not; a level's match weight is ``log2(m / u)``. The shipped default (``default_model.json``) was
trained by ``mais match train`` on generated samples; :func:`load_model` reads it or any other.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from exchange.errors import ConfigError
from exchange.matching._compare import COMPARISONS, LEVELS, TF_FIELDS
from exchange.matching._record import MatchRecord

__all__ = ["FORMAT_VERSION", "Comparison", "Level", "Model", "Thresholds", "load_model", "term_frequencies"]

FORMAT_VERSION = 1
"""Version of the model file format; a file of another version is refused with a clear error."""

_MIN_PROBABILITY = 1e-9


@dataclass(frozen=True, slots=True)
class Level:
    """One comparison level: its label and its m and u probabilities."""

    label: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        """The match weight ``log2(m / u)`` this level adds."""
        return math.log2(max(self.m, _MIN_PROBABILITY) / max(self.u, _MIN_PROBABILITY))


@dataclass(frozen=True, slots=True)
class Comparison:
    """One field's comparison: its levels (most alike first) and, for name fields, how common each
    value is (``term_frequencies``; a value not listed counts as ``tf_floor``)."""

    field: str
    levels: tuple[Level, ...]
    term_frequencies: Mapping[str, float] = dataclasses.field(default_factory=dict)
    tf_floor: float = 0.0


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Match probabilities that decide what happens to a pair.

    ``auto_link``: at or above it two records are joined into one person. ``review``: at or above
    it (and below ``auto_link``) the pair is kept as a possible match for a person to decide.
    """

    auto_link: float = 0.99
    review: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.auto_link < 1.0:
            raise ConfigError(
                "model thresholds must satisfy 0 < review <= auto_link < 1",
                hint="fix the thresholds in the model file",
            )


@dataclass(frozen=True, slots=True)
class Model:
    """Everything scoring needs; immutable. Build with :func:`load_model` or ``train``."""

    comparisons: tuple[Comparison, ...]
    prior: float
    """Probability that two records drawn at random are the same person (lambda)."""
    thresholds: Thresholds = Thresholds()
    repeatable_systems: tuple[str, ...] = ("/relatedperson",)
    """Identifier systems (by suffix) in which one agency may hold several records of one person
    (a FHIR RelatedPerson per relationship), so the same-agency rule does not apply to them."""
    trained_on: str = ""
    """What the parameters were estimated from, in words (no personal data)."""

    @property
    def prior_weight(self) -> float:
        """``log2(prior / (1 - prior))``: the match weight before any field is compared."""
        return math.log2(self.prior / (1.0 - self.prior))

    def comparison(self, name: str) -> Comparison:
        """The comparison of field ``name``."""
        for comparison in self.comparisons:
            if comparison.field == name:
                return comparison
        raise KeyError(name)

    def with_thresholds(self, thresholds: Thresholds) -> Model:
        """A copy with other thresholds."""
        return replace(self, thresholds=thresholds)

    def with_term_frequencies(self, records: Iterable[MatchRecord], keep: int = 2000) -> Model:
        """A copy whose name frequencies are those of ``records`` (the population it will match),
        as Splink computes its term-frequency tables; m, u, prior and thresholds are kept."""
        tf = term_frequencies(list(records), keep)
        comparisons = tuple(
            replace(c, term_frequencies=tf[c.field][0], tf_floor=tf[c.field][1]) if c.field in tf else c
            for c in self.comparisons
        )
        return replace(self, comparisons=comparisons)

    def to_json(self) -> dict[str, Any]:
        """The file form (see ``docs/matching.md``)."""
        return {
            "format": "mais-exchange person matching model",
            "version": FORMAT_VERSION,
            "trained_on": self.trained_on,
            "prior": self.prior,
            "thresholds": {"auto_link": self.thresholds.auto_link, "review": self.thresholds.review},
            "repeatable_systems": list(self.repeatable_systems),
            "comparisons": [
                {
                    "field": c.field,
                    "levels": [
                        {"label": lv.label, "m": _round(lv.m), "u": _round(lv.u), "weight": _round(lv.weight)}
                        for lv in c.levels
                    ],
                    **(
                        {"tf_floor": _round(c.tf_floor), "term_frequencies": dict(c.term_frequencies)}
                        if c.field in TF_FIELDS
                        else {}
                    ),
                }
                for c in self.comparisons
            ],
        }

    def save(self, path: Path) -> None:
        """Write the model as indented JSON (stable key order, so diffs review well)."""
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Model:
        """Read the file form; raises :class:`~exchange.errors.ConfigError` when it does not fit."""
        if document.get("version") != FORMAT_VERSION:
            raise ConfigError(
                f"model file has format version {document.get('version')!r}; "
                f"this code reads version {FORMAT_VERSION}",
                hint="retrain it with `mais match train` or use the shipped default model",
            )
        try:
            by_field = {c["field"]: c for c in document["comparisons"]}
            comparisons = []
            for name, _ in COMPARISONS:
                raw = by_field[name]
                labels = tuple(lv["label"] for lv in raw["levels"])
                if labels != LEVELS[name]:
                    raise ConfigError(
                        f"model file's levels of {name} are not the ones this code compares",
                        hint="retrain the model with `mais match train`",
                    )
                levels = tuple(Level(lv["label"], float(lv["m"]), float(lv["u"])) for lv in raw["levels"])
                tf = {str(k): float(v) for k, v in (raw.get("term_frequencies") or {}).items()}
                comparisons.append(Comparison(name, levels, tf, float(raw.get("tf_floor", 0.0))))
            thresholds = Thresholds(**document.get("thresholds", {}))
            return cls(
                comparisons=tuple(comparisons),
                prior=float(document["prior"]),
                thresholds=thresholds,
                repeatable_systems=tuple(document.get("repeatable_systems", ("/relatedperson",))),
                trained_on=str(document.get("trained_on", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"model file is missing or has a malformed entry ({type(exc).__name__})",
                hint="compare it with the shipped exchange/matching/default_model.json",
            ) from None


def term_frequencies(
    records: Sequence[MatchRecord], keep: int = 2000
) -> dict[str, tuple[dict[str, float], float]]:
    """field -> (share of each of the ``keep`` most common values seen more than once, the share
    one occurrence makes: the floor for a value not listed), for each term-frequency field."""
    out: dict[str, tuple[dict[str, float], float]] = {}
    for name, getter in TF_FIELDS.items():
        counts = Counter(v for r in records if (v := getter(r)) is not None)
        total = sum(counts.values())
        if not total:
            out[name] = ({}, 0.0)
            continue
        table = {value: round(c / total, 6) for value, c in counts.most_common(keep) if c > 1}
        out[name] = (table, 1.0 / total)
    return out


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def load_model(path: Path | None = None) -> Model:
    """The model saved at ``path``, or the shipped default trained on generated samples."""
    if path is None:
        text = files("exchange.matching").joinpath("default_model.json").read_text(encoding="utf-8")
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read model file {path}: {exc.strerror}", hint="check the --model path"
            ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"model file is not JSON (line {exc.lineno})", hint="check the --model path"
        ) from None
    return Model.from_json(document)
