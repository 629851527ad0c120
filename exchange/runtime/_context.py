"""What every source loop shares: the pipeline, settings, metrics, health, stop signal, logger."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exchange.metrics import HealthState, RuntimeMetrics
from exchange.runtime._control import StopSignal
from exchange.runtime._dlq import Reject, dlq_headers
from exchange.runtime._pipeline import Pipeline, UnitResult
from exchange.runtime._txn import TransactionalWriter
from exchange.settings import KafkaSettings
from exchange.topics import dlq_topic

if TYPE_CHECKING:
    from exchange.ingress import Sender

__all__ = ["LoopContext"]


@dataclass
class LoopContext:
    """Everything a source loop needs besides its source."""

    pipeline: Pipeline
    kafka: KafkaSettings
    metrics: RuntimeMetrics
    health: HealthState
    stop: StopSignal
    log: Any
    instance_id: str = "0"
    batch_size: int = 2000
    poll_timeout_s: float = 0.2

    @property
    def agency(self) -> str:
        return self.pipeline.identity.agency

    @property
    def adapter_name(self) -> str:
        return self.pipeline.identity.adapter

    @property
    def dlq(self) -> str:
        return dlq_topic(self.agency)

    def log_retry(self, error: Exception, delay_s: float) -> None:
        """``on_retry`` callback for :func:`retry_transient`: one log line per retry."""
        self.log.warning("transient failure; retrying", error=str(error), delay_s=round(delay_s, 2))

    def write_result(
        self,
        writer: TransactionalWriter,
        result: UnitResult,
        tag: str,
        *,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes | None]] | None,
        kafka_coordinates: tuple[str, int, int] | None = None,
        replays: int = 0,
        sender: Sender | None = None,
    ) -> None:
        """Queue a unit's outputs and DLQ rejects in the open transaction."""
        for out in result.outputs:
            writer.produce(out.topic, out.key, out.value, out.headers, tag)
        for reject in result.rejects:
            self.write_reject(
                writer,
                reject,
                tag,
                key=key,
                headers=headers,
                kafka_coordinates=kafka_coordinates,
                replays=replays,
                sender=sender,
            )

    def write_reject(
        self,
        writer: TransactionalWriter,
        reject: Reject,
        tag: str,
        *,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes | None]] | None,
        kafka_coordinates: tuple[str, int, int] | None = None,
        replays: int = 0,
        sender: Sender | None = None,
    ) -> None:
        dlq_message_headers = dlq_headers(
            reject,
            adapter=self.adapter_name,
            agency=self.agency,
            source=self.pipeline.identity.source,
            original_headers=headers,
            kafka_coordinates=kafka_coordinates,
            replays=replays,
            sender=(sender.name, sender.method) if sender else None,
        )
        writer.produce(self.dlq, key, reject.data, dlq_message_headers, tag)

    def count_committed(self, results: Sequence[UnitResult], started: float) -> None:
        """Metrics and a log line once a transaction with these results committed."""
        out_counts: dict[str, int] = {}
        for result in results:
            for out in result.outputs:
                out_counts[out.topic] = out_counts.get(out.topic, 0) + 1
            for reject in result.rejects:
                self.metrics.rejected(reject.stage)
                self.log.warning(
                    "record rejected to the DLQ",
                    stage=reject.stage,
                    error_class=reject.error_class,
                    error=reject.message,
                    origin=reject.origin,
                )
        for topic, count in out_counts.items():
            self.metrics.records_out(topic, count)
        self.metrics.observe_latency(time.monotonic() - started)
