"""Builders of standard events shared by every adapter, and their validation.

Adapters describe what they found in the standard's own terms (PUB01 Person, PUB02
ServiceEpisode / LifeEvent, camelCase fields, *published* codes such as gender ``"1"``); these
builders wrap it in the ``mais.v1`` event records (publisher, recordedAt, subjectIdentifier),
translate published codes to Avro enum symbols, choose the topic entity and the Kafka key.
:func:`validate_events` checks each value against its Avro schema (stage ``validate``).

Values are fastavro-ready: timestamps are aware ``datetime``, dates are ``date``;
``mais translate`` renders them as ISO 8601 text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from fastavro import schemaless_writer
from fastavro.validation import ValidationError, validate

from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import ODS_ORGANISATION_SYSTEM, Identifier
from exchange.schemas import load_schema, to_symbol

__all__ = [
    "EPISODE_CODE_SYSTEM",
    "EVENT_CODE_SYSTEM",
    "INVOLVEMENT_SYSTEM",
    "Provenance",
    "coding",
    "episode_closed",
    "episode_recorded",
    "life_event_recorded",
    "person_recorded",
    "persons_merged",
    "provenance",
    "subject",
    "validate_events",
]

NS = "mais.v1."
_PUB02 = "https://socialcaredata.github.io/publications_safeguarding_standard"
EPISODE_CODE_SYSTEM = f"{_PUB02}#episode-code-vocabulary"
EVENT_CODE_SYSTEM = f"{_PUB02}#event-code-vocabulary"
INVOLVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_ENUM_FIELDS = {"genderCode": "GenderCode", "sexCode": "PhenotypicSexCode", "ethnicityCode": "EthnicityCode"}
_PATH = re.compile(r'"([A-Za-z0-9_.]+) is <')

Provenance = tuple[Identifier, datetime]
"""Who publishes (the agency's organisation) and when the fact was recorded at source."""


def provenance(context: AdapterContext, recorded_at: datetime) -> Provenance:
    """The publisher (by ODS code) and source recording time of the events of one record."""
    return _publisher(context.organisation_id), recorded_at


@cache
def _publisher(organisation: str) -> Identifier:
    return Identifier(ODS_ORGANISATION_SYSTEM, organisation)


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A ``mais.v1.Coding``."""
    return {"code": code, "system": system, "display": display}


def subject(person: Identifier) -> dict[str, Any]:
    """The SubjectPerson reference (involvement ``SBJ``) of an episode or life event."""
    return {"person": person.as_record(), "involvement": coding(INVOLVEMENT_SYSTEM, "SBJ", "Subject")}


def _envelope(prov: Provenance, subjects: Iterable[Identifier]) -> dict[str, Any]:
    publisher, recorded_at = prov
    return {
        "publisher": publisher.as_record(),
        "recordedAt": recorded_at,
        "subjectIdentifier": [i.as_record() for i in subjects],
    }


def person_recorded(person: Mapping[str, Any], *, key: Identifier, prov: Provenance) -> StandardEvent:
    """A Person as the agency now knows it: full state, consumers replace what they had."""
    identifiers = person.get("identifier")
    if not identifiers:
        raise DataError("person has no usable identifier", stage="map")
    record = _clean(person)
    for field, vocabulary in _ENUM_FIELDS.items():
        if field in record:
            record[field] = _symbol(vocabulary, record[field], field)
    record.setdefault("name", [])
    publisher, recorded_at = prov
    value = {
        "publisher": publisher.as_record(),
        "recordedAt": recorded_at,
        "subjectIdentifier": identifiers,
        "person": record,
    }
    return StandardEvent("person", key.key(), NS + "PersonRecorded", value)


def persons_merged(*, surviving: Identifier, merged: Sequence[Identifier], prov: Provenance) -> StandardEvent:
    """Records ``merged`` turned out to be the person ``surviving`` and were folded into it."""
    if not merged:
        raise DataError("merge names no record to merge", stage="map")
    value = _envelope(prov, [surviving]) | {"mergedIdentifier": [i.as_record() for i in merged]}
    return StandardEvent("person", surviving.key(), NS + "PersonsMerged", value)


def episode_recorded(episode: Mapping[str, Any], *, key: Identifier, prov: Provenance) -> StandardEvent:
    """A ServiceEpisode as the agency now knows it (open, or closed with an end time)."""
    record = _clean(episode)
    _require(record, ("identifier", "type", "subjectPerson", "relatedService", "timeInformation"))
    record.setdefault("location", [])
    value = _envelope(prov, _subjects(record)) | {"serviceEpisode": record}
    return StandardEvent("episode", key.key(), NS + "ServiceEpisodeRecorded", value)


def episode_closed(
    *, key: Identifier, subject_person: Identifier, ended: datetime, prov: Provenance
) -> StandardEvent:
    """An episode ended at ``ended`` (a cancelled one ends when it was cancelled)."""
    value = _envelope(prov, [subject_person]) | {"episodeIdentifier": [key.as_record()], "endDateTime": ended}
    return StandardEvent("episode", key.key(), NS + "ServiceEpisodeClosed", value)


def life_event_recorded(event: Mapping[str, Any], *, key: Identifier, prov: Provenance) -> StandardEvent:
    """A LifeEvent: a missing episode, a death, an exclusion ..."""
    record = _clean(event)
    _require(record, ("identifier", "type", "subjectPerson"))
    value = _envelope(prov, _subjects(record)) | {"lifeEvent": record}
    return StandardEvent("event", key.key(), NS + "LifeEventRecorded", value)


@cache
def _schema(full_name: str) -> dict[str, Any]:
    return load_schema(full_name)


@cache
def _symbol(vocabulary: str, code: str, field: str) -> str:
    return to_symbol(vocabulary, code, field=field)


def validate_events(events: Iterable[StandardEvent]) -> None:
    """Check every event value against its Avro schema; the error names fields, never values.

    Encoding with fastavro checks every field's type and is several times faster than
    fastavro's validator, so the fast path encodes (and drops the bytes); only a value that
    fails to encode is run through the validator, to find which fields are wrong.
    """
    for event in events:
        schema = _schema(event.schema)
        try:
            schemaless_writer(io.BytesIO(), schema, event.value)
        except Exception:  # any failure to encode means the value does not fit the schema
            _explain(event, schema)


def _explain(event: StandardEvent, schema: dict[str, Any]) -> None:
    try:
        validate(event.value, schema, raise_errors=True)
    except ValidationError as exc:
        paths = sorted(set(_PATH.findall(str(exc)))) or ["(record)"]
        where = ", ".join(paths)
        raise DataError(f"{event.schema} does not validate at {where}", stage="validate") from None
    except Exception:
        raise DataError(f"{event.schema} holds a value of an unexpected type", stage="validate") from None
    raise DataError(f"{event.schema} cannot be encoded", stage="validate")


def _subjects(record: Mapping[str, Any]) -> list[Identifier]:
    return [Identifier(s["person"]["system"], s["person"]["value"]) for s in record["subjectPerson"]]


def _require(record: Mapping[str, Any], names: Iterable[str]) -> None:
    for name in names:
        if not record.get(name):
            raise DataError(f"no {name} could be mapped", stage="map")


def _clean(record: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the record's top-level fields that are None or empty, so their Avro defaults apply.

    Nested values are the adapters' job: optional fields may be None, arrays must be lists.
    """
    return {k: v for k, v in record.items() if v is not None and v not in ([], {})}
