"""Feeders: play sample files to adapters in real time, as drops into a folder or over MLLP."""

from __future__ import annotations

import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from exchange.adapter import load_adapter
from exchange.mllp import MllpDecoder, frame

__all__ = ["DropFeeder", "FeedProgress", "MllpFeeder"]


@dataclass
class FeedProgress:
    """What a feeder has handed over so far (units: files or messages)."""

    total: int
    sent: int = 0
    nacked: int = 0
    finished: bool = False


class DropFeeder(threading.Thread):
    """Drops files into a folder one by one, ``pace`` seconds apart (written, then renamed)."""

    def __init__(self, files: list[Path], folder: Path, pace: float, stop: threading.Event) -> None:
        super().__init__(name=f"drop-feeder-{folder.name}", daemon=True)
        self.files, self.folder, self.pace, self.stop = files, folder, pace, stop
        self.progress = FeedProgress(total=len(files))

    def run(self) -> None:
        for path in self.files:
            if self.stop.is_set():
                return
            partial = self.folder / f".{path.name}.partial"
            shutil.copyfile(path, partial)
            partial.rename(self.folder / path.name)
            self.progress.sent += 1
            self.stop.wait(self.pace)
        self.progress.finished = True


class MllpFeeder(threading.Thread):
    """Sends the messages of HL7 files over one MLLP connection, each after the last one's ACK.

    A message answered ``AE`` was rejected (it is in the DLQ) and is not sent again; ``AR`` or a
    lost connection means it was not stored, so it is sent again after a pause.
    """

    def __init__(self, files: list[Path], host: str, port: int, pace: float, stop: threading.Event) -> None:
        super().__init__(name=f"mllp-feeder-{port}", daemon=True)
        self.host, self.port, self.pace, self.stop = host, port, pace, stop
        split = load_adapter("hl7v2").split
        self.messages = [r.data for f in files for r in split(f.read_bytes(), f.name) if r.data]
        self.progress = FeedProgress(total=len(self.messages))

    def run(self) -> None:
        pending = list(self.messages)
        while pending and not self.stop.is_set():
            try:
                with socket.create_connection((self.host, self.port), timeout=5) as conn:
                    conn.settimeout(65)
                    decoder = MllpDecoder()
                    while pending and not self.stop.is_set():
                        code = self._send(conn, decoder, pending[0])
                        if code == "AR":
                            self.progress.nacked += 1
                            self.stop.wait(1.0)
                            continue
                        pending.pop(0)
                        self.progress.sent += 1
                        self.stop.wait(self.pace)
            except OSError:
                self.stop.wait(1.0)  # the listener is not up yet, or went away: try again
        self.progress.finished = not pending

    @staticmethod
    def _send(conn: socket.socket, decoder: MllpDecoder, message: bytes) -> str:
        conn.sendall(frame(message))
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionResetError("listener closed the connection")
            for item in decoder.feed(chunk):
                if isinstance(item, bytes):
                    return _ack_code(item)


def _ack_code(ack: bytes) -> str:
    for segment in ack.split(b"\r"):
        if segment.startswith(b"MSA"):
            fields = segment.split(segment[3:4]) if len(segment) > 3 else []
            return fields[1].decode("ascii", "replace") if len(fields) > 1 else "AR"
    return "AR"
