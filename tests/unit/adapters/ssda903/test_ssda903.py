"""SSDA903 specifics: tables recognised by header, placements kept private, LA namespacing."""

from __future__ import annotations

import pytest

from adapters.ssda903 import recognise, translate
from adapters.ssda903._tables import split_table
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError
from exchange.testing import WarningLog

EPISODES = (
    b"CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
    b"689661,11/12/2018,P,V4,N4,K2,PR4,18/07/2019,E15,,Y8 5KZ,T28 2WB,6834366\n"
)


def _events(data: bytes, organisation: str = "202") -> list[StandardEvent]:
    context = AdapterContext("la202", organisation)
    return [e for record in split_table(data, "f.csv") for e in translate(record, context)]


@pytest.mark.parametrize(
    ("header", "table"),
    [
        (["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"], "Header"),
        (["child", " decom ", "RNE", "LS", "CIN", "PLACE"], "Episodes"),
        (["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"], "Missing"),
        (["CHILD", "DOB", "SEX", "DUC"], "UASC"),
        (["CHILD", "DOB", "REVIEW", "REVIEW_CODE"], "Reviews"),
    ],
)
def test_tables_are_recognised_by_their_header_row(header: list[str], table: str) -> None:
    assert recognise(header) == table


def test_unknown_header_is_a_parse_error_naming_no_data() -> None:
    with pytest.raises(DataError) as info:
        recognise(["NAME", "ADDRESS"])
    assert info.value.stage == "parse"


def test_tables_not_mapped_yield_no_records() -> None:
    assert list(split_table(b"CHILD,DOB,REVIEW,REVIEW_CODE\n1,01/01/2010,01/01/2020,PN1\n", "r.csv")) == []


def test_episode_carries_codes_as_observations_and_never_the_placement_location() -> None:
    (event,) = _events(EPISODES)
    episode = event.value["serviceEpisode"]
    codes = {
        (o["type"]["system"].rsplit("-", 2)[-1], o["type"]["code"])
        for o in episode["finding"][0]["observation"]
    }
    assert ("status", "V4") in codes
    assert ("type", "K2") in codes
    assert ("ceased", "E15") in codes
    text = str(event.value)
    for private in ("Y8 5KZ", "T28 2WB", "6834366"):
        assert private not in text


def test_records_are_line_numbered_and_self_contained() -> None:
    records = list(split_table(EPISODES + b"\n" + EPISODES.split(b"\n")[1] + b"\n", "e.csv"))
    assert [r.origin for r in records] == ["e.csv:2", "e.csv:4"]
    assert records[1].data.startswith(b"CHILD,DECOM")


def test_the_organisation_must_be_an_la_number() -> None:
    with pytest.raises(DataError) as info:
        _events(EPISODES, organisation="RX1")
    assert info.value.stage == "map"
    assert info.value.hint


HEADER = b"CHILD,SEX,DOB,ETHNIC,UPN\n"


def _warned(data: bytes) -> tuple[list[StandardEvent], WarningLog]:
    log = WarningLog()
    context = AdapterContext("la202", "202", log)
    return [e for record in split_table(data, "f.csv") for e in translate(record, context)], log


@pytest.mark.parametrize(
    ("row", "left_out", "code"),
    [
        (b"C1,1,30/02/2010,WBRI,\n", "dateOfBirth", "invalid-date-of-birth"),
        (b"C1,1,01/13/2010,WBRI,\n", "dateOfBirth", "invalid-date-of-birth"),
        (b"C1,3,01/02/2010,WBRI,\n", "sexCode", "unknown-sex-code"),
        (b"C1,1,01/02/2010,ZZZZ,\n", "ethnicityCode", "unknown-ethnicity-code"),
    ],
)
def test_a_bad_field_of_a_header_row_is_left_out_with_a_warning(row: bytes, left_out: str, code: str) -> None:
    (event,), warned = _warned(HEADER + row)
    assert left_out not in event.value["person"]
    assert warned.codes == [code]


def test_an_episode_without_a_legal_status_keeps_its_other_observations() -> None:
    (event,), warned = _warned(EPISODES.replace(b",V4,", b",,"))
    observations = event.value["serviceEpisode"]["finding"][0]["observation"]
    assert "legal-status" not in str(observations)
    assert "placement-type" in str(observations)
    assert warned.warnings == [("missing-code", "LS is empty; that observation left out")]


def test_one_unreadable_row_rejects_that_row_only() -> None:
    rows = (
        HEADER + b"C1,1,01/02/2010,WBRI,\n" + b"C2," + b"x" * 200_000 + b",,,\n" + b"C3,2,01/02/2011,WBRI,\n"
    )
    records = list(split_table(rows, "h.csv"))
    assert [r.origin for r in records] == ["h.csv:2", "h.csv:3", "h.csv:4"]
    context = AdapterContext("la202", "202")
    with pytest.raises(DataError) as info:
        translate(records[1], context)
    assert info.value.stage == "parse"
    assert [translate(r, context)[0].key[-2:] for r in (records[0], records[2])] == ["C1", "C3"]


def test_a_stray_quote_after_a_quoted_cell_rejects_its_line_and_the_next_row_flows() -> None:
    # found by the hostile-input property test: `","0,"` closes a quote, runs on and opens another
    # that is never closed, so the reader would have made the rest of the file one cell
    data = HEADER + b"C1,1,01/02/2010,WBRI,\n" + b',","0,"\n' + b"C3,2,01/02/2011,WBRI,\n"
    records = list(split_table(data, "h.csv"))
    assert [r.origin for r in records] == ["h.csv:2", "h.csv:3", "h.csv:4"]
    context = AdapterContext("la202", "202")
    with pytest.raises(DataError):
        translate(records[1], context)
    assert [translate(r, context)[0].key[-2:] for r in (records[0], records[2])] == ["C1", "C3"]


@pytest.mark.parametrize("cell", [b"A\x07B", b"A\x81B", b"A\x00B"])
def test_control_characters_reject_the_row_naming_the_column(cell: bytes) -> None:
    data = HEADER + b"C1,1,01/02/2010,WBRI," + cell + b"\n" + b"C2,1,01/02/2010,WBRI,\n"
    records = list(split_table(data, "h.csv"))
    with pytest.raises(DataError) as info:
        translate(records[0], AdapterContext("la202", "202"))
    assert info.value.stage == "parse"
    assert "UPN" in info.value.message
    assert translate(records[1], AdapterContext("la202", "202"))


def test_a_file_that_is_not_a_table_says_what_it_looks_like() -> None:
    with pytest.raises(DataError) as info:
        list(split_table(b"MSH|^~\\&|PAS|RX1\rPID|1\r", "x.csv"))
    assert "HL7 v2" in info.value.message
