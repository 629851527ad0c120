"""CIN census specifics: yearly variants, code translation, and XML that must not be trusted."""

from __future__ import annotations

import pytest

from adapters.cin_census import split, translate
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.testing import WarningLog


def _doc(identifiers: str, ethnicity: str = "WBRI", details: str = "", la: str = "202") -> bytes:
    details = details or "<CINdetails><CINreferralDate>2024-01-01</CINreferralDate></CINdetails>"
    return (
        f"<Message><Header><Source><LEA>{la}</LEA><DateTime>2024-06-01T12:00:00</DateTime></Source></Header>"
        f"<Children><Child><ChildIdentifiers><LAchildID>C1</LAchildID>{identifiers}</ChildIdentifiers>"
        f"<ChildCharacteristics><Ethnicity>{ethnicity}</Ethnicity></ChildCharacteristics>"
        f"{details}</Child></Children></Message>"
    ).encode()


def _events(data: bytes) -> list[StandardEvent]:
    context = AdapterContext("la202", "202")
    return [event for record in split(data, "t.xml") for event in translate(record, context)]


@pytest.mark.parametrize(
    ("element", "field", "symbol"),
    [
        ("<GenderCurrent>1</GenderCurrent>", "genderCode", "MALE"),
        ("<GenderCurrent>0</GenderCurrent>", "genderCode", "NOT_KNOWN"),
        ("<Gender>2</Gender>", "genderCode", "FEMALE"),
        ("<Sex>M</Sex>", "sexCode", "MALE"),
    ],
)
def test_gender_and_sex_variants(element: str, field: str, symbol: str) -> None:
    person = _events(_doc(element))[0].value["person"]
    assert person[field] == symbol


@pytest.mark.parametrize(
    ("dfe", "symbol"),
    [
        ("WBRI", "WHITE_BRITISH"),
        ("CHNE", "ASIAN_CHINESE"),
        ("MWBA", "MIXED_WHITE_BLACK_AFRICAN"),
        ("REFU", None),
    ],
)
def test_ethnicity_is_translated_to_ons_2021(dfe: str, symbol: str | None) -> None:
    person = _events(_doc("", ethnicity=dfe))[0].value["person"]
    assert person.get("ethnicityCode") == symbol


def test_la_child_ids_live_in_their_las_namespace() -> None:
    one = _events(_doc("", la="202"))[0]
    other = _events(_doc("", la="203"))[0]
    assert one.key.endswith("/la-child-id/202|C1")
    assert other.key.endswith("/la-child-id/203|C1")


def test_episode_keys_are_stable_across_returns() -> None:
    details = (
        "<CINdetails><CINreferralDate>2024-01-01</CINreferralDate>"
        "<Assessments><AssessmentActualStartDate>2024-01-05</AssessmentActualStartDate></Assessments>"
        "</CINdetails>"
    )
    first = [e.key for e in _events(_doc("", details=details))]
    again = [e.key for e in _events(_doc("<GenderCurrent>2</GenderCurrent>", details=details))]
    assert first == again
    assert first[1].endswith("|C1/2024-01-01")
    assert first[2].endswith("|C1/2024-01-01/assessment/2024-01-05")


def test_external_entities_are_never_resolved() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _doc("").replace(
        b"<LAchildID>C1</LAchildID>", b"<LAchildID>&x;</LAchildID>"
    )
    try:
        events = _events(data)
    except DataError as exc:
        assert exc.stage in {"parse", "map"}
        return
    assert "root:" not in str(events[0].value)


def test_a_file_that_is_not_a_census_is_a_parse_error() -> None:
    with pytest.raises(DataError) as info:
        list(split(b"<html><body/></html>", "t.xml"))
    assert info.value.stage == "parse"


def _warned(data: bytes) -> tuple[list[StandardEvent], WarningLog]:
    log = WarningLog()
    context = AdapterContext("la202", "202", log)
    return [event for record in split(data, "t.xml") for event in translate(record, context)], log


@pytest.mark.parametrize(
    ("identifiers", "ethnicity", "left_out", "code"),
    [
        ("<PersonBirthDate>2010-02-30</PersonBirthDate>", "WBRI", "dateOfBirth", "invalid-date-of-birth"),
        ("<PersonBirthDate>2010-13-01</PersonBirthDate>", "WBRI", "dateOfBirth", "invalid-date-of-birth"),
        ("<PersonDeathDate>31/12/2024</PersonDeathDate>", "WBRI", "deceasedDate", "invalid-date-of-death"),
        ("<GenderCurrent>7</GenderCurrent>", "WBRI", "genderCode", "unknown-gender-code"),
        ("<Sex>Q</Sex>", "WBRI", "sexCode", "unknown-sex-code"),
        ("", "XXXX", "ethnicityCode", "unknown-ethnicity-code"),
    ],
)
def test_a_bad_field_of_the_child_is_left_out_with_a_warning_and_the_child_flows(
    identifiers: str, ethnicity: str, left_out: str, code: str
) -> None:
    events, warned = _warned(_doc(identifiers, ethnicity=ethnicity))
    person = events[0].value["person"]
    assert left_out not in person
    assert warned.codes == [code]
    assert len(events) == 2  # the child and its CIN episode


def test_an_episode_that_cannot_be_dated_is_left_out_and_the_child_and_other_episodes_flow() -> None:
    details = (
        "<CINdetails><CINreferralDate>2024-01-01</CINreferralDate>"
        "<Section47><S47ActualStartDate></S47ActualStartDate></Section47>"
        "<ChildProtectionPlans><CPPstartDate>2024-02-01</CPPstartDate><CPPendDate>2024-02-31</CPPendDate>"
        "</ChildProtectionPlans>"
        "<CINPlanDates><CINPlanStartDate>2024-03-01</CINPlanStartDate></CINPlanDates></CINdetails>"
        "<CINdetails><CINreferralDate>soon</CINreferralDate></CINdetails>"
    )
    events, warned = _warned(_doc("", details=details))
    assert [e.key.rsplit("|", 1)[1] for e in events] == [
        "C1",
        "C1/2024-01-01",
        "C1/2024-01-01/cin-plan/2024-03-01",
    ]
    assert warned.codes == ["occurrence-left-out"] * 3
    assert [m.split(" ")[0].rstrip(":") for m in warned.messages] == [
        "CINdetails[1]/Section47[1]",
        "CINdetails[1]/ChildProtectionPlans[1]",
        "CINdetails[2]",
    ]


def test_control_characters_reject_the_child_naming_the_element() -> None:
    with pytest.raises(DataError) as info:
        _events(_doc("<UPN>A\u0085B</UPN>"))
    assert info.value.stage == "parse"
    assert "UPN" in info.value.message
