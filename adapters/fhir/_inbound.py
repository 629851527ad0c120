"""FHIR R4 / UK Core resources to standard events.

* ``Patient`` -> ``PersonRecorded`` keyed by the resource id (``.../local/<org>/patient|<id>``);
  identifiers (NHS numbers checked), names, birth date (partial dates keep their precision),
  deceased, addresses, telecoms, administrative gender, UK Core ethnic category.
* ``RelatedPerson`` -> ``PersonRecorded`` of that person, whose ``relatedPerson`` points at the
  patient with the FHIR relationship codes (the related person's role towards the patient).
* ``EpisodeOfCare`` -> ``ServiceEpisodeRecorded``; ``cancelled`` or ``entered-in-error`` ->
  ``ServiceEpisodeClosed``.
* ``Organization`` has no standard event of its own: it is accepted and yields nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from adapters import _common
from adapters._common import NHS_ETHNICITY, local_midnight
from adapters._fields import optional, postcode, telephone, to_utc
from adapters._standard import (
    INVOLVEMENT_SYSTEM,
    Provenance,
    coding,
    episode_closed,
    episode_recorded,
    person_recorded,
    provenance,
    subject,
)
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import (
    NHS_NUMBER_SYSTEM,
    ODS_ORGANISATION_SYSTEM,
    Identifier,
    Warn,
    checked_nhs_number,
    local_system,
)
from exchange.schemas import code_table

__all__ = ["map_resource"]

_GENDER = {"male": "1", "female": "2", "other": "9", "unknown": "X"}
_NAME_USES = frozenset({"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"})
_ADDRESS_USES = frozenset({"home", "work", "temp", "old", "billing"})
_TELECOM_LABEL = {"home": "Home", "work": "Work", "mobile": "Mobile", "temp": "Temporary"}
_CLOSING = frozenset({"cancelled", "entered-in-error"})
_ETHNICITY_UNMAPPED = frozenset({"Z", "99"})  # in the NHS vocabulary, no single ONS 2021 category
_DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def map_resource(kind: str, resource: dict[str, Any], context: AdapterContext) -> list[StandardEvent]:
    """The events one validated resource implies."""
    if kind == "Organization":
        return []
    prov = provenance(context, _last_updated(resource))
    if kind == "EpisodeOfCare":
        return [_episode(resource, context, prov)]
    person, key = _person(kind, resource, context)
    return [person_recorded(person, key=key, prov=prov)]


def _last_updated(resource: dict[str, Any]) -> datetime:
    meta = resource.get("meta")
    stamp = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return _datetime(stamp, "meta.lastUpdated") if isinstance(stamp, str) else _common.now()


def _datetime(raw: str, where: str) -> datetime:
    """A FHIR dateTime: partial dates are local midnight; times without zone are refused by FHIR."""
    try:
        if len(raw) <= 10:
            return local_midnight(_date(raw, where)[0])
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise DataError(f"{where} is not a valid dateTime", stage="map") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_common.ENGLAND)
    return to_utc(moment, where)


def _date(raw: str, where: str) -> tuple[date, str]:
    """A FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) and its accuracy indicator."""
    parts = raw[:10].split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2]) if len(parts) > 2 else 1
        value = date(year, month, day)
    except (ValueError, IndexError):
        raise DataError(f"{where} is not a valid date", stage="map") from None
    accuracy = ("A" if len(parts) > 2 else "U") + ("A" if len(parts) > 1 else "U") + "A"
    return value, accuracy


def _identifier(raw: Any, where: str, context: AdapterContext) -> Identifier | None:
    if not isinstance(raw, dict):
        return None
    system, value = raw.get("system"), raw.get("value")
    if not isinstance(system, str) or not isinstance(value, str) or not system or not value.strip():
        return None
    if system == NHS_NUMBER_SYSTEM:
        return checked_nhs_number(value, where=where, warn=context.warn)
    return Identifier(system, value.strip())


def _reference(raw: Any, where: str, context: AdapterContext) -> Identifier | None:
    """The identifier a Reference points at: its logical identifier, or its ``Type/id``."""
    if not isinstance(raw, dict):
        return None
    logical = _identifier(raw.get("identifier"), f"{where}.identifier", context)
    if logical is not None:
        return logical
    ref = raw.get("reference")
    if not isinstance(ref, str):
        return None
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":  # Type/id/_history/version
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-1] or len(parts[-1]) > 64:
        return None
    try:
        return Identifier(local_system(context.organisation_id, parts[-2].lower()), parts[-1])
    except ValueError:
        context.warn("unusable-reference", f"{where}: reference is not Type/id; left out")
        return None


def _person(
    kind: str, resource: dict[str, Any], context: AdapterContext
) -> tuple[dict[str, Any], Identifier]:
    identifiers: list[Identifier] = []
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        identifiers.append(Identifier(local_system(context.organisation_id, kind.lower()), rid))
    for index, raw in enumerate(resource.get("identifier") or []):
        found = _identifier(raw, f"{kind}.identifier[{index}]", context)
        if found is not None and found not in identifiers:
            identifiers.append(found)
    if not identifiers:
        raise DataError(f"{kind} has no id and no usable identifier", stage="map")
    warn = context.warn
    person: dict[str, Any] = {
        "identifier": [i.as_record() for i in identifiers],
        "name": [n for n in (_name(raw) for raw in resource.get("name") or []) if n],
        "address": _addresses(kind, resource.get("address") or [], warn),
        "contact": _contacts(kind, resource.get("telecom") or [], warn),
        "genderCode": _gender(kind, resource.get("gender"), warn),
    }
    born = resource.get("birthDate")
    if isinstance(born, str):
        where_born = f"{kind}.birthDate"
        person["dateOfBirth"] = optional("invalid-date-of-birth", warn, lambda: _partial(born, where_born))
    if isinstance(resource.get("deceasedBoolean"), bool):
        person["isDeceased"] = resource["deceasedBoolean"]
    died = resource.get("deceasedDateTime")
    if isinstance(died, str):
        person["isDeceased"] = True
        where = f"{kind}.deceasedDateTime"
        person["deceasedDate"] = optional("invalid-date-of-death", warn, lambda: _partial(died, where))
    person["ethnicityCode"] = _ethnicity(kind, resource.get("extension") or [], warn)
    if kind == "RelatedPerson":
        person["relatedPerson"] = _relationship(resource, context)
    return person, identifiers[0]


def _partial(raw: str, where: str) -> dict[str, Any]:
    """A FHIR date as the standard's PartialDate (the precision kept in the accuracy indicator)."""
    day, accuracy = _date(raw, where)
    return {"date": day, "accuracyIndicator": accuracy}


def _gender(kind: str, code: Any, warn: Warn) -> str | None:
    if code is None:
        return None
    found = _GENDER.get(str(code))
    if found is None:
        warn("unknown-gender-code", f"{kind}.gender is not an administrative gender code; left out")
    return found


def _name(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    family = raw.get("family")
    given = [g for g in raw.get("given") or [] if isinstance(g, str) and g]
    if not (isinstance(family, str) and family) and not given:
        return None
    use = raw.get("use")
    return {
        "familyName": [family] if isinstance(family, str) and family else [],
        "givenName": given,
        "use": use if use in _NAME_USES else None,
    }


def _addresses(kind: str, raws: list[Any], warn: Warn) -> list[dict[str, Any]]:
    found = (_address(raw, f"{kind}.address[{i}]", warn) for i, raw in enumerate(raws))
    return [a for a in found if a]


def _address(raw: Any, where: str, warn: Warn) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    lines = [line for line in raw.get("line") or [] if isinstance(line, str) and line]
    country, code = (raw.get(name) for name in ("country", "postalCode"))
    code = postcode(
        code if isinstance(code, str) else "",
        f"{where}.postalCode",
        warn,
        country=country if isinstance(country, str) else "",
    )
    if not lines and not code:
        return None
    use = raw.get("use")
    return {
        "line1": lines[0] if lines else "",
        "line2": ", ".join(lines[1:]) or None,
        "city": raw.get("city") if isinstance(raw.get("city"), str) else "",
        "postcode": code,
        "use": use if use in _ADDRESS_USES else None,
    }


def _contacts(kind: str, telecoms: list[Any], warn: Warn) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(telecoms):
        if not isinstance(raw, dict) or not isinstance(raw.get("value"), str) or not raw["value"]:
            continue
        label = _TELECOM_LABEL.get(str(raw.get("use")), "Other")
        system = raw.get("system")
        kind_of, value = "email", raw["value"]
        if system in ("phone", "sms", None):
            kind_of, value = "telephone", telephone(raw["value"], f"{kind}.telecom[{index}].value", warn)
        elif system != "email":
            continue
        if value:
            groups.setdefault(label, {"name": label, "email": [], "telephone": []})[kind_of].append(value)
    return list(groups.values())


def _ethnicity(kind: str, extensions: list[Any], warn: Warn) -> str | None:
    unknown = False
    for ext in extensions:
        if not isinstance(ext, dict) or not str(ext.get("url", "")).endswith("EthnicCategory"):
            continue
        concept = ext.get("valueCodeableConcept")
        for item in concept.get("coding") or [] if isinstance(concept, dict) else []:
            code = item.get("code") if isinstance(item, dict) else None
            if code in NHS_ETHNICITY:
                return NHS_ETHNICITY[code]
            unknown = unknown or (isinstance(code, str) and code not in _ETHNICITY_UNMAPPED)
    if unknown:
        warn("unknown-ethnicity-code", f"{kind} ethnic category code is not an NHS one; left out")
    return None


def _relationship(resource: dict[str, Any], context: AdapterContext) -> list[dict[str, Any]]:
    patient = _reference(resource.get("patient"), "RelatedPerson.patient", context)
    if patient is None:
        raise DataError("RelatedPerson.patient does not name a patient", stage="map")
    known = set(code_table("PersonRelationshipCode"))
    codes: list[str] = []
    for concept in resource.get("relationship") or []:
        for item in concept.get("coding") or [] if isinstance(concept, dict) else []:
            code = item.get("code") if isinstance(item, dict) else None
            if code in known and code not in codes:
                codes.append(code)
            elif isinstance(code, str):
                context.warn("unknown-relationship", "RelatedPerson.relationship code is not in the standard")
    return [{"identifier": patient.as_record(), "relationship": codes}] if codes else []


def _period(resource: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    period = resource.get("period")
    if not isinstance(period, dict):
        return None, None
    bounds: list[datetime | None] = []
    for name in ("start", "end"):
        raw = period.get(name)
        bounds.append(_datetime(raw, f"EpisodeOfCare.period.{name}") if isinstance(raw, str) else None)
    return bounds[0], bounds[1]


def _types(resource: dict[str, Any]) -> list[dict[str, Any]]:
    types: list[dict[str, Any]] = []
    for concept in resource.get("type") or []:
        for item in concept.get("coding") or [] if isinstance(concept, dict) else []:
            if not isinstance(item, dict):
                continue
            system, code, display = item.get("system"), item.get("code"), item.get("display")
            if isinstance(system, str) and isinstance(code, str):
                types.append(coding(system, code, display if isinstance(display, str) else None))
    return types


def _episode(resource: dict[str, Any], context: AdapterContext, prov: Provenance) -> StandardEvent:
    rid = resource.get("id")
    own = local_system(context.organisation_id, "episodeofcare")
    keys = [Identifier(own, rid)] if isinstance(rid, str) else []
    for index, raw in enumerate(resource.get("identifier") or []):
        found = _identifier(raw, f"EpisodeOfCare.identifier[{index}]", context)
        if found is not None and found not in keys:
            keys.append(found)
    if not keys:
        raise DataError("EpisodeOfCare has no id and no usable identifier", stage="map")
    patient = _reference(resource.get("patient"), "EpisodeOfCare.patient", context)
    if patient is None:
        raise DataError("EpisodeOfCare.patient does not name a patient", stage="map")
    start, end = _period(resource)
    recorded = prov[1]
    if resource.get("status") in _CLOSING:
        ended = end or start
        if ended is None:
            context.warn("episode-end-unknown", "cancelled EpisodeOfCare has no period: closed when recorded")
            ended = recorded
        return episode_closed(key=keys[0], subject_person=patient, ended=ended, prov=prov)
    if start is None:
        context.warn("episode-start-unknown", "EpisodeOfCare.period.start is absent: dated when recorded")
        start = recorded
    types = _types(resource)
    if not types:
        context.warn("episode-type-unknown", "EpisodeOfCare.type has no coding: typed as unknown")
        types = [coding(_DATA_ABSENT, "unknown", "Unknown")]
    service = _reference(resource.get("managingOrganization"), "EpisodeOfCare.managingOrganization", context)
    service = service or Identifier(ODS_ORGANISATION_SYSTEM, context.organisation_id)
    episode: dict[str, Any] = {
        "identifier": [k.as_record() for k in keys],
        "type": types,
        "subjectPerson": [subject(patient)],
        "relatedService": [service.as_record()],
        "timeInformation": [{"startDateTime": start, "endDateTime": end}],
    }
    manager = _reference(resource.get("careManager"), "EpisodeOfCare.careManager", context)
    if manager is not None:
        involvement = coding(INVOLVEMENT_SYSTEM, "PPRF", "Primary performer")
        episode["relatedProfessional"] = [{"professional": manager.as_record(), "involvement": involvement}]
    return episode_recorded(episode, key=keys[0], prov=prov)
