"""The agency's own records, as the responder knows them: people and their service involvements.

The responder never reads another agency's data. It follows the agency's own standard topics
(``mais.<agency>.person.v1`` and ``mais.<agency>.episode.v1``) from the beginning, keeps the people
in a :class:`PersonFinder` and a short summary of each involvement, and asks the finder "is this
person among ours?". :class:`PersonFinder` is the one small interface the enquiry service needs
from person matching.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["Found", "Involvement", "OwnRecords", "PersonFinder", "record_key"]


def record_key(identifier: Mapping[str, Any]) -> str:
    """The agency-local key ``system|value`` of a record identifier (as on the agency's topics)."""
    return f"{identifier['system']}|{identifier['value']}"


@dataclass(frozen=True, slots=True)
class Found:
    """One of the agency's records that may be the person asked about."""

    key: str
    grade: float  # PUB03 score: 0.99 identifier, 0.8 superior, 0.7 very good, 0.6 good, 0.0 none
    probability: float  # probability that it is the same person (0..1)
    known: bool  # good enough to say "we know this person"


class PersonFinder(Protocol):
    """Find a person among the agency's own records (the matching library behind a small interface)."""

    def upsert(self, key: str, person: Mapping[str, Any]) -> None:
        """Add or replace the record ``key`` (a standard Person value)."""

    def remove(self, key: str) -> None:
        """Forget the record ``key``."""

    def find(self, query: Mapping[str, Any]) -> Sequence[Found]:
        """Records that may be the person ``query`` (a standard Person value), best first."""


@dataclass(frozen=True, slots=True)
class Involvement:
    """What an answer may say about one involvement: kinds, services, start and end."""

    types: tuple[Mapping[str, Any], ...]
    services: tuple[Mapping[str, Any], ...]
    start: datetime | None
    end: datetime | None

    def to_avro(self) -> dict[str, Any]:
        return {
            "type": [dict(t) for t in self.types],
            "relatedService": [dict(s) for s in self.services],
            "startDateTime": self.start,
            "endDateTime": self.end,
        }


class OwnRecords:
    """People and involvements of one agency, kept current from its own topics."""

    def __init__(self, finder: PersonFinder) -> None:
        self.finder = finder
        self._people: dict[str, tuple[str, ...]] = {}  # record key -> keys of all its identifiers
        self._episodes: dict[str, Involvement] = {}  # episode key -> summary
        self._episodes_of: dict[str, set[str]] = {}  # person identifier key -> episode keys

    def __len__(self) -> int:
        return len(self._people)

    def apply(self, event_type: str, key: str, value: Mapping[str, Any]) -> None:
        """Apply one event read from the agency's person or episode topic."""
        if event_type == "mais.v1.PersonRecorded":
            person = value["person"]
            self._people[key] = tuple(record_key(i) for i in person.get("identifier") or [])
            self.finder.upsert(key, person)
        elif event_type in ("mais.v1.PersonRemoved", "mais.v1.PersonsMerged"):
            gone = (
                [key]
                if event_type.endswith("Removed")
                else [record_key(i) for i in value["mergedIdentifier"]]
            )
            for old in gone:
                if self._people.pop(old, None) is not None:
                    self.finder.remove(old)
        elif event_type == "mais.v1.ServiceEpisodeRecorded":
            self._record_episode(key, value["serviceEpisode"])
        elif event_type == "mais.v1.ServiceEpisodeClosed":
            for identifier in value["episodeIdentifier"]:
                episode = self._episodes.get(record_key(identifier))
                if episode is not None:
                    self._episodes[record_key(identifier)] = Involvement(
                        episode.types, episode.services, episode.start, value["endDateTime"]
                    )

    def _record_episode(self, key: str, episode: Mapping[str, Any]) -> None:
        timing = (episode.get("timeInformation") or [{}])[0]
        self._episodes[key] = Involvement(
            tuple(episode.get("type") or ()),
            tuple(episode.get("relatedService") or ()),
            timing.get("startDateTime"),
            timing.get("endDateTime"),
        )
        for subject in episode.get("subjectPerson") or ():
            self._episodes_of.setdefault(record_key(subject["person"]), set()).add(key)

    def involvements(self, person_key: str) -> list[Involvement]:
        """The involvements of the record ``person_key`` (through any of its identifiers), by start."""
        keys: set[str] = set()
        for identifier_key in self._people.get(person_key, (person_key,)):
            keys |= self._episodes_of.get(identifier_key, set())
        found = [self._episodes[k] for k in sorted(keys) if k in self._episodes]
        return sorted(found, key=lambda i: (i.start is None, i.start or datetime.min))
