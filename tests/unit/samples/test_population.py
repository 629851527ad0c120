"""The synthetic population: reproducible, fictional, valid identifiers, plausible families."""

from __future__ import annotations

import pytest

from exchange.identifiers import is_valid_nhs_number, is_valid_upn
from exchange.samples import MAX_PEOPLE, REFERENCE_DATE, build_population


def _facts(seed: int) -> list[tuple[str, str, str, str, str | None]]:
    return [
        (p.person_id, p.given, p.family, p.birth_date.isoformat(), p.nhs_number)
        for p in build_population(150, seed).people
    ]


def test_the_same_seed_gives_the_same_people_and_another_seed_other_people() -> None:
    assert _facts(4) == _facts(4)
    assert _facts(4) != _facts(5)


def test_exactly_the_requested_number_of_people_with_unique_ids() -> None:
    for count in (1, 7, 200):
        people = build_population(count, 1).people
        assert len(people) == count
        assert len({p.person_id for p in people}) == count


def test_an_empty_or_oversized_population_is_refused() -> None:
    for count in (0, MAX_PEOPLE + 1):
        with pytest.raises(ValueError, match="population"):
            build_population(count, 1)


def test_nhs_numbers_are_in_the_test_range_valid_and_unique() -> None:
    people = build_population(300, 2).people
    numbers = [p.nhs_number for p in people if p.nhs_number]
    assert len(numbers) > 250  # most people have one; a few are missing on purpose
    assert len(numbers) < len(people)
    assert all(n.startswith("999") and is_valid_nhs_number(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_upns_have_valid_check_letters_and_only_school_age_children_have_them() -> None:
    people = build_population(300, 3).people
    pupils = [p for p in people if p.upn]
    assert len(pupils) > 50
    assert all(is_valid_upn(p.upn or "") for p in pupils)
    assert len({p.upn for p in pupils}) == len(pupils)
    assert all(p.is_child and p.age() >= 4 for p in pupils)


def test_households_are_children_with_older_carers() -> None:
    population = build_population(300, 6)
    children = [p for p in population.people if p.is_child]
    assert len(children) > len(population.people) / 2
    assert all(0 <= c.age() <= 17 for c in children)
    for household in population.households:
        assert household.adults, "every household has a parent or carer"
        eldest = max((c.age() for c in household.children), default=0)
        assert all(a.age() >= eldest + 18 for a in household.adults)


def test_looked_after_children_are_children_in_need_and_known_to_several_agencies() -> None:
    people = build_population(400, 8).people
    looked_after = [p for p in people if p.looked_after]
    assert looked_after
    for child in looked_after:
        assert child.cin is not None and child.la_child_id
        assert {"csc", "lac"} <= child.agencies
        assert all(period.start <= REFERENCE_DATE for period in child.looked_after)
    assert max(len(p.agencies) for p in people) >= 5


def test_a_child_born_after_the_family_moved_never_lived_at_the_old_address() -> None:
    population = build_population(400, 9)
    for household in population.households:
        for person in household.members:
            if household.moved_on is not None and person.birth_date >= household.moved_on:
                assert person.previous_address is None
