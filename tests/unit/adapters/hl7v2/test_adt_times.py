"""Which HL7 times an ADT message's events carry, and which bad time is reported first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.hl7v2 import translate
from exchange.adapter import AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError

PID = "PID|1||123^^^RX1^MR||DOE^JANE||20100203|F"


def _pv1() -> str:
    fields = [""] * 46
    fields[1], fields[2], fields[19] = "1", "I", "V1^^^RX1^VN"
    return "PV1" + "|".join(fields)


def _translate(msh7: str, evn: str | None) -> list[StandardEvent]:
    msh = f"MSH|^~\\&|PAS|RX1|MAIS|LA202|{msh7}||ADT^A01|C1|P|2.4"
    segments = [msh, *([evn] if evn is not None else []), PID, _pv1()]
    data = "\r".join(segments).encode() + b"\r"
    return list(translate(SourceRecord(data, "t"), AdapterContext("rx1", "RX1")))


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M").replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("evn", "recorded", "started"),
    [
        # EVN-2 recorded, EVN-6 occurred (winter: England is on UTC)
        ("EVN|A01|202401011000||||202401010900", "202401011000", "202401010900"),
        ("EVN|A01|202401011000", "202401011000", "202401011000"),  # no EVN-6: EVN-2 for both
        ("EVN|A01|||||202401010900", "202401011200", "202401010900"),  # no EVN-2: MSH-7 recorded
        (None, "202401011200", "202401011200"),  # no EVN: MSH-7 for both
    ],
)
def test_recorded_and_event_times(evn: str | None, recorded: str, started: str) -> None:
    person, episode = _translate("202401011200", evn)
    assert person.value["recordedAt"] == _utc(recorded)
    assert episode.value["recordedAt"] == _utc(recorded)
    assert episode.value["serviceEpisode"]["timeInformation"][0]["startDateTime"] == _utc(started)


@pytest.mark.parametrize(
    ("msh7", "evn", "named"),
    [
        ("202401011200", "EVN|A01|2024XX||||2024YY", "EVN-6"),  # EVN-6 is reported before EVN-2
        ("202401011200", "EVN|A01|2024XX||||202401010900", "EVN-2"),
        ("2024ZZ", "EVN|A01|||||202401010900", "MSH-7"),
        ("", "EVN|A01|||||202401010900", "MSH-7"),
    ],
)
def test_the_first_bad_time_is_named(msh7: str, evn: str, named: str) -> None:
    with pytest.raises(DataError) as raised:
        _translate(msh7, evn)
    assert raised.value.stage == "map"
    assert str(raised.value).startswith(named)
