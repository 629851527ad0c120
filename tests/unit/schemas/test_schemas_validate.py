"""Field-level validation beyond Avro types: NHS numbers, vocabularies, 1..*, conformance."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from exchange import models
from exchange.errors import DataError
from exchange.schemas import from_json, is_valid_nhs_number, nhs_check_digit, problems, validate

EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples"


def _example(name: str) -> dict[str, Any]:
    value: dict[str, Any] = from_json(
        f"mais.v1.{name}", json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    )
    return value


@pytest.mark.parametrize("number", ["9434765919", "9990000026", "4010232137"])
def test_valid_nhs_numbers(number: str) -> None:
    assert is_valid_nhs_number(number)


@pytest.mark.parametrize(
    "number", ["9434765918", "943476591", "94347659190", "943 476 5919", "943476591X", ""]
)
def test_invalid_nhs_numbers(number: str) -> None:
    assert not is_valid_nhs_number(number)


def test_check_digit_of_ten_means_no_valid_number() -> None:
    # A prefix whose weighted sum leaves remainder 1 would need check digit 10: never issued.
    prefix = next(f"{n:09d}" for n in range(10**6) if nhs_check_digit(f"{n:09d}") is None)
    assert not any(is_valid_nhs_number(prefix + str(d)) for d in range(10))


def _paths(name: str, value: Any) -> list[str]:
    return [p.path for p in problems(f"mais.v1.{name}", value)]


def test_open_vocabulary_needs_an_absolute_uri_system() -> None:
    request = _example("InformationRequest")
    request["assertedPurpose"] = {"code": "s47", "system": "legislation", "display": None}
    assert _paths("InformationRequest", request) == ["assertedPurpose"]
    request["assertedPurpose"]["system"] = "https://www.legislation.gov.uk"
    assert _paths("InformationRequest", request) == []


def test_observation_codes_accept_published_patterns_only() -> None:
    episode = _example("ServiceEpisode")
    observation = episode["finding"][0]["observation"][1]
    for code, ok in [("EAL.fr", True), ("religion.1013", True), ("SEND.ASC", True), ("EAL.French", False)]:
        observation["type"]["code"] = code
        assert (_paths("ServiceEpisode", episode) == []) is ok, code


def test_codeable_concept_codings_are_checked_one_by_one() -> None:
    episode = _example("ServiceEpisode")
    episode["timeInformation"][0]["frequency"]["code"] = {
        "coding": [
            {
                "code": "TID",
                "system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",
                "display": None,
            },
            {"code": "TID", "system": "https://example.org/other", "display": None},
        ],
        "text": None,
    }
    assert _paths("ServiceEpisode", episode) == ["timeInformation[0].frequency.code.coding[1]"]


def test_person_may_have_a_nickname_alongside_a_full_name() -> None:
    person = _example("Person")
    person["name"].append({"familyName": [], "givenName": ["KD"], "preferredName": None, "use": "nickname"})
    assert _paths("Person", person) == []


def test_many_problems_are_listed_with_a_count() -> None:
    person = _example("Person")
    person["identifier"] = [
        {"value": "999000002" + str(d), "system": "https://fhir.nhs.uk/Id/nhs-number"}
        for d in range(10)
        if d != 6
    ]
    with pytest.raises(DataError) as caught:
        validate("mais.v1.Person", person)
    assert "(and 4 more)" in caught.value.message
    assert caught.value.hint


def test_values_dumped_from_generated_models_validate() -> None:
    person = models.Person.model_validate(_example("Person"))
    assert problems("mais.v1.Person", person.model_dump()) == []


def test_wrong_shapes_are_reported_not_crashed_on() -> None:
    person = copy.deepcopy(_example("Person"))
    person["name"] = "Kai Thornbury"
    person["address"] = [None]
    person["isDeceased"] = "no"
    assert _paths("Person", person) == ["name", "isDeceased", "address[0]"]
    assert _paths("Person", ["not", "a", "record"]) == [""]
