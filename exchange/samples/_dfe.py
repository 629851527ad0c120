"""Children's social care returns to the DfE: the Children in Need census (XML, valid against the
2024 schema) and the SSDA903 looked-after children tables (CSV, 2024 columns).

Both come from the same local authority, so a looked-after child has the same LA child id in
both. Neither return carries names or NHS numbers: matching them to other agencies' records relies
on the UPN, date of birth, sex and (for SSDA903) the home postcode.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from lxml import etree

from exchange.samples._noise import Noise, Recorded, recorded
from exchange.samples._people import LA_CODE, REFERENCE_DATE, Period, Person, Population
from exchange.samples._truth import SampleFile, SampleSet, TruthRow

__all__ = ["CIN_FILE", "SSDA903_COLUMNS", "write_cin_census", "write_ssda903"]

CIN_FILE = "cin/cin_census_2025.xml"
SSDA903_COLUMNS: dict[str, tuple[str, ...]] = {
    "header": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "episodes": (
        "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
        "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN",
    ),
    "missing": ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
}  # fmt: skip
"""The SSDA903 tables written, with their 2024 columns in order."""

_NOISE = Noise(stale_address=0.3, dob_swap=0.01)
_SEX = {"M": "1", "F": "2"}
_REFERRAL_SOURCES = ("1A", "1B", "2A", "2B", "3A", "3B", "3E", "4", "5A", "5D", "6", "6", "6", "8", "9")
_NEEDS = ("N1", "N1", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8")
_FACTORS = ("1B", "2B", "3A", "3B", "4A", "4B", "6A", "10A", "11A", "14A", "16A", "17A", "18C", "21", "24A")
_ABUSE = ("NEG", "NEG", "EMO", "PHY", "SAB", "MUL")
_PLACEMENTS = (("U1", "PR1"), ("U3", "PR1"), ("U4", "PR1"), ("U6", "PR4"), ("K2", "PR4"), ("R1", "PR0"))


def _iso(day: date) -> str:
    return day.isoformat()


def _dmy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _sub(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, name)
    element.text = text
    return element


def _upn_unknown(child: Person) -> str:
    return "UN1" if child.age() < 6 else "UN2"  # under 6 and not at school / never at school in England


def _cin_details(parent: etree._Element, cin: Period, rng: random.Random) -> None:
    """Referral, assessment, maybe a CIN plan, a section 47 enquiry, a conference and a CP plan."""
    last = cin.end or REFERENCE_DATE
    assessed = min(cin.start + timedelta(days=rng.randrange(0, 10)), last)
    authorised = assessed + timedelta(days=rng.randrange(10, 45))
    enquiry = rng.random() < 0.4
    conference = assessed + timedelta(days=rng.randrange(10, 16))
    conferenced = enquiry and conference <= last
    protected = conferenced and rng.random() < 0.6
    details = etree.SubElement(parent, "CINdetails")
    _sub(details, "CINreferralDate", _iso(cin.start))
    _sub(details, "ReferralSource", rng.choice(_REFERRAL_SOURCES))
    _sub(details, "PrimaryNeedCode", rng.choice(_NEEDS))
    if cin.end is not None:
        _sub(details, "CINclosureDate", _iso(cin.end))
        _sub(details, "ReasonForClosure", rng.choice(("RC7", "RC8", "RC9")))
    if conferenced:
        _sub(details, "DateOfInitialCPC", _iso(conference))
    assessment = etree.SubElement(details, "Assessments")
    _sub(assessment, "AssessmentActualStartDate", _iso(assessed))
    if authorised <= last:
        _sub(assessment, "AssessmentAuthorisationDate", _iso(authorised))
        factors = etree.SubElement(assessment, "FactorsIdentifiedAtAssessment")
        for factor in sorted(set(rng.sample(_FACTORS, rng.randrange(1, 4)))):
            _sub(factors, "AssessmentFactors", factor)
        if not protected and rng.random() < 0.5:
            plan = etree.SubElement(details, "CINPlanDates")
            _sub(plan, "CINPlanStartDate", _iso(authorised))
            if cin.end is not None:
                _sub(plan, "CINPlanEndDate", _iso(cin.end))
    if enquiry:
        s47 = etree.SubElement(details, "Section47")
        _sub(s47, "S47ActualStartDate", _iso(assessed))
        _sub(s47, "InitialCPCtarget", _iso(assessed + timedelta(days=15)))
        if conferenced:
            _sub(s47, "DateOfInitialCPC", _iso(conference))
        _sub(s47, "ICPCnotRequired", "false")
    _sub(details, "ReferralNFA", "false")
    if protected:
        plan = etree.SubElement(details, "ChildProtectionPlans")
        _sub(plan, "CPPstartDate", _iso(conference))
        if cin.end is not None:
            _sub(plan, "CPPendDate", _iso(cin.end))
        category = rng.choice(_ABUSE)
        _sub(plan, "InitialCategoryOfAbuse", category)
        _sub(plan, "LatestCategoryOfAbuse", category)
        _sub(plan, "NumberOfPreviousCPP", str(rng.randrange(1, 3)))


def _known_to_csc(population: Population) -> list[Person]:
    children = [p for p in population.people if p.la_child_id and p.cin is not None]
    return sorted(children, key=lambda p: p.la_child_id or "")


def write_cin_census(population: Population, out: Path) -> SampleSet:
    """Write the LA's CIN census return (one ``Child`` per child in need) to ``out/cin``."""
    rng = random.Random(f"mais-samples:{population.seed}:cin")  # noqa: S311 - synthetic data
    root = etree.Element("Message")
    header = etree.SubElement(root, "Header")
    collection = etree.SubElement(header, "CollectionDetails")
    _sub(collection, "Collection", "CIN")
    _sub(collection, "Year", str(REFERENCE_DATE.year))
    _sub(collection, "ReferenceDate", _iso(REFERENCE_DATE))
    source = etree.SubElement(header, "Source")
    for name, text in (("SourceLevel", "L"), ("LEA", LA_CODE), ("SoftwareCode", "Local Authority")):
        _sub(source, name, text)
    _sub(source, "Release", "ver 1.0")
    _sub(source, "SerialNo", "001")
    _sub(source, "DateTime", f"{_iso(REFERENCE_DATE + timedelta(days=50))}T10:15:00")
    children = etree.SubElement(root, "Children")
    samples = SampleSet([SampleFile(CIN_FILE, "cin_census", "csc", LA_CODE, "Children in Need census")])
    for number, child in enumerate(_known_to_csc(population), start=1):
        view = recorded(child, _NOISE, rng)
        element = etree.SubElement(children, "Child")
        ids = etree.SubElement(element, "ChildIdentifiers")
        _sub(ids, "LAchildID", child.la_child_id or "")
        if child.upn and rng.random() < 0.9:
            _sub(ids, "UPN", child.upn)
        else:
            _sub(ids, "UPNunknown", _upn_unknown(child))
        _sub(ids, "PersonBirthDate", _iso(view.birth_date))
        _sub(ids, "GenderCurrent", _SEX[child.sex])
        traits = etree.SubElement(element, "ChildCharacteristics")
        _sub(traits, "Ethnicity", child.ethnicity)
        if rng.random() < 0.3:
            disabilities = etree.SubElement(traits, "Disabilities")
            for code in sorted(
                set(rng.sample(("AUT", "LD", "COMM", "BEH", "HEAR", "MOB"), rng.randrange(1, 3)))
            ):
                _sub(disabilities, "Disability", code)
        if child.cin is not None:
            _cin_details(element, child.cin, rng)
        samples.truth.append(
            TruthRow(child.person_id, "csc", "cin_census", CIN_FILE, number, child.la_child_id or "")
        )
    if not samples.truth:  # the schema wants at least one Child: no children in need, no return
        return SampleSet()
    (out / "cin").mkdir(parents=True, exist_ok=True)
    tree = etree.ElementTree(root)
    tree.write(str(out / CIN_FILE), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return samples


class _Tables:
    """The three SSDA903 tables being written, with the truth about each row."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[str, list[str]]]] = {name: [] for name in SSDA903_COLUMNS}

    def add(self, table: str, person: Person, row: list[str]) -> None:
        self.rows[table].append((person.person_id, row))


def _episodes(tables: _Tables, child: Person, view: Recorded, rng: random.Random) -> None:
    need = rng.choice(_NEEDS)
    legal = rng.choice(("C2", "C2", "V2", "E1", "J2"))
    home = view.address.postcode
    for index, period in enumerate(child.looked_after):
        place, provider = rng.choice(_PLACEMENTS)
        last = index == len(child.looked_after) - 1
        rne = "S" if index == 0 else rng.choice(("P", "P", "L", "T"))
        if rne in ("L", "T"):
            legal = rng.choice(("C1", "C2", "E1"))
        rec, reason = "", ""
        if period.end is not None:
            rec = rng.choice(("E4A", "E11", "E12", "E41", "E13")) if last else "X1"
            reason = "" if last else rng.choice(("CARPL", "ALLEG", "CREQB", "LAREQ", "PLACE"))
        urn = f"SC{rng.randrange(100000, 1000000)}" if place == "K2" else "XXXXXXX"
        placed_at = f"{view.address.postcode.split()[0]} {rng.randrange(10)}AB"
        row = [child.la_child_id or "", _dmy(period.start), rne, legal, need, place, provider]
        row += [_dmy(period.end), rec, reason, home, placed_at, urn]
        tables.add("episodes", child, row)


def write_ssda903(population: Population, out: Path) -> SampleSet:
    """Write the LA's SSDA903 Header, Episodes and Missing tables to ``out/ssda903``."""
    rng = random.Random(f"mais-samples:{population.seed}:ssda903")  # noqa: S311 - synthetic data
    tables = _Tables()
    for child in _known_to_csc(population):
        if not child.looked_after:
            continue
        view = recorded(child, _NOISE, rng)
        mother = "0" if child.sex == "F" and child.age() >= 12 else ""
        upn = child.upn or _upn_unknown(child)
        header = [
            child.la_child_id or "",
            _SEX[child.sex],
            _dmy(view.birth_date),
            child.ethnicity,
            upn,
            mother,
            "",
        ]
        tables.add("header", child, header)
        _episodes(tables, child, view, rng)
        for spell in child.missing:
            kind = rng.choice(("M", "M", "A"))
            row = [child.la_child_id or "", _dmy(view.birth_date), kind, _dmy(spell.start), _dmy(spell.end)]
            tables.add("missing", child, row)
    folder = out / "ssda903"
    folder.mkdir(parents=True, exist_ok=True)
    samples = SampleSet()
    for table, columns in SSDA903_COLUMNS.items():
        name = f"ssda903/{table}.csv"
        with (out / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for line, (person_id, row) in enumerate(tables.rows[table], start=2):
                writer.writerow(row)
                samples.truth.append(TruthRow(person_id, "csc", "ssda903", name, line, row[0]))
        description = f"SSDA903 {table.capitalize()} table"
        samples.files.append(SampleFile(name, "ssda903", "csc", LA_CODE, description))
    return samples
