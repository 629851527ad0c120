"""HL7 v2.x ADT (v2.3 to v2.8) from PAS/EPR systems to standard Person and ServiceEpisode events.

Public API: :data:`adapter` (the declaration, with :func:`acknowledge` for the runtime's
``mllp:`` source), :func:`parse_message`, :func:`map_adt` and :func:`build_ack`. MLLP framing
is the kernel's (:mod:`exchange.mllp`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from adapters._standard import validate_events
from adapters.hl7v2._ack import acknowledge, build_ack
from adapters.hl7v2._mapping import map_adt
from adapters.hl7v2._parser import Message, parse_message
from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.mllp import MllpDecoder

__all__ = [
    "Message",
    "acknowledge",
    "adapter",
    "build_ack",
    "map_adt",
    "parse_message",
    "split",
    "translate",
]

_ENVELOPE = (b"FHS", b"BHS", b"BTS", b"FTS")


def split(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """Cut a file or stream chunk into messages: MLLP frames, or plain messages each starting
    with an MSH line (batch envelope segments FHS/BHS/BTS/FTS are dropped)."""
    if b"\x0b" in data[:64]:
        decoder = MllpDecoder()
        for number, item in enumerate(decoder.feed(data), start=1):
            body = item if isinstance(item, bytes) else b""
            yield SourceRecord(body, f"{origin}#{number}")
        if decoder.pending:
            yield SourceRecord(b"", f"{origin}#truncated")
        return
    lines = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r")
    current: list[bytes] = []
    number = 0
    for line in lines:
        if line.startswith(_ENVELOPE):
            continue
        if line.startswith(b"MSH") and current:
            number += 1
            yield SourceRecord(b"\r".join(current) + b"\r", f"{origin}#{number}")
            current = []
        if line.strip() or current:
            current.append(line)
    if any(line.strip() for line in current):
        number += 1
        yield SourceRecord(b"\r".join(current).rstrip(b"\r") + b"\r", f"{origin}#{number}")


def translate(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    """Parse, map and validate one ADT message."""
    events = map_adt(parse_message(record.data), context)
    validate_events(events)
    return events


adapter = Adapter(
    name="hl7v2",
    summary="HL7 v2.x ADT messages (files or MLLP) to Person and ServiceEpisode events",
    split=split,
    translate=translate,
    file_patterns=("*.hl7", "*.txt", "*.adt", "*.mllp"),
    acknowledge=acknowledge,
)
