"""What a record, episode or life event asks of the store, worked out from the event alone.

:func:`change_of` is pure: it needs no database and no linker state, only the linker's
``prepare`` function. So the subscriber's reading process works it out next to decoding, on the
other core, and hands the store small tuples (JSON already encoded, times in milliseconds, the
record already normalised for matching) instead of the decoded value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, NamedTuple

from services.singleview._linking import normalise_name, normalise_postcode
from services.singleview._records import Event, dumps, key_of, ms, subjects_of

__all__ = [
    "FAST_TYPES",
    "Change",
    "EpisodeChange",
    "EpisodeClosure",
    "LifeEventChange",
    "PersonChange",
    "Preparer",
    "change_of",
]

FAST_TYPES = frozenset(
    {"PersonRecorded", "ServiceEpisodeRecorded", "ServiceEpisodeClosed", "LifeEventRecorded"}
)
"""Event types with a change of their own (the store's fast path); the others it reads whole."""

Preparer = Callable[[str, str, Mapping[str, Any]], Any]
"""A linker's ``prepare``: (record key, agency, person) -> what its ``upsert`` takes."""


class PersonChange(NamedTuple):
    """PersonRecorded."""

    recorded: int
    publisher: str
    person_json: str
    family_name: str | None
    given_name: str | None
    birth_date: str | None
    postcode: str | None
    identifiers: tuple[str, ...]
    """The record key and the ``system|value`` of each identifier."""
    match: Any
    """The record as the linker prepared it."""


class EpisodeChange(NamedTuple):
    """ServiceEpisodeRecorded."""

    recorded: int
    publisher: str
    start_at: int | None
    end_at: int | None
    episode_json: str
    subjects: tuple[str, ...]


class EpisodeClosure(NamedTuple):
    """ServiceEpisodeClosed."""

    recorded: int
    publisher: str
    end_at: int | None
    subjects: tuple[str, ...]


class LifeEventChange(NamedTuple):
    """LifeEventRecorded."""

    recorded: int
    publisher: str
    start_at: int | None
    event_json: str
    subjects: tuple[str, ...]


Change = PersonChange | EpisodeChange | EpisodeClosure | LifeEventChange


def change_of(event: Event, prepare: Preparer) -> Change | None:
    """The change ``event`` asks for (``None`` for erasure and merges, which the store reads whole)."""
    value = event.value
    kind = event.short_type
    if kind not in FAST_TYPES:
        return None
    recorded = ms(value["recordedAt"]) or 0
    publisher = key_of(value["publisher"])
    if kind == "PersonRecorded":
        person = value["person"]
        identifiers = {event.key} | {key_of(i) for i in person.get("identifier") or []}
        return PersonChange(
            recorded,
            publisher,
            dumps(person),
            *_search_columns(person),
            tuple(sorted(identifiers)),
            prepare(event.key, event.agency, person),
        )
    if kind == "ServiceEpisodeClosed":
        subjects = tuple(sorted({key_of(i) for i in value["subjectIdentifier"]}))
        return EpisodeClosure(recorded, publisher, ms(value["endDateTime"]), subjects)
    body = value["serviceEpisode" if kind == "ServiceEpisodeRecorded" else "lifeEvent"]
    times = body.get("timeInformation") or [{}]
    subjects = tuple(sorted(subjects_of(body.get("subjectPerson") or [], value["subjectIdentifier"])))
    start = ms(times[0].get("startDateTime"))
    if kind == "ServiceEpisodeRecorded":
        return EpisodeChange(
            recorded, publisher, start, ms(times[0].get("endDateTime")), dumps(body), subjects
        )
    return LifeEventChange(recorded, publisher, start, dumps(body), subjects)


def _search_columns(person: Mapping[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """(family name, given name, date of birth, postcode) as the store keeps them for look-ups."""
    names = person.get("name") or []
    first = names[0] if names else {}
    born = (person.get("dateOfBirth") or {}).get("date")
    address = (person.get("address") or [{}])[0]
    return (
        normalise_name(" ".join(first.get("familyName") or [])) or None,
        normalise_name((first.get("givenName") or [""])[0]) or None,
        born.isoformat() if isinstance(born, date) else None,
        normalise_postcode(address.get("postcode") or "") or None,
    )
