"""Local exports read by the ``tabular`` adapter, with the columns its built-in mappings expect
(``adapters/tabular/mappings/*.toml``) plus a few more that real exports carry:

* ``school/census_<URN>.csv`` - a school census pupil extract per school (mapping
  ``school-census-pupil``): legal and preferred names, UPN, date of birth, sex, ethnicity,
  address, URN, entry and leaving dates, SEN provision. A pupil who changed school is in both
  schools' files, the old one with a leaving date and the old address.
* ``police/notifications.jsonl`` - police safeguarding notifications to the MASH, one JSON object
  per line (mapping ``police-safeguarding-notification``): domestic abuse incidents (each adult
  and each child present) and missing-child reports.
* ``housing/cases.csv`` - a housing options case export, one row per homelessness case and its
  lead applicant (mapping ``housing-case``), with temporary accommodation dates.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from exchange.samples._noise import Noise, Recorded, recorded
from exchange.samples._people import REFERENCE_DATE, SCHOOLS, Household, Person, Population
from exchange.samples._truth import SampleFile, SampleSet, TruthRow

__all__ = ["HOUSING_COLUMNS", "SCHOOL_COLUMNS", "write_housing", "write_police", "write_school_census"]

SCHOOL_COLUMNS = (
    "PupilID", "UPN", "FormerUPN", "Surname", "Forename", "MiddleNames", "PreferredSurname",
    "PreferredForename", "DOB", "Sex", "Ethnicity", "AddressLine1", "AddressLine2", "Town",
    "Postcode", "SchoolURN", "EntryDate", "LeavingDate", "SENprovision",
)  # fmt: skip
HOUSING_COLUMNS = (
    "CaseRef", "ApplicantRef", "ApproachDate", "DutyOutcome", "DecisionDate", "Surname",
    "Forenames", "DateOfBirth", "NHSNumber", "Phone", "Email", "AddressLine1", "Town", "Postcode",
    "HouseholdSize", "Children", "TempAccommodation", "TAStartDate", "TAEndDate",
)  # fmt: skip
POLICE_AREA = "Marshford and Eastwick"
LA_ORGANISATION = "999"

_SCHOOL_NOISE = Noise(typo=0.03, dob_swap=0.005)
_POLICE_NOISE = Noise(nickname=0.3, typo=0.08, stale_address=0.3, missing_nhs=0.9, dob_swap=0.03)
_HOUSING_NOISE = Noise(nickname=0.1, typo=0.05, missing_nhs=0.7, dob_swap=0.01)
_GENDER = {"M": "male", "F": "female"}


def _rng(population: Population, purpose: str) -> random.Random:
    return random.Random(f"mais-samples:{population.seed}:{purpose}")  # noqa: S311 - synthetic data


def _write_csv(
    out: Path, name: str, columns: tuple[str, ...], rows: list[tuple[Person, list[str]]]
) -> list[int]:
    """Write ``rows`` after a header; return the line number of each row."""
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for _, row in rows:
            writer.writerow(row)
    return list(range(2, len(rows) + 2))


def write_school_census(population: Population, out: Path) -> SampleSet:
    """Write one pupil extract per school under ``out/school``."""
    rng = _rng(population, "school")
    by_school: dict[str, list[tuple[Person, list[str]]]] = {s.urn: [] for s in SCHOOLS}
    pupil_ids: set[str] = set()
    for person in population.people:
        if not person.enrolments:
            continue
        view = recorded(person, _SCHOOL_NOISE, rng)
        sen = rng.choices(("N", "K", "E"), weights=(84, 12, 4))[0]
        for enrolment in person.enrolments:
            pupil_id = str(rng.randrange(1000, 100000))
            while pupil_id in pupil_ids:
                pupil_id = str(rng.randrange(1000, 100000))
            pupil_ids.add(pupil_id)
            address = enrolment.address
            row = [pupil_id, person.upn or "", "", view.family, view.given, view.middle, view.family]
            row += [view.preferred or view.given, view.birth_date.isoformat(), person.sex, person.ethnicity]
            row += [address.line1, "", address.town, address.postcode, enrolment.school.urn]
            end = enrolment.period.end
            row += [enrolment.period.start.isoformat(), end.isoformat() if end else "", sen]
            by_school[enrolment.school.urn].append((person, row))
    samples = SampleSet()
    for school in SCHOOLS:
        rows = sorted(by_school[school.urn], key=lambda item: (item[1][3], item[1][4], item[1][0]))
        name = f"school/census_{school.urn}.csv"
        lines = _write_csv(out, name, SCHOOL_COLUMNS, rows)
        samples.files.append(
            SampleFile(name, "tabular", "school", school.urn, f"Pupil extract: {school.name}")
        )
        for line, (person, row) in zip(lines, rows, strict=True):
            samples.truth.append(TruthRow(person.person_id, "school", "tabular", name, line, row[0]))
    return samples


class _Nominals:
    """The police record ("nominal") of each person; now and then a duplicate is created."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.known: dict[str, tuple[str, Recorded]] = {}
        self.issued: set[str] = set()

    def _new(self, person: Person) -> tuple[str, Recorded]:
        while True:
            ref = f"NOM{self.rng.randrange(10**6, 10**7)}"
            if ref not in self.issued:
                self.issued.add(ref)
                return ref, recorded(person, _POLICE_NOISE, self.rng)

    def of(self, person: Person) -> tuple[str, Recorded]:
        if person.person_id not in self.known or self.rng.random() < 0.1:
            self.known[person.person_id] = self._new(person)
        return self.known[person.person_id]


def _notification(
    nominals: _Nominals, person: Person, when: datetime, *, kind: str, role: str, number: int
) -> dict[str, Any]:
    rng = nominals.rng
    ref, view = nominals.of(person)
    raised = when + timedelta(hours=rng.randrange(2, 48))
    given = " ".join(g for g in (view.given, view.middle) if g)
    subject = {
        "personId": ref,
        "nhsNumber": view.nhs_number or "",
        "surname": view.family.upper(),
        "forenames": given,
        "dateOfBirth": view.birth_date.isoformat(),
        "gender": _GENDER[person.sex],
        "address": {
            "line1": view.address.line1,
            "town": view.address.town,
            "postcode": view.address.postcode,
        },
    }
    return {
        "notificationId": f"PN-{raised.year}-{number:06d}",
        "raisedAt": raised.isoformat(timespec="seconds"),
        "incidentAt": when.isoformat(timespec="seconds"),
        "incidentType": kind,
        "role": role,
        "riskLevel": rng.choice(("standard", "standard", "medium", "high")),
        "policeArea": POLICE_AREA,
        "notifiedTo": "MASH",
        "subject": subject,
    }


def _incidents(population: Population, rng: random.Random) -> list[tuple[datetime, str, Person, str]]:
    found: list[tuple[datetime, str, Person, str]] = []
    for household in population.households:
        for day in household.domestic_abuse:
            when = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)))
            adults = household.adults
            for index, adult in enumerate(adults):
                role = "victim" if index == 0 or len(adults) == 1 else "suspect"
                found.append((when, "domestic-abuse", adult, role))
            found.extend((when, "domestic-abuse", child, "child-present") for child in household.children)
        for child in household.children:
            for spell in child.missing:
                when = datetime.combine(spell.start, time(rng.randrange(15, 24), rng.randrange(60)))
                found.append((when, "missing-child", child, "missing-person"))
    return sorted(found, key=lambda item: (item[0], item[2].person_id))


def write_police(population: Population, out: Path) -> SampleSet:
    """Write the police safeguarding notifications (JSON lines) to ``out/police``."""
    rng = _rng(population, "police")
    nominals = _Nominals(rng)
    name = "police/notifications.jsonl"
    samples = SampleSet(
        [SampleFile(name, "tabular", "police", "POLICE", "Police safeguarding notifications")]
    )
    lines: list[str] = []
    for number, (when, kind, person, role) in enumerate(_incidents(population, rng), start=1):
        note = _notification(nominals, person, when, kind=kind, role=role, number=number)
        lines.append(json.dumps(note, ensure_ascii=False))
        samples.truth.append(
            TruthRow(person.person_id, "police", "tabular", name, number, note["subject"]["personId"])
        )
    if not lines:  # an empty export has nothing to recognise it by: none is written
        return SampleSet()
    (out / "police").mkdir(parents=True, exist_ok=True)
    (out / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return samples


def _case_row(
    household: Household, applicant: Person, view: Recorded, number: int, rng: random.Random
) -> list[str]:
    period = household.housing
    if period is None:  # pragma: no cover - only called for households with a case
        raise ValueError("household has no housing case")
    decided = period.start + timedelta(days=rng.randrange(14, 57))
    outcome = rng.choices(("RD", "MD", "PD"), weights=(4, 3, 3))[0] if decided <= REFERENCE_DATE else ""
    ta_start: date | None = None
    if outcome in ("RD", "MD") and rng.random() < 0.6:
        ta_start = period.start + timedelta(days=rng.randrange(0, 5))
    left = household.previous_address or household.address
    email = f"{view.given}.{view.family}".lower().replace("'", "").replace(" ", "") + "@example.com"
    row = [f"HC{REFERENCE_DATE.year - 1}-{number:05d}", f"APP{rng.randrange(10**5, 10**6)}"]
    row += [period.start.strftime("%d/%m/%Y"), outcome, decided.strftime("%d/%m/%Y") if outcome else ""]
    row += [
        view.family,
        " ".join(g for g in (view.given, view.middle) if g),
        view.birth_date.strftime("%d/%m/%Y"),
    ]
    row += [view.nhs_number or "", applicant.phone, email, left.line1, left.town, left.postcode]
    row += [str(len(household.members)), str(len(household.children)), "Y" if ta_start else "N"]
    row += [ta_start.strftime("%d/%m/%Y") if ta_start else ""]
    row += [period.end.strftime("%d/%m/%Y") if ta_start and period.end else ""]
    return row


def write_housing(population: Population, out: Path) -> SampleSet:
    """Write the housing options case export to ``out/housing``."""
    rng = _rng(population, "housing")
    rows: list[tuple[Person, list[str]]] = []
    for household in population.households:
        if household.housing is None or not household.adults:
            continue
        applicant = household.adults[0]
        view = recorded(applicant, _HOUSING_NOISE, rng)
        rows.append((applicant, _case_row(household, applicant, view, len(rows) + 1, rng)))
    name = "housing/cases.csv"
    lines = _write_csv(out, name, HOUSING_COLUMNS, rows)
    samples = SampleSet([SampleFile(name, "tabular", "housing", LA_ORGANISATION, "Housing options cases")])
    for line, (person, row) in zip(lines, rows, strict=True):
        samples.truth.append(TruthRow(person.person_id, "housing", "tabular", name, line, row[1]))
    return samples
