"""HL7 acknowledgements (``ACK`` messages) for MLLP senders; framing is the kernel's (:mod:`exchange.mllp`).

:func:`build_ack` answers a message with ``AA`` (accepted: the broker acknowledged the write),
``AE`` (error: the message was understood but rejected) or ``AR`` (rejected: it could not be
read at all, or was not stored). :func:`acknowledge` is the adapter's ``acknowledge`` hook: it
turns the runtime's outcome for a framed message into the right ACK. The reason text must be
free of personal data: pass a DataError message.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime
from typing import Literal

from adapters.hl7v2._parser import Encoding, Message, parse_message
from exchange.errors import DataError
from exchange.mllp import AckOutcome

__all__ = ["acknowledge", "build_ack"]

_ack_counter = itertools.count(1)

AckCode = Literal["AA", "AE", "AR"]


def acknowledge(message: bytes | None, outcome: AckOutcome, reason: str) -> bytes:
    """The ACK for one framed message (``None``: the frame was too large to read)."""
    parsed: Message | None = None
    if message is not None:
        with contextlib.suppress(DataError):  # unreadable: a generic ACK
            parsed = parse_message(message)
    if outcome == "accepted":
        return build_ack(parsed, "AA")
    if outcome == "rejected" and parsed is not None:
        return build_ack(parsed, "AE", reason)
    return build_ack(parsed, "AR", reason)


def build_ack(
    message: Message | None,
    code: AckCode,
    text: str = "",
    *,
    now: datetime | None = None,
    control_id: str | None = None,
) -> bytes:
    """An HL7 ACK for ``message`` (``None`` when it could not be parsed: a generic ACK is sent)."""
    enc = message.encoding if message is not None else Encoding()
    f, c = enc.field, enc.component
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    ours = control_id or f"ACK{stamp}{next(_ack_counter):06d}"
    if message is not None:
        msh = message.msh
        encoding_chars = msh.field(2)
        sending_app, sending_fac = msh.field(5), msh.field(6)
        receiving_app, receiving_fac = msh.field(3), msh.field(4)
        trigger = msh.value(9, 2)
        their_id = msh.field(10)
        processing = msh.field(11) or "P"
        version = msh.field(12) or "2.4"
    else:
        encoding_chars = "^~\\&"
        sending_app = sending_fac = receiving_app = receiving_fac = trigger = their_id = ""
        processing, version = "P", "2.4"
    msg_type = f"ACK{c}{trigger}{c}ACK" if trigger else "ACK"
    fields = [
        "MSH",
        encoding_chars,
        sending_app,
        sending_fac,
        receiving_app,
        receiving_fac,
        stamp,
        "",
        msg_type,
        ours,
        processing,
        version,
    ]
    msa = ["MSA", code, their_id, _escape(text, enc)]
    return (f.join(fields) + "\r" + f.join(msa) + "\r").encode("utf-8")


def _escape(text: str, enc: Encoding) -> str:
    esc = enc.escape or "\\"
    out = text.replace(esc, f"{esc}E{esc}")
    delimiters = ((enc.field, "F"), (enc.component, "S"), (enc.repetition, "R"), (enc.subcomponent, "T"))
    for char, code in delimiters:
        out = out.replace(char, f"{esc}{code}{esc}")
    return out.replace("\r", " ").replace("\n", " ")[:200]
