"""Idempotency keys of push sources are remembered for a window (time and count), then tombstoned."""

from __future__ import annotations

from exchange.runtime._dedup import DedupMarkers
from exchange.settings import KafkaSettings

HOUR_MS = 3_600_000
T0 = 1_800_000_000_000


def _markers(window_s: float = 24 * 3600, max_keys: int = 1000) -> DedupMarkers:
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:9")
    return DedupMarkers(kafka, "mais.x.progress.v1", "hl7v2", window_s=window_s, max_keys=max_keys)


def test_a_committed_key_is_a_duplicate_until_the_window_has_passed() -> None:
    markers = _markers(window_s=2 * 3600)
    markers.add("RGT01.PAS:Q1:ab", now_ms=T0)
    assert markers.seen("RGT01.PAS:Q1:ab")
    assert not markers.seen("RGT01.PAS:Q2:cd")
    markers.expire(now_ms=T0 + HOUR_MS)
    assert markers.seen("RGT01.PAS:Q1:ab")
    markers.expire(now_ms=T0 + 3 * HOUR_MS)
    assert not markers.seen("RGT01.PAS:Q1:ab")
    assert markers.take_tombstones() == [markers.marker_key("RGT01.PAS:Q1:ab")]
    assert markers.take_tombstones() == []


def test_at_most_max_keys_are_remembered_and_the_oldest_go_first() -> None:
    markers = _markers(max_keys=3)
    for i in range(5):
        markers.add(f"k{i}", now_ms=T0 + i)
    assert len(markers) == 3
    assert [markers.seen(f"k{i}") for i in range(5)] == [False, False, True, True, True]
    assert markers.take_tombstones() == [markers.marker_key("k0"), markers.marker_key("k1")]


def test_tombstones_of_a_transaction_that_did_not_commit_are_written_next_time() -> None:
    markers = _markers(max_keys=1)
    for i in range(4):
        markers.add(f"k{i}", now_ms=T0)
    first = markers.take_tombstones(limit=2)
    assert len(first) == 2
    markers.return_tombstones(first)
    assert markers.take_tombstones() == [markers.marker_key(f"k{i}") for i in range(3)]


def test_marker_keys_carry_a_digest_not_the_idempotency_key() -> None:
    markers = _markers()
    key = markers.marker_key("LEEDS.PAS:MSG00042:0f3a")
    assert key.startswith(b"hl7v2|dedup/")
    assert b"MSG00042" not in key
    assert len(key) == len(b"hl7v2|dedup/") + 32
