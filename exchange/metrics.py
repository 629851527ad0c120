"""Prometheus metrics of an adapter process, and its ``/metrics``, ``/healthz``, ``/readyz`` endpoint.

Labels are only ever ``adapter``, ``agency``, ``stage``, ``topic`` and a warning's ``code``:
names we chose, never anything taken from a record. :class:`RuntimeMetrics` checks every label value against a
strict pattern, so a record value cannot become a label by mistake.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["STAGES", "FeedTotals", "HealthState", "MetricsServer", "RuntimeMetrics"]

STAGES: tuple[str, ...] = ("read", "parse", "map", "validate", "serialize", "produce")
"""Where in the pipeline a record failed; used in DLQ headers, logs and metric labels."""

_LABEL_VALUE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")
_TOPIC_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,248}$")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str, pattern: re.Pattern[str] = _LABEL_VALUE) -> str:
    if not pattern.match(value):
        raise ValueError("metric label values must be lower-case names (adapter, agency, stage, topic)")
    return value


class RuntimeMetrics:
    """The metrics one adapter process exports, bound to its adapter and agency."""

    def __init__(self, adapter: str, agency: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.adapter = _label(adapter.replace("_", "-"))
        self.agency = _label(agency)
        self._in = Counter(
            "mais_records_in",
            "Source records read by the adapter.",
            ["adapter", "agency", "topic"],
            registry=self.registry,
        )
        self._out = Counter(
            "mais_records_out",
            "Standard events committed to the agency's topics.",
            ["adapter", "agency", "topic"],
            registry=self.registry,
        )
        self._rejected = Counter(
            "mais_records_rejected",
            "Records sent to the DLQ, by the stage that failed.",
            ["adapter", "agency", "stage"],
            registry=self.registry,
        )
        self._retries = Counter(
            "mais_transient_retries",
            "Retries after a transient failure (broker, registry), by stage.",
            ["adapter", "agency", "stage"],
            registry=self.registry,
        )
        self._warnings = Counter(
            "mais_adapter_warnings",
            "Recoverable problems an adapter reported while translating (a field left out), by code.",
            ["adapter", "agency", "code"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "mais_processing_latency_seconds",
            "Time from reading a source record to its output being committed.",
            ["adapter", "agency"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._last_event = Gauge(
            "mais_last_event_timestamp_seconds",
            "When the adapter last committed a standard event (Unix time).",
            ["adapter", "agency"],
            registry=self.registry,
        )
        self._lag = Gauge(
            "mais_consumer_lag",
            "Records in the source topic not yet processed (sum over assigned partitions).",
            ["adapter", "agency", "topic"],
            registry=self.registry,
        )

    def records_in(self, topic: str, count: int = 1) -> None:
        self._in.labels(self.adapter, self.agency, _label(topic, _TOPIC_VALUE)).inc(count)

    def records_out(self, topic: str, count: int = 1) -> None:
        self._out.labels(self.adapter, self.agency, _label(topic, _TOPIC_VALUE)).inc(count)
        if count:
            self._last_event.labels(self.adapter, self.agency).set_to_current_time()

    def totals(self) -> FeedTotals:
        """Records in, events out and rejects by stage so far, and when the last event went out."""
        totals = FeedTotals()
        for family in self.registry.collect():
            for sample in family.samples:
                if sample.name == "mais_records_in_total":
                    totals.records_in += int(sample.value)
                elif sample.name == "mais_records_out_total":
                    totals.events_out += int(sample.value)
                elif sample.name == "mais_records_rejected_total":
                    stage = sample.labels["stage"]
                    totals.rejected[stage] = totals.rejected.get(stage, 0) + int(sample.value)
                elif sample.name == "mais_last_event_timestamp_seconds":
                    totals.last_event_time = sample.value
        return totals

    def rejected(self, stage: str, count: int = 1) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        self._rejected.labels(self.adapter, self.agency, stage).inc(count)

    def retried(self, stage: str) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        self._retries.labels(self.adapter, self.agency, stage).inc()

    def warned(self, code: str) -> None:
        """Count one adapter warning; a code that is not a lower-case name counts as ``other``."""
        label = code if _LABEL_VALUE.match(code) else "other"
        self._warnings.labels(self.adapter, self.agency, label).inc()

    def observe_latency(self, seconds: float) -> None:
        self._latency.labels(self.adapter, self.agency).observe(seconds)

    def set_lag(self, topic: str, lag: int) -> None:
        self._lag.labels(self.adapter, self.agency, _label(topic, _TOPIC_VALUE)).set(lag)

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format."""
        return bytes(generate_latest(self.registry))


@dataclass
class FeedTotals:
    """A snapshot of an adapter's counters (see :meth:`RuntimeMetrics.totals`)."""

    records_in: int = 0
    events_out: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    last_event_time: float | None = None


@dataclass
class HealthState:
    """What ``/healthz`` (the process loop is alive) and ``/readyz`` (it can do work) report."""

    live: bool = True
    ready: bool = False
    reason: str = "starting"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set(self, *, ready: bool, reason: str) -> None:
        with self._lock:
            self.ready, self.reason = ready, reason


class MetricsServer:
    """A small HTTP server on its own thread: ``/metrics``, ``/healthz``, ``/readyz``."""

    def __init__(self, metrics: RuntimeMetrics, health: HealthState, host: str, port: int) -> None:
        handler = _make_handler(metrics, health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _make_handler(metrics: RuntimeMetrics, health: HealthState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok = health.live
                self._send(200 if ok else 503, b"ok\n" if ok else b"stopped\n", "text/plain")
            elif self.path == "/readyz":
                body = f"{'ready' if health.ready else 'not ready'}: {health.reason}\n".encode()
                self._send(200 if health.ready else 503, body, "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
