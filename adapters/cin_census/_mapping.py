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

A child's field that cannot be used (a birth date that is not a date, a code outside the census
vocabulary) is left out with a warning; an episode whose dates cannot be used is left out with
the warning ``occurrence-left-out``; the child and its other episodes still flow.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lxml import etree

from adapters._common import dfe_ethnicity, local_midnight, parse_date
from adapters._fields import check_text, optional
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
from exchange.identifiers import Identifier, Warn, checked_la_child_id, checked_upn, local_system

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
    return check_text((found.text or "").strip(), name) if found is not None else ""


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
    warn = context.warn
    person: dict[str, Any] = {"identifier": [i.as_record() for i in identifiers]}
    born = optional("invalid-date-of-birth", warn, lambda: _date(ids, "PersonBirthDate"))
    expected = optional("invalid-date-of-birth", warn, lambda: _date(ids, "ExpectedPersonBirthDate"))
    if born is not None:
        person["dateOfBirth"] = {"date": born, "accuracyIndicator": "AAA"}
    elif expected is not None:
        person["dateOfBirth"] = {"date": expected, "accuracyIndicator": "EEE"}
    if _text(ids, "PersonDeathDate"):
        died = optional("invalid-date-of-death", warn, lambda: _date(ids, "PersonDeathDate"))
        person["isDeceased"] = True
        if died is not None:
            person["deceasedDate"] = {"date": died, "accuracyIndicator": "AAA"}
    gender_field = "GenderCurrent" if _text(ids, "GenderCurrent") else "Gender"
    person["genderCode"] = _code(_GENDER, _text(ids, gender_field), gender_field, "unknown-gender-code", warn)
    person["sexCode"] = _code(_GENDER, _text(ids, "Sex").upper(), "Sex", "unknown-sex-code", warn)
    traits = _child(child, "ChildCharacteristics")
    person["ethnicityCode"] = dfe_ethnicity(_text(traits, "Ethnicity"), "Ethnicity", warn)
    disabilities = {d.text.strip().upper() for d in _disabilities(traits) if d.text}
    events = [person_recorded(person, key=key, prov=prov)]
    for number, details in enumerate(_children(child, "CINdetails"), start=1):
        events.extend(_episodes(details, number, key, la_code, disabilities, prov, warn))
    return events


def _disabilities(traits: etree._Element | None) -> list[etree._Element]:
    group = _child(traits, "Disabilities") if traits is not None else None
    return _children(group, "Disability") if group is not None else []


def _code(table: dict[str, str], raw: str, field: str, warning: str, warn: Warn) -> str | None:
    if not raw:
        return None
    if raw not in table:
        warn(warning, f"{field} is not a code of the census; left out")
    return table.get(raw)


def _episodes(  # noqa: PLR0917 - the episode context, passed down once
    details: etree._Element,
    number: int,
    child: Identifier,
    la_code: str,
    disabilities: set[str],
    prov: Provenance,
    warn: Warn,
) -> list[StandardEvent]:
    group = f"CINdetails[{number}]"
    try:
        referral = _date(details, "CINreferralDate")
    except DataError as exc:
        warn("occurrence-left-out", f"{group}: {exc.message}; its episodes left out")
        return []
    if referral is None:
        warn("occurrence-left-out", f"{group} has no CINreferralDate; its episodes left out")
        return []
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

    events: list[StandardEvent] = []
    closure = _dates(details, "CINclosureDate", group, warn, start=referral)
    if closure is not None:
        events.append(build("cin-episode", "", referral, closure[1], []))
    for element, start_name, end_name, kind, suffix, pub02 in _PARTS:
        for index, item in enumerate(_children(details, element), start=1):
            found = _dates(item, end_name, f"{group}/{element}[{index}]", warn, start_name=start_name)
            if found is None:
                continue
            start, end = found
            codes = [coding(EPISODE_CODE_SYSTEM, pub02)] if pub02 else []
            events.append(build(kind, f"/{suffix}/{start}", start, end, codes))
    return events


# element, start date, end date ("" when it has none), kind, id suffix, PUB02 episode code
_PARTS = (
    (
        "Assessments",
        "AssessmentActualStartDate",
        "AssessmentAuthorisationDate",
        "assessment",
        "assessment",
        "",
    ),
    ("CINPlanDates", "CINPlanStartDate", "CINPlanEndDate", "cin-plan", "cin-plan", "cin-plan"),
    ("Section47", "S47ActualStartDate", "", "section-47", "s47", "section-47"),
    ("ChildProtectionPlans", "CPPstartDate", "CPPendDate", "cp-plan", "cp-plan", "cp-plan"),
)


def _dates(
    element: etree._Element,
    end_name: str,
    where: str,
    warn: Warn,
    *,
    start: date | None = None,
    start_name: str = "",
) -> tuple[date, date | None] | None:
    """An episode's start and end, or ``None`` (with a warning) when either cannot be used:
    without a start it cannot be placed, and an end that is not a date could mean open or closed."""
    try:
        begun = start if start is not None else _date(element, start_name)
        ended = _date(element, end_name) if end_name else None
    except DataError as exc:
        warn("occurrence-left-out", f"{where}: {exc.message}; left out")
        return None
    if begun is None:
        warn("occurrence-left-out", f"{where} has no {start_name}; left out")
        return None
    return begun, ended
