"""The monitor's one picture of the exchange, as plain JSON-able data (the API and the page).

Built from what the cluster says (offsets, lag, health), what agencies' adapters report on their
ops topics (counters, reject notices, replay results) and the registry's subjects. It holds no
record content: the monitor never had any.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from exchange.ops import FeedStatus
from services.monitor._cluster import ClusterSnapshot
from services.monitor._ops import OpsLedger

__all__ = ["build_view"]

_MAX_REJECTS = 500
_DOWN_AFTER_INTERVALS = 3


def build_view(
    cluster: ClusterSnapshot,
    ledger: OpsLedger,
    schemas: list[dict[str, Any]],
    *,
    quiet_after_s: float,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    return {
        "generated_at": now,
        "quiet_after_s": quiet_after_s,
        "broker": {
            "ok": cluster.ok and cluster.offline_partitions == 0,
            "reachable": cluster.ok,
            "error": cluster.error,
            "cluster_id": cluster.cluster_id,
            "brokers": cluster.brokers,
            "controller": cluster.controller,
            "under_replicated_partitions": cluster.under_replicated,
            "offline_partitions": cluster.offline_partitions,
            "checked_at": cluster.at,
        },
        "agencies": sorted(set(cluster.agencies) | {a for a, _, _ in ledger.feeds}),
        "feeds": _feeds(ledger, quiet_after_s, now),
        "topics": [dataclasses.asdict(t) for t in cluster.topics],
        "lag": [dataclasses.asdict(g) for g in cluster.lag],
        "rejects": _rejects(ledger),
        "rejects_by_reason": _by_reason(ledger),
        "replays": _replays(ledger),
        "schemas": schemas,
    }


def _feeds(ledger: OpsLedger, quiet_after_s: float, now: float) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[tuple[FeedStatus, FeedStatus | None]]] = {}
    for key, status in ledger.feeds.items():
        grouped.setdefault((key[0], key[1]), []).append((status, ledger.previous_feeds.get(key)))
    feeds = []
    for (agency, adapter), statuses in sorted(grouped.items()):
        up = [s for s, _ in statuses if now - s.sent_at <= _DOWN_AFTER_INTERVALS * s.interval_s]
        rejected: dict[str, int] = {}
        for status, _ in statuses:
            for stage, count in status.rejected.items():
                rejected[stage] = rejected.get(stage, 0) + count
        last = max((s.last_event_time for s, _ in statuses if s.last_event_time), default=None)
        rate = sum(_rate(s, p) for s, p in statuses if s in up)
        feeds.append(
            {
                "agency": agency,
                "adapter": adapter,
                "instances": len(statuses),
                "instances_up": len(up),
                "sources": sorted({s.source for s, _ in statuses}),
                "records_in": sum(s.records_in for s, _ in statuses),
                "events_out": sum(s.events_out for s, _ in statuses),
                "rejected": rejected,
                "rejected_total": sum(rejected.values()),
                "events_per_s": round(rate, 2),
                "last_event_time": last,
                "last_status_time": max(s.sent_at for s, _ in statuses),
                "quiet": last is None or now - last > quiet_after_s,
                "down": not up,
            }
        )
    return feeds


def _rate(status: FeedStatus, previous: FeedStatus | None) -> float:
    if previous is None or status.sent_at <= previous.sent_at or status.events_out < previous.events_out:
        return 0.0
    return (status.events_out - previous.events_out) / (status.sent_at - previous.sent_at)


def _reject_status(ledger: OpsLedger, agency: str, coordinate: str) -> tuple[str, str]:
    """(status, request id) of one reject: new, requested, delivered, failed-again, skipped."""
    latest = None
    for (req_agency, request_id), request in ledger.requests.items():
        newer = latest is None or request.requested_at > latest[1].requested_at
        if req_agency == agency and coordinate in request.entries and newer:
            latest = (request_id, request)
    if latest is None:
        return "new", ""
    result = ledger.results.get((agency, latest[0]))
    if result is None:
        return "requested", latest[0]
    if result.error:
        return "replay-failed", latest[0]
    return result.results.get(coordinate, "missing"), latest[0]


def _rejects(ledger: OpsLedger) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for (agency, coordinate), notice in ledger.rejects.items():
        status, request_id = _reject_status(ledger, agency, coordinate)
        rows.append(
            {
                "agency": agency,
                "adapter": notice.adapter,
                "entry": coordinate,
                "stage": notice.stage,
                "error_class": notice.error_class,
                "message": notice.message,
                "origin": notice.origin,
                "time": notice.time,
                "replays": notice.replays,
                "status": status,
                "request_id": request_id,
            }
        )
    rows.sort(key=lambda r: r["time"], reverse=True)
    return rows[:_MAX_REJECTS]


def _by_reason(ledger: OpsLedger) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str, str, str], int] = {}
    for (agency, _), notice in ledger.rejects.items():
        key = (agency, notice.adapter, notice.stage, notice.error_class)
        counts[key] = counts.get(key, 0) + 1
    return [
        {"agency": a, "adapter": ad, "stage": st, "error_class": ec, "count": n}
        for (a, ad, st, ec), n in sorted(counts.items())
    ]


def _replays(ledger: OpsLedger) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for (agency, request_id), request in ledger.requests.items():
        result = ledger.results.get((agency, request_id))
        rows.append(
            {
                "agency": agency,
                "adapter": request.adapter,
                "request_id": request_id,
                "entries": list(request.entries),
                "requested_at": request.requested_at,
                "status": "done"
                if result is not None and not result.error
                else (result and "failed") or "waiting",
                "replayed": result.replayed if result else 0,
                "events": result.events if result else 0,
                "failed_again": result.failed_again if result else 0,
                "skipped": result.skipped if result else 0,
                "error": result.error if result else "",
                "finished_at": result.finished_at if result else None,
            }
        )
    rows.sort(key=lambda r: r["requested_at"], reverse=True)
    return rows
