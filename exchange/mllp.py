"""MLLP framing (HL7's Minimal Lower Layer Protocol), without any socket: a transport feeds bytes in.

A frame is ``<VT> message <FS><CR>``. :class:`MllpDecoder` is incremental: feed it whatever
``recv`` returned and it yields complete messages; bytes outside a frame are skipped and
counted, an over-long frame is discarded (and reported) rather than buffered without limit,
and a connection that closes mid-frame simply leaves :attr:`MllpDecoder.pending` non-zero.

Framing belongs to the kernel (the runtime's MLLP listener and ``mais run``'s feeders use it);
what to answer inside a frame is the adapter's business: an adapter that speaks MLLP declares an
``acknowledge`` function (:class:`~exchange.adapter.Adapter`) that builds the answer for an
:data:`AckOutcome`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = ["END_BLOCK", "START_BLOCK", "AckOutcome", "FrameTooLarge", "MllpDecoder", "frame"]

AckOutcome = Literal["accepted", "rejected", "unavailable"]
"""What happened to a framed message, for the adapter's acknowledgement:

* ``accepted`` — stored: the broker acknowledged its events (or it was a duplicate of a stored one);
* ``rejected`` — read but not usable: it is in the DLQ (the reason names fields, never values);
* ``unavailable`` — not stored (too large, stopping, broker unreachable): the sender sends it again.
"""

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
_FS = 0x1C
_DEFAULT_MAX = 16 * 1024 * 1024


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
