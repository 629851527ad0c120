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
from typing import Any

from adapters._common import NHS_ETHNICITY
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
from exchange.identifiers import Identifier, checked_nhs_number, local_system

__all__ = ["map_adt"]

_OPENS = frozenset({"A01", "A02", "A04", "A05", "A06", "A07", "A12", "A13"})
_CANCELS = frozenset({"A11", "A38"})
_MERGES = frozenset({"A18", "A30", "A34", "A36", "A39", "A40"})
_NHS_TYPES = frozenset({"NH", "HN", ""})
_LOCAL_TYPES = frozenset({"MR", "PI", "PT", "PE", ""})
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# HL7 table 0001 administrative sex -> PERSON STATED GENDER CODE
_GENDER = {"M": "1", "F": "2", "O": "9", "A": "9", "U": "X", "N": "X"}
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
    msh = message.msh
    if msh.value(9, 1).upper() != "ADT":
        hint = "route only ADT messages to this adapter"
        raise DataError("MSH-9 message type is missing or not ADT", stage="map", hint=hint)
    evn = message.first("EVN")
    trigger = (msh.value(9, 2) or (evn.value(1) if evn else "")).upper()
    if not trigger:
        raise DataError("MSH-9.2 (and EVN-1) give no trigger event", stage="map")
    pids = message.all("PID")
    if not pids:
        raise DataError("ADT message has no PID segment", stage="map")
    when = _event_time(message, evn)
    prov = provenance(context, _recorded_time(message, evn))
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


def _recorded_time(message: Message, evn: Segment | None) -> datetime:
    """When the source system recorded the event: EVN-2, else MSH-7."""
    moment = hl7_datetime(evn.value(2), "EVN-2") if evn is not None else None
    return moment or _message_time(message)


def _message_time(message: Message) -> datetime:
    moment = hl7_datetime(message.msh.value(7), "MSH-7")
    if moment is None:
        raise DataError("MSH-7 (date/time of message) is empty", stage="map")
    return moment


def _event_time(message: Message, evn: Segment | None) -> datetime:
    """When the event happened: EVN-6, else EVN-2, else MSH-7."""
    if evn is not None:
        for n in (6, 2):
            moment = hl7_datetime(evn.value(n), f"EVN-{n}")
            if moment is not None:
                return moment
    return _message_time(message)


def _namespace(authority: str, context: AdapterContext, where: str) -> str:
    if not authority:
        return context.organisation_id
    if _SAFE.fullmatch(authority) is None:
        context.warn("unusable-assigning-authority", f"{where}: assigning authority is not a code; own used")
        return context.organisation_id
    return authority


def _identifiers(segment: Segment, n: int, context: AdapterContext) -> list[Identifier]:
    found: list[Identifier] = []
    label = f"{segment.name}-{n}"
    for index, raw in enumerate(segment.repetitions(n), start=1):
        comps = segment.components(raw)
        value = segment.text(comps[0]).strip()
        if not value:
            continue
        authority = _authority(segment, comps)
        kind = segment.text(comps[4]).strip().upper() if len(comps) > 4 else ""
        where = f"{label}[{index}]"
        if authority.upper() == "NHS":
            if kind in _NHS_TYPES:
                nhs = checked_nhs_number(value, where=where, warn=context.warn)
                if nhs is not None and nhs not in found:
                    found.append(nhs)
            continue
        if kind in _LOCAL_TYPES:
            if len(value) > 64 or not value.isprintable():
                context.warn("invalid-local-id", f"{where}: identifier is too long or unprintable; left out")
                continue
            ident = Identifier(local_system(_namespace(authority, context, where), "mrn"), value)
            if ident not in found:
                found.append(ident)
    return found


def _authority(segment: Segment, comps: list[str]) -> str:
    """The namespace id (HD-1) of a CX's assigning authority (CX-4)."""
    if len(comps) < 4:
        return ""
    return segment.text(comps[3].split(segment.encoding.subcomponent)[0]).strip()


def _person(pid: Segment, context: AdapterContext) -> tuple[dict[str, Any], Identifier]:
    identifiers = _identifiers(pid, 3, context)
    for extra in _identifiers(pid, 2, context):
        if extra not in identifiers:
            identifiers.append(extra)
    if not identifiers:
        raise DataError("PID-3 holds no usable patient identifier", stage="map")
    local = [i for i in identifiers if "/local/" in i.system]
    key = local[0] if local else identifiers[0]
    person: dict[str, Any] = {
        "identifier": [i.as_record() for i in identifiers],
        "name": names(pid, 5) + [dict(n, use="old") for n in names(pid, 9) if "use" not in n],
        "dateOfBirth": hl7_date(pid.value(7)[:8], "PID-7"),
        "genderCode": _GENDER.get(pid.value(8).upper()),
        "ethnicityCode": NHS_ETHNICITY.get(pid.value(22).upper()),
        "address": address(pid, 11),
        "contact": [c for c in (contacts(pid, 13, "Home"), contacts(pid, 14, "Work")) if c],
    }
    died = pid.value(29)
    indicator = pid.value(30).upper()
    if died:
        person["deceasedDate"] = hl7_date(died[:8], "PID-29")
        person["isDeceased"] = True
    elif indicator in ("Y", "N"):
        person["isDeceased"] = indicator == "Y"
    return person, key


def _visit(pv1: Segment, context: AdapterContext) -> Identifier | None:
    raw = pv1.repetitions(19)
    if not raw:
        return None
    comps = pv1.components(raw[0])
    value = pv1.text(comps[0]).strip()
    if not value or len(value) > 64 or not value.isprintable():
        return None
    authority = _authority(pv1, comps)
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
    service = Identifier(local_system(context.organisation_id, "service"), service_code)
    # PL-9 (location description) when the feed gives one, else facility, point of care, room, bed
    parts = (pv1.value(3, 4), pv1.value(3, 1), pv1.value(3, 2), pv1.value(3, 3))
    location = pv1.value(3, 9) or " ".join(p for p in parts if p)
    episode: dict[str, Any] = {
        "identifier": [visit.as_record()],
        "type": [coding(_PATIENT_CLASS_SYSTEM, patient_class, _PATIENT_CLASS.get(patient_class))],
        "subjectPerson": [subject(person)],
        "relatedService": [service.as_record()],
        "timeInformation": [time],
        "location": [location] if location else [],
    }
    doctor_id = pv1.value(7, 1)
    if doctor_id and len(doctor_id) <= 64 and doctor_id.isprintable():
        namespace = _namespace(pv1.value(7, 9, subcomponent=1), context, "PV1-7")
        professional = Identifier(local_system(namespace, "professional"), doctor_id)
        involvement = coding(INVOLVEMENT_SYSTEM, "PPRF", "Primary performer")
        episode["relatedProfessional"] = [
            {"professional": professional.as_record(), "involvement": involvement}
        ]
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
