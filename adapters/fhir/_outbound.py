"""Standard events back to FHIR R4 / UK Core resources (for agencies whose systems speak FHIR).

``PersonRecorded`` -> ``Patient``; ``ServiceEpisodeRecorded`` -> ``EpisodeOfCare``;
``ServiceEpisodeClosed`` -> a ``finished`` ``EpisodeOfCare`` with its end; ``PersonsMerged`` -> a
collection ``Bundle`` of the surviving ``Patient`` (``replaces`` links) and each merged one
(inactive, ``replaced-by``). Each resource is validated with the ``fhir.resources`` models.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from adapters._common import NHS_ETHNICITY
from adapters.fhir._resources import validate_resource
from exchange.errors import DataError
from exchange.schemas import to_code

__all__ = ["to_fhir"]

_GENDER = {"1": "male", "2": "female", "9": "other", "X": "unknown"}
_ETHNIC_URL = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
_ETHNIC_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
_ONS_TO_UKCORE = {ons: letter for letter, ons in NHS_ETHNICITY.items()}


def to_fhir(schema: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """The FHIR resource for one standard event value (``schema`` is its Avro full name)."""
    if schema == "mais.v1.PersonRecorded":
        resource = _patient(value["person"])
    elif schema == "mais.v1.ServiceEpisodeRecorded":
        resource = _episode_of_care(value["serviceEpisode"])
    elif schema == "mais.v1.ServiceEpisodeClosed":
        resource = _closed_episode(value)
    elif schema == "mais.v1.PersonsMerged":
        return _merge_bundle(value)
    else:
        raise DataError(f"{schema} has no FHIR form", stage="map")
    validate_resource(resource)
    return resource


def _logical(identifier: Mapping[str, Any]) -> dict[str, Any]:
    return {"identifier": {"system": identifier["system"], "value": identifier["value"]}}


def _closed_episode(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "EpisodeOfCare",
        "identifier": [{"system": i["system"], "value": i["value"]} for i in value["episodeIdentifier"]],
        "status": "finished",
        "patient": _logical(value["subjectIdentifier"][0]),
        "period": {"end": _instant(value["endDateTime"])},
    }


def _merge_bundle(value: Mapping[str, Any]) -> dict[str, Any]:
    surviving = value["subjectIdentifier"][0]
    merged = list(value["mergedIdentifier"])
    patients: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "identifier": [{"system": surviving["system"], "value": surviving["value"]}],
            "link": [{"other": _logical(m), "type": "replaces"} for m in merged],
        },
        *(
            {
                "resourceType": "Patient",
                "identifier": [{"system": m["system"], "value": m["value"]}],
                "active": False,
                "link": [{"other": _logical(surviving), "type": "replaced-by"}],
            }
            for m in merged
        ),
    ]
    for patient in patients:
        validate_resource(patient)
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": p} for p in patients]}


def _partial(value: Mapping[str, Any]) -> str:
    day: date = value["date"]
    accuracy = value.get("accuracyIndicator") or "AAA"
    if accuracy[1] == "U":
        return f"{day.year:04d}"
    if accuracy[0] == "U":
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _patient(person: Mapping[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": i["system"], "value": i["value"]} for i in person["identifier"]],
        "name": [_human_name(name) for name in person.get("name") or []],
        "address": [_fhir_address(address) for address in person.get("address") or []],
        "telecom": [t for contact in person.get("contact") or [] for t in _telecoms(contact)],
    }
    if person.get("genderCode"):
        resource["gender"] = _GENDER[to_code("GenderCode", person["genderCode"])]
    if person.get("dateOfBirth"):
        resource["birthDate"] = _partial(person["dateOfBirth"])
    if person.get("deceasedDate"):
        resource["deceasedDateTime"] = _partial(person["deceasedDate"])
    elif person.get("isDeceased") is not None:
        resource["deceasedBoolean"] = person["isDeceased"]
    ethnicity = person.get("ethnicityCode")
    letter = _ONS_TO_UKCORE.get(to_code("EthnicityCode", ethnicity)) if ethnicity else None
    if letter:
        concept = {"coding": [{"system": _ETHNIC_SYSTEM, "code": letter}]}
        resource["extension"] = [{"url": _ETHNIC_URL, "valueCodeableConcept": concept}]
    return {k: v for k, v in resource.items() if v != []}


def _human_name(name: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if name.get("familyName"):
        entry["family"] = " ".join(name["familyName"])
    if name.get("givenName"):
        entry["given"] = list(name["givenName"])
    if name.get("use"):
        entry["use"] = name["use"]
    return entry


def _fhir_address(address: Mapping[str, Any]) -> dict[str, Any]:
    lines = [line for line in (address.get("line1"), address.get("line2")) if line]
    entry = {"line": lines, "city": address.get("city"), "postalCode": address.get("postcode")}
    if address.get("use"):
        entry["use"] = address["use"]
    return {k: v for k, v in entry.items() if v}


def _telecoms(contact: Mapping[str, Any]) -> list[dict[str, Any]]:
    use = {"Home": "home", "Work": "work", "Mobile": "mobile"}.get(contact.get("name") or "")
    extra = {"use": use} if use else {}
    phones = [{"system": "phone", "value": n, **extra} for n in contact.get("telephone") or []]
    return phones + [{"system": "email", "value": e, **extra} for e in contact.get("email") or []]


def _episode_of_care(episode: Mapping[str, Any]) -> dict[str, Any]:
    time = episode["timeInformation"][0]
    period = {"start": _instant(time["startDateTime"])}
    if time.get("endDateTime"):
        period["end"] = _instant(time["endDateTime"])
    subject = episode["subjectPerson"][0]["person"]
    resource: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "identifier": [{"system": i["system"], "value": i["value"]} for i in episode["identifier"]],
        "status": "finished" if time.get("endDateTime") else "active",
        "type": [{"coding": [{k: v for k, v in c.items() if v is not None}]} for c in episode["type"]],
        "patient": {"identifier": {"system": subject["system"], "value": subject["value"]}},
        "period": period,
    }
    service = episode["relatedService"][0]
    resource["managingOrganization"] = {
        "identifier": {"system": service["system"], "value": service["value"]}
    }
    return resource
