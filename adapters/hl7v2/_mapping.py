"""HL7 v2 ADT messages to standard events.

* Every message with a PID yields a ``PersonRecorded`` (A28/A31 and every other ADT event too).
* Admission, registration, pre-admission, transfer and their cancellations' reversals
  (A01, A04, A05, A02, A06, A07, A12, A13, and A08 when it carries a visit) yield
  ``ServiceEpisodeRecorded``; discharge (A03) yields ``ServiceEpisodeClosed`` (``ended``);
  a cancelled admission or pre-admission (A11, A38) yields ``ServiceEpisodeClosed`` (``cancelled``).
* Person merges (A40, A18, A30, A34, A36, A39) yield ``PersonsMerged`` per PID/MRG pair.

Identifiers (PID-3, repeated): an NHS number is one whose assigning authority is ``NHS`` with
identifier type ``NH``, ``HN`` or none; it is checked (modulus 11) and left out with a warning
when wrong. Other identifiers of type MR/PI/PT/PE or none are local record numbers in the
namespace of their assigning authority (or, without one, of the adapter's organisation).
PID-22 NHS ethnic category codes become ONS 2021 ethnicity where one category matches.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from adapters._common import NHS_ETHNICITY
from adapters._fields import optional
from adapters._standard import (
    INVOLVEMENT_SYSTEM,
    Provenance,
    coding,
    episode_closed,
    episode_recorded,
    person_recorded,
    persons_merged,
    provenance,
    subject,
)
from adapters.hl7v2._datatypes import address, contacts, hl7_date, hl7_datetime, names
from adapters.hl7v2._parser import Message, Segment
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import Identifier, Warn, checked_nhs_number, local_system

__all__ = ["map_adt"]

_OPENS = frozenset({"A01", "A02", "A04", "A05", "A06", "A07", "A12", "A13"})
_CANCELS = frozenset({"A11", "A38"})
_MERGES = frozenset({"A18", "A30", "A34", "A36", "A39", "A40"})
_NHS_TYPES = frozenset({"NH", "HN", ""})
_LOCAL_TYPES = frozenset({"MR", "PI", "PT", "PE", ""})
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# HL7 table 0001 administrative sex -> PERSON STATED GENDER CODE
_GENDER = {"M": "1", "F": "2", "O": "9", "A": "9", "U": "X", "N": "X"}
# NHS ethnic category codes with no single ONS 2021 category: known, so left out without a warning
_ETHNICITY_UNMAPPED = frozenset({"Z", "99"})
# The standard's episode vocabulary has no hospital codes yet: the HL7 patient class says what it is.
_PATIENT_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0004"
_PATIENT_CLASS = {
    "E": "Emergency",
    "I": "Inpatient",
    "O": "Outpatient",
    "P": "Preadmit",
    "R": "Recurring patient",
    "B": "Obstetrics",
    "C": "Commercial Account",
    "N": "Not Applicable",
    "U": "Unknown",
}


def map_adt(message: Message, context: AdapterContext) -> list[StandardEvent]:
    """The standard events one ADT message implies."""
    kind, event = message.msh.values(9, 2)
    if kind.upper() != "ADT":
        hint = "route only ADT messages to this adapter"
        raise DataError("MSH-9 message type is missing or not ADT", stage="map", hint=hint)
    evn = message.first("EVN")
    trigger = (event or (evn.value(1) if evn else "")).upper()
    if not trigger:
        raise DataError("MSH-9.2 (and EVN-1) give no trigger event", stage="map")
    pids = message.all("PID")
    if not pids:
        raise DataError("ADT message has no PID segment", stage="map")
    when, recorded = _times(message, evn)
    prov = provenance(context, recorded)
    if trigger in _MERGES:
        return _merges(message, context, prov)
    person, key = _person(pids[0], context)
    events = [person_recorded(person, key=key, prov=prov)]
    pv1 = message.first("PV1")
    if pv1 is None or not (trigger in _OPENS or trigger in _CANCELS or trigger in ("A03", "A08")):
        return events
    visit = _visit(pv1, context)
    if visit is None:
        if trigger != "A08":
            context.warn("missing-visit-number", f"{trigger}: PV1-19 visit number is empty; no episode")
        return events
    if trigger == "A03":
        ended = hl7_datetime(pv1.value(45), "PV1-45") or when
        events.append(episode_closed(key=visit, subject_person=key, ended=ended, prov=prov))
    elif trigger in _CANCELS:
        events.append(episode_closed(key=visit, subject_person=key, ended=when, prov=prov))
    else:
        episode = _episode(pv1, visit, key, when=when, trigger=trigger, context=context)
        events.append(episode_recorded(episode, key=visit, prov=prov))
    return events


def _times(message: Message, evn: Segment | None) -> tuple[datetime, datetime]:
    """When the event happened (EVN-6, else EVN-2, else MSH-7) and when the source system
    recorded it (EVN-2, else MSH-7). A malformed EVN-6 is reported before EVN-2, EVN-2 before MSH-7.
    """
    occurred = recorded = None
    if evn is not None:
        occurred = hl7_datetime(evn.value(6), "EVN-6")
        recorded = hl7_datetime(evn.value(2), "EVN-2")
    if recorded is None:
        recorded = hl7_datetime(message.msh.value(7), "MSH-7")
        if recorded is None:
            raise DataError("MSH-7 (date/time of message) is empty", stage="map")
    return occurred or recorded, recorded


def _namespace(authority: str, context: AdapterContext, where: str) -> str:
    if not authority:
        return context.organisation_id
    if not _usable_authority(authority):
        context.warn("unusable-assigning-authority", f"{where}: assigning authority is not a code; own used")
        return context.organisation_id
    return authority


@lru_cache(maxsize=1024)
def _usable_authority(authority: str) -> bool:
    return _SAFE.fullmatch(authority) is not None


def _identifiers(segment: Segment, n: int, context: AdapterContext) -> list[Identifier]:
    found: list[Identifier] = []
    for index, raw in enumerate(segment.repetitions(n), start=1):
        value, authority, kind = _cx(segment, raw)
        if not value:
            continue
        if authority.upper() == "NHS":
            if kind in _NHS_TYPES:
                nhs = checked_nhs_number(value, where=f"{segment.name}-{n}[{index}]", warn=context.warn)
                if nhs is not None and nhs not in found:
                    found.append(nhs)
            continue
        if kind in _LOCAL_TYPES:
            if len(value) > 64 or not value.isprintable():
                where = f"{segment.name}-{n}[{index}]"
                context.warn("invalid-local-id", f"{where}: identifier is too long or unprintable; left out")
                continue
            if authority and _usable_authority(authority):
                namespace = authority
            else:
                namespace = _namespace(authority, context, f"{segment.name}-{n}[{index}]")
            ident = Identifier(local_system(namespace, "mrn"), value)
            if ident not in found:
                found.append(ident)
    return found


def _cx(segment: Segment, raw: str) -> tuple[str, str, str]:
    """A CX repetition's ID (CX-1), assigning authority namespace (CX-4 HD-1) and type (CX-5)."""
    enc = segment.encoding
    comps = raw.split(enc.component, 5)
    count = len(comps)
    if '"' in raw or (enc.escape and enc.escape in raw):
        text = segment.text
        value = text(comps[0]).strip()
        authority = text(comps[3].split(enc.subcomponent, 1)[0]).strip() if count > 3 else ""
        kind = text(comps[4]).strip().upper() if count > 4 else ""
    else:
        value = comps[0].strip()
        authority = comps[3].split(enc.subcomponent, 1)[0].strip() if count > 3 else ""
        kind = comps[4].strip().upper() if count > 4 else ""
    return value, authority, kind


def _person(pid: Segment, context: AdapterContext) -> tuple[dict[str, Any], Identifier]:
    identifiers = _identifiers(pid, 3, context)
    for extra in _identifiers(pid, 2, context):
        if extra not in identifiers:
            identifiers.append(extra)
    if not identifiers:
        raise DataError("PID-3 holds no usable patient identifier", stage="map")
    key = next((i for i in identifiers if "/local/" in i.system), identifiers[0])
    warn = context.warn
    born = pid.value(7)
    person: dict[str, Any] = {
        "identifier": [i.as_record() for i in identifiers],
        "name": names(pid, 5) + [dict(n, use="old") for n in names(pid, 9) if "use" not in n],
        "dateOfBirth": optional("invalid-date-of-birth", warn, lambda: hl7_date(born[:8], "PID-7")),
        "genderCode": _coded(_GENDER, pid.value(8).upper(), "PID-8", "unknown-gender-code", warn),
        "ethnicityCode": _ethnicity(pid.value(22).upper(), warn),
        "address": address(pid, 11, warn),
        "contact": [c for c in (contacts(pid, 13, "Home", warn), contacts(pid, 14, "Work", warn)) if c],
    }
    died = pid.value(29)
    indicator = pid.value(30).upper()
    if died:
        person["deceasedDate"] = optional("invalid-date-of-death", warn, lambda: hl7_date(died[:8], "PID-29"))
        person["isDeceased"] = True
    elif indicator in ("Y", "N"):
        person["isDeceased"] = indicator == "Y"
    return person, key


def _coded(table: dict[str, str], code: str, where: str, warning: str, warn: Warn) -> str | None:
    """The published code for ``code``; one outside ``table`` is left out with a warning."""
    if not code:
        return None
    found = table.get(code)
    if found is None:
        warn(warning, f"{where} is not a code of its HL7 table; left out")
    return found


def _ethnicity(code: str, warn: Warn) -> str | None:
    if not code or code in _ETHNICITY_UNMAPPED:
        return None
    return _coded(NHS_ETHNICITY, code, "PID-22", "unknown-ethnicity-code", warn)


def _visit(pv1: Segment, context: AdapterContext) -> Identifier | None:
    raw = pv1.repetitions(19)
    if not raw:
        return None
    value, authority, _kind = _cx(pv1, raw[0])
    if not value or len(value) > 64 or not value.isprintable():
        return None
    return Identifier(local_system(_namespace(authority, context, "PV1-19"), "visit"), value)


def _episode(
    pv1: Segment,
    visit: Identifier,
    person: Identifier,
    *,
    when: datetime,
    trigger: str,
    context: AdapterContext,
) -> dict[str, Any]:
    started = hl7_datetime(pv1.value(44), "PV1-44") or when
    ended = hl7_datetime(pv1.value(45), "PV1-45") if trigger not in ("A13",) else None
    time: dict[str, Any] = {"startDateTime": started, "endDateTime": ended}
    patient_class = pv1.value(2).upper() or "U"
    service_code = pv1.value(10) or patient_class
    service = {"system": local_system(context.organisation_id, "service"), "value": service_code}
    # PL-9 (location description) when the feed gives one, else facility, point of care, room, bed
    place = pv1.values(3, 9)
    location = place[8] or " ".join(p for p in (place[3], place[0], place[1], place[2]) if p)
    episode: dict[str, Any] = {
        "identifier": [visit.as_record()],
        "type": [coding(_PATIENT_CLASS_SYSTEM, patient_class, _PATIENT_CLASS.get(patient_class))],
        "subjectPerson": [subject(person)],
        "relatedService": [service],
        "timeInformation": [time],
        "location": [location] if location else [],
    }
    doctor_id = pv1.value(7, 1)
    if doctor_id and len(doctor_id) <= 64 and doctor_id.isprintable():
        namespace = _namespace(pv1.value(7, 9, subcomponent=1), context, "PV1-7")
        professional = {"system": local_system(namespace, "professional"), "value": doctor_id}
        involvement = coding(INVOLVEMENT_SYSTEM, "PPRF", "Primary performer")
        episode["relatedProfessional"] = [{"professional": professional, "involvement": involvement}]
    return episode


def _merges(message: Message, context: AdapterContext, prov: Provenance) -> list[StandardEvent]:
    events: list[StandardEvent] = []
    current: tuple[dict[str, Any], Identifier] | None = None
    for segment in message.segments:
        if segment.name == "PID":
            current = _person(segment, context)
            events.append(person_recorded(current[0], key=current[1], prov=prov))
        elif segment.name == "MRG":
            if current is None:
                raise DataError(f"MRG (segment {segment.position}) has no PID before it", stage="map")
            merged = [i for i in _identifiers(segment, 1, context) if i != current[1]]
            if not merged:
                raise DataError(
                    f"MRG-1 (segment {segment.position}) holds no usable prior identifier", stage="map"
                )
            events.append(persons_merged(surviving=current[1], merged=merged, prov=prov))
            current = None
    if not any(e.schema.endswith("PersonsMerged") for e in events):
        raise DataError("merge message has no MRG segment", stage="map")
    return events
