"""MLLP framing (kernel) and HL7 ACKs (adapter): what an MLLP listener relies on, without a socket."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.hl7v2 import build_ack, parse_message
from exchange.mllp import FrameTooLarge, MllpDecoder, frame

MSG = b"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A01^ADT_A01|MSG0001|P|2.4\rPID|1||1^^^RX1^MR\r"


def test_frames_split_across_reads_are_reassembled() -> None:
    stream = frame(MSG) + frame(MSG.replace(b"MSG0001", b"MSG0002"))
    decoder = MllpDecoder()
    got: list[bytes | FrameTooLarge] = []
    for i in range(0, len(stream), 7):  # seven bytes per recv
        got.extend(decoder.feed(stream[i : i + 7]))
    assert got == [MSG, MSG.replace(b"MSG0001", b"MSG0002")]
    assert decoder.pending == 0


def test_bytes_between_frames_are_skipped_and_counted() -> None:
    decoder = MllpDecoder()
    assert list(decoder.feed(b"\r\nhello" + frame(MSG) + b"xx")) == [MSG]
    assert decoder.skipped == len(b"\r\nhello") + 2


def test_peer_hanging_up_mid_frame_leaves_pending_bytes_and_no_message() -> None:
    decoder = MllpDecoder()
    assert list(decoder.feed(frame(MSG)[:30])) == []
    assert decoder.pending == 29
    # a new frame start after a broken one begins afresh only when the old one ends
    decoder = MllpDecoder()
    assert list(decoder.feed(frame(MSG)[:30] + b"\x1c\r" + frame(MSG))) == [MSG[:29], MSG]


def test_oversized_frames_are_dropped_not_buffered() -> None:
    decoder = MllpDecoder(max_frame=50)
    got = list(decoder.feed(frame(MSG) + frame(b"MSH|^~\\&|small\r")))
    assert isinstance(got[0], FrameTooLarge)
    assert got[1] == b"MSH|^~\\&|small\r"


def test_ack_aa_swaps_applications_and_echoes_the_control_id() -> None:
    ack = build_ack(parse_message(MSG), "AA", now=datetime(2024, 3, 1, 10, 16, tzinfo=UTC), control_id="A1")
    msh, msa = ack.decode().rstrip("\r").split("\r")
    assert msh == "MSH|^~\\&|MAIS|LA202|PAS|RX1|20240301101600||ACK^A01^ACK|A1|P|2.4"
    assert msa == "MSA|AA|MSG0001|"


def test_ack_ae_carries_the_reason_escaped() -> None:
    ack = build_ack(parse_message(MSG), "AE", "PID-7 is not a valid HL7 date | check^it", control_id="A2")
    msa = ack.decode().rstrip("\r").split("\r")[1]
    assert msa == "MSA|AE|MSG0001|PID-7 is not a valid HL7 date \\F\\ check\\S\\it"


def test_ack_ar_for_unparseable_input_is_still_a_valid_message() -> None:
    ack = build_ack(None, "AR", "message does not start with an MSH segment", control_id="A3")
    parsed = parse_message(ack)
    msa = parsed.first("MSA")
    assert msa is not None
    assert msa.value(1) == "AR"
    assert msa.value(3) == "message does not start with an MSH segment"
