"""SSDA903 specifics: tables recognised by header, placements kept private, LA namespacing."""

from __future__ import annotations

import pytest

from adapters.ssda903 import recognise, translate
from adapters.ssda903._tables import split_table
from exchange.adapter import AdapterContext, StandardEvent
from exchange.errors import DataError

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
