"""MLLP framing and HL7 acknowledgements, without any socket: the listener feeds bytes in.

A frame is ``<VT> message <FS><CR>``. :class:`MllpDecoder` is incremental: feed it whatever
``recv`` returned and it yields complete messages; bytes outside a frame are skipped and
counted, an over-long frame is discarded (and reported) rather than buffered without limit,
and a connection that closes mid-frame simply leaves :attr:`MllpDecoder.pending` non-zero.

:func:`build_ack` answers a message with ``AA`` (accepted: the broker acknowledged the write),
``AE`` (error: the message was understood but rejected) or ``AR`` (rejected: it could not be
read at all). The reason text must be free of personal data: pass a DataError message.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from adapters.hl7v2._parser import Encoding, Message

__all__ = ["END_BLOCK", "START_BLOCK", "FrameTooLarge", "MllpDecoder", "build_ack", "frame"]

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
_FS = 0x1C
_DEFAULT_MAX = 16 * 1024 * 1024
_ack_counter = itertools.count(1)

AckCode = Literal["AA", "AE", "AR"]


@dataclass(frozen=True, slots=True)
class FrameTooLarge:
    """A frame longer than the decoder's limit was dropped; the sender should get an ``AR``."""

    size: int


def frame(message: bytes) -> bytes:
    """Wrap one message in MLLP start and end blocks."""
    return START_BLOCK + message + END_BLOCK


class MllpDecoder:
    """Incremental MLLP deframer for one connection."""

    def __init__(self, max_frame: int = _DEFAULT_MAX) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()
        self._in_frame = False
        self._oversize = False
        self.skipped = 0

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held back (non-zero when a peer hung up mid-message)."""
        return len(self._buffer) if self._in_frame else 0

    def feed(self, data: bytes) -> Iterator[bytes | FrameTooLarge]:
        """Yield every message completed by ``data`` (and a marker for each oversized frame)."""
        view = memoryview(data)
        i = 0
        n = len(view)
        while i < n:
            if not self._in_frame:
                start = data.find(START_BLOCK, i)
                if start < 0:
                    self.skipped += n - i
                    return
                self.skipped += start - i
                self._in_frame = True
                self._oversize = False
                self._buffer.clear()
                i = start + 1
                continue
            end = data.find(b"\x1c", i)
            chunk_end = end if end >= 0 else n
            if not self._oversize:
                self._buffer += view[i:chunk_end]
                if len(self._buffer) > self.max_frame:
                    self._oversize = True
            if end < 0:
                return
            # FS seen: the frame ends here (a CR after it is expected but not required).
            i = end + 1
            if i < n and data[i] == 0x0D:
                i += 1
            self._in_frame = False
            if self._oversize:
                yield FrameTooLarge(len(self._buffer))
            else:
                yield bytes(self._buffer)
            self._buffer.clear()


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
