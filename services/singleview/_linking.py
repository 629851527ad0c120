"""The one small interface between the SingleView and a person-matching library.

A :class:`Linker` keeps records in memory, groups them into persons with stable ids, and says
why. The store persists only what it must keep across a restart, each record's person id
(``sv_link``) and the linker's small state (``sv_linker_state``), in the same transaction as the
records; on start it hands both back through :meth:`Linker.restore`. Explanations and possible
matches are worked out from the records when a page asks for them, so they always describe the
records as they are now.

:class:`~services.singleview._matcher.MatchingLinker` implements it with the project's matching
library (``exchange.matching``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Candidate",
    "LinkChanges",
    "Linker",
    "PossibleMatch",
    "SearchQuery",
    "normalise_name",
    "normalise_postcode",
]


@dataclass
class LinkChanges:
    """What the store must write after one operation, and which persons' pages changed."""

    persons: dict[str, str] = field(default_factory=dict)
    """Record key -> its person id now (only records whose person id changed or is new)."""
    unlinked: set[str] = field(default_factory=set)
    """Record keys the linker no longer holds."""
    redirects: dict[str, str] = field(default_factory=dict)
    """Retired person id -> the person id its records went to (a merge of two persons)."""
    touched: set[str] = field(default_factory=set)
    """Person ids whose page changed (for live updates), retired ones included."""

    def update(self, other: LinkChanges) -> None:
        """Fold a later operation's changes into these."""
        for key, person_id in other.persons.items():
            self.persons[key] = person_id
            self.unlinked.discard(key)
        for key in other.unlinked:
            self.persons.pop(key, None)
            self.unlinked.add(key)
        self.redirects.update(other.redirects)
        self.touched |= other.touched

    def __bool__(self) -> bool:
        return bool(self.persons or self.unlinked or self.redirects or self.touched)


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
    """One record found by a search, best first: PUB03 grade, probability and why."""

    record_key: str
    grade: float | None
    """PUB03's grade (0.99, 0.8, 0.7, 0.6), ``None`` when no row of its table applies."""
    probability: float
    explanation: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    """A record of another person that may be the same person: shown apart, never joined."""

    record_key: str
    other_key: str
    grade: float | None
    probability: float
    explanation: Mapping[str, Any]


class Linker(Protocol):
    """What the SingleView needs from a matching library. Implementations are thread-safe."""

    def restore(
        self,
        records: Iterable[tuple[str, str, Mapping[str, Any]]],
        persons: Mapping[str, str],
        state: Mapping[str, str],
    ) -> LinkChanges:
        """Load ``(record key, agency, person)`` rows, their stored person ids and saved state.

        Returns what differs from the stored links (nothing, unless the model changed).
        """

    @staticmethod
    def prepare(record_key: str, agency: str, person: Mapping[str, Any]) -> Any:
        """What :meth:`upsert` needs of a person record, worked out from the record alone.

        Pure and picklable both ways: the subscriber runs it in its reading process, next to
        decoding, and sends the result over a pipe.
        """

    def upsert(self, record_key: str, prepared: Any) -> LinkChanges:
        """Hold the record (new, or an update of its key) and relink; ``prepared`` is from :meth:`prepare`."""

    def remove(self, record_key: str) -> LinkChanges:
        """Forget the record everywhere (erasure, or a record an agency merged into another)."""

    def person_of(self, record_key: str) -> str | None: ...

    def search(
        self,
        person: Mapping[str, Any],
        also: Iterable[str],
        limit: int,
    ) -> list[Candidate]:
        """Records like ``person`` (a standard Person built from the query) at or above the
        review threshold, best first; the records keyed ``also`` (found by the store: exact
        field matches) are scored and ranked with them whatever their probability."""

    def why_linked(self, record_keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """For each record of one person: which of the others it links to, and each field's weight."""

    def possible_matches(self, record_keys: Sequence[str]) -> list[PossibleMatch]:
        """Records of other persons that may be the same person as these records."""

    def counts(self) -> dict[str, int]:
        """``records``, ``persons`` and ``possible_matches`` held."""

    def state(self) -> dict[str, str]:
        """Small state to persist with each transaction (e.g. the next person number)."""


def normalise_name(text: str) -> str:
    """Upper case, no diacritics, letters only (``O'Brien-Smith`` -> ``OBRIENSMITH``).

    The store keeps names in this form for exact look-ups; fuzzy matching is the linker's job.
    """
    plain = text if text.isascii() else unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_LETTER.sub("", plain.upper())


def normalise_postcode(text: str) -> str:
    return _NOT_POSTCODE.sub("", text.upper())


_NOT_LETTER = re.compile(r"[^A-Z]")
_NOT_POSTCODE = re.compile(r"[^A-Z0-9]")
