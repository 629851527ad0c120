"""One ``<Child>`` of the DfE Children in Need census to standard events.

* The child becomes a ``PersonRecorded`` keyed by its LA child id (namespaced by the LA), with
  UPN and former UPN when valid, birth date (or expected birth date, marked estimated), death
  date, ``GenderCurrent`` (or older ``Gender``) as gender, ``Sex`` (2025 onwards) as sex, and
  ethnicity translated from DfE codes to the ONS 2021 categories where one category matches.
* Each ``CINdetails`` becomes a CIN episode (referral to closure); each assessment, section 47
  enquiry, CIN plan and child protection plan inside it becomes its own ``ServiceEpisodeRecorded``.
  Episodes have no ids in the census: their ids are built from the child id, the referral date
  and their start date, so a later return with the same facts produces the same keys.
* A hearing disability becomes an observation on the CIN episode; the other DfE disability
  codes have no place in the standard yet and are left out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lxml import etree

from adapters._common import DFE_ETHNICITY, local_midnight, parse_date
from adapters._standard import (
    EPISODE_CODE_SYSTEM,
    Provenance,
    coding,
    episode_recorded,
    person_recorded,
    subject,
)
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import Identifier, checked_la_child_id, checked_upn, local_system

__all__ = ["map_child"]

CIN_EPISODE_SYSTEM = "https://mais-exchange.org/CodeSystem/dfe-cin-census-episode"
_OBSERVATION_SYSTEM = (
    "https://socialcaredata.github.io/publications_safeguarding_standard#observation-type-vocabulary"
)
_GENDER = {"1": "1", "2": "2", "9": "9", "0": "X", "M": "1", "F": "2", "U": "X"}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for item in element:
        if _local(item) == name:
            return item
    return None


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [item for item in element if _local(item) == name]


def _text(element: etree._Element | None, name: str) -> str:
    found = _child(element, name) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _date(element: etree._Element | None, name: str) -> date | None:
    return parse_date(_text(element, name), name)


def map_child(
    child: etree._Element, la_code: str, context: AdapterContext, prov: Provenance
) -> list[StandardEvent]:
    """The Person and ServiceEpisode events one census child implies."""
    ids = _child(child, "ChildIdentifiers")
    if ids is None:
        raise DataError("Child has no ChildIdentifiers", stage="map")
    key = checked_la_child_id(_text(ids, "LAchildID"), la_code=la_code, where="LAchildID", warn=context.warn)
    if key is None:
        raise DataError("LAchildID is missing or unusable", stage="map")
    identifiers = [key]
    for name, former in (("UPN", False), ("FormerUPN", True)):
        upn = checked_upn(_text(ids, name), where=name, warn=context.warn, former=former)
        if upn is not None:
            identifiers.append(upn)
    person: dict[str, Any] = {"identifier": [i.as_record() for i in identifiers]}
    born = _date(ids, "PersonBirthDate")
    expected = _date(ids, "ExpectedPersonBirthDate")
    if born is not None:
        person["dateOfBirth"] = {"date": born, "accuracyIndicator": "AAA"}
    elif expected is not None:
        person["dateOfBirth"] = {"date": expected, "accuracyIndicator": "EEE"}
    died = _date(ids, "PersonDeathDate")
    if died is not None:
        person["isDeceased"] = True
        person["deceasedDate"] = {"date": died, "accuracyIndicator": "AAA"}
    gender = _text(ids, "GenderCurrent") or _text(ids, "Gender")
    if gender:
        person["genderCode"] = _code(_GENDER, gender, "GenderCurrent")
    sex = _text(ids, "Sex")
    if sex:
        person["sexCode"] = _code(_GENDER, sex.upper(), "Sex")
    traits = _child(child, "ChildCharacteristics")
    ethnicity = _text(traits, "Ethnicity").upper()
    if ethnicity in DFE_ETHNICITY:
        person["ethnicityCode"] = DFE_ETHNICITY[ethnicity]
    disabilities = {d.text.strip().upper() for d in _disabilities(traits) if d.text}
    events = [person_recorded(person, key=key, prov=prov)]
    for details in _children(child, "CINdetails"):
        events.extend(_episodes(details, key, la_code, disabilities, prov))
    return events


def _disabilities(traits: etree._Element | None) -> list[etree._Element]:
    group = _child(traits, "Disabilities") if traits is not None else None
    return _children(group, "Disability") if group is not None else []


def _code(table: dict[str, str], raw: str, field: str) -> str:
    if raw not in table:
        raise DataError(f"{field} is not a code of the census", stage="map")
    return table[raw]


def _episodes(
    details: etree._Element, child: Identifier, la_code: str, disabilities: set[str], prov: Provenance
) -> list[StandardEvent]:
    referral = _date(details, "CINreferralDate")
    if referral is None:
        raise DataError("CINdetails has no CINreferralDate", stage="map")
    base = f"{child.value}/{referral.isoformat()}"
    service = Identifier(local_system(la_code, "service"), "social-care")

    def build(
        kind: str, suffix: str, start: date, end: date | None, codes: list[dict[str, Any]]
    ) -> StandardEvent:
        ident = Identifier(local_system(la_code, "cin-episode"), base + suffix)
        episode: dict[str, Any] = {
            "identifier": [ident.as_record()],
            "type": codes or [coding(CIN_EPISODE_SYSTEM, kind)],  # PUB02 code where there is one
            "subjectPerson": [subject(child)],
            "relatedService": [service.as_record()],
            "timeInformation": [
                {"startDateTime": local_midnight(start), "endDateTime": local_midnight(end) if end else None}
            ],
        }
        if kind == "cin-episode" and "HEAR" in disabilities:
            observation = {
                "type": coding(_OBSERVATION_SYSTEM, "hearing-impairment"),
                "startDate": local_midnight(start),
            }
            episode["finding"] = [{"observation": [observation]}]
        return episode_recorded(episode, key=ident, prov=prov)

    events = [build("cin-episode", "", referral, _date(details, "CINclosureDate"), [])]
    for item in _children(details, "Assessments"):
        start = _required(item, "AssessmentActualStartDate")
        events.append(
            build("assessment", f"/assessment/{start}", start, _date(item, "AssessmentAuthorisationDate"), [])
        )
    for item in _children(details, "CINPlanDates"):
        start = _required(item, "CINPlanStartDate")
        pub02 = [coding(EPISODE_CODE_SYSTEM, "cin-plan")]
        events.append(build("cin-plan", f"/cin-plan/{start}", start, _date(item, "CINPlanEndDate"), pub02))
    for item in _children(details, "Section47"):
        start = _required(item, "S47ActualStartDate")
        pub02 = [coding(EPISODE_CODE_SYSTEM, "section-47")]
        events.append(build("section-47", f"/s47/{start}", start, None, pub02))
    for item in _children(details, "ChildProtectionPlans"):
        start = _required(item, "CPPstartDate")
        pub02 = [coding(EPISODE_CODE_SYSTEM, "cp-plan")]
        events.append(build("cp-plan", f"/cp-plan/{start}", start, _date(item, "CPPendDate"), pub02))
    return events


def _required(element: etree._Element, name: str) -> date:
    found = _date(element, name)
    if found is None:
        raise DataError(f"{_local(element)} has no {name}", stage="map")
    return found
