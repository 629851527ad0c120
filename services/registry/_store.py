"""The registry's state kept in step with the ``_schemas`` log, and the one way to change it.

Reading: a thread applies every record of the log, in offset order, to a :class:`RegistryState`.

Writing (how several instances share one topic without ever giving one id twice):

1. take this instance's write lock (one write at a time per instance);
2. ask the log for its end offset ``H`` and wait until every record before ``H`` is applied;
3. plan the change against that state; the record carries ``expected = H``;
4. append it. If it landed at offset ``H``, nobody wrote in between: it is valid, every instance
   applies it. If it landed later, another writer won; every instance ignores it (see ``_state``),
   this instance tombstones it, catches up and plans again.

The log is the arbiter: no leader election, no locks outside Kafka, and the decision for a record
depends only on the record and its offset, so replays (and compaction) agree forever.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import structlog

from services.registry._commands import Plan
from services.registry._errors import RegistryError
from services.registry._metrics import LOST_RACES, RECORDS_APPLIED
from services.registry._state import Applied, RegistryState, record_key

__all__ = ["Log", "LogBatch", "LogRecord", "Store"]

T = TypeVar("T")
_log = structlog.get_logger("mais.registry.store")


@dataclass(frozen=True)
class LogRecord:
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class LogBatch:
    """Records read, and the position (next offset) when the reader has reached the end."""

    records: Sequence[LogRecord]
    end: int | None = None


class Log(Protocol):
    """A single-partition append-only log (the ``_schemas`` topic)."""

    def end_offset(self) -> int: ...

    def append(self, key: bytes, value: bytes | None) -> int: ...

    def poll(self, timeout: float) -> LogBatch: ...

    def close(self) -> None: ...


class Store:
    """Applied state plus the conditional-append write protocol."""

    def __init__(
        self,
        log: Log,
        *,
        instance_id: str,
        timeout: float = 15.0,
        write_attempts: int = 1000,
    ) -> None:
        self.state = RegistryState()
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._log = log
        self._instance_id = instance_id
        self._timeout = timeout
        self._attempts = write_attempts
        self._position = 0
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failure: str | None = None
        self._reader = threading.Thread(target=self._read, name="registry-log-reader", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start applying the log; return once everything written before now is applied."""
        self._reader.start()
        self.sync()
        self._ready.set()
        _log.info("registry_state_loaded", position=self._position, max_id=self.state.max_id)

    def stop(self) -> None:
        self._stop.set()
        if self._reader.is_alive():
            self._reader.join(timeout=5)
        self._log.close()

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._failure is None and self._reader.is_alive()

    @property
    def position(self) -> int:
        return self._position

    def _read(self) -> None:
        try:
            while not self._stop.is_set():
                batch = self._log.poll(0.2)
                if not batch.records and batch.end is None:
                    continue
                with self._changed:
                    for record in batch.records:
                        outcome = self.state.apply(record.offset, record.key, record.value)
                        RECORDS_APPLIED.labels(outcome=outcome.value).inc()
                        if outcome is Applied.LOST_RACE:
                            _log.debug("record_lost_race", offset=record.offset)
                        self._position = record.offset + 1
                    if batch.end is not None:
                        self._position = max(self._position, batch.end)
                    self._changed.notify_all()
        except Exception as exc:  # the reader must report, not vanish
            self._failure = type(exc).__name__
            _log.exception("registry_log_reader_failed")
            with self._changed:
                self._changed.notify_all()

    # -- waiting ------------------------------------------------------------------------------
    def _wait_for(self, position: int) -> None:
        """Wait until the reader has applied everything before ``position``.

        Gives up only after ``timeout`` seconds *without progress*, so loading a long log at
        start-up is not cut short while it is still advancing.
        """
        deadline = time.monotonic() + self._timeout
        with self._changed:
            seen = self._position
            while self._position < position:
                if self._failure is not None:
                    raise RegistryError.store_error(f"the log reader stopped ({self._failure})")
                if self._position > seen:
                    seen, deadline = self._position, time.monotonic() + self._timeout
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RegistryError.timeout(
                        f"the log reader is at offset {self._position}, waited for {position}"
                    )
                self._changed.wait(min(remaining, 0.5))

    def sync(self) -> None:
        """Wait until every record appended before this call is applied (read-your-writes)."""
        self._wait_for(self._log.end_offset())

    # -- writing ------------------------------------------------------------------------------
    def write(self, planner: Callable[[RegistryState], Plan[T]]) -> T:
        """Plan against the caught-up state and append; retry when another writer got there first.

        Only a writer that has just won appends anything else (its cleanup tombstones, and the
        tombstones of its own earlier losing records): a loser appending would push the next
        winner off its slot, and two instances could then keep beating each other forever.
        """
        with self._write_lock:
            lost: list[bytes] = []
            deadline = time.monotonic() + self._timeout
            for attempt in range(self._attempts):
                expected = self._log.end_offset()
                self._wait_for(expected)
                try:
                    with self.lock:
                        plan = planner(self.state)
                except RegistryError:
                    self._tombstone(lost)
                    raise
                if plan.record_type is None:
                    self._tombstone(lost)
                    return plan.result
                key = record_key(plan.record_type, plan.subject, expected, uuid.uuid4().hex)
                value = {
                    "type": plan.record_type,
                    "expected": expected,
                    "writer": self._instance_id,
                    **plan.payload,
                }
                offset = self._log.append(key, json.dumps(value, separators=(",", ":")).encode())
                self._wait_for(offset + 1)
                if offset == expected:
                    self._tombstone([*plan.cleanup, *lost])
                    return plan.result
                LOST_RACES.inc()
                _log.info("write_lost_race", expected=expected, landed=offset, attempt=attempt)
                lost.append(key)
                if time.monotonic() > deadline:
                    break
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))  # noqa: S311 - jitter
        raise RegistryError.timeout("no write slot won in time; too much contention on the registry log")

    def _tombstone(self, keys: Sequence[bytes]) -> None:
        for key in keys:
            self._log.append(key, None)
