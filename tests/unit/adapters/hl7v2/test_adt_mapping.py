"""ADT mapping: which events each trigger yields and how identifiers are read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.hl7v2 import translate
from exchange.adapter import AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import NHS_NUMBER_SYSTEM
from exchange.testing import WarningLog

MRN = "https://mais-exchange.org/Id/local/RX1/mrn"
VISIT = "https://mais-exchange.org/Id/local/RX1/visit"


def _msg(trigger: str, *segments: str, version: str = "2.4") -> bytes:
    msh = f"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^{trigger}|C1|P|{version}"
    return "\r".join((msh, *segments)).encode() + b"\r"


def _pv1(visit: str = "V1^^^RX1^VN", admit: str = "20240301100000", discharge: str = "") -> str:
    fields = [""] * 46
    fields[1], fields[2], fields[3], fields[19] = "1", "I", "WARD1^^^RX1", visit
    fields[44], fields[45] = admit, discharge
    return "PV1" + "|".join(fields)


def _run(data: bytes) -> tuple[list[StandardEvent], WarningLog]:
    warn = WarningLog()
    events = list(translate(SourceRecord(data, "t"), AdapterContext("rx1", "RX1", warn)))
    return events, warn


def _schemas(events: list[StandardEvent]) -> list[str]:
    return [e.schema.removeprefix("mais.v1.") for e in events]


PID = "PID|1||123^^^RX1^MR~9434765919^^^NHS^NH||DOE^JANE||20100203|F"


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("A01", ["PersonRecorded", "ServiceEpisodeRecorded"]),
        ("A02", ["PersonRecorded", "ServiceEpisodeRecorded"]),
        ("A03", ["PersonRecorded", "ServiceEpisodeClosed"]),
        ("A04", ["PersonRecorded", "ServiceEpisodeRecorded"]),
        ("A05", ["PersonRecorded", "ServiceEpisodeRecorded"]),
        ("A08", ["PersonRecorded", "ServiceEpisodeRecorded"]),
        ("A11", ["PersonRecorded", "ServiceEpisodeClosed"]),
        ("A12", ["PersonRecorded", "ServiceEpisodeRecorded"]),
        ("A13", ["PersonRecorded", "ServiceEpisodeRecorded"]),
        ("A28", ["PersonRecorded"]),
        ("A31", ["PersonRecorded"]),
    ],
)
def test_events_per_trigger(trigger: str, expected: list[str]) -> None:
    events, _ = _run(_msg(trigger, f"EVN|{trigger}|20240301101500", PID, _pv1(discharge="20240305120000")))
    assert _schemas(events) == expected


def test_a13_reopens_the_episode_without_an_end() -> None:
    events, _ = _run(_msg("A13", PID, _pv1(discharge="20240305120000")))
    time: dict[str, Any] = events[1].value["serviceEpisode"]["timeInformation"][0]
    assert time.get("endDateTime") is None


def test_a03_closes_at_the_discharge_time_and_a11_when_cancelled() -> None:
    events, _ = _run(_msg("A03", PID, _pv1(discharge="20240705120000")))
    assert events[1].value["endDateTime"] == datetime(2024, 7, 5, 11, 0, tzinfo=UTC)  # BST to UTC
    assert events[1].key == f"{VISIT}|V1"
    events, _ = _run(_msg("A11", "EVN|A11|20240302090000", PID, _pv1()))
    assert events[1].value["endDateTime"] == datetime(2024, 3, 2, 9, 0, tzinfo=UTC)


def test_identifiers_nhs_number_under_nhs_and_mrn_under_its_organisation() -> None:
    events, warn = _run(_msg("A31", "PID|1||123^^^RX1^MR~9434765919^^^NHS~X9^^^OTHER^MR~DL1^^^DVLA^DL"))
    person = events[0].value["person"]
    assert person["identifier"] == [
        {"system": MRN, "value": "123"},
        {"system": NHS_NUMBER_SYSTEM, "value": "9434765919"},
        {"system": "https://mais-exchange.org/Id/local/OTHER/mrn", "value": "X9"},
    ]
    assert events[0].key == f"{MRN}|123"
    assert warn.codes == []


def test_invalid_nhs_number_is_left_out_with_a_warning_and_the_record_flows() -> None:
    events, warn = _run(_msg("A31", "PID|1||123^^^RX1^MR~9434765918^^^NHS^NH"))
    assert events[0].value["person"]["identifier"] == [{"system": MRN, "value": "123"}]
    assert warn.codes == ["invalid-nhs-number"]
    assert "9434765918" not in warn.messages[0]


def test_nhs_number_alone_keys_the_person() -> None:
    events, _ = _run(_msg("A28", "PID|1||9434765919^^^NHS^NH"))
    assert events[0].key == f"{NHS_NUMBER_SYSTEM}|9434765919"


def test_partial_birth_dates_carry_accuracy() -> None:
    events, _ = _run(_msg("A28", "PID|1||1^^^RX1^MR||DOE^J||201507"))
    assert events[0].value["person"]["dateOfBirth"] == {"date": date(2015, 7, 1), "accuracyIndicator": "UAA"}


def test_missing_visit_number_keeps_the_person_and_warns() -> None:
    events, warn = _run(_msg("A01", PID, _pv1(visit="")))
    assert _schemas(events) == ["PersonRecorded"]
    assert warn.codes == ["missing-visit-number"]


def test_merge_with_several_pid_mrg_pairs() -> None:
    events, _ = _run(
        _msg("A40", "PID|1||1^^^RX1^MR", "MRG|2^^^RX1^MR~3^^^RX1^MR", "PID|1||4^^^RX1^MR", "MRG|5^^^RX1^MR")
    )
    assert _schemas(events) == ["PersonRecorded", "PersonsMerged", "PersonRecorded", "PersonsMerged"]
    assert events[1].value["mergedIdentifier"] == [
        {"system": MRN, "value": "2"},
        {"system": MRN, "value": "3"},
    ]
    assert events[3].key == f"{MRN}|4"


def _pid(**fields: str) -> str:
    """A PID with identifier ``1^^^RX1^MR`` and the given fields (``f7="20100203"``)."""
    values = ["PID", "1", "", "1^^^RX1^MR"] + [""] * 27
    for name, value in fields.items():
        values[int(name[1:])] = value
    return "|".join(values).rstrip("|")


@pytest.mark.parametrize(
    ("fields", "left_out", "code", "where"),
    [
        ({"f7": "20100230"}, "dateOfBirth", "invalid-date-of-birth", "PID-7"),  # 30 February
        ({"f7": "20101301"}, "dateOfBirth", "invalid-date-of-birth", "PID-7"),  # month 13
        ({"f7": "2024-01-01"}, "dateOfBirth", "invalid-date-of-birth", "PID-7"),  # not HL7
        ({"f13": "not known"}, "contact", "invalid-telephone", "PID-13[1]"),
        ({"f13": "^PRN^PH^^^^^^^^^0113 4"}, "contact", "invalid-telephone", "PID-13[1]"),
        ({"f8": "Q"}, "genderCode", "unknown-gender-code", "PID-8"),
        ({"f22": "QQ"}, "ethnicityCode", "unknown-ethnicity-code", "PID-22"),
        ({"f29": "20241301", "f30": "Y"}, "deceasedDate", "invalid-date-of-death", "PID-29"),
    ],
)
def test_a_bad_field_is_left_out_with_a_warning_naming_it_and_the_person_flows(
    fields: dict[str, str], left_out: str, code: str, where: str
) -> None:
    events, warn = _run(_msg("A28", _pid(f5="DOE^JANE", **fields)))
    (person,) = events
    assert person.value["person"].get(left_out) in (None, [])
    assert person.value["person"]["name"][0]["familyName"] == ["DOE"]
    assert warn.codes == [code]
    assert warn.messages[0].startswith(where)
    for value in fields.values():
        assert value not in warn.messages[0]


def test_a_bad_postcode_is_left_out_and_the_rest_of_the_address_kept() -> None:
    events, warn = _run(_msg("A28", _pid(f11="1 HIGH ST^^LEEDS^^LS1 9ZZZ~2 LOW RD^^YORK^^YO1 7HH")))
    addresses = events[0].value["person"]["address"]
    assert [(a["line1"], a["postcode"]) for a in addresses] == [("1 HIGH ST", ""), ("2 LOW RD", "YO1 7HH")]
    assert warn.codes == ["invalid-postcode"]
    assert warn.messages[0].startswith("PID-11[1].5")


def test_good_telephones_postcodes_and_abroad_addresses_are_kept_without_warnings() -> None:
    phones = "0113 496 0000~+44 (0)7700 900123 ext 12~^NET^Internet^jo@example.org"
    events, warn = _run(_msg("A28", _pid(f11="1 RUE X^^PARIS^^75001^FRA", f13=phones, f22="Z")))
    person = events[0].value["person"]
    assert person["contact"][0]["telephone"] == ["0113 496 0000", "+44 (0)7700 900123 ext 12"]
    assert person["address"][0]["postcode"] == "75001"
    assert warn.codes == []


@pytest.mark.parametrize(
    ("data", "stage", "where"),
    [
        (_msg("A01", "PID|1||1^^^RX1^MR", _pv1(admit="20241301")), "map", "PV1-44"),
        (_msg("A01", "EVN|A01"), "map", "PID"),
        (_msg("A01", "PID|1||^^^RX1^MR"), "map", "PID-3"),
        (_msg("A40", "PID|1||1^^^RX1^MR", "MRG|1^^^RX1^MR"), "map", "MRG-1"),
    ],
)
def test_untrustworthy_messages_are_rejected_with_a_position(data: bytes, stage: str, where: str) -> None:
    with pytest.raises(DataError) as info:
        _run(data)
    assert info.value.stage == stage
    assert where in info.value.message


@pytest.mark.parametrize(("code", "symbol"), [("A", "WHITE_BRITISH"), ("N", "BLACK_AFRICAN"), ("Z", None)])
def test_nhs_ethnic_category_in_pid_22_becomes_ons_2021(code: str, symbol: str | None) -> None:
    fields = "|".join(["PID", "1", "", "1^^^RX1^MR"] + [""] * 18 + [code])
    events, _ = _run(_msg("A31", fields))
    assert events[0].value["person"].get("ethnicityCode") == symbol


FEED = (Path(__file__).parents[3] / "fixtures" / "adapters" / "hl7v2" / "adt_feed.hl7").read_bytes()
MESSAGES = [m for m in FEED.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"MSH|")[1:]]


@settings(max_examples=300, deadline=None)
@given(
    which=st.integers(min_value=0, max_value=len(MESSAGES) - 1),
    position=st.floats(min_value=0.0, max_value=1.0),
    junk=st.text(alphabet='|^~\\&\r\nA0 "#', max_size=12),
)
def test_messages_with_delimiters_injected_anywhere_fail_only_as_data_errors(
    which: int, position: float, junk: str
) -> None:
    message = b"MSH|" + MESSAGES[which]
    at = 9 + int((len(message) - 9) * position)  # keep MSH-1 and MSH-2 intact
    mutated = message[:at] + junk.encode() + message[at:]
    try:
        _run(mutated)
    except DataError as exc:
        assert exc.stage in {"parse", "map", "validate"}
