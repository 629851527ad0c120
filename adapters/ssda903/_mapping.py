"""SSDA903 rows to standard events.

* ``Header`` -> ``PersonRecorded``: LA child id (namespaced by the LA), UPN, date of birth, sex,
  ethnicity (DfE codes translated to ONS 2021 where one category matches).
* ``Episodes`` -> ``ServiceEpisodeRecorded`` of type ``child-looked-after`` from DECOM to DEC;
  legal status, placement type, placement provider and the reasons for the new episode and for
  its end are observations on the episode, in the DfE code systems. Placement and home
  postcodes and the placement URN are left out: where a looked-after child lives is not shared.
* ``Missing`` -> ``LifeEventRecorded`` of type ``missing-person`` (missing or away without
  authorisation), from MIS_START to MIS_END.

Dates are ``dd/mm/yyyy`` (ISO ``yyyy-mm-dd`` is accepted too). A child's date of birth that is
not a date, or a SEX or ETHNIC code outside the return's list, is left out with a warning; an
episode without one of its RNE, LS or PLACE codes keeps its other observations (warning
``missing-code``). Each row is one record: a row whose key date (DECOM, MIS_START) or end date
cannot be used is rejected, since its end decides whether it is still open.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters import _common
from adapters._common import dfe_ethnicity, local_midnight, parse_date
from adapters._fields import optional
from adapters._standard import (
    EPISODE_CODE_SYSTEM,
    EVENT_CODE_SYSTEM,
    coding,
    episode_recorded,
    life_event_recorded,
    person_recorded,
    provenance,
    subject,
)
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import Identifier, checked_la_child_id, checked_upn, is_valid_la_code, local_system

__all__ = ["map_row"]

_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
_DFE = "https://mais-exchange.org/CodeSystem/ssda903-"
_SEX = {"1": "1", "2": "2"}
_MISSING = {"M": "Missing", "A": "Away from placement without authorisation"}
_EPISODE_CODES = (("RNE", "reason-new-episode"), ("LS", "legal-status"), ("PLACE", "placement-type"))


def _date(row: dict[str, str], column: str) -> date | None:
    return parse_date(row.get(column), column, formats=_FORMATS)


def map_row(table: str, row: dict[str, str], context: AdapterContext) -> list[StandardEvent]:
    """The events one row of a mapped table implies."""
    la_code = context.organisation_id
    if not is_valid_la_code(la_code):
        raise DataError(
            "the organisation is not a three-digit LA number",
            stage="map",
            hint="run the SSDA903 adapter with the LA number as organisation id",
        )
    child = checked_la_child_id(row.get("CHILD"), la_code=la_code, where="CHILD", warn=context.warn)
    if child is None:
        raise DataError("CHILD is empty or unusable", stage="map")
    if table == "Header":
        return [_person(row, child, context)]
    if table == "Episodes":
        return [_episode(row, child, la_code, context)]
    if table == "Missing":
        return [_missing(row, child, la_code, context)]
    raise DataError(f"table {table} is not one this adapter maps", stage="parse")


def _person(row: dict[str, str], child: Identifier, context: AdapterContext) -> StandardEvent:
    identifiers = [child]
    upn = row.get("UPN", "")
    if upn and not upn.upper().startswith("UN"):  # UN1..UN10 say why there is no UPN
        checked = checked_upn(upn, where="UPN", warn=context.warn)
        if checked is not None:
            identifiers.append(checked)
    warn = context.warn
    person: dict[str, Any] = {"identifier": [i.as_record() for i in identifiers]}
    born = optional("invalid-date-of-birth", warn, lambda: _date(row, "DOB"))
    if born is not None:
        person["dateOfBirth"] = {"date": born, "accuracyIndicator": "AAA"}
    sex = row.get("SEX", "")
    if sex and sex not in _SEX:
        warn("unknown-sex-code", "SEX is not 1 or 2; left out")
    person["sexCode"] = _SEX.get(sex)
    person["ethnicityCode"] = dfe_ethnicity(row.get("ETHNIC", ""), "ETHNIC", warn)
    return person_recorded(person, key=child, prov=provenance(context, _common.now()))


def _observation(system: str, code: str, start: date, end: date | None = None) -> dict[str, Any]:
    return {
        "type": coding(_DFE + system, code),
        "startDate": local_midnight(start),
        "endDate": local_midnight(end) if end else None,
    }


def _episode(row: dict[str, str], child: Identifier, la_code: str, context: AdapterContext) -> StandardEvent:
    start = _date(row, "DECOM")
    if start is None:
        raise DataError("DECOM is empty", stage="map")
    end = _date(row, "DEC")
    if end is not None and end < start:
        raise DataError("DEC is before DECOM", stage="map")
    ident = Identifier(local_system(la_code, "lac-episode"), f"{child.value}/{start.isoformat()}")
    observations = []
    for column, system in _EPISODE_CODES:
        if row.get(column):
            observations.append(_observation(system, row[column], start, end))
        else:
            context.warn("missing-code", f"{column} is empty; that observation left out")
    if row.get("PLACE_PROVIDER"):
        observations.append(_observation("placement-provider", row["PLACE_PROVIDER"], start, end))
    if row.get("CIN"):
        observations.append(_observation("category-of-need", row["CIN"], start, end))
    if end is not None and row.get("REC"):
        observations.append(_observation("reason-episode-ceased", row["REC"], end))
    if end is not None and row.get("REASON_PLACE_CHANGE"):
        observations.append(_observation("reason-placement-change", row["REASON_PLACE_CHANGE"], end))
    episode: dict[str, Any] = {
        "identifier": [ident.as_record()],
        "type": [coding(EPISODE_CODE_SYSTEM, "child-looked-after", "Child in LA care")],
        "subjectPerson": [subject(child)],
        "relatedService": [Identifier(local_system(la_code, "service"), "social-care").as_record()],
        "timeInformation": [
            {"startDateTime": local_midnight(start), "endDateTime": local_midnight(end) if end else None}
        ],
        "finding": [{"observation": observations}],
    }
    return episode_recorded(episode, key=ident, prov=provenance(context, _common.now()))


def _missing(row: dict[str, str], child: Identifier, la_code: str, context: AdapterContext) -> StandardEvent:
    kind = row.get("MISSING", "").upper()
    if kind not in _MISSING:  # part of the event's key: without it the record is not identified
        raise DataError("MISSING is not M or A", stage="map")
    start = _date(row, "MIS_START")
    if start is None:
        raise DataError("MIS_START is empty", stage="map")
    end = _date(row, "MIS_END")
    if end is not None and end < start:
        raise DataError("MIS_END is before MIS_START", stage="map")
    ident = Identifier(local_system(la_code, "missing"), f"{child.value}/{start.isoformat()}/{kind}")
    event: dict[str, Any] = {
        "identifier": [ident.as_record()],
        "type": [
            coding(EVENT_CODE_SYSTEM, "missing-person", "Reported Missing"),
            coding(_DFE + "missing", kind, _MISSING[kind]),
        ],
        "subjectPerson": [subject(child)],
        "timeInformation": [
            {"startDateTime": local_midnight(start), "endDateTime": local_midnight(end) if end else None}
        ],
    }
    return life_event_recorded(event, key=ident, prov=provenance(context, _common.now()))
