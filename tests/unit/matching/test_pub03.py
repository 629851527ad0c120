"""PUB03's grading table and the Person_ID handbook's date-of-birth table, row by row."""

from __future__ import annotations

from datetime import date

import pytest
from matching_helpers import person

from exchange.matching import BirthDate, dob_score, normalise, postcode_score, pub03_grade

BASE = {
    "given": "Rebecca",
    "family": "Thompson",
    "born": date(2015, 3, 4),
    "line1": "12 High Street",
    "city": "Marshford",
    "postcode": "MF3 1AB",
}


def _grade(query: dict[str, object], candidate: dict[str, object]) -> float:
    a = normalise(person("q", **query), source="requester")  # type: ignore[arg-type]
    b = normalise(person("c", **candidate), source="agency")  # type: ignore[arg-type]
    return pub03_grade(a, b).score


@pytest.mark.parametrize(
    ("row", "changes", "expected"),
    [
        ("Best: identifier system and value", {"nhs": "9434765919", "given": "Someone"}, 0.99),
        ("Superior: names, birth date, address line and postcode", {}, 0.8),
        ("Superior: names, birth date, address line and city", {"postcode": "KQ9 9ZZ"}, 0.8),
        ("Very Good: names, birth date and postcode", {"line1": "3 Other Road"}, 0.7),
        (
            "Good: names and birth date",
            {"line1": "3 Other Road", "postcode": "KQ9 9ZZ", "city": "Elsewhere"},
            0.6,
        ),
        ("Good needs the date of birth", {"born": date(2015, 3, 5)}, 0.0),
        ("Good needs the family name", {"family": "Jones"}, 0.0),
        ("Good needs a given name", {"given": "Olivia"}, 0.0),
    ],
)
def test_pub03_grading_table(row: str, changes: dict[str, object], expected: float) -> None:
    query = dict(BASE, nhs="9434765919") if "identifier" in row else dict(BASE)
    assert _grade(query, dict(BASE, **changes)) == expected, row


def test_names_match_after_normalisation_and_nickname_mapping() -> None:
    query = dict(BASE, given="Becca", family="THOMPSON-")
    assert _grade(query, dict(BASE, given="Rebecca", family="thompson")) == 0.8


@pytest.mark.parametrize(
    ("condition", "query", "candidate", "expected"),
    [
        ("match on YYYYMMDD", (2015, 3, 4), (2015, 3, 4), 100),
        ("match on MM and DD only", (2015, 3, 4), (2014, 3, 4), 66),
        ("match on YYYY and MM only", (2015, 3, 4), (2015, 3, 9), 66),
        ("match on YYYY and DD only", (2015, 3, 4), (2015, 7, 4), 66),
        ("match on YYYY and MMDD transposed", (2015, 3, 4), (2015, 4, 3), 66),
        ("match on YYYY only", (2015, 3, 4), (2015, 8, 9), 33),
        ("all other states", (2015, 3, 4), (2012, 5, 6), 0),
        ("unknown parts never match", (2015, None, None), (2015, 3, 4), 33),
    ],
)
def test_date_of_birth_table(
    condition: str, query: tuple[int, int | None, int | None], candidate: tuple[int, int, int], expected: int
) -> None:
    assert dob_score(BirthDate(*query), BirthDate(*candidate)) == expected, condition


def test_accuracy_indicator_makes_parts_unknown() -> None:
    record = normalise(person("x", born=date(2015, 3, 4), accuracy="UUA"), source="a")
    assert record.birth_date == BirthDate(2015, None, None)


@pytest.mark.parametrize(
    ("query", "current", "former", "expected"),
    [
        ("MF31AB", ["MF31AB"], [], 1.0),
        ("MF31AB", ["MF31XY"], [], 4 / 6),
        ("MF31AB", ["KQ11AA"], ["MF31AB"], 1.0),
        ("MF31AB", ["KQ11AA"], [], 0.0),
    ],
)
def test_postcode_score_by_leading_characters(
    query: str, current: list[str], former: list[str], expected: float
) -> None:
    assert postcode_score(query, current, former) == pytest.approx(expected)
