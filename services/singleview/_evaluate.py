"""How well the person pages agree with the truth of a generated sample set (``truth.csv``).

The persons are the store's: each record key with the person id its page shows. A record an
agency merged into another (``PersonsMerged``) has no row of its own any more but its survivor's
page stands for it, so it counts as a record of the survivor's person. ``truth.csv`` names each
record by agency and local id (the value part of the record key), as ``mais match link --truth``
reads it, so the figures of the two commands are comparable on the same data.
"""

from __future__ import annotations

import csv
from pathlib import Path

from exchange.errors import ConfigError
from exchange.matching import Accuracy, evaluate
from services.singleview._db import Connection

__all__ = ["evaluate_store", "store_persons"]


def store_persons(db: Connection) -> tuple[list[list[str]], dict[str, str]]:
    """(persons as lists of record keys, record key -> agency), merged-away records included."""
    persons: dict[str, list[str]] = {}
    agency_of: dict[str, str] = {}
    person_of: dict[str, str] = {}
    rows = db.query(
        "SELECT l.person_id, l.record_key, r.agency FROM sv_link l "
        "JOIN sv_person_record r ON r.record_key = l.record_key ORDER BY l.record_key"
    )
    for person_id, key, agency in rows:
        persons.setdefault(str(person_id), []).append(str(key))
        agency_of[str(key)] = str(agency)
        person_of[str(key)] = str(person_id)
    for retired, survivor in db.query("SELECT retired_key, survivor_key FROM sv_merged ORDER BY retired_key"):
        if survivor in person_of and retired not in agency_of:
            persons[person_of[survivor]].append(str(retired))
            agency_of[str(retired)] = agency_of[survivor]
    return list(persons.values()), agency_of


def evaluate_store(db: Connection, truth: Path) -> Accuracy:
    """Pairwise and B-cubed precision and recall of the store's persons against ``truth``."""
    try:
        with truth.open(encoding="utf-8", newline="") as handle:
            rows = {(r["agency"], r["local_id"]): r["person_id"] for r in csv.DictReader(handle)}
    except (OSError, KeyError) as exc:
        raise ConfigError(
            f"cannot read the truth file {truth} ({type(exc).__name__})",
            hint="give the truth.csv of `mais samples generate` (person_id, agency, local_id columns)",
        ) from None
    persons, agency_of = store_persons(db)
    labels = {
        key: rows[(agency, key.rpartition("|")[2])]
        for key, agency in agency_of.items()
        if (agency, key.rpartition("|")[2]) in rows
    }
    if not labels:
        raise ConfigError(
            "no record of the store is named in the truth file",
            hint="evaluate the store that the same sample set was fed into (e.g. by `mais run`)",
        )
    return evaluate(persons, labels)
