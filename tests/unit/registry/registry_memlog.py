"""An in-process single-partition log with Kafka's offset and compaction rules, for unit tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from services.registry._store import LogBatch, LogRecord


@dataclass
class SharedLog:
    """The partition: records keep their offsets, compaction removes superseded ones."""

    records: list[LogRecord] = field(default_factory=list)
    next_offset: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def view(self) -> MemoryLog:
        return MemoryLog(self)

    def compact(self) -> None:
        """Keep the last record per key; drop tombstones (as after delete.retention.ms)."""
        with self.cond:
            last = {r.key: r.offset for r in self.records}
            self.records = [r for r in self.records if last[r.key] == r.offset and r.value is not None]


class MemoryLog:
    """One reader/writer's handle on a :class:`SharedLog` (own read position)."""

    def __init__(self, shared: SharedLog) -> None:
        self.shared = shared
        self._cursor = 0
        self.before_append: list[threading.Barrier] = []

    def end_offset(self) -> int:
        with self.shared.cond:
            return self.shared.next_offset

    def append(self, key: bytes, value: bytes | None) -> int:
        with self.shared.cond:
            offset = self.shared.next_offset
            self.shared.records.append(LogRecord(offset, key, value))
            self.shared.next_offset += 1
            self.shared.cond.notify_all()
            return offset

    def poll(self, timeout: float) -> LogBatch:
        with self.shared.cond:
            pending = [r for r in self.shared.records if r.offset >= self._cursor]
            if not pending:
                self.shared.cond.wait(timeout)
                pending = [r for r in self.shared.records if r.offset >= self._cursor]
            self._cursor = self.shared.next_offset
            return LogBatch(pending, self.shared.next_offset)

    def close(self) -> None:
        pass
