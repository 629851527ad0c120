"""What every source loop shares: the pipeline, settings, metrics, health, stop signal, logger."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exchange.errors import MaisError
from exchange.metrics import HealthState, RuntimeMetrics
from exchange.runtime._control import StopSignal
from exchange.runtime._dlq import Reject, dlq_headers, dlq_messages
from exchange.runtime._pipeline import Pipeline, UnitResult
from exchange.runtime._settings import RuntimeSettings
from exchange.runtime._txn import TransactionalWriter
from exchange.settings import KafkaSettings
from exchange.topics import dlq_topic

if TYPE_CHECKING:
    from exchange.ingress import Sender

__all__ = ["LoopContext", "Refusals"]

_DLQ_TAG = "\x1fdlq"


class Refusals:
    """Inputs whose messages the broker refused for good, and what the next attempt writes instead.

    An input whose *outputs* were refused goes to the DLQ (stage ``produce``); an input whose *DLQ
    entry* was refused (the topic takes less than the producer) is written as a stub. A stub is a
    few hundred bytes: if even that is refused, the DLQ topic is misconfigured and the adapter
    stops with a message saying so — it never retries the same refused write for ever.
    Cleared after every commit: tags name inputs of the open transaction only.
    """

    def __init__(self) -> None:
        self._outputs: set[str] = set()
        self._stubs: set[str] = set()

    def record(self, tags: set[str], dlq: str) -> None:
        for tag in tags:
            if not tag.endswith(_DLQ_TAG):
                self._outputs.add(tag)
                continue
            base = tag.removesuffix(_DLQ_TAG)
            if base in self._stubs:
                raise MaisError(
                    f"the broker refused even a DLQ stub on {dlq}",
                    hint="check the max.message.bytes of the DLQ topic and MAIS_RUNTIME_MAX_MESSAGE_BYTES",
                )
            self._stubs.add(base)

    def outputs_refused(self, tag: str) -> bool:
        return tag in self._outputs

    def stub_only(self, tag: str) -> bool:
        return tag in self._stubs

    def clear(self) -> None:
        self._outputs.clear()
        self._stubs.clear()


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
    settings: RuntimeSettings = field(default_factory=RuntimeSettings)
    refusals: Refusals = field(default_factory=Refusals)

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

    def refused(self, tag: str, data: bytes, origin: str, *, unit: bool) -> UnitResult | None:
        """The result to write instead of processing an input whose outputs the broker refused."""
        if not self.refusals.outputs_refused(tag):
            return None
        message = "the broker refused an output for good (too large for its topic?)"
        reject = Reject("produce", "MessageRefused", message, data, origin, unit)
        return UnitResult(rejects=[reject], records=1)

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
        kept: str | None = None,
        sender: Sender | None = None,
    ) -> None:
        """Queue a unit's outputs and DLQ rejects in the open transaction.

        ``kept`` says where the unit's content stays available (named in a stub's headers).
        """
        for out in result.outputs:
            writer.produce(out.topic, out.key, out.value, out.headers, tag)
        for reject in result.rejects:
            self.write_reject(
                writer,
                reject if reject.kept or not kept else dataclasses.replace(reject, kept=kept),
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
        """Queue ``reject`` for the DLQ: whole if it fits in a message, else as a stub (or chunks)."""

        def build(content: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
            return dlq_headers(
                reject,
                adapter=self.adapter_name,
                agency=self.agency,
                source=self.pipeline.identity.source,
                original_headers=headers,
                kafka_coordinates=kafka_coordinates,
                replays=replays,
                sender=(sender.name, sender.method) if sender else None,
                content=content,
            )

        messages = dlq_messages(
            reject,
            key,
            build(),
            build,
            max_bytes=self.settings.max_message_bytes,
            oversize=self.settings.oversize_content,
            force_stub=self.refusals.stub_only(tag),
        )
        for message_key, value, message_headers in messages:
            writer.produce(self.dlq, message_key, value, message_headers, tag + _DLQ_TAG)

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
