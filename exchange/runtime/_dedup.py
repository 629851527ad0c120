"""Idempotency keys of push sources (``http:``, ``mllp:``), remembered for a bounded window.

A push source writes one marker per committed unit on the compacted progress topic, in the same
transaction as the unit's events, keyed ``<adapter>|dedup/<digest>`` (the digest is a 128-bit
BLAKE2b of the idempotency key, so the key itself is not repeated). A unit whose key is
remembered is answered as a duplicate and written nothing again.

A key is remembered for ``dedup_window_s`` after its unit committed (default 24 hours), and at
most ``dedup_max_keys`` keys are remembered (default 1,000,000; the oldest go first). A key that
is forgotten gets a tombstone on the topic, in a later transaction of the same source, so
compaction removes its marker: the topic, the memory and the start-up time stay bounded by the
window, not by everything ever received. A sender that resends after the window is processed
again: choose the window longer than any sender's retry period.

At start-up the topic is read once, in batches; markers already past the window are queued for
their tombstones straight away. Markers written before this scheme (``<adapter>|<key>``) are
read too, so an upgrade forgets nothing.
"""

from __future__ import annotations

import collections
import hashlib
import time

from exchange.runtime._progress import read_progress
from exchange.settings import KafkaSettings

__all__ = ["DedupMarkers"]

_MARKER = b"dedup/"
_MINUTE_MS = 60_000


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


class DedupMarkers:
    """The idempotency keys one push source remembers; loaded once, then kept up to date."""

    def __init__(
        self, kafka: KafkaSettings, topic: str, adapter: str, *, window_s: float, max_keys: int
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.prefix = f"{adapter}|".encode()
        self.window_ms = int(window_s * 1000)
        self.max_keys = max_keys
        self._seen: dict[bytes, int] = {}
        """digest -> minute it was committed."""
        self._order: collections.deque[bytes] = collections.deque()
        self._order_minutes: collections.deque[int] = collections.deque()
        """Digests and minutes in commit order; entries of keys forgotten or re-added are skipped."""
        self._loading = False
        self._legacy: dict[bytes, bytes] = {}
        """digest -> Kafka key, for markers written before digests (they need their own tombstone)."""
        self._minutes: dict[int, int] = {}
        """One int object per minute, shared by every key of that minute (memory)."""
        self._expired: collections.deque[bytes] = collections.deque()
        """Kafka keys forgotten but not yet tombstoned (a committed transaction tombstones them)."""

    def __len__(self) -> int:
        return len(self._seen)

    def marker_key(self, key: str) -> bytes:
        return self.prefix + _MARKER + _digest(key).hex().encode()

    def seen(self, key: str) -> bool:
        return _digest(key) in self._seen

    def add(self, key: str, now_ms: int | None = None) -> None:
        """Remember ``key`` as committed now (call after the commit)."""
        self._remember(_digest(key), self._minute(now_ms if now_ms is not None else _now_ms()))

    def load(self, timeout_s: float = 60.0) -> int:
        """Read every committed marker of this adapter; returns how many keys are remembered."""
        self._seen.clear()
        self._order.clear()
        self._order_minutes.clear()
        self._legacy.clear()
        self._expired.clear()

        def take(rest: bytes, value: bytes | None, timestamp_ms: int) -> None:
            if rest.startswith(_MARKER):
                digest = bytes.fromhex(rest[len(_MARKER) :].decode())
            elif b"#" in rest:
                return  # a file's progress (dir: sources), not a marker
            else:
                digest = _digest(rest.decode())
                self._legacy[digest] = self.prefix + rest
            self._seen.pop(digest, None)
            if value is not None:
                self._remember(digest, self._minute(timestamp_ms))

        # Tombstones follow their markers in the log: expire only once everything is read, so a
        # key the log already tombstones is not forgotten (and tombstoned) a second time.
        self._loading = True
        try:
            read_progress(self.kafka, self.topic, self.prefix, take, timeout_s)
        finally:
            self._loading = False
        self.expire()
        return len(self._seen)

    def expire(self, now_ms: int | None = None) -> None:
        """Forget keys older than the window or beyond the count; queue their tombstones."""
        oldest = self._minute((now_ms if now_ms is not None else _now_ms()) - self.window_ms)
        while self._order:
            digest, minute = self._order[0], self._order_minutes[0]
            if self._seen.get(digest) != minute:  # forgotten already, or remembered again later
                self._order.popleft()
                self._order_minutes.popleft()
                continue
            if minute >= oldest and len(self._seen) <= self.max_keys:
                break
            self._order.popleft()
            self._order_minutes.popleft()
            del self._seen[digest]
            legacy = self._legacy.pop(digest, None)
            self._expired.append(legacy or self.prefix + _MARKER + digest.hex().encode())
        if len(self._minutes) > 100_000:  # years of minutes: keep only those still in use
            self._minutes = {m: m for m in self._minutes if m >= oldest}

    def take_tombstones(self, limit: int = 1000) -> list[bytes]:
        """Up to ``limit`` Kafka keys to tombstone in the next transaction."""
        return [self._expired.popleft() for _ in range(min(limit, len(self._expired)))]

    def return_tombstones(self, keys: list[bytes]) -> None:
        """The transaction that carried ``keys`` did not commit: tombstone them next time."""
        self._expired.extendleft(reversed(keys))

    @property
    def tombstones_due(self) -> int:
        return len(self._expired)

    def _remember(self, digest: bytes, minute: int) -> None:
        self._seen[digest] = minute
        self._order.append(digest)
        self._order_minutes.append(minute)
        if len(self._seen) > self.max_keys and not self._loading:
            self.expire()

    def _minute(self, timestamp_ms: int) -> int:
        minute = timestamp_ms // _MINUTE_MS
        return self._minutes.setdefault(minute, minute)


def _now_ms() -> int:
    return int(time.time() * 1000)
