"""FHIR adapter: UK Core patients in, the same facts back out, invalid resources rejected by path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.fhir import split, to_fhir, translate
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "pat-1",
    "extension": [
        {
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
            "valueCodeableConcept": {
                "coding": [
                    {"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland", "code": "A"}
                ]
            },
        }
    ],
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
    "name": [{"use": "official", "family": "Doe", "given": ["Jane", "Ann"]}],
    "telecom": [{"system": "phone", "value": "0113 496 0000", "use": "home"}],
    "gender": "female",
    "birthDate": "2012-06",
    "address": [{"use": "home", "line": ["1 High Street"], "city": "Leeds", "postalCode": "LS1 1AA"}],
}


def _events(document: dict[str, Any], warnings: list[str] | None = None) -> list[StandardEvent]:
    seen = warnings if warnings is not None else []
    context = AdapterContext("rx1", "RX1", lambda code, message: seen.append(code))
    data = json.dumps(document).encode()
    return [e for record in split(data, "f.json") for e in translate(record, context)]


def test_patient_maps_to_person_with_partial_birth_date_and_ons_ethnicity() -> None:
    (event,) = _events(PATIENT)
    person = event.value["person"]
    assert event.key == "https://mais-exchange.org/Id/local/RX1/patient|pat-1"
    assert person["dateOfBirth"]["accuracyIndicator"] == "UAA"
    assert person["genderCode"] == "FEMALE"
    assert person["ethnicityCode"] == "WHITE_BRITISH"
    assert person["name"][0]["givenName"] == ["Jane", "Ann"]


def test_patient_round_trips_through_the_standard() -> None:
    (event,) = _events(PATIENT)
    back = to_fhir(event.schema, event.value)
    assert back["birthDate"] == "2012-06"
    assert back["gender"] == "female"
    assert {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"} in back["identifier"]
    assert back["name"] == [{"family": "Doe", "given": ["Jane", "Ann"], "use": "official"}]
    assert back["address"][0]["postalCode"] == "LS1 1AA"
    assert back["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "A"


def test_invalid_nhs_number_is_left_out_with_a_warning() -> None:
    patient = dict(
        PATIENT, identifier=[{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765918"}]
    )
    warnings: list[str] = []
    (event,) = _events(patient, warnings)
    assert [i["value"] for i in event.value["person"]["identifier"]] == ["pat-1"]
    assert warnings == ["invalid-nhs-number"]


def test_bundle_references_by_full_url_resolve_to_the_patient() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": PATIENT},
            {
                "resource": {
                    "resourceType": "EpisodeOfCare",
                    "id": "e1",
                    "status": "active",
                    "type": [{"coding": [{"system": "https://example.org/cs", "code": "x"}]}],
                    "patient": {"reference": "urn:uuid:1"},
                    "period": {"start": "2024-01-01T09:00:00Z"},
                }
            },
        ],
    }
    _person, episode = _events(bundle)
    assert episode.value["serviceEpisode"]["subjectPerson"][0]["person"]["value"] == "pat-1"
    back = to_fhir(episode.schema, episode.value)
    assert back["status"] == "active"
    assert back["period"]["start"] == "2024-01-01T09:00:00Z"


def test_cancelled_episode_of_care_closes_the_episode() -> None:
    resource = {
        "resourceType": "EpisodeOfCare",
        "id": "e2",
        "status": "cancelled",
        "patient": {"reference": "Patient/p"},
        "period": {"start": "2024-01-01", "end": "2024-01-03"},
    }
    (event,) = _events(resource)
    assert event.schema == "mais.v1.ServiceEpisodeClosed"


def test_invalid_fhir_is_rejected_naming_the_element_not_the_value() -> None:
    with pytest.raises(DataError) as info:
        _events({"resourceType": "Patient", "id": "x", "birthDate": "31/12/2010"})
    assert info.value.stage == "parse"
    assert "birthDate" in info.value.message
    assert "31/12/2010" not in info.value.message


def test_events_without_a_fhir_form_are_refused() -> None:
    with pytest.raises(DataError):
        to_fhir("mais.v1.LifeEventRecorded", {})


def test_closed_episodes_and_merges_have_fhir_forms() -> None:
    patient = {"system": "https://example.org/mrn", "value": "1"}
    old = {"system": "https://example.org/mrn", "value": "2"}
    closed = to_fhir(
        "mais.v1.ServiceEpisodeClosed",
        {
            "subjectIdentifier": [patient],
            "episodeIdentifier": [{"system": "https://example.org/ep", "value": "e"}],
            "endDateTime": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        },
    )
    assert closed["status"] == "finished"
    assert closed["period"] == {"end": "2024-01-02T03:04:05Z"}
    bundle = to_fhir("mais.v1.PersonsMerged", {"subjectIdentifier": [patient], "mergedIdentifier": [old]})
    survivor, replaced = (entry["resource"] for entry in bundle["entry"])
    assert survivor["link"] == [{"other": {"identifier": old}, "type": "replaces"}]
    assert replaced["active"] is False
    assert replaced["link"] == [{"other": {"identifier": patient}, "type": "replaced-by"}]


def test_unknown_elements_are_reported_without_their_names() -> None:
    with pytest.raises(DataError) as info:
        _events({"resourceType": "Patient", "id": "x", "Jane Doe": 1})
    assert "Jane Doe" not in info.value.message
    assert "(unknown element)" in info.value.message
