"""Faithfulness to the published standards: names, cardinalities and code lists.

``data/reference_facts.json`` holds the facts extracted from PUB01 and PUB02 (2026, the newest
documents) by ``schemas_reference_extract.py``; the schemas are compared with it field by field and code
by code. Where the reference copies are on this machine, the facts file is proved current too.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from schemas_reference_extract import FACTS, extract

from exchange.schemas import VOCABULARIES, code_table, default_repository

# the reference copies sit in shared/ beside the repository (as on the developers' machines and CI)
_BESIDE_REPO = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "socialcaredata"
REFERENCE = Path(os.environ.get("MAIS_REFERENCE_DIR", str(_BESIDE_REPO)))
FACTS_DATA: dict[str, Any] = json.loads(FACTS.read_text(encoding="utf-8"))

# PUB01 gives cardinalities in prose ("Multi-valued", "Optional", the conformance note); this is
# how we read them. PUB02 states them formally, and those come from the facts file.
PUB01_CARDINALITY = {
    "Person": {
        "identifier": "1..*",  # conformance minimum: at least one Identifier
        "name": "1..*",  # "one or more Names"
        "dateOfBirth": "0..1",
        "isDeceased": "0..1",
        "deceasedDate": "0..1",
        "address": "0..*",
        "contact": "0..*",
        "genderCode": "0..1",
        "sexCode": "0..1",
        "ethnicityCode": "0..1",
        "relatedPerson": "0..*",
        "primaryContactProfessional": "0..*",
        "matchedPersonRef": "0..*",
    },
    "Identifier": {"value": "1..1", "system": "1..1"},
    "Name": {"familyName": "0..*", "givenName": "0..*", "preferredName": "0..1", "use": "0..1"},
    "Address": {
        "line1": "1..1",
        "line2": "0..1",
        "city": "1..1",
        "postcode": "1..1",
        "UPRN": "0..1",
        "USRN": "0..1",
        "use": "0..1",
    },
    "Contact": {"name": "0..1", "email": "0..*", "telephone": "0..*"},
    "PersonRelationship": {"identifier": "1..1", "relationship": "1..*"},
    "PartialDate": {"date": "1..1", "accuracyIndicator": "0..1"},
}


def _fields(record: str) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = default_repository().source(f"mais.v1.{record}")["fields"]
    return fields


@pytest.mark.parametrize("record", sorted(FACTS_DATA["records"]))
def test_record_has_exactly_the_published_fields_in_order(record: str) -> None:
    published = [p["name"] for p in FACTS_DATA["records"][record]]
    assert [f["name"] for f in _fields(record)] == published


@pytest.mark.parametrize("record", sorted(FACTS_DATA["records"]))
def test_record_cardinalities_are_the_published_ones(record: str) -> None:
    published = {p["name"]: p["cardinality"] for p in FACTS_DATA["records"][record]}
    expected = {**published, **PUB01_CARDINALITY.get(record, {})}
    assert {f["name"]: f["cardinality"] for f in _fields(record)} == expected


def _closed_or_catalogue_codes(name: str) -> list[str]:
    if name in VOCABULARIES:
        return list(VOCABULARIES[name].codes)
    return list(code_table(name).values())


@pytest.mark.parametrize("vocabulary", sorted(FACTS_DATA["vocabularies"]))
def test_vocabulary_has_exactly_the_published_codes(vocabulary: str) -> None:
    published = FACTS_DATA["vocabularies"][vocabulary]
    literal = [code for code in published if "<" not in code]
    assert _closed_or_catalogue_codes(vocabulary) == literal


def test_observation_code_patterns_are_accepted() -> None:
    observation = VOCABULARIES["ObservationType"]
    placeholders = [c for c in FACTS_DATA["vocabularies"]["ObservationType"] if "<" in c]
    assert placeholders == ["EAL.<ISO 639-1 code>", "religion.<HL7 code>"]
    assert observation.accepts("EAL.pl") and observation.accepts("religion.1013")
    assert not observation.accepts("EAL.polish") and not observation.accepts("religion.")


def test_date_accuracy_indicator_is_every_three_letter_combination() -> None:
    letters = FACTS_DATA["dateAccuracyLetters"]
    assert letters == ["A", "E", "U"]
    expected = ["".join(p) for p in itertools.product(letters, repeat=3)]
    assert list(code_table("DateAccuracyIndicator")) == expected


def test_every_field_has_doc_cardinality_and_alignment() -> None:
    repository = default_repository()
    for name in repository.names():
        schema = repository.source(name)
        assert schema.get("doc"), name
        assert schema.get("alignment"), name
        for field in schema.get("fields", []):
            where = f"{name}.{field['name']}"
            assert field.get("doc"), where
            assert isinstance(field.get("alignment"), dict) and field["alignment"], where
            assert field.get("cardinality") in ("1..1", "0..1", "0..*", "1..*"), where


def test_cardinality_maps_the_same_way_everywhere() -> None:
    repository = default_repository()
    for name in repository.names():
        for field in repository.source(name).get("fields", []):
            where, kind, card = f"{name}.{field['name']}", field["type"], field["cardinality"]
            if card == "1..1":
                assert "default" not in field and not isinstance(kind, list), where
                assert not (isinstance(kind, dict) and kind.get("type") == "array"), where
            elif card == "0..1":
                assert isinstance(kind, list) and kind[0] == "null" and field["default"] is None, where
            else:
                assert isinstance(kind, dict) and kind["type"] == "array", where
                assert field.get("default", "absent") == ([] if card == "0..*" else "absent"), where


def test_coding_fields_name_a_catalogued_vocabulary() -> None:
    repository = default_repository()
    # CodeableConcept.coding is generic: the field holding the CodeableConcept names the vocabulary.
    for name in [n for n in repository.names() if n != "mais.v1.CodeableConcept"]:
        for field in repository.source(name).get("fields", []):
            if "Coding" in json.dumps(field["type"]) or "CodeableConcept" in json.dumps(field["type"]):
                assert field.get("vocabulary") in VOCABULARIES, f"{name}.{field['name']}"


def test_everything_is_in_the_mais_v1_namespace() -> None:
    repository = default_repository()
    assert all(name.startswith("mais.v1.") for name in repository.names())
    for name in repository.names():
        assert repository.source(name)["namespace"] == "mais.v1"


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference copies of the standards not on this machine")
def test_facts_file_matches_the_reference_documents() -> None:
    assert extract(REFERENCE) == FACTS_DATA


ENVELOPE = ["publisher", "recordedAt", "subjectIdentifier"]


@pytest.mark.parametrize("record", sorted(FACTS_DATA["informationGovernance"]))
def test_information_governance_objects_keep_published_fields_in_camel_case(record: str) -> None:
    published = FACTS_DATA["informationGovernance"][record]
    ours = {f["name"]: f["cardinality"] for f in _fields(record)}
    names = [f["name"] for f in _fields(record)]
    expected = [p["name"] for p in published]
    if record == "InformationRequest":  # an event: the envelope first, then the Request object
        assert names[: len(ENVELOPE)] == ENVELOPE
        names = names[len(ENVELOPE) :]
        assert names[len(expected) :] == ["reason"]  # the $person-info-query reason, kept optional
        names = names[: len(expected)]
    if record == "RequestedData":  # the IG's "data categories requested", kept optional (docs/enquiry.md)
        assert names[len(expected) :] == ["data"]
        names = names[: len(expected)]
    assert names == expected
    assert all(ours[p["name"]] == p["cardinality"] for p in published)


@pytest.mark.parametrize(
    "event", sorted(n.rsplit(".", 1)[1] for n in default_repository().names_of_kind("events"))
)
def test_every_event_starts_with_the_envelope(event: str) -> None:
    fields = _fields(event)[: len(ENVELOPE)]
    assert [f["name"] for f in fields] == ENVELOPE
    assert [f["cardinality"] for f in fields] == ["1..1", "1..1", "1..*"]
