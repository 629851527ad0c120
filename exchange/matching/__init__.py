"""Person matching: one person across agencies, graded by PUB03 and scored like Splink.

A pure library (no Kafka, HTTP or database): services feed it standard Person values and get
back grades, scores with their explanation, ranked candidates and persons with stable ids.

* :func:`normalise` turns a standard Person (the Avro value dict the adapters produce, or the JSON
  of ``mais translate``) into a :class:`MatchRecord`.
* :func:`pub03_grade` grades a pair by PUB03's table (0.99 / 0.8 / 0.7 / 0.6); :func:`dob_score`
  and :func:`postcode_score` are its date-of-birth and postcode scores.
* :func:`score` (or a :class:`Scorer`) gives the Fellegi-Sunter :class:`MatchScore`: probability,
  match weight and each field's :class:`FieldContribution`; :func:`hard_rule` names the rule that
  forbids a link (different NHS numbers; two records of one agency's register).
* :class:`MatchIndex` holds records in memory: ``add``/``update``/``remove``/``query`` (ranked
  :class:`Candidate` with grade and score).
* :class:`PersonClusters` clusters records into persons with stable ids and reports
  :data:`PersonEvent` (created, changed, merged, split, retired); possible matches are kept apart.
* :func:`link` clusters a batch; :func:`evaluate` scores a clustering against a truth.
* :class:`Model` is the saved model (:func:`load_model` reads the shipped default or a file);
  :func:`train` estimates one from records.

See ``docs/matching.md``.
"""

from __future__ import annotations

from exchange.matching._blocking import blocking_keys
from exchange.matching._clusters import PersonCandidate, PersonClusters, PossibleMatch
from exchange.matching._compare import COMPARISONS, LEVELS, compare
from exchange.matching._evaluate import Accuracy, evaluate
from exchange.matching._events import (
    PersonChanged,
    PersonCreated,
    PersonEvent,
    PersonMerged,
    PersonRetired,
    PersonSplit,
    RecordChange,
    RecordMerge,
    RecordRemoval,
    RecordUpsert,
    record_change,
)
from exchange.matching._index import Candidate, MatchIndex
from exchange.matching._link import Linkage, link
from exchange.matching._model import FORMAT_VERSION, Comparison, Level, Model, Thresholds, load_model
from exchange.matching._pub03 import Grade, dob_score, postcode_score, pub03_grade
from exchange.matching._record import (
    BirthDate,
    MatchRecord,
    normalise,
    normalise_identifier,
    normalise_postcode,
)
from exchange.matching._score import (
    RULE_DIFFERENT_NHS,
    RULE_SAME_REGISTER,
    FieldContribution,
    MatchScore,
    Scorer,
    hard_rule,
    score,
)
from exchange.matching._train import TrainingSettings, train

__all__ = [
    "COMPARISONS",
    "FORMAT_VERSION",
    "LEVELS",
    "RULE_DIFFERENT_NHS",
    "RULE_SAME_REGISTER",
    "Accuracy",
    "BirthDate",
    "Candidate",
    "Comparison",
    "FieldContribution",
    "Grade",
    "Level",
    "Linkage",
    "MatchIndex",
    "MatchRecord",
    "MatchScore",
    "Model",
    "PersonCandidate",
    "PersonChanged",
    "PersonClusters",
    "PersonCreated",
    "PersonEvent",
    "PersonMerged",
    "PersonRetired",
    "PersonSplit",
    "PossibleMatch",
    "RecordChange",
    "RecordMerge",
    "RecordRemoval",
    "RecordUpsert",
    "Scorer",
    "Thresholds",
    "TrainingSettings",
    "blocking_keys",
    "compare",
    "dob_score",
    "evaluate",
    "hard_rule",
    "link",
    "load_model",
    "normalise",
    "normalise_identifier",
    "normalise_postcode",
    "postcode_score",
    "pub03_grade",
    "record_change",
    "score",
    "train",
]
