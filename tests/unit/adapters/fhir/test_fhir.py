"""FHIR adapter: UK Core patients in, the same facts back out, invalid resources rejected by path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.fhir import split, to_fhir, translate
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.testing import WarningLog

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


def _warned(document: dict[str, Any]) -> tuple[list[StandardEvent], WarningLog]:
    seen = WarningLog()
    context = AdapterContext("rx1", "RX1", seen)
    data = json.dumps(document).encode()
    return [e for record in split(data, "f.json") for e in translate(record, context)], seen


def _events(document: dict[str, Any]) -> list[StandardEvent]:
    return _warned(document)[0]


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
    (event,), warnings = _warned(patient)
    assert [i["value"] for i in event.value["person"]["identifier"]] == ["pat-1"]
    assert warnings.codes == ["invalid-nhs-number"]


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


EPISODE = {"resourceType": "EpisodeOfCare", "id": "e", "status": "active", "patient": {"reference": "P/p"}}


@pytest.mark.parametrize(
    ("element", "value", "code", "where"),
    [
        ("birthDate", "31/12/2010", "invalid-date-of-birth", "Patient.birthDate"),
        ("birthDate", "2010-02-30", "invalid-date-of-birth", "Patient.birthDate"),
        ("deceasedDateTime", "2010-13-01", "invalid-date-of-death", "Patient.deceasedDateTime"),
        ("gender", "zebra", "unknown-gender-code", "Patient.gender"),
        (
            "telecom",
            [{"system": "phone", "value": "ring reception"}],
            "invalid-telephone",
            "Patient.telecom[0]",
        ),
        ("address", [{"line": ["1 A St"], "postalCode": "LS1"}], "invalid-postcode", "Patient.address[0]"),
        ("Jane Doe", 1, "invalid-element", "Patient.(unknown element)"),
    ],
)
def test_a_bad_element_is_left_out_with_a_warning_naming_it_not_its_value(
    element: str, value: Any, code: str, where: str
) -> None:
    events, warned = _warned(
        {"resourceType": "Patient", "id": "x", "name": [{"family": "Doe"}], element: value}
    )
    (event,) = events
    assert event.value["person"]["name"][0]["familyName"] == ["Doe"]
    assert warned.codes == [code]
    message = warned.messages[0]
    assert message.startswith(where)
    assert json.dumps(value).strip('"') not in message
    assert "Jane Doe" not in message


def test_one_bad_repetition_is_left_out_and_the_others_kept() -> None:
    telecom = [
        {"system": "phone", "value": "0113 496 0000"},
        {"system": "phone", "value": "x"},
        {"system": "url"},
    ]
    events, warned = _warned(
        {"resourceType": "Patient", "id": "x", "telecom": telecom, "birthDate": "2010-13"}
    )
    assert events[0].value["person"]["contact"] == [
        {"name": "Other", "email": [], "telephone": ["0113 496 0000"]}
    ]
    assert "dateOfBirth" not in events[0].value["person"]
    assert warned.codes == ["invalid-date-of-birth", "invalid-telephone"]


@pytest.mark.parametrize(
    ("resource", "where"),
    [
        ({"resourceType": "Patient", "id": "not an id!"}, "id"),
        ({"resourceType": "Patient", "id": "x", "meta": {"lastUpdated": "yesterday"}}, "meta.lastUpdated"),
        ({**EPISODE, "patient": {"reference": 7}}, "patient"),
        ({**EPISODE, "period": {"start": "2024-13-01"}}, "period.start"),
    ],
)  # fmt: skip
def test_an_invalid_element_the_record_needs_rejects_it_naming_the_element(
    resource: dict[str, Any], where: str
) -> None:
    with pytest.raises(DataError) as info:
        _events(resource)
    assert info.value.stage == "parse"
    assert where in info.value.message


def test_an_episode_of_care_without_period_or_type_flows_dated_when_recorded() -> None:
    resource = {
        "resourceType": "EpisodeOfCare",
        "id": "e3",
        "meta": {"lastUpdated": "2024-05-02T09:15:00+01:00"},
        "status": "active",
        "patient": {"reference": "Patient/p"},
    }
    (event,), warned = _warned(resource)
    episode = event.value["serviceEpisode"]
    assert episode["timeInformation"] == [
        {"startDateTime": datetime(2024, 5, 2, 8, 15, tzinfo=UTC), "endDateTime": None}
    ]
    assert episode["type"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            "code": "unknown",
            "display": "Unknown",
        }
    ]
    assert warned.codes == ["episode-start-unknown", "episode-type-unknown"]


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
