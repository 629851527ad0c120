"""FHIR R4 / UK Core Bundles from a community health trust (health visiting, school nursing).

One ``collection`` Bundle per child on the trust's caseload (``fhir/<patient number>.json``):
the trust's ``Organization``, the child's ``Patient``, a ``RelatedPerson`` for each parent or
carer, and the ``EpisodeOfCare`` that keeps the child on the caseload. Entries reference each
other by ``urn:uuid`` full URLs. A parent with several children on the caseload appears once in
each child's Bundle, each time as a separate RelatedPerson: the same person, several records.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from exchange.identifiers import NHS_NUMBER_SYSTEM, ODS_ORGANISATION_SYSTEM
from exchange.samples._noise import Noise, Recorded, recorded
from exchange.samples._people import NHS_ETHNIC_CATEGORY, REFERENCE_DATE, Household, Person, Population
from exchange.samples._truth import SampleFile, SampleSet, TruthRow

__all__ = ["COMMUNITY_TRUST", "write_fhir"]

COMMUNITY_TRUST = "R9Y"
"""Fictional ODS code of the community health trust."""

_UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/"
_PATIENT_NUMBER_SYSTEM = "https://community.example.nhs.uk/Id/patient-number"
_SERVICE_SYSTEM = "https://community.example.nhs.uk/CodeSystem/service"
_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_NOISE = Noise(nickname=0.1, typo=0.04, stale_address=0.25, missing_nhs=0.05, dob_swap=0.01)
_GENDER = {"M": "male", "F": "female"}
_ROLE = {"MTH": ("MTH", "mother"), "FTH": ("FTH", "father"), "GRM": ("GRMTH", "grandmother")}


def _nhs_identifier(value: str) -> dict[str, Any]:
    status = {
        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
        "code": "01",
        "display": "Number present and verified",
    }
    extension = {
        "url": _UKCORE + "Extension-UKCore-NHSNumberVerificationStatus",
        "valueCodeableConcept": {"coding": [status]},
    }
    return {"extension": [extension], "system": NHS_NUMBER_SYSTEM, "value": value}


def _names(view: Recorded) -> list[dict[str, Any]]:
    given = [view.given, view.middle] if view.middle else [view.given]
    names: list[dict[str, Any]] = [{"use": "official", "family": view.family, "given": given}]
    if view.preferred and view.preferred != view.given:
        names.append({"use": "usual", "family": view.family, "given": [view.preferred]})
    return names


def _demographics(person: Person, view: Recorded) -> dict[str, Any]:
    address = view.address
    return {
        "name": _names(view),
        "telecom": [{"system": "phone", "value": person.phone, "use": "mobile"}],
        "gender": _GENDER[person.sex],
        "birthDate": view.birth_date.isoformat(),
        "address": [
            {"use": "home", "line": [address.line1], "city": address.town, "postalCode": address.postcode}
        ],
    }


class _Caseload:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.views: dict[str, Recorded] = {}
        self.numbers: set[str] = set()

    def view(self, person: Person) -> Recorded:
        if person.person_id not in self.views:
            self.views[person.person_id] = recorded(person, _NOISE, self.rng)
        return self.views[person.person_id]

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def patient_number(self) -> str:
        while True:
            number = f"CH{self.rng.randrange(10**6, 10**7)}"
            if number not in self.numbers:
                self.numbers.add(number)
                return number


def _bundle(
    caseload: _Caseload, child: Person, household: Household
) -> tuple[str, dict[str, Any], list[str]]:
    """The Bundle for one child, its patient number, and whose record each entry is ("" = nobody's)."""
    rng = caseload.rng
    updated = REFERENCE_DATE - timedelta(days=rng.randrange(1, 90))
    meta = {"lastUpdated": f"{updated.isoformat()}T09:30:00+00:00"}
    org_id, patient_id = caseload.uuid(), caseload.uuid()
    number = caseload.patient_number()
    organisation = {
        "resourceType": "Organization",
        "id": org_id,
        "identifier": [{"system": ODS_ORGANISATION_SYSTEM, "value": COMMUNITY_TRUST}],
        "name": "Marshford Community Health NHS Trust",
    }
    view = caseload.view(child)
    identifiers = [_nhs_identifier(view.nhs_number)] if view.nhs_number else []
    identifiers.append({"system": _PATIENT_NUMBER_SYSTEM, "value": number})
    ethnic = {
        "url": _UKCORE + "Extension-UKCore-EthnicCategory",
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
                    "code": NHS_ETHNIC_CATEGORY.get(child.ethnicity, "Z"),
                }
            ]
        },
    }
    patient = {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {**meta, "profile": [_UKCORE + "UKCore-Patient"]},
        "extension": [ethnic],
        "identifier": identifiers,
        **_demographics(child, view),
    }
    entries: list[tuple[str, dict[str, Any]]] = [("", organisation), (child.person_id, patient)]
    for adult in household.adults:
        code, text = _ROLE.get(adult.relationship or "", ("GUARD", "guardian"))
        related = {
            "resourceType": "RelatedPerson",
            "id": caseload.uuid(),
            "meta": {**meta, "profile": [_UKCORE + "UKCore-RelatedPerson"]},
            "patient": {"reference": f"urn:uuid:{patient_id}"},
            "relationship": [{"coding": [{"system": _ROLE_SYSTEM, "code": code}], "text": text}],
            **_demographics(adult, caseload.view(adult)),
        }
        entries.append((adult.person_id, related))
    entries.append(("", _episode(caseload, child, org_id, patient_id)))
    bundle = {
        "resourceType": "Bundle",
        "id": caseload.uuid(),
        "type": "collection",
        "timestamp": meta["lastUpdated"],
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for _, r in entries],
    }
    return number, bundle, [owner for owner, _ in entries]


def _episode(caseload: _Caseload, child: Person, org_id: str, patient_id: str) -> dict[str, Any]:
    rng = caseload.rng
    under_five = child.age() < 5
    start = child.birth_date + timedelta(days=rng.randrange(10, 30)) if under_five else None
    if start is None:
        start = REFERENCE_DATE - timedelta(days=rng.randrange(30, 700))
        start = max(start, child.birth_date + timedelta(days=5 * 365))
    code, display = (
        ("health-visiting", "Health visiting") if under_five else ("school-nursing", "School nursing")
    )
    period: dict[str, str] = {"start": start.isoformat()}
    status = "active"
    if not under_five and rng.random() < 0.3:
        end = min(start + timedelta(days=rng.randrange(30, 300)), REFERENCE_DATE)
        period["end"], status = end.isoformat(), "finished"
    return {
        "resourceType": "EpisodeOfCare",
        "id": caseload.uuid(),
        "status": status,
        "type": [{"coding": [{"system": _SERVICE_SYSTEM, "code": code, "display": display}]}],
        "patient": {"reference": f"urn:uuid:{patient_id}"},
        "managingOrganization": {"reference": f"urn:uuid:{org_id}"},
        "period": period,
    }


def write_fhir(population: Population, out: Path) -> SampleSet:
    """Write one Bundle per child on the community trust's caseload under ``out/fhir``."""
    caseload = _Caseload(random.Random(f"mais-samples:{population.seed}:fhir"))  # noqa: S311
    folder = out / "fhir"
    folder.mkdir(parents=True, exist_ok=True)
    samples = SampleSet()
    for household in population.households:
        for child in household.children:
            if "community" not in child.agencies:
                continue
            number, bundle, owners = _bundle(caseload, child, household)
            name = f"fhir/{number}.json"
            (out / name).write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            samples.files.append(
                SampleFile(name, "fhir", "community", COMMUNITY_TRUST, "Community trust caseload Bundle")
            )
            for position, owner in enumerate(owners, start=1):
                if owner:
                    local = bundle["entry"][position - 1]["resource"]["id"]
                    samples.truth.append(TruthRow(owner, "community", "fhir", name, position, local))
    return samples
