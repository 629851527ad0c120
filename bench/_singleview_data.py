"""Data for ``bench_singleview.py``: a million distinct synthetic people, their queries, and new
person records for the latency run."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from exchange.identifiers import NHS_NUMBER_SYSTEM, nhs_check_digit
from services.singleview._linking import SearchQuery
from services.singleview.testing import SampleEvent

__all__ = ["S47", "latency_event", "search_queries", "synthetic_people"]

S47 = "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47"
_SYSTEM = "https://mais-exchange.org/Id/local/BENCH/person"
_SYLLABLES = (
    "an",
    "ber",
    "ca",
    "dor",
    "el",
    "fi",
    "gan",
    "har",
    "is",
    "jo",
    "ka",
    "lin",
    "mo",
    "nor",
    "ol",
    "pe",
    "qui",
    "ra",
    "sol",
    "ta",
    "ul",
    "ve",
    "wen",
    "xa",
    "yor",
    "zel",
)
_COMMON_GIVEN = ["OLIVIA", "AMELIA", "ISLA", "AVA", "MUHAMMAD", "OLIVER", "GEORGE", "NOAH", "ARTHUR", "LEO"]
_COMMON_FAMILY = ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES"]


def _vocabulary(rng: random.Random, size: int, head: list[str]) -> list[str]:
    words = list(head)
    while len(words) < size:
        words.append("".join(rng.choice(_SYLLABLES) for _ in range(rng.randrange(2, 4))).upper())
    return list(dict.fromkeys(words))


def _nhs_number(rng: random.Random) -> str:
    while True:
        body = f"{rng.randrange(100_000_000, 999_999_999)}"
        check = nhs_check_digit(body)
        if check is not None:
            return body + str(check)


def _person(
    number: int, given: str, family: str, *, born: date, nhs: str, postcode: str
) -> dict[str, object]:
    return {
        "identifier": [
            {"system": _SYSTEM, "value": f"B{number}"},
            {"system": NHS_NUMBER_SYSTEM, "value": nhs},
        ],
        "name": [{"familyName": [family], "givenName": [given], "preferredName": None, "use": "official"}],
        "dateOfBirth": {"date": born, "accuracyIndicator": "AAA"},
        "address": [
            {
                "line1": f"{number % 200 + 1} {family.title()} Road",
                "line2": None,
                "city": "Benchton",
                "postcode": postcode,
                "UPRN": None,
                "USRN": None,
                "use": "home",
            }
        ],
        "contact": [],
        "deceasedDate": None,
        "ethnicityCode": None,
        "genderCode": None,
        "isDeceased": None,
        "matchedPersonRef": [],
        "primaryContactProfessional": [],
        "relatedPerson": [],
        "sexCode": None,
    }


def _recorded(person: dict[str, object], key_value: str, agency: str) -> SampleEvent:
    value = {
        "publisher": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "BENCH"},
        "recordedAt": datetime.now(UTC),
        "subjectIdentifier": [{"system": _SYSTEM, "value": key_value}],
        "person": person,
    }
    return SampleEvent(agency, "person", f"{_SYSTEM}|{key_value}", "mais.v1.PersonRecorded", value)


def synthetic_people(count: int, seed: int, agency: str = "bench") -> Iterator[SampleEvent]:
    """``count`` distinct people, one record each, made as they are asked for; names drawn with a
    Zipf-like skew over 3,000 given and 40,000 family names (a few very common, as in England)."""
    rng = random.Random(seed)
    given = _vocabulary(rng, 3000, _COMMON_GIVEN)
    family = _vocabulary(rng, 40000, _COMMON_FAMILY)
    given_weights = list(itertools.accumulate(1 / (i + 1) for i in range(len(given))))
    family_weights = list(itertools.accumulate(1 / (i + 1) ** 0.9 for i in range(len(family))))
    for i in range(count):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(85 * 365))
        first = rng.choices(given, cum_weights=given_weights)[0]
        last = rng.choices(family, cum_weights=family_weights)[0]
        person = _person(i, first, last, born=born, nhs=_nhs_number(rng), postcode=_postcode(rng, "B"))
        yield _recorded(person, f"B{i}", agency)


def search_queries(people: list[Mapping[str, Any]], count: int) -> list[SearchQuery]:
    """Queries for people of the list: exact name and date of birth, a typo in the given name, or
    the NHS number alone (one in three each)."""
    rng = random.Random(count)
    queries = []
    for n in range(count):
        person = people[rng.randrange(len(people))]
        name = person["name"][0]
        given, family = name["givenName"][0], name["familyName"][0]
        born = person["dateOfBirth"]["date"].isoformat()
        if n % 3 == 0:
            queries.append(SearchQuery(given=given, family=family, birth_date=born))
        elif n % 3 == 1:
            typo = given[:-2] + given[-1] + given[-2] if len(given) > 3 else given
            queries.append(SearchQuery(given=typo, family=family, birth_date=born))
        else:
            queries.append(SearchQuery(identifier=person["identifier"][1]["value"]))
    return queries


def latency_event(number: int, agency: str) -> SampleEvent:
    """A new person record (a new person, unlike any other) for the latency run."""
    rng = random.Random(number)
    born = date(2010, 1, 1) + timedelta(days=rng.randrange(15 * 365))
    given, family = (_word(rng) for _ in range(2))
    person = _person(number, given, family, born=born, nhs=_nhs_number(rng), postcode=_postcode(rng, "L"))
    return _recorded(person, f"L{number}", agency)


def _postcode(rng: random.Random, area: str) -> str:
    inward = f"{rng.randrange(10)}{rng.choice('ABDEFGHJLN')}{rng.choice('PQRSTUWXYZ')}"
    return f"{area}{rng.randrange(1, 99)} {inward}"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(4)).upper()
