"""The synthetic population: households of children and their parents or carers, the truth about
each person, and which agencies know them (and for what).

Everything is drawn from one seeded :class:`random.Random`, so a seed gives the same people every
time. All people, places and identifiers are fictional: NHS numbers are in the 999 test range
(with valid modulus 11 check digits), UPNs carry a fictional LA number, postcodes use areas
England does not have.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from exchange.samples._names import FAMILY_NAMES, GIVEN_NAMES, STREETS, TOWNS
from exchange.samples._numbers import LA_CODE, Numbers

__all__ = [
    "LA_CODE",
    "MAX_PEOPLE",
    "NHS_ETHNIC_CATEGORY",
    "REFERENCE_DATE",
    "SCHOOLS",
    "Address",
    "Enrolment",
    "Household",
    "Period",
    "Person",
    "Population",
    "School",
    "build_population",
]

MAX_PEOPLE = 20_000
"""The largest population: five schools run out of UPN serial numbers not far beyond it."""

REFERENCE_DATE = date(2025, 3, 31)
"""The census reference date every return is made at; ages and histories are relative to it."""


# DfE ethnicity codes, White British weighted as it is in most English LAs.
_ETHNICITIES = [
    "WBRI",
    "WBRI",
    "WBRI",
    "WBRI",
    "WOTH",
    "WIRI",
    "MWBC",
    "MWAS",
    "AIND",
    "APKN",
    "ABAN",
    "BAFR",
    "BCRB",
    "CHNE",
    "OOTH",
    "WROM",
]
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# DfE ethnicity code -> NHS ethnic category letter (HL7 PID-22, UK Core EthnicCategoryEngland)
NHS_ETHNIC_CATEGORY: dict[str, str] = {
    "WBRI": "A", "WIRI": "B", "WOTH": "C", "WIRT": "C", "WROM": "C", "MWBC": "D", "MWBA": "E",
    "MWAS": "F", "MOTH": "G", "AIND": "H", "APKN": "J", "ABAN": "K", "AOTH": "L", "BCRB": "M",
    "BAFR": "N", "BOTH": "P", "CHNE": "R", "OOTH": "S",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address (fictional)."""

    line1: str
    town: str
    postcode: str


@dataclass(frozen=True, slots=True)
class Period:
    """A span of days; ``end`` is ``None`` while it is still open at the reference date."""

    start: date
    end: date | None


@dataclass(frozen=True, slots=True)
class School:
    """A school: its URN and the DfE establishment number used inside UPNs."""

    urn: str
    establishment: str
    name: str
    phase: str  # "primary" (ages 4-10) or "secondary" (11-17)


SCHOOLS: tuple[School, ...] = (
    School("990101", "2001", "Marshford Primary School", "primary"),
    School("990102", "2002", "St Anne's CE Primary School", "primary"),
    School("990103", "2003", "Kelbridge Infant and Junior School", "primary"),
    School("990201", "4001", "Marshford Academy", "secondary"),
    School("990202", "4002", "Eastwick Vale High School", "secondary"),
)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One spell of a pupil at a school, with the address the school held for them then."""

    school: School
    period: Period
    address: Address


@dataclass(slots=True)
class Person:
    """The truth about one fictional person; agency records are noisy views of it."""

    person_id: str
    household_id: str
    is_child: bool
    given: str
    middle: str
    family: str
    sex: str  # "M" or "F"
    birth_date: date
    ethnicity: str
    nhs_number: str | None
    address: Address
    previous_address: Address | None
    phone: str
    relationship: str | None = None  # adults: HL7 v2 table 0063 code (MTH, FTH, GRM, ...)
    upn: str | None = None
    la_child_id: str | None = None
    enrolments: list[Enrolment] = field(default_factory=list)
    cin: Period | None = None
    looked_after: list[Period] = field(default_factory=list)
    missing: list[Period] = field(default_factory=list)
    agencies: set[str] = field(default_factory=set)
    former_family: str = ""  # a surname the person had before (marriage); some agencies hold it
    hard_cases: set[str] = field(default_factory=set)  # matcher-breaking cases (see _hard.py)

    def age(self, on: date = REFERENCE_DATE) -> int:
        """Age in whole years on ``on``."""
        before_birthday = (on.month, on.day) < (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - int(before_birthday)


@dataclass(slots=True)
class Household:
    """People living together; ``moved_on`` is when they left ``previous_address``."""

    household_id: str
    members: list[Person]
    address: Address
    previous_address: Address | None
    moved_on: date | None
    domestic_abuse: list[date] = field(default_factory=list)
    housing: Period | None = None

    @property
    def adults(self) -> list[Person]:
        """The parents or carers."""
        return [p for p in self.members if not p.is_child]

    @property
    def children(self) -> list[Person]:
        """The children."""
        return [p for p in self.members if p.is_child]


@dataclass(slots=True)
class Population:
    """All households, and every person in the order they were made."""

    seed: int
    households: list[Household]

    @property
    def people(self) -> list[Person]:
        """Everyone, household by household."""
        return [p for h in self.households for p in h.members]


def _address(rng: random.Random) -> Address:
    town, area = rng.choice(TOWNS)
    inward = f"{rng.randrange(10)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
    postcode = f"{area}{rng.randrange(1, 20)} {inward}"
    return Address(f"{rng.randrange(1, 180)} {rng.choice(STREETS)}", town, postcode)


def _birth_date(rng: random.Random, age: int) -> date:
    latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
    return latest - timedelta(days=rng.randrange(365))


def _day_between(rng: random.Random, first: date, last: date) -> date:
    span = max((last - first).days, 0)
    return first + timedelta(days=rng.randrange(span + 1))


def build_population(count: int, seed: int) -> Population:
    """``count`` people in households, drawn from ``seed``; the same seed gives the same people."""
    if not 1 <= count <= MAX_PEOPLE:
        raise ValueError(f"a population has 1 to {MAX_PEOPLE} people")
    rng = random.Random(f"mais-samples:{seed}:people")  # noqa: S311 - synthetic data, not secrets
    numbers = Numbers(rng)
    households: list[Household] = []
    total = 0
    while total < count:
        household = _household(rng, numbers, f"H{len(households) + 1:04d}", total)
        household.members = household.members[: count - total]
        total += len(household.members)
        households.append(household)
    for household in households:
        _involve(rng, numbers, household)
    return Population(seed, households)


def _household(rng: random.Random, numbers: Numbers, household_id: str, start: int) -> Household:
    family = rng.choice(FAMILY_NAMES)
    address = _address(rng)
    moved = rng.random() < 0.35
    previous = _address(rng) if moved else None
    moved_on = _day_between(rng, REFERENCE_DATE - timedelta(days=3 * 365), REFERENCE_DATE) if moved else None
    ages = sorted(min(int(rng.triangular(0, 18, 6)), 17) for _ in range(rng.choice((1, 1, 2, 2, 3, 4))))
    eldest = ages[-1]
    carers = ["MTH", "FTH"] if rng.random() < 0.6 else [rng.choice(("MTH", "MTH", "MTH", "FTH", "GRM"))]
    members: list[Person] = []

    def person(is_child: bool, sex: str, age: int, surname: str, relationship: str | None) -> Person:
        index = start + len(members) + 1
        given, middle = rng.sample(GIVEN_NAMES[sex], 2)
        born = _birth_date(rng, age)
        return Person(
            person_id=f"P{index:05d}",
            household_id=household_id,
            is_child=is_child,
            given=given,
            middle=middle if rng.random() < 0.6 else "",
            family=surname,
            sex=sex,
            birth_date=born,
            ethnicity=rng.choice(_ETHNICITIES),
            nhs_number=numbers.nhs_number() if rng.random() < 0.97 else None,
            address=address,
            previous_address=previous if moved_on is not None and born < moved_on else None,
            phone=numbers.phone(),
            relationship=relationship,
        )

    for relationship in carers:
        sex = "M" if relationship == "FTH" else "F"
        age = eldest + (rng.randrange(40, 60) if relationship == "GRM" else rng.randrange(18, 40))
        surname = family if relationship != "MTH" or rng.random() < 0.7 else rng.choice(FAMILY_NAMES)
        members.append(person(False, sex, age, surname, relationship))
    for age in ages:
        members.append(person(True, rng.choice("MF"), age, family, None))
    return Household(household_id, members, address, previous, moved_on)


def _involve(rng: random.Random, numbers: Numbers, household: Household) -> None:
    """Decide which agencies know each member, and what they know them for."""
    concern = rng.random() < 0.3
    if concern and rng.random() < 0.5:
        household.domestic_abuse = sorted(
            _day_between(rng, REFERENCE_DATE - timedelta(days=700), REFERENCE_DATE)
            for _ in range(rng.randrange(1, 4))
        )
    if rng.random() < (0.3 if concern else 0.05):
        start = _day_between(rng, REFERENCE_DATE - timedelta(days=500), REFERENCE_DATE - timedelta(days=30))
        end = start + timedelta(days=rng.randrange(20, 300))
        household.housing = Period(start, end if end < REFERENCE_DATE else None)
    for member in household.members:
        if rng.random() < 0.92:
            member.agencies.add("gp")
        if rng.random() < (0.45 if concern else 0.25):
            member.agencies.add("hospital")
        if household.domestic_abuse:
            member.agencies.add("police")
        if household.housing is not None:
            member.agencies.add("housing")
        if member.is_child:
            _child_services(rng, numbers, household, member, concern)


def _child_services(
    rng: random.Random, numbers: Numbers, household: Household, child: Person, concern: bool
) -> None:
    age = child.age()
    if rng.random() < (0.85 if age < 5 else 0.25):
        child.agencies.add("community")
        for adult in household.adults:
            adult.agencies.add("community")
    if age >= 4 and rng.random() < 0.95:
        _enrol(rng, numbers, household, child)
    if rng.random() < (0.7 if concern else 0.04):
        child.la_child_id = numbers.la_child_id()
        earliest = max(child.birth_date, REFERENCE_DATE - timedelta(days=900))
        referral = _day_between(rng, earliest, REFERENCE_DATE)
        closure = referral + timedelta(days=rng.randrange(30, 400))
        child.cin = Period(referral, closure if closure < REFERENCE_DATE else None)
        child.agencies.add("csc")
        if rng.random() < 0.3:
            _look_after(rng, child, referral)
    if age >= 11 and not child.missing and rng.random() < (0.15 if concern else 0.02):
        child.missing = _missing_spells(rng, REFERENCE_DATE - timedelta(days=400), REFERENCE_DATE)
    if child.missing:
        child.agencies.add("police")


def _enrol(rng: random.Random, numbers: Numbers, household: Household, child: Person) -> None:
    phase = "primary" if child.age() <= 10 else "secondary"
    schools = [s for s in SCHOOLS if s.phase == phase]
    school = rng.choice(schools)
    start_year = child.birth_date.year + (5 if phase == "primary" else 11)
    entry = date(min(start_year, REFERENCE_DATE.year - 1), 9, rng.randrange(2, 8))
    child.upn = numbers.upn(school.establishment, entry)
    child.agencies.add("school")
    moved_on = household.moved_on
    if household.previous_address is not None and moved_on is not None and moved_on > entry:
        if rng.random() < 0.5:
            new_school = rng.choice([s for s in schools if s != school] or schools)
            child.enrolments.append(Enrolment(school, Period(entry, moved_on), household.previous_address))
            child.enrolments.append(Enrolment(new_school, Period(moved_on, None), household.address))
            return
        # Same school; the school census still shows the old address (the family never told it).
        child.enrolments.append(Enrolment(school, Period(entry, None), household.previous_address))
        return
    child.enrolments.append(Enrolment(school, Period(entry, None), household.address))


def _look_after(rng: random.Random, child: Person, referral: date) -> None:
    start = referral + timedelta(days=rng.randrange(10, 120))
    if start >= REFERENCE_DATE:
        return
    child.agencies.add("lac")
    periods: list[Period] = []
    for _ in range(rng.randrange(1, 4)):
        end = start + timedelta(days=rng.randrange(40, 300))
        if end >= REFERENCE_DATE:
            periods.append(Period(start, None))
            break
        periods.append(Period(start, end))
        start = end
    child.looked_after = periods
    if child.age() >= 10 and rng.random() < 0.5:
        child.missing = _missing_spells(rng, periods[0].start, periods[-1].end or REFERENCE_DATE)


def _missing_spells(rng: random.Random, since: date, until: date) -> list[Period]:
    """One to three spells missing from home or care, each back within a few days."""
    spells: list[Period] = []
    for _ in range(rng.randrange(1, 4)):
        start = _day_between(rng, since, until - timedelta(days=1))
        end = start + timedelta(days=rng.randrange(0, 4))
        spells.append(Period(start, end if end <= REFERENCE_DATE else None))
    return sorted(spells, key=lambda p: p.start)
