"""Stopping on SIGTERM/SIGINT, and retrying transient failures with capped exponential backoff."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TypeVar

from exchange.errors import TransientError

__all__ = ["Backoff", "StopSignal", "retry_transient"]

T = TypeVar("T")


class StopSignal:
    """Set by SIGTERM or SIGINT (or :meth:`stop`); loops check it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._requested_at: float | None = None

    def install(self) -> StopSignal:
        """Handle SIGTERM and SIGINT in this (main) thread by requesting a graceful stop."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.stop()

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
