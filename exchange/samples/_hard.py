"""The cases that break person matchers, planted in a built population and named per person.

Drawn from their own seeded generator after the population is built, so the rest of a sample set
(households, agencies, histories) is the same as without them:

| case | what it is |
|---|---|
| `twin` | two children of one household share surname, date of birth and address; given names differ |
| `parent-child-same-name` | a son has his father's given name (and surname and address) |
| `namesake` | someone shares given and family name with a person of another household |
| `surname-change` | a mother changed surname; some agencies still hold her former one |
| `sibling` | a child with a brother or sister in the same household |
| `moved` | the household moved; some agencies hold the old address |
| `no-nhs-number` | the person has no NHS number |
| `nickname` | the person goes by a short form some agencies record |
| `no-name-record` | a record of the person carries no name (CIN census, SSDA903) |
"""

from __future__ import annotations

import random
from collections import defaultdict

from exchange.samples._names import FAMILY_NAMES, NICKNAMES
from exchange.samples._people import Person, Population

__all__ = ["HARD_CASES", "cases_by_person", "plant_hard_cases"]

HARD_CASES = (
    "twin", "parent-child-same-name", "namesake", "surname-change", "sibling", "moved",
    "no-nhs-number", "nickname", "no-name-record",
)  # fmt: skip


def plant_hard_cases(population: Population) -> None:
    """Make twins, sons named after fathers, namesakes and changed surnames in ``population``."""
    rng = random.Random(f"mais-samples:{population.seed}:hard-cases")  # noqa: S311 - synthetic data
    for household in population.households:
        children = household.children
        plain = [c for c in children if c.cin is None and not c.looked_after and not c.missing]
        by_age: dict[int, list[Person]] = defaultdict(list)
        for child in plain:
            by_age[child.age()].append(child)
        pair = next((kids for kids in by_age.values() if len(kids) > 1), None)
        if pair is not None and rng.random() < 0.5:
            first, second = pair[0], pair[1]
            if first.given != second.given:
                second.birth_date = first.birth_date
                second.hard_cases.add("twin")
                first.hard_cases.add("twin")
        father = next((a for a in household.adults if a.relationship == "FTH"), None)
        son = next(
            (c for c in children if c.sex == "M" and c.family == (father.family if father else "")), None
        )
        if father is not None and son is not None and rng.random() < 0.15:
            son.given = father.given
            son.hard_cases.add("parent-child-same-name")
            father.hard_cases.add("parent-child-same-name")
        mother = next((a for a in household.adults if a.relationship == "MTH"), None)
        if mother is not None and rng.random() < 0.2:
            mother.former_family = rng.choice([f for f in FAMILY_NAMES if f != mother.family])
            mother.hard_cases.add("surname-change")
    people = population.people
    for person in rng.sample(people, max(len(people) // 100, 1 if len(people) > 1 else 0)):
        other = rng.choice(people)
        if other.household_id != person.household_id and other.sex == person.sex:
            person.given, person.family = other.given, other.family
            person.hard_cases.add("namesake")
            other.hard_cases.add("namesake")


def cases_by_person(population: Population) -> dict[str, str]:
    """person id -> the hard cases the person is in, space-separated in :data:`HARD_CASES` order."""
    out: dict[str, str] = {}
    for household in population.households:
        moved = household.previous_address is not None
        children = household.children
        for person in household.members:
            cases = set(person.hard_cases)
            if person.is_child and len(children) > 1:
                cases.add("sibling")
            if moved:
                cases.add("moved")
            if person.nhs_number is None:
                cases.add("no-nhs-number")
            if NICKNAMES.get(person.given):
                cases.add("nickname")
            if person.la_child_id is not None:
                cases.add("no-name-record")
            out[person.person_id] = " ".join(c for c in HARD_CASES if c in cases)
    return out
