"""Blocking keys: which records are worth comparing at all.

Two records become a candidate pair when they share at least one key. Each rule below keeps
blocks small on a million people while letting one field be wrong at a time:

| rule | key | catches |
|---|---|---|
| identifier | system and value | any shared identifier (NHS number, UPN, LA child id ...) |
| given + family | first given name (and its formal forms) and family name | a wrong date of birth |
| family + birth date | family name, date of birth (day, month sorted) | a nickname or given-name typo |
| given + birth date | given name (and formal forms), date of birth | a surname change or typo |
| postcode + given | postcode and first given name | a wrong date of birth and a surname change |
| postcode + family | postcode and family name | a wrong date of birth and a nickname |

Dates of birth enter keys with day and month sorted, so a day/month swap shares the key.
Keys are plain strings; the same function serves the online index and batch linking.
"""

from __future__ import annotations

from exchange.matching._record import MatchRecord

__all__ = ["blocking_keys"]

_MAX_FORMS = 4


def _date_key(record: MatchRecord) -> str | None:
    birth = record.birth_date
    if birth is None or birth.year is None or birth.month is None or birth.day is None:
        return None
    low, high = sorted((birth.month, birth.day))
    return f"{birth.year}.{low}.{high}"


def blocking_keys(record: MatchRecord) -> list[str]:
    """Every blocking key of ``record`` (duplicates removed, order stable)."""
    keys: list[str] = [f"i|{system}|{value}" for system, value in record.identifiers]
    givens: list[str] = list(record.given_names[:1])
    for form in sorted(record.given_forms)[:_MAX_FORMS]:
        if form not in givens:
            givens.append(form)
    families = record.family_names[:2]
    when = _date_key(record)
    for family in families:
        keys.extend(f"gf|{given}|{family}" for given in givens)
        if when:
            keys.append(f"fd|{family}|{when}")
    if when:
        keys.extend(f"gd|{given}|{when}" for given in givens)
    first_given = record.given_names[:1]
    for postcode in record.postcodes[:2]:
        keys.extend(f"pg|{postcode}|{given}" for given in first_given)
        keys.extend(f"pf|{postcode}|{family}" for family in families[:1])
    return list(dict.fromkeys(keys))
