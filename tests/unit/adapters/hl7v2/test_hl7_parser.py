"""The HL7 v2 parser reads what real feeds send: declared delimiters, escapes, any segment end."""

from __future__ import annotations

import pytest

from adapters.hl7v2 import parse_message
from exchange.errors import DataError

A01 = (
    "MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A01^ADT_A01|MSG0001|P|2.4\r"
    "EVN|A01|20240301101500\r"
    "PID|1||123456^^^RX1^MR~9434765919^^^NHS^NH||SMITH^JOHN^PAUL||20100203|M\r"
    "ZXY|custom|segment\r"
)


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_any_segment_terminator(end: str) -> None:
    message = parse_message(A01.replace("\r", end).encode())
    assert [s.name for s in message.segments] == ["MSH", "EVN", "PID", "ZXY"]
    pid = message.first("PID")
    assert pid is not None
    assert pid.value(5, 2) == "JOHN"


def test_msh_fields_are_numbered_as_in_the_standard() -> None:
    msh = parse_message(A01.encode()).msh
    assert msh.field(1) == "|"
    assert msh.field(2) == "^~\\&"
    assert msh.value(9, 1) == "ADT"
    assert msh.value(9, 2) == "A01"
    assert msh.field(10) == "MSG0001"
    assert msh.field(12) == "2.4"


def test_repetitions_and_components() -> None:
    pid = parse_message(A01.encode()).first("PID")
    assert pid is not None
    assert pid.repetitions(3) == ["123456^^^RX1^MR", "9434765919^^^NHS^NH"]
    assert pid.value(3, 1, repetition=1) == "9434765919"
    assert pid.value(3, 4, repetition=1) == "NHS"
    assert pid.value(3, 1, repetition=5) == ""
    assert pid.value(40) == ""  # missing fields read as empty


def test_encoding_characters_are_taken_from_msh() -> None:
    raw = (
        "MSH#:*!@#PAS#RX1#MAIS#LA202#20240301##ADT:A08#1#P#2.5\r"
        "PID#1##111:::RX1:MR*222:::RX1:MR##O!S!BRIEN:ANNE@MARIE\r"
    )
    message = parse_message(raw.encode())
    pid = message.first("PID")
    assert pid is not None
    assert message.encoding.component == ":"
    assert message.encoding.repetition == "*"
    assert message.encoding.escape == "!"
    assert message.encoding.subcomponent == "@"
    assert message.msh.value(9, 2) == "A08"
    assert pid.repetitions(3) == ["111:::RX1:MR", "222:::RX1:MR"]
    assert pid.value(5, 1) == "O:BRIEN"  # !S! is the component separator, escaped
    assert pid.value(5, 2, subcomponent=2) == "MARIE"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("A\\F\\B", "A|B"),
        ("A\\S\\B\\T\\C\\R\\D\\E\\E", "A^B&C~D\\E"),
        ("line\\.br\\two", "line\ntwo"),
        ("\\H\\bold\\N\\", "bold"),
        ("caf\\XE9\\", "caf\u00e9"),
        ("unterminated \\ escape", "unterminated \\ escape"),
        ('""', ""),
    ],
)
def test_escape_sequences(raw: str, text: str) -> None:
    message = parse_message(f"MSH|^~\\&|A|B|C|D|20240101||ADT^A31|1|P|2.5\rNTE|1||{raw}\r".encode())
    nte = message.first("NTE")
    assert nte is not None
    assert nte.value(3) == text


def test_utf8_declared_in_msh_18_and_latin1_fallback() -> None:
    utf8 = "MSH|^~\\&|A|B|C|D|20240101||ADT^A31|1|P|2.5||||||UNICODE UTF-8\rPID|1||1||ZO\u00cb^A\r"
    pid = parse_message(utf8.encode("utf-8")).first("PID")
    assert pid is not None and pid.value(5) == "ZO\u00cb"
    latin = "MSH|^~\\&|A|B|C|D|20240101||ADT^A31|1|P|2.3\rPID|1||1||ZO\u00cb^A\r"
    pid = parse_message(latin.encode("latin-1")).first("PID")
    assert pid is not None and pid.value(5) == "ZO\u00cb"


def test_utf8_declared_but_not_sent_is_rejected_with_position() -> None:
    raw = "MSH|^~\\&|A|B|C|D|20240101||ADT^A31|1|P|2.5||||||UNICODE UTF-8\rPID|1||1||ZO\u00cb\r"
    with pytest.raises(DataError) as info:
        parse_message(raw.encode("latin-1"))
    assert info.value.stage == "parse"
    assert "MSH-18" in info.value.message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"PID|1||123\r", "MSH"),
        (b"MSH|^~", "too short"),
        (b"MSH|^~\\&", "not terminated"),
        (b"MSHA^~\\&|", "field separator"),
        (b"MSH|^^\\&|A\r", "distinct"),
        (b"MSH|^~\\&|A|B\rpid|1\r", "segment 2"),
    ],
)
def test_broken_messages_are_parse_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(DataError) as info:
        parse_message(raw)
    assert info.value.stage == "parse"
    assert reason in info.value.message


def test_error_messages_never_contain_field_values() -> None:
    raw = "MSH|^~\\&|A|B|C|D|20240101||ADT^A31|1|P|2.5||||||UNICODE UTF-8\rPID|1||SECRET\u00cb\r"
    with pytest.raises(DataError) as info:
        parse_message(raw.encode("latin-1"))
    assert "SECRET" not in str(info.value)


def _with_charset(charset: str, pid5: str) -> str:
    return f"MSH|^~\\&|A|B|C|D|20240101||ADT^A31|1|P|2.5||||||{charset}\rPID|1||1||{pid5}^A\r"


@pytest.mark.parametrize(
    ("charset", "raw", "name"),
    [
        ("UNICODE UTF-8", "ZO\u00cb".encode(), "ZO\u00cb"),
        ("8859/15", b"EUR\xa4", "EUR\u20ac"),  # ISO 8859-15 has the euro sign at 0xA4
        ("8859/1", b"O\x92BRIEN", "O\u2019BRIEN"),  # read as Windows-1252, as senders mean it
        ("ASCII", b"O\x92BRIEN", "O\u2019BRIEN"),
        ("", "ZO\u00cb".encode(), "ZO\u00cb"),  # undeclared, valid UTF-8
        ("", b"ZO\xcb", "ZO\u00cb"),  # undeclared, not UTF-8: Windows-1252
    ],
)
def test_text_is_decoded_in_the_declared_or_detected_charset(charset: str, raw: bytes, name: str) -> None:
    data = _with_charset(charset, "@").encode("ascii").replace(b"@", raw)
    pid = parse_message(data).first("PID")
    assert pid is not None and pid.value(5) == name


@pytest.mark.parametrize(
    ("charset", "escape", "text"),
    [
        ("UNICODE UTF-8", "\\XC3A9\\", "\u00e9"),  # UTF-8 bytes of e-acute
        ("8859/15", "\\XA4\\", "\u20ac"),
        ("", "\\XE9\\", "\u00e9"),  # pure-ASCII message: not UTF-8, so Windows-1252
        ("", "\\XC3A9\\", "\u00e9"),  # pure-ASCII message: valid UTF-8
    ],
)
def test_hex_escapes_are_bytes_in_the_message_character_set(charset: str, escape: str, text: str) -> None:
    pid = parse_message(_with_charset(charset, f"CAF{escape}").encode()).first("PID")
    assert pid is not None and pid.value(5) == f"CAF{text}"


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (_with_charset("UNICODE UTF-8", "CAF\\XE9\\").encode(), "PID-5"),  # not UTF-8 bytes
        (_with_charset("UNICODE UTF-8", "CAF\\XZZ\\").encode(), "PID-5"),  # not hex
        (_with_charset("", "A\\X07\\B").encode(), "PID-5"),  # an escaped control character
        (_with_charset("", "A\x07B").encode(), "PID-5"),
        (_with_charset("", "A\x00B").encode(), "PID-5"),
        (b"MSH|^~\\&|A\x1bB|B|C|D|20240101||ADT^A31|1|P|2.5\rPID|1||1\r", "MSH-3"),
        (_with_charset("UNICODE UTF-8", "@").encode().replace(b"@", b"ZO\xcb"), "PID-5"),
        (_with_charset("", "@").encode().replace(b"@", b"A\x81B"), "PID-5"),  # undefined in cp1252
    ],
)
def test_undecodable_bytes_bad_hex_escapes_and_control_characters_name_the_field(
    data: bytes, named: str
) -> None:
    with pytest.raises(DataError) as info:
        parse_message(data)
    assert info.value.stage == "parse"
    assert named in info.value.message


def test_tabs_and_a_trailing_mllp_end_byte_are_not_control_characters_here() -> None:
    data = _with_charset("", "A\tB").encode() + b"\x1c\r"
    pid = parse_message(data).first("PID")
    assert pid is not None and pid.value(5) == "A\tB"
