"""Blocking keys: which records are worth comparing at all.

Two records become a candidate pair when they share at least one key. Each rule keeps blocks
small on a million people while letting something be wrong at a time:

| rule | key | catches |
|---|---|---|
| `i` | identifier system and value | any shared identifier (NHS number, UPN, LA child id) |
| `gf` | given name (or a formal form), family name, birth year | a day or month typo |
| `gf` | given name (or a formal form), family name, day and month | a year typo |
| `dg` | date of birth, first letter of the given name (or a form) | surname change + typo |
| `df` | date of birth, first letter of the family name | unknown nickname + typo |
| `pg` | postcode and first given name | wrong date of birth + surname change |
| `pf` | postcode, family name, birth year (or day and month) | date typo + nickname |
| `pd` | postcode and date of birth | changes or typos in both names |

Dates of birth enter keys with day and month sorted, so a day/month swap shares the key. Typos
keep a name's first letter far more often than not. Names alone are not a key: a common name
shared by thousands made blocks of thousands; a record without a date of birth keys names alone,
so it meets records with a date of birth through postcodes and identifiers only. Keys are plain
strings; the same function serves the online index and batch linking.
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


def _date_parts(record: MatchRecord) -> list[str]:
    """The year and the (sorted) day and month of a date of birth, each alone, as far as known."""
    birth = record.birth_date
    if birth is None:
        return []
    parts = [f"y{birth.year}"] if birth.year is not None else []
    if birth.month is not None and birth.day is not None:
        low, high = sorted((birth.month, birth.day))
        parts.append(f"m{low}.{high}")
    return parts


def blocking_keys(record: MatchRecord) -> list[str]:
    """Every blocking key of ``record`` (duplicates removed, order stable)."""
    keys: list[str] = [f"i|{system}|{value}" for system, value in record.identifiers]
    givens: list[str] = list(record.given_names[:1])
    for form in sorted(record.given_forms)[:_MAX_FORMS]:
        if form not in givens:
            givens.append(form)
    families = record.family_names[:2]
    when = _date_key(record)
    parts = _date_parts(record) or [""]
    for family in families:
        keys.extend(f"gf|{given}|{family}|{part}" for given in givens for part in parts)
    if when:
        keys.extend(f"dg|{when}|{given[0]}" for given in givens)
        keys.extend(f"df|{when}|{family[0]}" for family in families)
    first_given = record.given_names[:1]
    for postcode in record.postcodes[:2]:
        keys.extend(f"pg|{postcode}|{given}" for given in first_given)
        keys.extend(f"pf|{postcode}|{family}|{part}" for family in families[:1] for part in parts)
        if when:
            keys.append(f"pd|{postcode}|{when}")
    return list(dict.fromkeys(keys))
