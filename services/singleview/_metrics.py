"""The SingleView's Prometheus metrics. Labels are agency ids and stages only: never record content."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

__all__ = ["SingleViewMetrics"]


class SingleViewMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.applied = Counter(
            "mais_singleview_events_applied",
            "Events applied to the store.",
            ["agency"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "mais_singleview_events_rejected",
            "Events sent to the DLQ, by stage.",
            ["stage"],
            registry=self.registry,
        )
        self.ingest_lag = Gauge(
            "mais_singleview_ingest_lag_seconds",
            "Time from an event's write to Kafka to its commit in the store (last batch).",
            registry=self.registry,
        )
        self.batches = Counter(
            "mais_singleview_batches", "Store transactions committed.", registry=self.registry
        )
        self.records = Gauge("mais_singleview_records", "Agency person records held.", registry=self.registry)
        self.persons = Gauge(
            "mais_singleview_persons", "Persons the records are linked into.", registry=self.registry
        )
        self.possible = Gauge(
            "mais_singleview_possible_matches",
            "Possible matches kept apart for review.",
            registry=self.registry,
        )
        self.views = Counter(
            "mais_singleview_person_views",
            "Person pages or API views served (each audited).",
            registry=self.registry,
        )
        self.searches = Counter("mais_singleview_searches", "Searches made.", registry=self.registry)

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))
