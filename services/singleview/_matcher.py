"""The SingleView's linker on the project's matching library (``exchange.matching``).

Records are clustered online by :class:`~exchange.matching.PersonClusters` with the shipped model:
PUB03 grades, Fellegi-Sunter probabilities, the hard rules (two different NHS numbers never join),
and possible matches kept apart. Person ids are the SingleView's own (``P0000001``, numbered in
order of creation and never reused); they are assigned by one rule that depends only on the
records and the ids already stored, never on what the process remembers, so a restart (or a
SIGKILL and a restart) gives every later event the same ids it would have had:

* every person the clustering changed keeps the id most of its records had (ties: the older id);
* a person that lost every record to others is retired and redirects to the person holding most
  of them (two persons turned out to be one: the older id stays);
* a person with no id left gets the next number.

On start the records are clustered again from the store (:meth:`MatchingLinker.restore`): the
clustering does not depend on the order records arrive in, so the persons are those stored and
the stored ids are taken back as they are.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from exchange.matching import (
    Grade,
    MatchRecord,
    MatchScore,
    Model,
    PersonChanged,
    PersonClusters,
    PersonCreated,
    PersonEvent,
    PersonMerged,
    PersonSplit,
    load_model,
    normalise,
    pub03_grade,
)
from services.singleview._linking import Candidate, LinkChanges, PossibleMatch

__all__ = ["MatchingLinker"]

_NUMBER = re.compile(r"^P(\d+)$")
_MAX_EXPLAINED = 25
"""Pairs are explained among a person's first records only (a person of more is an anomaly)."""
_POSSIBLE_COUNT_EVERY_S = 60.0


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(MatchRecord))


def _age(person_id: str) -> int:
    found = _NUMBER.match(person_id)
    return int(found[1]) if found else 1 << 62


def _explain(grade: Grade, score: MatchScore) -> dict[str, Any]:
    """A JSON-ready explanation: the PUB03 row, the probability and each field's weight in bits."""
    return {
        "grade": grade.quality or None,
        "elements": list(grade.elements),
        "probability": round(score.probability, 6),
        "weights": {c.field: round(c.weight, 2) for c in score.contributions if c.level is not None},
        "levels": {c.field: c.level for c in score.contributions if c.level is not None},
        "rule": score.rule,
    }


class MatchingLinker:
    """:class:`~services.singleview._linking.Linker` on ``exchange.matching`` (see module doc)."""

    def __init__(self, model: Model | None = None) -> None:
        self._model = model if model is not None else load_model()
        cluster_ids = itertools.count(1)
        self._clusters = PersonClusters(self._model, new_person_id=lambda: f"c{next(cluster_ids)}")
        self._person: dict[str, str] = {}
        """record key -> SingleView person id (the clustering's own ids stay inside it)."""
        self._sizes: Counter[str] = Counter()
        self._next = 1
        self._lock = threading.RLock()
        self._possible_counted = (-float("inf"), 0)

    # -- state ---------------------------------------------------------------------------------
    def restore(
        self,
        records: Iterable[tuple[str, str, Mapping[str, Any]]],
        persons: Mapping[str, str],
        state: Mapping[str, str],
    ) -> LinkChanges:
        with self._lock:
            for key, agency, person in records:
                self._clusters.upsert(normalise(person, source=agency, key=key))
            self._person = dict(persons)
            self._sizes = Counter(self._person.values())
            oldest = max((_age(p) for p in self._sizes if _NUMBER.match(p)), default=0)
            self._next = max(int(state.get("next_person", "1")), oldest + 1)
            groups = {c for c, _ in self._clusters.persons()}
            gone = [k for k in persons if k not in self._clusters.index]
            return self._reassign(groups, gone)

    def state(self) -> dict[str, str]:
        with self._lock:
            return {"next_person": str(self._next)}

    def counts(self) -> dict[str, int]:
        with self._lock:
            now = time.monotonic()
            if now - self._possible_counted[0] > _POSSIBLE_COUNT_EVERY_S:  # it walks every pair
                self._possible_counted = (now, len(self._clusters.possible_matches()))
            return {
                "records": len(self._clusters.index),
                "persons": len(self._sizes),
                "possible_matches": self._possible_counted[1],
            }

    # -- changes -------------------------------------------------------------------------------
    @staticmethod
    def prepare(record_key: str, agency: str, person: Mapping[str, Any]) -> tuple[Any, ...]:
        """The record normalised for matching, as a plain tuple (it crosses a pipe cheaply)."""
        record = normalise(person, source=agency, key=record_key)
        return tuple(getattr(record, name) for name in _RECORD_FIELDS)

    def upsert(self, record_key: str, prepared: Any) -> LinkChanges:
        record = MatchRecord(*prepared)
        with self._lock:
            held = self._person.get(record_key)
            if held is not None and self._clusters.index.get(record_key) == record:
                return LinkChanges(touched={held})  # nothing matching compares has changed
            changes = self._after(self._clusters.upsert(record), [])
            changes.touched.add(self._person[record_key])
            return changes

    def remove(self, record_key: str) -> LinkChanges:
        with self._lock:
            if record_key not in self._clusters.index:
                return LinkChanges()
            return self._after(self._clusters.remove(record_key), [record_key])

    def person_of(self, record_key: str) -> str | None:
        with self._lock:
            return self._person.get(record_key)

    def _after(self, events: list[PersonEvent], removed: list[str]) -> LinkChanges:
        groups: set[str] = set()
        for event in events:
            if isinstance(event, PersonCreated | PersonChanged):
                groups.add(event.person_id)
            elif isinstance(event, PersonSplit):
                groups |= {event.person_id, event.new_person_id}
            elif isinstance(event, PersonMerged):
                groups.add(event.into)
        return self._reassign(groups, removed)

    def _new_id(self) -> str:
        person_id = f"P{self._next:07d}"
        self._next += 1
        return person_id

    def _reassign(self, clusters: set[str], removed: Iterable[str]) -> LinkChanges:
        """Give the clustering's changed persons SingleView ids by the module's rule."""
        changes = LinkChanges()
        groups = sorted(g for c in clusters if (g := self._clusters.records_of(c)))
        votes: Counter[tuple[int, str]] = Counter()
        for number, members in enumerate(groups):
            for key in members:
                if (held := self._person.get(key)) is not None:
                    votes[number, held] += 1
        for key in removed:
            held = self._person.pop(key, None)
            if held is not None:
                changes.unlinked.add(key)
                changes.touched.add(held)
                self._shrink(held)
        chosen: dict[int, str] = {}
        for (number, held), _ in sorted(votes.items(), key=lambda v: (-v[1], _age(v[0][1]), v[0][0])):
            if number not in chosen and held not in chosen.values():
                chosen[number] = held
        for number, members in enumerate(groups):
            self._place(chosen.get(number) or self._new_id(), members, changes)
        kept = set(chosen.values())
        for (number, held), _ in sorted(votes.items(), key=lambda v: (-v[1], v[0][0])):
            if held not in kept and held not in changes.redirects:
                changes.redirects[held] = self._person[groups[number][0]]
                changes.touched.add(held)
        return changes

    def _place(self, person_id: str, members: Iterable[str], changes: LinkChanges) -> None:
        """Make ``members`` the records of ``person_id``."""
        changes.touched.add(person_id)
        for key in members:
            held = self._person.get(key)
            if held != person_id:
                if held is not None:
                    self._shrink(held)
                self._person[key] = person_id
                self._sizes[person_id] += 1
                changes.persons[key] = person_id

    def _shrink(self, person_id: str) -> None:
        self._sizes[person_id] -= 1
        if self._sizes[person_id] <= 0:
            del self._sizes[person_id]

    # -- reading -------------------------------------------------------------------------------
    def search(self, person: Mapping[str, Any], also: Iterable[str], limit: int) -> list[Candidate]:
        query = normalise(person, source="search", key="search|query")
        with self._lock:
            index = self._clusters.index
            found = {c.key: (c.grade, c.score) for c in index.query(query, limit=limit)}
            for key in also:
                held = index.get(key)
                if held is not None and key not in found:
                    found[key] = (pub03_grade(query, held), index.scorer.score(query, held))
        ranked = sorted(found.items(), key=lambda kv: (-kv[1][1].probability, -kv[1][0].score, kv[0]))
        return [
            Candidate(key, grade.score or None, score.probability, _explain(grade, score))
            for key, (grade, score) in ranked[:limit]
        ]

    def _pair(self, a: MatchRecord, b: MatchRecord) -> tuple[Grade, MatchScore]:
        first, second = (a, b) if a.key < b.key else (b, a)  # one order, so one figure per pair
        return pub03_grade(first, second), self._clusters.index.scorer.score(first, second)

    def why_linked(self, record_keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            index = self._clusters.index
            records = [r for k in sorted(record_keys)[:_MAX_EXPLAINED] if (r := index.get(k)) is not None]
            auto = self._model.thresholds.auto_link
            links: dict[str, list[dict[str, Any]]] = {r.key: [] for r in records}
            for a, b in itertools.combinations(records, 2):
                grade, score = self._pair(a, b)
                for mine, other in ((a, b), (b, a)):
                    link = {"with": other.key, "agency": other.source, **_explain(grade, score)}
                    link["direct"] = score.probability >= auto
                    links[mine.key].append(link)
        reasons: dict[str, dict[str, Any]] = {}
        for key in record_keys:
            found = sorted(links.get(key, []), key=lambda link: (-link["probability"], link["with"]))
            direct = [link for link in found if link["direct"]]
            if len(record_keys) == 1:
                reasons[key] = {"rule": "no other record links to this one", "links": []}
            elif direct:
                reasons[key] = {"rule": "linked by matching", "links": direct}
            else:
                reasons[key] = {"rule": "linked through the other records of this person", "links": found[:1]}
        return reasons

    def possible_matches(self, record_keys: Sequence[str]) -> list[PossibleMatch]:
        mine = set(record_keys)
        with self._lock:
            index = self._clusters.index
            clusters = {c for k in mine if (c := self._clusters.person_of(k)) is not None}
            found: list[PossibleMatch] = []
            for cluster in sorted(clusters):
                for pair in self._clusters.possible_matches(cluster):
                    own, other = (
                        (pair.key, pair.other_key) if pair.key in mine else (pair.other_key, pair.key)
                    )
                    if own not in mine or other in mine:
                        continue
                    a, b = index.get(own), index.get(other)
                    if a is None or b is None:
                        continue
                    grade, score = self._pair(a, b)
                    found.append(PossibleMatch(own, other, grade.score or None, score.probability,
                                               _explain(grade, score)))  # fmt: skip
        return sorted(found, key=lambda m: (-m.probability, m.other_key))
