"""Agency mistakes: each kind happens when its chance is certain and never when it is zero."""

from __future__ import annotations

import random
from datetime import date

from exchange.samples._names import NICKNAMES
from exchange.samples._noise import Noise, recorded, swap_day_month, transpose
from exchange.samples._people import Address, Person

OLD = Address("1 Mill Lane", "Marshford", "MF1 2AB")
NEW = Address("9 Kings Walk", "Kelbridge", "KQ3 4DE")


def _person(**changes: object) -> Person:
    person = Person(
        person_id="P00001",
        household_id="H0001",
        is_child=True,
        given="Alexander",
        middle="James",
        family="Pemberton",
        sex="M",
        birth_date=date(2014, 3, 7),
        ethnicity="WBRI",
        nhs_number="9990000018",
        address=NEW,
        previous_address=OLD,
        phone="07700 900001",
    )
    for name, value in changes.items():
        setattr(person, name, value)
    return person


def test_transpose_swaps_two_neighbouring_letters_but_never_the_first() -> None:
    rng = random.Random(1)
    for word in ("Alexander", "Pemberton", "Ng", "Lloyd-Davies"):
        typo = transpose(word, rng)
        assert sorted(typo) == sorted(word)
        assert typo[0] == word[0]
        differing = [i for i, (a, b) in enumerate(zip(word, typo, strict=True)) if a != b]
        assert differing == [] or (len(differing) == 2 and differing[1] == differing[0] + 1)
    assert transpose("Alexander", random.Random(2)) != "Alexander"


def test_day_and_month_swap_only_when_the_result_is_another_real_date() -> None:
    assert swap_day_month(date(2014, 3, 7)) == date(2014, 7, 3)
    assert swap_day_month(date(2014, 3, 25)) == date(2014, 3, 25)
    assert swap_day_month(date(2014, 6, 6)) == date(2014, 6, 6)


def test_no_noise_records_the_truth() -> None:
    view = recorded(_person(), Noise(), random.Random(3))
    assert (view.given, view.family, view.birth_date) == ("Alexander", "Pemberton", date(2014, 3, 7))
    assert view.nhs_number == "9990000018"
    assert view.address == NEW
    assert not view.stale


def test_certain_noise_shows_every_kind_of_mistake() -> None:
    certain = Noise(stale_address=1.0, missing_nhs=1.0, dob_swap=1.0)
    view = recorded(_person(), certain, random.Random(4))
    assert view.nhs_number is None
    assert view.address == OLD and view.stale
    assert view.birth_date == date(2014, 7, 3)


def test_a_nickname_replaces_the_given_name_when_the_agency_uses_it() -> None:
    used = set()
    for seed in range(40):
        view = recorded(_person(), Noise(nickname=1.0), random.Random(seed))
        used.add(view.given)
        assert view.given == "Alexander" or view.given in NICKNAMES["Alexander"]
        assert view.preferred in ("", *NICKNAMES["Alexander"])
    assert used & set(NICKNAMES["Alexander"])


def test_a_person_who_never_moved_is_never_recorded_at_an_old_address() -> None:
    view = recorded(_person(previous_address=None), Noise(stale_address=1.0), random.Random(5))
    assert view.address == NEW and not view.stale
