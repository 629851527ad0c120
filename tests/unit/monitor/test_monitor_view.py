"""The monitor's picture from ops messages and cluster facts (pure code, no broker)."""

from __future__ import annotations

from exchange.ops import FeedStatus, RejectNotice, ReplayRequest, ReplayResult, decode, encode
from services.monitor._cluster import ClusterSnapshot
from services.monitor._lag import EndOffsetHistory
from services.monitor._ops import OpsLedger
from services.monitor._view import build_view

NOW = 1_000_000.0


def _status(sent_at: float, out: int, last: float | None, instance: str = "a") -> FeedStatus:
    return FeedStatus("hl7v2", instance, "mllp:0.0.0.0:2575", out + 1, out, {"parse": 1}, last, sent_at, 5.0)


def _ledger(*messages: object, agency: str = "gp") -> OpsLedger:
    ledger = OpsLedger()
    for message in messages:
        ledger.apply(agency, encode(message)[1])  # type: ignore[arg-type]
    return ledger


def test_ops_messages_round_trip_and_unknown_ones_are_ignored() -> None:
    notice = RejectNotice("0:5", "hl7v2", "parse", "DataError", "no MSH segment", "a.hl7:3", "t", 0, False)
    assert decode(encode(notice)[1]) == notice
    request = ReplayRequest("r1", "hl7v2", ("0:5", "1:7"), NOW)
    assert decode(encode(request)[1]) == request
    assert decode(b'{"kind": "something-else"}') is None
    assert decode(b"not json") is None


def test_feeds_are_flagged_quiet_and_down_and_rate_comes_from_successive_reports() -> None:
    ledger = _ledger(_status(NOW - 10, 100, NOW - 10), _status(NOW - 5, 150, NOW - 5))
    feed = build_view(ClusterSnapshot(), ledger, [], quiet_after_s=60, now=NOW)["feeds"][0]
    assert feed["events_per_s"] == 10.0 and not feed["quiet"] and not feed["down"]
    quiet = build_view(ClusterSnapshot(), ledger, [], quiet_after_s=2, now=NOW)["feeds"][0]
    assert quiet["quiet"]
    down = build_view(ClusterSnapshot(), ledger, [], quiet_after_s=60, now=NOW + 60)["feeds"][0]
    assert down["down"] and down["instances_up"] == 0


def test_a_restarted_instance_keeps_its_last_event_time() -> None:
    ledger = _ledger(_status(NOW - 10, 100, NOW - 10), _status(NOW - 1, 0, None))
    feed = build_view(ClusterSnapshot(), ledger, [], quiet_after_s=60, now=NOW)["feeds"][0]
    assert feed["last_event_time"] == NOW - 10


def test_each_reject_shows_the_outcome_of_its_latest_replay() -> None:
    notices = [
        RejectNotice(f"0:{i}", "hl7v2", "map", "DataError", "m", f"f:{i}", f"t{i}", 0, False)
        for i in range(3)
    ]
    request = ReplayRequest("r1", "hl7v2", ("0:0", "0:1"), NOW)
    result = ReplayResult(
        "r1", "hl7v2", ("0:0", "0:1"), 2, 1, 1, 0, results={"0:0": "delivered", "0:1": "failed-again"}
    )
    view = build_view(ClusterSnapshot(), _ledger(*notices, request, result), [], quiet_after_s=60, now=NOW)
    status = {r["entry"]: r["status"] for r in view["rejects"]}
    assert status == {"0:0": "delivered", "0:1": "failed-again", "0:2": "new"}
    assert view["rejects_by_reason"] == [
        {"agency": "gp", "adapter": "hl7v2", "stage": "map", "error_class": "DataError", "count": 3}
    ]
    assert view["replays"][0]["status"] == "done" and view["replays"][0]["events"] == 1
    pending = build_view(ClusterSnapshot(), _ledger(*notices, request), [], quiet_after_s=60, now=NOW)
    assert {r["entry"]: r["status"] for r in pending["rejects"]}["0:0"] == "requested"


def test_lag_in_seconds_is_interpolated_from_when_end_offsets_grew() -> None:
    history = EndOffsetHistory()
    history.record(100.0, 10)  # ten records before the monitor started
    history.record(110.0, 20)
    history.record(120.0, 20)  # no change: not a new sample
    history.record(130.0, 40)
    assert history.lag(40, 200.0).seconds == 0.0  # caught up
    lag = history.lag(29, 200.0)  # record 29 appended between t=110 (end 20) and t=130 (end 40)
    assert abs(lag.seconds - (200.0 - 120.0)) < 1e-9 and not lag.lower_bound
    early = history.lag(5, 200.0)  # older than the history: at least since it started
    assert early.lower_bound and early.seconds == 100.0
