"""The exact look-up behind search: the records whose stored fields equal everything typed, read
through the index of the most selective typed field (never a common given name's index)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.singleview import Database
from services.singleview._db import Connection
from services.singleview._linking import SearchQuery
from services.singleview._queries import _exact_keys

_FIELDS = ("family", "given", "birth_date", "postcode")
_COLUMNS = {
    "family": "family_name",
    "given": "given_name",
    "birth_date": "birth_date",
    "postcode": "postcode",
}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Connection]:
    """A store of 400 records, half of them sharing one given name (as a common name does)."""
    database = Database(f"sqlite:///{tmp_path}/search.db")
    database.migrate()
    connection = database.connect()
    rng = random.Random(11)
    rows = [
        (
            f"sys|R{n}",
            "agency-a",
            "PUB",
            0,
            "{}",
            rng.choice(["SMITH", "JONES", "OKAFOR", "NOWAK", "PATEL"]),
            "OLIVIA" if n % 2 else rng.choice(["AMIR", "BEA", "CHEN", "DARA"]),
            f"20{rng.randrange(10, 14)}-0{rng.randrange(1, 4)}-1{rng.randrange(0, 3)}",
            rng.choice(["B11AA", "B22BB", "B33CC"]),
        )
        for n in range(400)
    ]
    connection.executemany(
        "INSERT INTO sv_person_record (record_key, agency, publisher, recorded_at, person_json, "
        "family_name, given_name, birth_date, postcode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    yield connection
    connection.close()


def _typed_queries(db: Connection) -> Iterator[tuple[SearchQuery, dict[str, str]]]:
    """For a few stored records, a query of every non-empty combination of their fields."""
    stored = db.query(
        "SELECT family_name, given_name, birth_date, postcode FROM sv_person_record "
        "WHERE record_key IN ('sys|R1', 'sys|R2', 'sys|R77', 'sys|R150')"
    )
    for values in stored:
        record = dict(zip(_FIELDS, values, strict=True))
        for size in range(1, len(_FIELDS) + 1):
            for fields in itertools.combinations(_FIELDS, size):
                typed = {f: str(record[f]) for f in fields}
                query = SearchQuery(
                    given=typed.get("given", "").title(),  # typed as a person writes it
                    family=typed.get("family", "").lower(),
                    birth_date=typed.get("birth_date", ""),
                    postcode=_spaced(typed.get("postcode", "")),
                )
                yield query, typed


def _spaced(postcode: str) -> str:
    return f"{postcode[:2]} {postcode[2:]}" if postcode else ""


def test_the_exact_look_up_finds_every_record_equal_in_each_typed_field(db: Connection) -> None:
    for query, typed in _typed_queries(db):
        where = " AND ".join(f"{_COLUMNS[f]} = ?" for f in typed)
        sql = f"SELECT record_key FROM sv_person_record WHERE {where}"  # noqa: S608 - fixed column names
        expected = {r[0] for r in db.query(sql, list(typed.values()))}
        assert expected, typed
        found = _exact_keys(db, query)
        assert len(found) == len(set(found))
        assert set(found) == expected, typed


def test_the_exact_look_up_never_reads_the_given_name_index_when_more_was_typed(db: Connection) -> None:
    """Half of this store shares one given name. Reading that name's index to find one person
    of that name, family name and date of birth was what made the slowest searches slow."""
    statements: list[str] = []
    db.raw.set_trace_callback(statements.append)
    plans: dict[tuple[str, ...], list[str]] = {}
    for query, typed in _typed_queries(db):
        statements.clear()
        _exact_keys(db, query)
        (sql,) = [s for s in statements if "FROM sv_person_record" in s]
        plan = [str(row[3]) for row in db.raw.execute(f"EXPLAIN QUERY PLAN {sql}")]
        plans[tuple(typed)] = plan
    db.raw.set_trace_callback(None)
    for fields, plan in plans.items():
        if fields != ("given",):
            assert not any("sv_person_record_given" in step for step in plan), (fields, plan)
    assert any("sv_person_record_name_dob (family_name=? AND birth_date=?)" in s for s in plans[_FIELDS])
    assert any("sv_person_record_given" in step for step in plans["given",])
