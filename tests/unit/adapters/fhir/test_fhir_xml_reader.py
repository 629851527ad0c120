"""The FHIR XML reader: the JSON form by the format rules, and XML that must not be trusted."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.fhir import split, translate
from adapters.fhir._xml import xml_document
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.testing import WarningLog

PATIENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <!-- a comment is not an element -->
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Jo</p></div></text>
  <extension url="https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory">
    <valueCodeableConcept><coding><code value="A"/></coding></valueCodeableConcept>
  </extension>
  <identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9434765919"/></identifier>
  <active value="true"/>
  <name id="n1"><family value="Doe"/><given value="Jo"/><given value="Ann"/></name>
  <gender value="female"/>
  <birthDate value="2012-06">
    <extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime">
      <valueDateTime value="2012-06-01T10:00:00Z"/>
    </extension>
  </birthDate>
  <multipleBirthInteger value="2"/>
</Patient>
"""


def _events(data: bytes, seen: WarningLog | None = None) -> list[StandardEvent]:
    context = AdapterContext("rx1", "RX1", seen if seen is not None else WarningLog())
    return [e for record in split(data, "p.xml") for e in translate(record, context)]


def test_xml_reads_into_the_fhir_json_form() -> None:
    document: dict[str, Any] = xml_document(PATIENT, "file")
    assert document["resourceType"] == "Patient"
    assert document["id"] == "p1"
    assert document["active"] is True
    assert document["multipleBirthInteger"] == 2
    assert document["name"] == [{"id": "n1", "family": "Doe", "given": ["Jo", "Ann"]}]
    assert document["birthDate"] == "2012-06"
    birth_time = document["_birthDate"]["extension"][0]
    assert birth_time["url"].endswith("patient-birthTime")
    assert birth_time["valueDateTime"] == "2012-06-01T10:00:00Z"
    assert document["text"]["div"].startswith("<div")
    assert document["extension"][0]["valueCodeableConcept"] == {"coding": [{"code": "A"}]}


def test_an_xml_patient_maps_like_its_json() -> None:
    (event,) = _events(PATIENT)
    person = event.value["person"]
    assert event.key.endswith("/patient|p1")
    assert person["dateOfBirth"]["accuracyIndicator"] == "UAA"
    assert person["ethnicityCode"] == "WHITE_BRITISH"
    assert person["name"][0]["givenName"] == ["Jo", "Ann"]


def test_an_unknown_element_is_left_out_with_a_warning_like_in_json() -> None:
    seen = WarningLog()
    (event,) = _events(PATIENT.replace(b"<gender", b'<nickname value="x"/><gender'), seen)
    assert seen.codes == ["invalid-element"]
    assert event.value["person"]["genderCode"] == "FEMALE"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         b'<Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>', ""),
        (b"<Patient><id value='p'/></Patient>", "not FHIR"),
        (b'<Patient xmlns="http://hl7.org/fhir"><x:id xmlns:x="urn:x" value="p"/></Patient>', "namespace"),
        (b'<Nonsense xmlns="http://hl7.org/fhir"/>', "resource type"),
        (b'<Patient xmlns="http://hl7.org/fhir"><id value="p"/>', "well-formed"),
        (b'<Patient xmlns="http://hl7.org/fhir">' + b'<extension url="u">' * 100 + b"</extension>" * 100
         + b"</Patient>", "nested"),
    ],
)  # fmt: skip
def test_untrustworthy_xml_is_a_parse_error(data: bytes, reason: str) -> None:
    try:
        events = _events(data)
    except DataError as exc:
        assert exc.stage == "parse"
        assert reason in exc.message
        return
    assert not reason  # only the entity case may be read (without resolving the entity)
    assert "root:" not in str(events)
