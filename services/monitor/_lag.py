"""Consumer lag in seconds without reading a record: from a history of end offsets over time.

The monitor may list offsets but not fetch records, so it cannot read the timestamp of the record
at a group's committed offset. Instead it remembers when each partition's end offset grew (as
kafka-lag-exporter does) and interpolates when the first unconsumed record was appended. Before
the history reaches back that far, the answer is a lower bound.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass

__all__ = ["EndOffsetHistory", "TimeLag"]


@dataclass(frozen=True, slots=True)
class TimeLag:
    seconds: float
    lower_bound: bool = False


class EndOffsetHistory:
    """(time, end offset) samples of one partition, kept when the end offset changes."""

    def __init__(self, max_samples: int = 4000) -> None:
        self._times: deque[float] = deque(maxlen=max_samples)
        self._ends: deque[int] = deque(maxlen=max_samples)

    def record(self, now: float, end_offset: int) -> None:
        if not self._ends or end_offset != self._ends[-1]:
            self._times.append(now)
            self._ends.append(end_offset)

    @property
    def end(self) -> int | None:
        return self._ends[-1] if self._ends else None

    def lag(self, committed: int, now: float) -> TimeLag:
        """How long ago the record at ``committed`` (the next one to consume) was appended."""
        if not self._ends or committed >= self._ends[-1]:
            return TimeLag(0.0)
        ends = list(self._ends)
        i = bisect.bisect_right(ends, committed)  # first sample whose end is past the record
        if i == 0:
            return TimeLag(max(0.0, now - self._times[0]), lower_bound=True)
        t0, e0, t1, e1 = self._times[i - 1], ends[i - 1], self._times[i], ends[i]
        appended = t0 + (committed + 1 - e0) / (e1 - e0) * (t1 - t0)
        return TimeLag(max(0.0, now - appended))
