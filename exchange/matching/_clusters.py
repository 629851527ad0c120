"""Clustering records into persons online, with stable person ids and explicit merges and splits.

Links at or above the model's auto-link threshold join records into one person; pairs between
the review and auto-link thresholds are kept as possible matches and never joined. Hard rules
hold for whole persons: a person never holds two different valid NHS numbers, nor two records of
one agency's register that the agency has not merged itself.
"""

from __future__ import annotations

import itertools
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from exchange.matching._events import (
    PersonChanged,
    PersonCreated,
    PersonEvent,
    PersonMerged,
    PersonRetired,
    PersonSplit,
    RecordChange,
    RecordRemoval,
    RecordUpsert,
)
from exchange.matching._index import Candidate, MatchIndex
from exchange.matching._link import identity_of
from exchange.matching._model import Model
from exchange.matching._partition import partition
from exchange.matching._record import MatchRecord
from exchange.matching._score import hard_rule

__all__ = ["PersonCandidate", "PersonClusters", "PossibleMatch"]


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    """Two records scored between the review and auto-link thresholds: for a person to decide."""

    key: str
    other_key: str
    probability: float


@dataclass(frozen=True, slots=True)
class PersonCandidate:
    """A person found for a query: the person id and its best-scoring record."""

    person_id: str
    best: Candidate


class PersonClusters:
    """Records clustered into persons, kept up to date one record event at a time.

    After any sequence of changes the persons are those batch :func:`~exchange.matching.link`
    finds for the same records and merges, whatever order the records arrived in.

    Person ids: a person is named by its **oldest record** (the first to arrive). Each record
    has a home id, made (by ``new_person_id``; default a random 16-hex-digit id) the first time
    it is the oldest record of a person, and kept for good; a person's id is its oldest record's
    home id. So an id never changes while a person's records stay the same (unrelated records
    may come and go), a merge keeps the id of the person whose record is oldest, a split gives
    back the id a part had before it was merged, and a change undone (a record added, then
    removed) gives every person back its id. When the oldest record itself is removed, its home
    id passes to the next oldest record of that person, so erasing one record does not rename
    the person. ``known_person_ids`` maps record keys to the person ids they had before a
    restart: a record that becomes the oldest of a person takes its known id as its home id (if
    no other person holds it), so ids survive a rebuild that feeds records in their first order.
    """

    def __init__(
        self,
        model: Model | None = None,
        *,
        new_person_id: Callable[[], str] | None = None,
        known_person_ids: Mapping[str, str] | None = None,
    ) -> None:
        self._index = MatchIndex(model)
        self.model = self._index.model
        self._new_id = new_person_id or (lambda: secrets.token_hex(8))
        self._links: dict[str, dict[str, float]] = {}
        self._possible: dict[str, dict[str, float]] = {}
        self._merged: dict[str, set[str]] = {}
        self._aliases: dict[str, str] = {}
        self._person: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._known: dict[str, str] = dict(known_person_ids or {})
        self._arrived: dict[str, int] = {}
        self._arrivals = itertools.count()
        self._home: dict[str, str] = {}

    @property
    def index(self) -> MatchIndex:
        """The record index underneath (query it for records rather than persons)."""
        return self._index

    def _detach(self, key: str) -> set[str]:
        touched: set[str] = set()
        for table in (self._links, self._possible):
            for other in table.pop(key, {}):
                table.get(other, {}).pop(key, None)
                touched.add(other)
        return touched

    def upsert(self, record: MatchRecord) -> list[PersonEvent]:
        """Hold ``record`` (new or an update of its key) and relink; the person events it caused."""
        key = record.key
        touched = self._detach(key) | {key}
        self._arrived.setdefault(key, next(self._arrivals))
        self._index.add(record)
        scorer, model = self._index.scorer, self.model
        review, auto = model.thresholds.review, model.thresholds.auto_link
        held = self._index.get(key) or record
        for other in self._index.candidates(held, min_probability=review):
            w = scorer.weight(held, other)
            p = scorer.probability(w)
            if p < review or hard_rule(held, other, model):
                continue
            table = self._links if p >= auto else self._possible
            table.setdefault(key, {})[other.key] = w
            table.setdefault(other.key, {})[key] = w
            touched.add(other.key)
        return self._recluster(touched)

    def remove(self, key: str) -> list[PersonEvent]:
        """Forget the record with ``key`` everywhere (PersonRemoved); the person events it caused."""
        if self._index.remove(key) is None:
            return []
        self._pass_on_home(key)
        self._arrived.pop(key, None)
        self._known.pop(key, None)
        touched = self._detach(key) | self._merged.get(key, set())
        return self._recluster(touched | {key})

    def _pass_on_home(self, key: str) -> None:
        """The home id of a record being removed goes to the next oldest record of its person."""
        home = self._home.pop(key, None)
        person = self._person.get(key)
        if home is None or home != person:
            return
        heirs = [k for k in self._members.get(person, ()) if k != key]
        if heirs:
            self._home[min(heirs, key=self._arrived.__getitem__)] = home

    def merge(self, survivor: str, retired: tuple[str, ...]) -> list[PersonEvent]:
        """The agency merged ``retired`` records into ``survivor`` (PersonsMerged): they become one
        person whatever their scores (the NHS number rule still holds)."""
        for key in retired:
            if key == survivor:
                continue
            self._aliases[key] = survivor
            self._merged.setdefault(survivor, set()).add(key)
            self._merged.setdefault(key, set()).add(survivor)
        return self._recluster({survivor, *retired})

    def apply(self, change: RecordChange) -> list[PersonEvent]:
        """Apply one record change (see :func:`~exchange.matching.record_change`)."""
        if isinstance(change, RecordUpsert):
            return self.upsert(change.record)
        if isinstance(change, RecordRemoval):
            return self.remove(change.key)
        return self.merge(change.survivor, change.retired)

    def person_of(self, key: str) -> str | None:
        """The person id of the record with ``key``."""
        return self._person.get(key)

    def records_of(self, person_id: str) -> tuple[str, ...]:
        """The record keys of a person (empty for an unknown or retired id)."""
        return tuple(sorted(self._members.get(person_id, ())))

    def persons(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Every person with its record keys."""
        for person_id, members in self._members.items():
            yield person_id, tuple(sorted(members))

    def possible_matches(self, person_id: str | None = None) -> list[PossibleMatch]:
        """Pairs between the review and auto-link thresholds (of one person's records, or all)."""
        keys = self._members.get(person_id, set()) if person_id is not None else set(self._possible)
        found: dict[tuple[str, str], float] = {}
        for key in keys:
            for other, w in self._possible.get(key, {}).items():
                pair = (key, other) if key < other else (other, key)
                found[pair] = self._index.scorer.probability(w)
        return [PossibleMatch(a, b, p) for (a, b), p in sorted(found.items())]

    def query(self, record: MatchRecord, *, limit: int = 10) -> list[PersonCandidate]:
        """Persons that ``record`` may be, best first (the record itself is not added)."""
        best: dict[str, Candidate] = {}
        for candidate in self._index.query(record, limit=max(limit * 5, 50)):
            person_id = self._person.get(candidate.key)
            if person_id is not None and person_id not in best:
                best[person_id] = candidate
        return [PersonCandidate(pid, c) for pid, c in best.items()][:limit]

    # -- clustering ---------------------------------------------------------------------------

    def _component(self, start: set[str]) -> set[str]:
        seen: set[str] = set()
        stack = [k for k in start if k in self._index]
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            stack.extend(o for o in self._links.get(key, ()) if o not in seen)
            stack.extend(o for o in self._merged.get(key, ()) if o not in seen and o in self._index)
        return seen

    def _recluster(self, touched: set[str]) -> list[PersonEvent]:
        if len(touched) == 1:
            (key,) = touched
            if key in self._index and not self._links.get(key) and not self._merged.get(key):
                return self._assign([[key]], [])  # linked to nothing: a person of its own
        keys = self._component(touched)
        records = [r for k in keys if (r := self._index.get(k)) is not None]
        edges = [(w, a, b) for a in keys for b, w in self._links.get(a, {}).items() if a < b]
        merges = [(a, b) for a in keys for b in self._merged.get(a, ()) if a < b and b in keys]
        groups = partition(keys, edges, identity_of(records, self.model, self._aliases), merges)
        gone = [k for k in touched if k not in self._index and k in self._person]
        return self._assign(groups, gone)

    def _id_of(self, group: list[str], taken: set[str]) -> str:
        """The id of a person of ``group``: its oldest record's home id (made on first need)."""
        owner = min(group, key=self._arrived.__getitem__)
        home = self._home.get(owner)
        if home is None:
            known = self._known.get(owner)
            in_use = known is not None and (known in taken or known in self._members)
            home = known if known is not None and not in_use else self._new_id()
            self._home[owner] = home
        return home

    def _place(self, pid: str, group: list[str], old_members: set[str]) -> PersonEvent | None:
        """Make ``group`` the records of ``pid``; the event that says so (None: nothing changed)."""
        sources = Counter(self._person[k] for k in group if k in self._person and self._person[k] != pid)
        members = set(group)
        for key in group:
            self._person[key] = pid
        self._members[pid] = members
        if not old_members and sources:
            return PersonSplit(sources.most_common(1)[0][0], pid, tuple(group))
        if not old_members:
            return PersonCreated(pid, tuple(group))
        if members != old_members:
            return PersonChanged(
                pid, tuple(sorted(members - old_members)), tuple(sorted(old_members - members))
            )
        return None

    def _assign(self, groups: list[list[str]], gone: list[str]) -> list[PersonEvent]:
        before: dict[str, set[str]] = {}
        for key in [k for g in groups for k in g] + gone:
            pid = self._person.get(key)
            if pid is not None:
                before.setdefault(pid, set(self._members.get(pid, ())))
        for key in gone:
            pid = self._person.pop(key)
            self._members.get(pid, set()).discard(key)
        chosen: list[str] = []
        for group in groups:
            chosen.append(self._id_of(group, set(chosen)))
        events: list[PersonEvent] = []
        for pid, group in zip(chosen, groups, strict=True):
            event = self._place(pid, group, before.get(pid, set()))
            if event is not None:
                events.append(event)
        for pid, old_members in before.items():
            if pid in chosen:
                continue
            remaining = [k for k in old_members if k in self._person]
            self._members.pop(pid, None)
            if not remaining:
                events.append(PersonRetired(pid))
                continue
            into = Counter(self._person[k] for k in remaining).most_common(1)[0][0]
            events.append(PersonMerged(pid, into, tuple(sorted(remaining))))
        return events
