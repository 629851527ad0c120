"""A tiny adapter for runtime tests: one CSV line per person, with its own Avro schema.

Lines are ``person_id,given_name,family_name,birth_date,nhs_number``. ``adapter`` accepts ISO
birth dates only (a ``dd/mm/yyyy`` date is a validate-stage DataError: the "poison" of the
runtime tests); ``fixed_adapter`` also accepts ``dd/mm/yyyy`` (the fix a DLQ replay delivers).
``noting_adapter`` also writes a second event type (a note on the event topic) for people whose
id ends in 7: a schema first needed in the middle of a stream (the registry-outage test).
``slow_adapter`` takes 2 ms per record, so a steady feed keeps it inside transactions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime

from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError

SCHEMA_NAME = "mais.test.RuntimePerson"
NOTE_SCHEMA_NAME = "mais.test.RuntimeNote"
PEOPLE_SYSTEM = "https://mais-exchange.org/Id/local/test/people"
"""The system of the test people's record ids: an agency-local one, so keys stay in clear."""
schemas = {
    SCHEMA_NAME: json.dumps(
        {
            "type": "record",
            "name": "RuntimePerson",
            "namespace": "mais.test",
            "fields": [
                {"name": "person_id", "type": "string"},
                {"name": "given_name", "type": "string"},
                {"name": "family_name", "type": "string"},
                {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}},
                {"name": "nhs_number", "type": ["null", "string"], "default": None},
            ],
        }
    ),
    NOTE_SCHEMA_NAME: json.dumps(
        {
            "type": "record",
            "name": "RuntimeNote",
            "namespace": "mais.test",
            "fields": [{"name": "person_id", "type": "string"}, {"name": "note", "type": "string"}],
        }
    ),
}


def split_lines(data: bytes, origin: str) -> Iterator[SourceRecord]:
    if data.startswith(b"\xff"):
        raise DataError(f"{origin} is not text", stage="parse")
    for number, line in enumerate(data.splitlines(), 1):
        if line.strip() and not line.startswith(b"person_id,"):
            yield SourceRecord(line, f"{origin}:{number}")


def _translate(record: SourceRecord, lenient: bool) -> Sequence[StandardEvent]:
    fields = record.data.decode("utf-8").split(",")
    if len(fields) != 5:
        raise DataError(f"{record.origin}: expected 5 fields, found {len(fields)}", stage="parse")
    person_id, given, family, birth, nhs = fields
    try:
        born = date.fromisoformat(birth)
    except ValueError:
        if not lenient:
            raise DataError(
                f"{record.origin}: field birth_date is not an ISO date", stage="validate"
            ) from None
        try:
            born = datetime.strptime(birth, "%d/%m/%Y").date()
        except ValueError:
            raise DataError(f"{record.origin}: field birth_date is not a date", stage="validate") from None
    value = {
        "person_id": person_id,
        "given_name": given,
        "family_name": family,
        "birth_date": born,
        "nhs_number": nhs or None,
    }
    return [StandardEvent("person", f"{PEOPLE_SYSTEM}|{person_id}", SCHEMA_NAME, value)]


def translate_strict(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    return _translate(record, lenient=False)


def translate_lenient(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    return _translate(record, lenient=True)


adapter = Adapter("people_csv", "Test people, one CSV line each", split_lines, translate_strict, ("*.csv",))
fixed_adapter = Adapter(
    "people_csv", "Test people, lenient dates", split_lines, translate_lenient, ("*.csv",)
)


def translate_noting(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    events = list(_translate(record, lenient=False))
    person_id = str(events[0].value["person_id"])
    if person_id.endswith("7"):
        note = {"person_id": person_id, "note": "seen"}
        events.append(StandardEvent("event", f"{PEOPLE_SYSTEM}|note-{person_id}", NOTE_SCHEMA_NAME, note))
    return events


noting_adapter = Adapter("people_csv", "Test people and notes", split_lines, translate_noting, ("*.csv",))


def translate_slowly(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    time.sleep(0.002)
    return _translate(record, lenient=False)


slow_adapter = Adapter("people_csv", "Test people, 2 ms each", split_lines, translate_slowly, ("*.csv",))
