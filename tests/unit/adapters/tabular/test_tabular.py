"""Tabular adapter: mappings are validated, recognised by columns, and drive the events."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.tabular import known_mappings, load_mapping, translate
from adapters.tabular._engine import split_rows
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import ConfigError, DataError
from exchange.testing import WarningLog

CUSTOM = """
[source]
name = "youth-justice-referrals"
format = "csv"
delimiter = ";"
recognise = ["RefNo", "YJPersonId", "Referred"]

[[person.identifier]]
type = "local"
kind = "yj-person"
column = "YJPersonId"

[person]
family_name = "LastName"

[[event]]
kind = "yj-referral"
id = ["RefNo"]
code_from = { column = "Route", map = { POL = "referral", SCH = "referral" } }
start = "Referred"
"""


def _events(data: bytes) -> list[StandardEvent]:
    context = AdapterContext("la202", "202")
    return [e for record in split_rows(data, "f") for e in translate(record, context)]


def test_built_in_mappings_load() -> None:
    assert {"school-census-pupil", "police-safeguarding-notification", "housing-case"} <= set(
        known_mappings()
    )


def test_an_agency_adds_its_own_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "yj.toml").write_text(CUSTOM)
    monkeypatch.setenv("MAIS_TABULAR_MAPPINGS", str(tmp_path))
    events = _events(b"RefNo;YJPersonId;LastName;Route;Referred\nR1;Y9;Smith;POL;2024-02-03\n")
    assert [e.schema for e in events] == ["mais.v1.PersonRecorded", "mais.v1.LifeEventRecorded"]
    assert events[0].key.endswith("/local/202/yj-person|Y9")
    assert events[1].value["lifeEvent"]["type"][0]["code"] == "referral"


def test_conditions_choose_which_episodes_a_row_yields() -> None:
    head = b"PupilID,UPN,Surname,Forename,DOB,EntryDate,SENprovision\n"
    with_plan = _events(head + b"P1,,Doe,Jo,2015-01-01,2019-09-04,E\n")
    without = _events(head + b"P2,,Doe,Al,2015-01-01,2019-09-04,K\n")
    assert [e.entity for e in with_plan] == ["person", "episode"]
    assert [e.entity for e in without] == ["person"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "[source]\nname = 'x'\nrecognise = ['a']\n"
            "[[person.identifier]]\ntype = 'nhs-number'\ncolumn = 'a'\n",
            "local",
        ),
        ("[source]\nname = 'x'\nrecognise = []\n", "recognise"),
        ("[source\n", "TOML"),
        (
            CUSTOM.replace(
                'code_from = { column = "Route", map = { POL = "referral", SCH = "referral" } }', ""
            ),
            "code",
        ),
    ],
)
def test_invalid_mappings_are_config_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert problem in info.value.message


def test_a_row_with_a_wrong_number_of_fields_is_rejected_alone() -> None:
    data = (
        b"CaseRef,ApplicantRef,ApproachDate,DecisionDate,DutyOutcome\n"
        b"H1,A1,01/01/2024\n"
        b"H2,A2,01/01/2024,02/01/2024,MD\n"
    )
    records = list(split_rows(data, "h.csv"))
    assert [r.origin for r in records] == ["h.csv:2", "h.csv:3"]
    context = AdapterContext("la202", "202")
    with pytest.raises(DataError) as info:
        translate(records[0], context)
    assert info.value.stage == "parse"
    assert len(translate(records[1], context)) == 2


HOUSING = b"CaseRef,ApplicantRef,ApproachDate,DecisionDate,DutyOutcome,DateOfBirth,Phone\n"


def _warned(data: bytes) -> tuple[list[StandardEvent], WarningLog]:
    log = WarningLog()
    context = AdapterContext("la202", "202", log)
    return [e for record in split_rows(data, "f") for e in translate(record, context)], log


@pytest.mark.parametrize(
    ("row", "left_out", "code"),
    [
        (
            b"H1,A1,01/01/2024,02/01/2024,MD,30/02/2010,0113 496 0000\n",
            "dateOfBirth",
            "invalid-date-of-birth",
        ),
        (b"H1,A1,01/01/2024,02/01/2024,MD,01/02/2010,call after 6\n", "contact", "invalid-telephone"),
    ],
)
def test_a_bad_field_is_left_out_with_a_warning_and_the_person_and_event_flow(
    row: bytes, left_out: str, code: str
) -> None:
    events, warned = _warned(HOUSING + row)
    assert [e.entity for e in events] == ["person", "event"]
    assert left_out not in events[0].value["person"]
    assert warned.codes == [code]


def test_an_event_that_cannot_be_dated_is_left_out_and_the_person_flows() -> None:
    events, warned = _warned(HOUSING + b"H1,A1,01/01/2024,,MD,01/02/2010,\n")
    assert [e.entity for e in events] == ["person"]
    assert warned.warnings == [("occurrence-left-out", "housing-case: DecisionDate is empty; left out")]


@pytest.mark.parametrize(
    "bad",
    [
        b'{"notificationId": 1' + b"0" * 5000 + b', "raisedAt": "2024-01-01"}',  # a giant integer
        b'{"notificationId": NaN}',
        b"[" * 100_000,
        b'{"notificationId": "N2", "subject": ' + b'{"a": ' * 70 + b"1" + b"}" * 71,  # too deep
        b'{"notificationId": "N\xff"}',  # not UTF-8: the file is read as Windows-1252
    ],
)
def test_one_hostile_json_line_rejects_that_line_only(bad: bytes) -> None:
    good = b'{"notificationId": "N1", "raisedAt": "2024-01-02T10:00:00", "incidentAt": "2024-01-01",'
    good += b' "subject": {"personId": "P1"}}'
    records = list(split_rows(good + b"\n" + bad + b"\n" + good.replace(b"P1", b"P3") + b"\n", "p.jsonl"))
    assert [r.origin for r in records] == ["p.jsonl:1", "p.jsonl:2", "p.jsonl:3"]
    context = AdapterContext("la202", "202")
    assert len(translate(records[0], context)) == 2
    assert len(translate(records[2], context)) == 2
    try:
        translate(records[1], context)
    except DataError as exc:
        assert exc.stage in {"parse", "map"}
