"""An MLLP listener: TCP in, one call per framed message, the adapter's acknowledgement out.

The runtime gives the listener a ``deliver(message, origin, sender)`` callable that returns only
once the broker acknowledged the write (or the record went to the DLQ), and the adapter's
``acknowledge(message, outcome, reason)`` (for HL7 v2: an ``ACK`` with ``AA``/``AE``/``AR``).
The outcome is:

* ``accepted`` when ``deliver`` returned;
* ``rejected`` with the reason when ``deliver`` raised :class:`~exchange.errors.DataError` (the
  message was read but rejected; the reason names fields, never values);
* ``unavailable`` when the frame was too large (it is not delivered; ``acknowledge`` gets
  ``None``) and when ``deliver`` raised anything else (nothing was stored: the sender should
  send it again).

Each connection has its own thread and decoder; a client that disconnects mid-message leaves
nothing delivered and does not disturb the others. Messages on one connection are delivered in
order, one at a time, so a sender that waits for each ACK keeps its order.

Every connection first passes the listener's :class:`~exchange.ingress.IngressGate`: with TLS,
the handshake (MLLP over TLS: the same frames inside the TLS stream) and the client certificate's
sender on the allowlist; a connection refused there is closed before any frame is read. A
message must arrive whole within the gate's ``read_timeout_s`` of its first byte, and a
connection may stay silent ``idle_timeout_s`` between messages: a sender that trickles bytes is
cut off without holding up anyone else.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import socketserver
import threading
from collections.abc import Callable

from exchange.errors import DataError
from exchange.ingress import Connection, IngressGate, Refused, Sender
from exchange.mllp import AckOutcome, FrameTooLarge, MllpDecoder, frame

__all__ = ["Acknowledge", "Deliver", "MllpListener"]

Deliver = Callable[[bytes, str, Sender | None], None]
"""``deliver(message, origin, sender)``: store one message; return when it is safe to acknowledge."""

Acknowledge = Callable[[bytes | None, AckOutcome, str], bytes]
"""``acknowledge(message, outcome, reason)``: the adapter's answer to one framed message."""

_RETRY = "message not stored; send it again"


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


class MllpListener:
    """A threaded MLLP server; ``start()`` it, read :attr:`address`, ``stop()`` it."""

    def __init__(
        self,
        deliver: Deliver,
        acknowledge: Acknowledge,
        host: str = "127.0.0.1",
        port: int = 2575,
        *,
        max_frame: int = 16 * 1024 * 1024,
        gate: IngressGate | None = None,
    ) -> None:
        self._deliver = deliver
        self._acknowledge = acknowledge
        self._max_frame = max_frame
        self._gate = gate or IngressGate("mllp")
        self._connections = itertools.count(1)
        self._server = _Server((host, port), self._handler_class(), bind_and_activate=True)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port): pass port 0 to get a free one."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def tls(self) -> bool:
        return self._gate.tls

    def start(self) -> MllpListener:
        self._thread = threading.Thread(target=self._server.serve_forever, name="mllp-listener", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MllpListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[socketserver.BaseRequestHandler]:
        listener = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                listener._serve(self.request, self.client_address)

        return Handler

    def _serve(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        with self._gate.connection(conn, peer) as connection:
            if connection is None:
                return  # refused at the handshake: counted, closed
            try:
                sender = self._gate.authorize(connection)
            except Refused:
                return  # not on the allowlist: counted, closed before any frame is read
            with contextlib.suppress(OSError):  # timeouts and resets end this connection only
                self._converse(connection, f"mllp:{peer[0]}:{peer[1]}/{next(self._connections)}", sender)

    def _converse(self, connection: Connection, origin: str, sender: Sender | None) -> None:
        limits = self._gate.settings
        decoder = MllpDecoder(self._max_frame)
        number = 0
        connection.deadline.start(limits.idle_timeout_s, reason=None)  # silence between messages is fine
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return  # peer closed; an unfinished frame is simply dropped
            if connection.deadline.reason is None:  # the first byte of a message: all of it in time
                connection.deadline.start(limits.read_timeout_s)
            completed = False
            for item in decoder.feed(chunk):
                number += 1
                completed = True
                answer = self._answer(item, f"{origin}#{number}", sender, connection.peer)
                connection.sendall(frame(answer), limits.read_timeout_s)
            if completed:
                if decoder.pending:
                    connection.deadline.start(limits.read_timeout_s)
                else:
                    connection.deadline.start(limits.idle_timeout_s, reason=None)

    def _answer(self, item: bytes | FrameTooLarge, origin: str, sender: Sender | None, peer: str) -> bytes:
        if isinstance(item, FrameTooLarge):
            self._gate.refuse("too_large", peer)
            return self._acknowledge(None, "unavailable", f"frame larger than {self._max_frame} bytes")
        try:
            self._deliver(item, origin, sender)
        except DataError as exc:
            return self._acknowledge(item, "rejected", exc.message)
        except Exception:  # any failure to store: the sender keeps the message and retries
            return self._acknowledge(item, "unavailable", _RETRY)
        return self._acknowledge(item, "accepted", "")
