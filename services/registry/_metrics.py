"""Prometheus metrics of the registry (process-wide; labels carry no subject names)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["LOST_RACES", "RECORDS_APPLIED", "REQUESTS", "REQUEST_SECONDS"]

REQUESTS = Counter("mais_registry_requests_total", "HTTP requests handled", ["method", "route", "status"])
REQUEST_SECONDS = Histogram("mais_registry_request_seconds", "HTTP request duration", ["method", "route"])
RECORDS_APPLIED = Counter(
    "mais_registry_log_records_total", "Records read from the _schemas log", ["outcome"]
)
LOST_RACES = Counter(
    "mais_registry_write_lost_races_total", "Writes that another instance beat to the log slot"
)
