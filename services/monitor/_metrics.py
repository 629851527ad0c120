"""The monitor's view as Prometheus metrics (the alert rules in ``deploy/prometheus`` use them).

Labels are agency, adapter, stage, group and topic names only: names the exchange chose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["exposition"]


class _ViewCollector(Collector):
    def __init__(self, view: Callable[[], dict[str, Any]]) -> None:
        self._view = view

    def collect(self) -> Iterator[Metric]:
        view = self._view()
        if not view:
            return
        feed = ["agency", "adapter"]
        records_in = CounterMetricFamily(
            "mais_monitor_feed_records_in", "Records read by the feed's adapters.", labels=feed
        )
        events_out = CounterMetricFamily(
            "mais_monitor_feed_events_out", "Events committed by the feed.", labels=feed
        )
        rejected = CounterMetricFamily(
            "mais_monitor_feed_rejected",
            "Records the feed sent to its DLQ, by stage.",
            labels=[*feed, "stage"],
        )
        last = GaugeMetricFamily(
            "mais_monitor_feed_last_event_timestamp_seconds",
            "When the feed last committed an event.",
            labels=feed,
        )
        up = GaugeMetricFamily(
            "mais_monitor_feed_up", "1 if an instance of the feed reported recently.", labels=feed
        )
        for f in view["feeds"]:
            labels = [f["agency"], f["adapter"]]
            records_in.add_metric(labels, f["records_in"])
            events_out.add_metric(labels, f["events_out"])
            for stage, count in f["rejected"].items():
                rejected.add_metric([*labels, stage], count)
            if f["last_event_time"]:
                last.add_metric(labels, f["last_event_time"])
            up.add_metric(labels, 0 if f["down"] else 1)
        yield from (records_in, events_out, rejected, last, up)

        waiting = GaugeMetricFamily(
            "mais_monitor_dlq_unreplayed_entries", "DLQ entries not (successfully) replayed.", labels=feed
        )
        counts: dict[tuple[str, str], int] = {}
        for r in view["rejects"]:
            if r["status"] != "delivered":
                counts[(r["agency"], r["adapter"])] = counts.get((r["agency"], r["adapter"]), 0) + 1
        for (agency, adapter), count in sorted(counts.items()):
            waiting.add_metric([agency, adapter], count)
        yield waiting

        lag_labels = ["group", "topic", "agency"]
        lag = GaugeMetricFamily(
            "mais_monitor_consumer_lag_records", "Records not yet consumed.", labels=lag_labels
        )
        lag_s = GaugeMetricFamily(
            "mais_monitor_consumer_lag_seconds",
            "Age of the oldest record not yet consumed.",
            labels=lag_labels,
        )
        for g in view["lag"]:
            lag.add_metric([g["group"], g["topic"], g["agency"]], g["lag_records"])
            lag_s.add_metric([g["group"], g["topic"], g["agency"]], g["lag_seconds"])
        yield from (lag, lag_s)

        broker = view["broker"]
        yield GaugeMetricFamily("mais_monitor_brokers", "Brokers in the cluster.", value=broker["brokers"])
        yield GaugeMetricFamily(
            "mais_monitor_under_replicated_partitions",
            "Partitions of agency topics with fewer in-sync replicas than replicas.",
            value=broker["under_replicated_partitions"],
        )
        yield GaugeMetricFamily(
            "mais_monitor_offline_partitions",
            "Partitions without a leader.",
            value=broker["offline_partitions"],
        )


def exposition(view: Callable[[], dict[str, Any]]) -> bytes:
    registry = CollectorRegistry()
    registry.register(_ViewCollector(view))
    return bytes(generate_latest(registry))
