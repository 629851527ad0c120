"""How agencies get people slightly wrong: nicknames, typos, old addresses, missing NHS numbers,
and (rarely) a date of birth with day and month swapped.

Each agency has a :class:`Noise` profile; :func:`recorded` draws that agency's view of one person
once, so every record the agency writes about the person carries the same mistakes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from exchange.samples._names import NICKNAMES
from exchange.samples._people import Address, Person

__all__ = ["Noise", "Recorded", "recorded", "swap_day_month", "transpose"]


@dataclass(frozen=True, slots=True)
class Noise:
    """Per-record chances of each kind of mistake in one agency's records."""

    nickname: float = 0.0
    typo: float = 0.0
    stale_address: float = 0.0
    missing_nhs: float = 0.0
    dob_swap: float = 0.0


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one agency holds about one person."""

    given: str
    middle: str
    family: str
    preferred: str  # a nickname the person goes by, "" when none is known
    birth_date: date
    nhs_number: str | None
    address: Address
    stale: bool  # True when ``address`` is one the person has left


def transpose(word: str, rng: random.Random) -> str:
    """``word`` with two neighbouring letters (never the first) swapped, when that changes it."""
    positions = [i for i in range(1, len(word) - 1) if word[i] != word[i + 1] and word[i + 1].isalpha()]
    if not positions:
        return word
    i = rng.choice(positions)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def swap_day_month(day: date) -> date:
    """``day`` read the American way round, when that is still a date and a different one."""
    if day.day > 12 or day.day == day.month:
        return day
    return day.replace(month=day.day, day=day.month)


def recorded(person: Person, noise: Noise, rng: random.Random) -> Recorded:
    """One agency's view of ``person``, with that agency's mistakes drawn from ``rng``."""
    nicknames = NICKNAMES.get(person.given, ())
    preferred = rng.choice(nicknames) if nicknames and rng.random() < 0.5 else ""
    given = preferred if preferred and rng.random() < noise.nickname else person.given
    family = person.family
    if person.former_family and rng.random() < 0.4:
        family = person.former_family
    if rng.random() < noise.typo:
        if rng.random() < 0.5:
            given = transpose(given, rng)
        else:
            family = transpose(family, rng)
    stale = person.previous_address is not None and rng.random() < noise.stale_address
    address = person.previous_address if stale and person.previous_address else person.address
    nhs_number = None if rng.random() < noise.missing_nhs else person.nhs_number
    birth_date = swap_day_month(person.birth_date) if rng.random() < noise.dob_swap else person.birth_date
    return Recorded(given, person.middle, family, preferred, birth_date, nhs_number, address, stale)
