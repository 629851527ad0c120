"""A minimal MLLP sender for tests: one connection, send a message, wait for its ACK."""

from __future__ import annotations

import socket

from exchange.mllp import MllpDecoder, frame


class MllpClient:
    def __init__(self, port: int, timeout_s: float = 90.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.decoder = MllpDecoder()

    def send(self, message: bytes) -> tuple[str, str]:
        """Send one message; return (MSA-1 code, MSA-3 text) of its ACK."""
        self.sock.sendall(frame(message))
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("listener closed the connection")
            for item in self.decoder.feed(chunk):
                assert isinstance(item, bytes)
                return ack_code(item)

    def close(self) -> None:
        self.sock.close()


def ack_code(ack: bytes) -> tuple[str, str]:
    for segment in ack.split(b"\r"):
        if segment.startswith(b"MSA|"):
            fields = segment.decode().split("|")
            return fields[1], fields[3] if len(fields) > 3 else ""
    raise AssertionError("ACK without MSA segment")
