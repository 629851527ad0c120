"""One admitted connection: its socket (TLS or not), who it is, and the deadline its reads must meet.

A per-read socket timeout does not stop a sender that trickles one byte every few seconds
("slow loris"): each read succeeds in time, the message never ends, and the connection's thread
is held for ever. Every read here therefore waits at most until the connection's
:class:`Deadline` — a point in time for the whole of the headers, body or message, not for one
read — and a read past it ends the connection.
"""

from __future__ import annotations

import io
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from exchange.ingress._senders import Sender

__all__ = ["Connection", "Deadline"]


class Deadline:
    """When the current piece of work (headers, body, message) must be read by.

    ``reason`` is the refusal counted when it passes (``slow_sender``), or ``None`` when running
    out of time is normal (an idle connection closing).
    """

    def __init__(self) -> None:
        self._at = math.inf
        self.reason: str | None = None

    def start(self, seconds: float, reason: str | None = "slow_sender") -> None:
        self._at = time.monotonic() + seconds
        self.reason = reason

    @property
    def running(self) -> bool:
        return self._at != math.inf

    def remaining(self) -> float:
        return self._at - time.monotonic()


@dataclass
class Connection:
    """A connection the gate let in (its TLS handshake, if any, succeeded).

    ``certificate_sender`` is the sender its client certificate names on the allowlist; the
    gate's :meth:`~exchange.ingress.IngressGate.authorize` decides whether that is enough.
    """

    sock: socket.socket
    peer: str
    on_timeout: Callable[[str, str], object]
    certificate_sender: Sender | None = None
    deadline: Deadline = field(default_factory=Deadline)
    _timed_out: bool = False

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes, waiting no later than the deadline (``TimeoutError`` past it)."""
        buffer = bytearray(size)
        count = self.recv_into(memoryview(buffer))
        return bytes(buffer[:count])

    def recv_into(self, buffer: memoryview) -> int:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            self._expired()
        self.sock.settimeout(remaining if self.deadline.running else None)
        try:
            return self.sock.recv_into(buffer)
        except TimeoutError:
            self._expired()
            raise  # unreachable: _expired raises

    def sendall(self, data: bytes, timeout_s: float) -> None:
        self.sock.settimeout(timeout_s)
        self.sock.sendall(data)

    def reader(self) -> io.BufferedReader:
        """A buffered reader of this connection whose reads keep to the deadline."""
        return io.BufferedReader(_DeadlineReader(self))

    def _expired(self) -> None:
        if self.deadline.reason is not None and not self._timed_out:
            self._timed_out = True
            self.on_timeout(self.deadline.reason, self.peer)
        raise TimeoutError("deadline passed")


class _DeadlineReader(io.RawIOBase):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        return self._connection.recv_into(memoryview(buffer).cast("B"))
