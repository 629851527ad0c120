"""Metrics of a responder: decisions by outcome, rejected requests. Labels are never record values."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from exchange.metrics import RuntimeMetrics

__all__ = ["OUTCOMES", "EnquiryMetrics"]

OUTCOMES = ("PERMIT", "DENY", "REVIEW", "reviewed-approved", "reviewed-denied")


class EnquiryMetrics(RuntimeMetrics):
    """The runtime's metrics of one responder plus its decisions (served by ``MetricsServer``)."""

    def __init__(self, agency: str, registry: CollectorRegistry | None = None) -> None:
        super().__init__("enquiry-responder", agency, registry)
        self._decisions = Counter(
            "mais_enquiry_decisions",
            "Requests decided, by outcome.",
            ["agency", "outcome"],
            registry=self.registry,
        )

    def decided(self, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self._decisions.labels(self.agency, outcome.lower()).inc()

    def rejected(self, stage: str = "read", count: int = 1) -> None:
        super().rejected(stage, count)
