"""Stopping on SIGTERM/SIGINT, and retrying transient failures with capped exponential backoff.

A Python signal handler runs only when the main thread is back in Python code, and a Kafka call
blocked on an unreachable broker can keep it in C for longer than any timeout it was given. So
:meth:`StopSignal.install` also has the C-level handler write each signal to a socket that a
small thread watches: the stop is requested the moment the signal arrives, whatever the main
thread is doing, and with :meth:`StopSignal.exit_after_drain` the process exits 0 once the drain
time is over even if a call is still blocked (a transaction left open is aborted by the broker
or by the next start; nothing committed is lost and nothing is written twice).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from exchange.errors import TransientError

__all__ = ["Backoff", "StopSignal", "retry_transient"]

T = TypeVar("T")


class StopSignal:
    """Set by SIGTERM or SIGINT (or :meth:`stop`); loops check it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._signalled = threading.Event()
        self._requested_at: float | None = None
        self._installed: tuple[Any, Any, int, socket.socket, socket.socket] | None = None
        self._armed = False

    def install(self) -> StopSignal:
        """Handle SIGTERM and SIGINT (from the main thread) by requesting a graceful stop.

        :meth:`uninstall` puts back the handlers and wake-up file descriptor found here.
        """
        previous = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._installed = (*previous, old_fd, reader, writer)
        threading.Thread(target=self._watch, args=(reader,), name="stop-signal", daemon=True).start()
        return self

    def uninstall(self) -> None:
        """Disarm the drain deadline and put back what :meth:`install` replaced."""
        self._armed = False
        if self._installed is None:
            return
        term, interrupt, old_fd, reader, writer = self._installed
        self._installed = None
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGTERM, term)
        signal.signal(signal.SIGINT, interrupt)
        writer.close()
        reader.close()

    def _watch(self, reader: socket.socket) -> None:
        stopping = {int(signal.SIGTERM), int(signal.SIGINT)}
        while True:
            try:
                received = reader.recv(64)
            except OSError:
                return
            if not received:
                return
            if stopping.intersection(received):
                self._signal()

    def exit_after_drain(self, drain_s: float, on_exit: Callable[[], None] | None = None) -> None:
        """Once SIGTERM/SIGINT arrived, end the process (exit 0) if it still runs ``drain_s`` later.

        Only a signal arms it (a stop requested by code does not), and :meth:`uninstall` disarms it.
        """
        self._armed = True

        def watch() -> None:
            self._signalled.wait()
            time.sleep(drain_s)
            if not self._armed:
                return
            if on_exit is not None:
                with contextlib.suppress(Exception):
                    on_exit()
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(0)

        threading.Thread(target=watch, name="drain-deadline", daemon=True).start()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._signal()

    def _signal(self) -> None:
        self.stop()
        self._signalled.set()

    def stop(self) -> None:
        if self._requested_at is None:
            self._requested_at = time.monotonic()
        self._event.set()

    def drain_left(self, drain_s: float) -> float | None:
        """Seconds left of the drain time (``drain_s`` after the stop request), or None if running."""
        if self._requested_at is None:
            return None
        return drain_s - (time.monotonic() - self._requested_at)

    def drain_expired(self, drain_s: float) -> bool:
        """True once a stop was requested more than ``drain_s`` seconds ago: give up, exit now."""
        left = self.drain_left(drain_s)
        return left is not None and left <= 0

    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return early (True) if a stop was requested."""
        return self._event.wait(seconds)


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter."""

    initial_s: float = 0.2
    maximum_s: float = 30.0
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum_s, self.initial_s * (2**self.attempt))
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security

    def reset(self) -> None:
        self.attempt = 0


def retry_transient(
    operation: Callable[[], T],
    stop: StopSignal,
    *,
    on_retry: Callable[[TransientError, float], None] | None = None,
    backoff: Backoff | None = None,
) -> T:
    """Run ``operation`` until it does not raise :class:`TransientError`, or a stop is requested."""
    backoff = backoff or Backoff()
    while True:
        try:
            return operation()
        except TransientError as error:
            delay = backoff.next_delay()
            if on_retry is not None:
                on_retry(error, delay)
            if stop.wait(delay):
                raise
