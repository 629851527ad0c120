"""Reading the DLQ back, and replaying chosen rejects through a (fixed) adapter.

A replay runs in Kafka transactions, like the runtime: for each chosen DLQ entry, its events
(or, if it fails again, one new DLQ entry with ``mais_dlq_replays`` increased) are committed
together with a marker on the progress topic saying that entry was replayed. An entry is
therefore replayed at most once, and a record that fails again returns to the DLQ exactly once.
Events carry the same deterministic ``ce_id`` as if the record had been accepted first time, and
the sender that pushed the record (``mais_dlq_sender``), if any, as their ``ce_authid``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from exchange.adapter import SourceRecord
from exchange.errors import TransientError
from exchange.ingress import Sender
from exchange.runtime._context import LoopContext
from exchange.runtime._control import Backoff
from exchange.runtime._dlq import DlqEntry
from exchange.runtime._pipeline import Pipeline, UnitResult
from exchange.runtime._progress import Progress, ProgressStore
from exchange.runtime._txn import TransactionalWriter
from exchange.settings import KafkaSettings
from exchange.topics import client_id, dlq_topic, progress_topic

__all__ = ["ReplayReport", "read_dlq", "replay", "replayed_coordinates"]

_REPLAY_PROGRESS = "dlq-replay"


@dataclass
class ReplayReport:
    replayed: int = 0
    events: int = 0
    failed_again: int = 0
    skipped: int = 0
    outcomes: dict[str, str] = dataclasses.field(default_factory=dict)
    """entry coordinate -> ``delivered``, ``failed-again`` or ``skipped`` (replayed before)."""


def read_dlq(kafka: KafkaSettings, agency: str, timeout_s: float = 30.0) -> list[DlqEntry]:
    """Every committed entry of the agency's DLQ, oldest first per partition."""
    topic = dlq_topic(agency)
    config: dict[str, Any] = {
        **kafka.confluent_config(),
        "group.id": f"{topic}.reader.{uuid.uuid4().hex}",  # under the agency's prefix
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    }
    consumer = Consumer(config)
    entries: list[DlqEntry] = []
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            return []
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions])
        remaining = set(metadata.partitions)
        while remaining:
            message = consumer.poll(timeout_s)
            if message is None:
                raise TransientError(f"timed out reading {topic}")
            error = message.error()
            partition = int(message.partition() or 0)
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(partition)
                    continue
                raise TransientError(f"cannot read {topic}: {error.name()}")
            key, value = message.key(), message.value()
            raw_headers: Any = message.headers() or []
            headers = [(n, v.encode() if isinstance(v, str) else v) for n, v in raw_headers]
            entries.append(
                DlqEntry.from_message(
                    partition,
                    int(message.offset() or 0),
                    key.encode() if isinstance(key, str) else key,
                    value.encode() if isinstance(value, str) else value,
                    headers,
                )
            )
    finally:
        consumer.close()
    return entries


def replayed_coordinates(kafka: KafkaSettings, agency: str) -> set[str]:
    """``partition:offset`` of every DLQ entry already replayed."""
    store = ProgressStore(kafka, progress_topic(agency), _REPLAY_PROGRESS)
    store.ensure_topic()
    store.load()
    return {unit for unit, progress in store._state.items() if progress.complete}


def replay(ctx: LoopContext, entries: Sequence[DlqEntry], *, chunk: int = 500) -> ReplayReport:
    """Send ``entries`` through ``ctx.pipeline`` again; see the module documentation."""
    store = ProgressStore(ctx.kafka, progress_topic(ctx.agency), _REPLAY_PROGRESS)
    store.ensure_topic()
    writer = TransactionalWriter(ctx.kafka, client_id(ctx.agency, "dlq-replay", ctx.adapter_name))
    writer.init()
    store.load()
    report = ReplayReport()
    pending = []
    for entry in entries:
        if store.get(entry.coordinate).complete:
            report.skipped += 1
            report.outcomes[entry.coordinate] = "skipped"
        else:
            pending.append(entry)
    pipelines: dict[str, Pipeline] = {}
    backoff = Backoff()
    for start in range(0, len(pending), chunk):
        batch = pending[start : start + chunk]
        while True:
            try:
                _replay_chunk(ctx, writer, store, batch, pipelines=pipelines, report=report)
                break
            except TransientError as error:
                writer.abort()
                ctx.log.warning("replay transaction aborted; retrying", error=error.message)
                if ctx.stop.wait(backoff.next_delay()):
                    return report
    writer.flush()
    return report


def _replay_chunk(
    ctx: LoopContext,
    writer: TransactionalWriter,
    store: ProgressStore,
    batch: Iterable[DlqEntry],
    *,
    pipelines: dict[str, Pipeline],
    report: ReplayReport,
) -> None:
    writer.begin()
    results: list[tuple[DlqEntry, UnitResult]] = []
    for entry in batch:
        pipeline = _pipeline_for(ctx.pipeline, entry.source, pipelines)
        sender = _sender(entry)
        if entry.unit:
            result = pipeline.process_unit(entry.value, entry.origin, entry.original_headers, sender=sender)
        else:
            result = UnitResult()
            record = SourceRecord(entry.value, entry.origin)
            pipeline.process_record(record, entry.original_headers, result, sender=sender)
        ctx.write_result(
            writer,
            result,
            entry.coordinate,
            key=entry.key,
            headers=entry.original_headers,
            kafka_coordinates=entry.kafka_coordinates,
            replays=entry.replays + 1,
            sender=sender,
        )
        marker = Progress(done=1, complete=True)
        writer.produce(store.topic, store.key(entry.coordinate), marker.encode(), [], entry.coordinate)
        results.append((entry, result))
    writer.commit()
    for entry, result in results:
        store.set(entry.coordinate, Progress(1, True))
        report.replayed += 1
        report.events += len(result.outputs)
        report.failed_again += 1 if result.rejects else 0
        report.outcomes[entry.coordinate] = "failed-again" if result.rejects else "delivered"


def _sender(entry: DlqEntry) -> Sender | None:
    """Who pushed the rejected unit, as its DLQ headers say (``None`` if nobody authenticated)."""
    if entry.sender and entry.sender_auth == "certificate":
        return Sender(entry.sender, "certificate")
    if entry.sender and entry.sender_auth == "token":
        return Sender(entry.sender, "token")
    return None


def _pipeline_for(base: Pipeline, source: str, pipelines: dict[str, Pipeline]) -> Pipeline:
    """A pipeline whose envelopes name the entry's original source (so event ids match)."""
    if source not in pipelines:
        pipelines[source] = Pipeline(
            base.adapter,
            base.context,
            base.codec,
            base._resolve_schema,
            dataclasses.replace(base.identity, source=source),
        )
    return pipelines[source]
