"""An exact-rule finder: PUB03's identifier and name-and-birth-date rows, nothing probabilistic.

Interim: the responder uses the matching library (``exchange.matching``) when it is installed;
this finder only keeps the service usable without it (exact identifiers, exact names and dates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from exchange.hashing import normalise_identifier_value
from services.enquiry._records import Found

__all__ = ["ExactFinder"]


def _identifiers(person: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(i["system"]), normalise_identifier_value(str(i["system"]), str(i["value"])))
        for i in person.get("identifier") or ()
    }


def _demographics(person: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    born = (person.get("dateOfBirth") or {}).get("date")
    if born is None:
        return set()
    keys = set()
    for name in person.get("name") or ():
        for given in (name.get("givenName") or [])[:1]:
            for family in name.get("familyName") or ():
                keys.add((str(given).upper(), str(family).upper(), str(born)))
    return keys


class ExactFinder:
    """Exact PUB03 rows only: identifier (0.99) or given + family name + date of birth (0.6)."""

    def __init__(self) -> None:
        self._by_identifier: dict[tuple[str, str], set[str]] = {}
        self._by_demographics: dict[tuple[str, str, str], set[str]] = {}
        self._records: dict[str, Mapping[str, Any]] = {}

    def upsert(self, key: str, person: Mapping[str, Any]) -> None:
        self.remove(key)
        self._records[key] = person
        for identifier in _identifiers(person):
            self._by_identifier.setdefault(identifier, set()).add(key)
        for demographic in _demographics(person):
            self._by_demographics.setdefault(demographic, set()).add(key)

    def remove(self, key: str) -> None:
        person = self._records.pop(key, None)
        if person is None:
            return
        for identifier in _identifiers(person):
            self._by_identifier.get(identifier, set()).discard(key)
        for demographic in _demographics(person):
            self._by_demographics.get(demographic, set()).discard(key)

    def find(self, query: Mapping[str, Any]) -> Sequence[Found]:
        grades: dict[str, float] = {}
        for demographic in _demographics(query):
            for key in self._by_demographics.get(demographic, ()):
                grades[key] = 0.6
        for identifier in _identifiers(query):
            for key in self._by_identifier.get(identifier, ()):
                grades[key] = 0.99
        return [Found(k, g, g, True) for k, g in sorted(grades.items(), key=lambda kv: (-kv[1], kv[0]))]
