"""The one small interface between the SingleView and a person-matching library.

A :class:`Linker` keeps records in memory, groups them into persons with stable ids, and says why.
The store persists what it returns (``sv_link``, ``sv_possible_match``, ``sv_linker_state``) in the
same transaction as the records, and hands it back through :meth:`Linker.restore` after a restart,
so the linker's state always equals what a clean replay would have built.

:class:`IdentifierLinker` is the interim implementation shipped until the project's matching
library is wired in: it links on shared NHS number, UPN or LA child id (never across two different
NHS numbers) or on identical given name, family name and date of birth, and reports PUB03 grades
but no probability.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

__all__ = [
    "Candidate",
    "IdentifierLinker",
    "LinkChanges",
    "LinkedRecord",
    "Linker",
    "PossibleMatch",
    "SearchQuery",
    "normalise_name",
    "normalise_postcode",
]

NHS = "https://fhir.nhs.uk/Id/nhs-number"
_STRONG = (NHS, "https://mais-exchange.org/Id/upn", "https://mais-exchange.org/Id/la-child-id/")


@dataclass(frozen=True, slots=True)
class LinkedRecord:
    """A record's person id and why it belongs there (JSON-ready; names other record keys only)."""

    record_key: str
    person_id: str
    reason: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    """A record of another person that may be the same person: shown apart, never joined."""

    record_key: str
    other_key: str
    grade: float | None
    probability: float | None
    reason: Mapping[str, Any]


@dataclass
class LinkChanges:
    """What the store must write after one operation."""

    linked: list[LinkedRecord] = field(default_factory=list)
    unlinked: list[str] = field(default_factory=list)
    possible: dict[str, list[PossibleMatch]] = field(default_factory=dict)
    """Record key -> its complete current list of possible matches (replaces the stored one)."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a practitioner typed; any field may be empty."""

    given: str = ""
    family: str = ""
    birth_date: str = ""
    identifier: str = ""
    postcode: str = ""

    def is_empty(self) -> bool:
        return not any((self.given, self.family, self.birth_date, self.identifier, self.postcode))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One record found by a search, best first."""

    record_key: str
    grade: float | None
    probability: float | None
    explanation: Mapping[str, Any]


class Linker(Protocol):
    """What the SingleView needs from a matching library."""

    def restore(
        self, records: Iterable[tuple[str, str, Mapping[str, Any], str]], state: Mapping[str, str]
    ) -> None:
        """Load ``(record key, agency, person, person id)`` rows and saved state, as stored."""

    def upsert(self, record_key: str, agency: str, person: Mapping[str, Any]) -> LinkChanges: ...

    def remove(self, record_key: str) -> LinkChanges: ...

    def merge(self, survivor_key: str, retired_keys: list[str]) -> LinkChanges:
        """The agency merged ``retired_keys`` into ``survivor_key``: the retired records leave."""

    def search(self, query: SearchQuery, limit: int) -> list[Candidate]: ...

    def state(self) -> dict[str, str]:
        """Small state to persist with each transaction (e.g. the next person number)."""


def normalise_name(text: str) -> str:
    """Upper case, no diacritics, letters only (``O'Brien-Smith`` -> ``OBRIENSMITH``)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z]", "", plain.upper())


def normalise_postcode(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


@dataclass
class _Record:
    agency: str
    strong: frozenset[str]
    nhs: frozenset[str]
    given: str
    family: str
    birth: str
    postcode: str
    line1: str


def _features(agency: str, person: Mapping[str, Any]) -> _Record:
    ids = [(i["system"], str(i["value"])) for i in person.get("identifier") or []]
    strong = frozenset(f"{s}|{v}" for s, v in ids if s.startswith(_STRONG))
    names = person.get("name") or []
    first = names[0] if names else {}
    dob = person.get("dateOfBirth") or {}
    born = dob.get("date")
    address = (person.get("address") or [{}])[0]
    return _Record(
        agency=agency,
        strong=strong,
        nhs=frozenset(v for s, v in ids if s == NHS),
        given=normalise_name((first.get("givenName") or [""])[0]),
        family=normalise_name(" ".join(first.get("familyName") or [])),
        birth=born.isoformat() if isinstance(born, date) else str(born or ""),
        postcode=normalise_postcode(address.get("postcode") or ""),
        line1=normalise_name(address.get("line1") or ""),
    )


def pub03_grade(a: _Record, b: _Record) -> float | None:
    """PUB03's grade of two records (0.99 identifier; 0.8 / 0.7 / 0.6 name, date of birth, address)."""
    if a.strong & b.strong:
        return 0.99
    if not (a.given and a.family and a.birth) or (a.given, a.family, a.birth) != (b.given, b.family, b.birth):
        return None
    if a.postcode and a.postcode == b.postcode:
        return 0.8 if a.line1 and a.line1 == b.line1 else 0.7
    return 0.6


class IdentifierLinker:
    """Deterministic linking on strong identifiers and exact name + date of birth (see module doc)."""

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._index: dict[str, set[str]] = {}
        self._blocks_of: dict[str, list[str]] = {}
        self._person: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._next = 1

    # -- state -------------------------------------------------------------------------------
    def restore(
        self, records: Iterable[tuple[str, str, Mapping[str, Any], str]], state: Mapping[str, str]
    ) -> None:
        for key, agency, person, person_id in records:
            self._add(key, _features(agency, person))
            self._person[key] = person_id
            self._members.setdefault(person_id, set()).add(key)
        self._next = int(state.get("next_person", "1"))

    def state(self) -> dict[str, str]:
        return {"next_person": str(self._next)}

    # -- operations ----------------------------------------------------------------------------
    def upsert(self, record_key: str, agency: str, person: Mapping[str, Any]) -> LinkChanges:
        touched = self._detach(record_key)
        self._add(record_key, _features(agency, person))
        touched |= {record_key} | self._neighbours(record_key)
        return self._relink(touched)

    def remove(self, record_key: str) -> LinkChanges:
        if record_key not in self._records:
            return LinkChanges()
        touched = self._detach(record_key)
        self._person.pop(record_key, None)
        changes = self._relink(touched)
        changes.unlinked.append(record_key)
        return changes

    def merge(self, survivor_key: str, retired_keys: list[str]) -> LinkChanges:
        changes = LinkChanges()
        for key in retired_keys:
            removed = self.remove(key)
            changes.linked += removed.linked
            changes.unlinked += removed.unlinked
            changes.possible.update(removed.possible)
        return changes

    def search(self, query: SearchQuery, limit: int) -> list[Candidate]:
        keys: set[str] = set()
        if query.identifier:
            value = re.sub(r"\s", "", query.identifier)
            keys |= self._index.get(f"value:{value.upper()}", set())
        given, family = normalise_name(query.given), normalise_name(query.family)
        if query.birth_date:
            keys |= self._index.get(f"dob:{query.birth_date}", set())
        elif family:
            keys |= self._index.get(f"family:{family}", set())
        if query.postcode:
            keys |= self._index.get(f"postcode:{normalise_postcode(query.postcode)}", set())
        found: list[Candidate] = []
        for key in keys:
            score, explanation = _search_score(self._records[key], query, given, family)
            if score > 0:
                found.append(Candidate(key, explanation.get("grade"), None, explanation))
        found.sort(key=lambda c: (-float(c.explanation["score"]), c.record_key))
        return found[:limit]

    # -- internals -----------------------------------------------------------------------------
    def _blocks(self, key: str, record: _Record, values: Iterable[str]) -> list[str]:
        blocks = [f"strong:{s}" for s in record.strong] + [f"value:{v.upper()}" for v in values]
        if record.birth:
            blocks.append(f"dob:{record.birth}")
        if record.family:
            blocks.append(f"family:{record.family}")
        if record.postcode:
            blocks.append(f"postcode:{record.postcode}")
        return blocks

    def _add(self, key: str, record: _Record) -> None:
        self._records[key] = record
        values = [key.rsplit("|", 1)[-1]] + [s.rsplit("|", 1)[-1] for s in record.strong]
        blocks = self._blocks(key, record, values)
        self._blocks_of[key] = blocks
        for block in blocks:
            self._index.setdefault(block, set()).add(key)

    def _detach(self, key: str) -> set[str]:
        """Take ``key`` out of the index; return the other members of its person."""
        record = self._records.pop(key, None)
        if record is None:
            return set()
        for block in self._blocks_of.pop(key, []):
            keys = self._index.get(block)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._index[block]
        person_id = self._person.get(key)
        members = self._members.get(person_id, set()) if person_id else set()
        members.discard(key)
        return set(members)

    def _neighbours(self, key: str) -> set[str]:
        record = self._records[key]
        found: set[str] = set()
        for strong in record.strong:
            found |= self._index.get(f"strong:{strong}", set())
        if record.birth:
            found |= self._index.get(f"dob:{record.birth}", set())
        found.discard(key)
        return found

    def _edge(self, a: str, b: str) -> tuple[str, float | None] | None:
        ra, rb = self._records[a], self._records[b]
        if ra.nhs and rb.nhs and not (ra.nhs & rb.nhs):
            return None  # two different NHS numbers never link
        shared = ra.strong & rb.strong
        if shared:
            system = sorted(shared)[0].rsplit("|", 1)[0]
            rule = "nhs-number" if system == NHS else "upn" if system.endswith("/upn") else "la-child-id"
            return rule, 0.99
        grade = pub03_grade(ra, rb)
        return ("name-and-date-of-birth", grade) if grade is not None else None

    def _possible(self, a: str, b: str) -> PossibleMatch | None:
        ra, rb = self._records[a], self._records[b]
        if ra.nhs and rb.nhs and not (ra.nhs & rb.nhs):
            return None
        if (
            ra.birth
            and ra.birth == rb.birth
            and ra.family
            and ra.family == rb.family
            and ra.given != rb.given
        ):
            if ra.given[:1] == rb.given[:1]:
                reason = {"rule": "same family name and date of birth, given names alike"}
                return PossibleMatch(a, b, None, None, reason)
        return None

    def _relink(self, touched: set[str]) -> LinkChanges:
        """Recompute the persons of ``touched`` records (and whatever they link to)."""
        nodes: set[str] = set()
        for key in touched:
            if key in self._records:
                nodes.add(key)
                person_id = self._person.get(key)
                if person_id:
                    nodes |= self._members.get(person_id, set())
        edges: dict[str, dict[str, tuple[str, float | None]]] = {k: {} for k in nodes}
        frontier = list(nodes)
        while frontier:  # grow through links to records outside the first set
            key = frontier.pop()
            for other in self._neighbours(key):
                edge = self._edge(key, other)
                if edge is None:
                    continue
                if other not in edges:
                    edges[other] = {}
                    frontier.append(other)
                    person_id = self._person.get(other)
                    for member in self._members.get(person_id, set()) if person_id else set():
                        if member not in edges:
                            edges[member] = {}
                            frontier.append(member)
                edges[key][other] = edge
                edges[other][key] = edge
        components = _components(edges)
        changes = LinkChanges()
        used: set[str] = set()
        for component in sorted(components, key=lambda c: (-len(c), min(c))):
            person_id = self._choose_id(component, used)
            used.add(person_id)
            for key in sorted(component):
                previous = self._person.get(key)
                if previous and previous != person_id:
                    self._members.get(previous, set()).discard(key)
                self._person[key] = person_id
                self._members.setdefault(person_id, set()).add(key)
                reason = _reason(edges[key], component)
                changes.linked.append(LinkedRecord(key, person_id, reason))
        for key in edges:
            matches = [
                m
                for other in sorted(self._neighbours(key))
                if self._person.get(other) != self._person.get(key)
                for m in [self._possible(key, other)]
                if m is not None
            ]
            changes.possible[key] = matches
        for person_id in [p for p, members in self._members.items() if not members]:
            del self._members[person_id]
        return changes

    def _choose_id(self, component: set[str], used: set[str]) -> str:
        """The id most of these records already had (the oldest on a tie), else a new one."""
        counts: dict[str, int] = {}
        for key in component:
            person_id = self._person.get(key)
            if person_id and person_id not in used:
                counts[person_id] = counts.get(person_id, 0) + 1
        if counts:
            return min(counts, key=lambda p: (-counts[p], len(p), p))
        person_id = f"P{self._next:07d}"
        self._next += 1
        return person_id


def _components(edges: Mapping[str, Mapping[str, Any]]) -> list[set[str]]:
    seen: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(edges):
        if start in seen:
            continue
        component, stack = set(), [start]
        while stack:
            key = stack.pop()
            if key in component:
                continue
            component.add(key)
            stack.extend(edges[key])
        seen |= component
        components.append(component)
    return components


def _reason(links: Mapping[str, tuple[str, float | None]], component: set[str]) -> dict[str, Any]:
    if len(component) == 1:
        return {"rule": "no other record links to this one", "links": []}
    return {
        "rule": "linked",
        "links": [
            {"with": other, "rule": rule, "grade": grade} for other, (rule, grade) in sorted(links.items())
        ],
    }


def _search_score(
    record: _Record, query: SearchQuery, given: str, family: str
) -> tuple[float, dict[str, Any]]:
    matched: dict[str, str] = {}
    score = 0.0
    if query.identifier:
        value = re.sub(r"\s", "", query.identifier).upper()
        if any(s.rsplit("|", 1)[-1].upper() == value for s in record.strong):
            matched["identifier"] = "exact"
            score += 10
    if query.birth_date and record.birth == query.birth_date:
        matched["date of birth"] = "exact"
        score += 3
    for label, wanted, have in (("family name", family, record.family), ("given name", given, record.given)):
        if wanted and have == wanted:
            matched[label] = "exact"
            score += 3
        elif wanted and have and len(wanted) >= 3 and (have.startswith(wanted) or wanted.startswith(have)):
            matched[label] = "starts alike"
            score += 1.5
        elif wanted:
            score -= 1
    if query.postcode and record.postcode == normalise_postcode(query.postcode):
        matched["postcode"] = "exact"
        score += 2
    grade = 0.99 if "identifier" in matched else None
    if grade is None and {"given name", "family name", "date of birth"} <= {
        k for k, v in matched.items() if v == "exact"
    }:
        grade = 0.7 if "postcode" in matched else 0.6
    return (score if matched else 0.0), {"score": score, "grade": grade, "matched": matched}
