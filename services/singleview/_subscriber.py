"""The subscriber: every agency's standard topics -> the store, exactly once.

It reads every partition of every topic matching a pattern (``mais.<agency>.person|episode|event.v1``;
the topic list is read again every ``metadata_refresh_ms`` on a thread of its own, so a new
agency's topics are picked up without a restart and without stalling ingest), decodes each value
through the schema registry into the reader schema this code knows (a newer compatible writer
schema still reads), and applies a batch and the positions it reaches in one database transaction.
Positions live in the database, not in Kafka: each partition is assigned at its stored position,
and a message below it is never applied twice.

The subscriber assigns partitions itself rather than through a consumer group: a SingleView is a
whole view, so every replica needs every partition (a group would share them out), and a
restarted process starts reading at once instead of waiting for the group to notice the old one
is gone. Positions are still committed under ``group_id`` after each batch, only so that
operators' lag monitors see them.

A value that cannot be decoded goes to the DLQ topic with its original bytes and the reason; its
position advances with the batch. A transient failure (registry or database unreachable) rolls
back, seeks back to the stored positions and retries with backoff.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, cast

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from exchange.codec import AvroCodec
from exchange.envelope import parse_headers
from exchange.errors import DataError, MaisError, TransientError
from exchange.logging import get_logger
from exchange.runtime import Reject, dlq_headers
from exchange.schemas import event_names, schema_json
from exchange.settings import KafkaSettings
from services.singleview._heap import HeapKeeper
from services.singleview._live import Notifier
from services.singleview._metrics import SingleViewMetrics
from services.singleview._queries import person_ids_for_subjects
from services.singleview._records import Event
from services.singleview._settings import SingleViewSettings
from services.singleview._storeapi import Store
from services.singleview._topics import TopicWatcher

__all__ = ["Subscriber"]

_log = get_logger("mais.singleview.subscriber")
_READERS = {name: schema_json(name) for name in event_names()}


@dataclass
class _Read:
    """What one poll brought: decoded events, the positions they reach, rejects, newest time."""

    events: list[Event] = field(default_factory=list)
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    rejects: int = 0
    newest: float = 0.0


class Subscriber:
    """Runs on its own thread until :meth:`stop`."""

    def __init__(
        self,
        store: Store,
        codec: AvroCodec,
        *,
        kafka: KafkaSettings,
        settings: SingleViewSettings,
        metrics: SingleViewMetrics,
        notifier: Notifier,
    ) -> None:
        self.store, self.codec, self.kafka, self.settings = store, codec, kafka, settings
        self.metrics, self.notifier = metrics, notifier
        self._stop = threading.Event()
        self._positions: dict[tuple[str, int], int] = {}
        self._assigned: set[tuple[str, int]] = set()
        self._seen: frozenset[tuple[str, int]] = frozenset()
        self._pattern = re.compile(settings.topic_pattern)
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="singleview-subscriber", daemon=True)

    def start(self) -> Subscriber:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self.loop()
        except BaseException as exc:  # the web side reports it on /readyz
            self.failure = exc
            _log.error("subscriber stopped", exc_info=exc)

    def loop(self) -> None:
        consumer = Consumer(
            {
                **self.kafka.confluent_config(),
                "group.id": self.settings.group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 50,
            }
        )
        producer = Producer({**self.kafka.confluent_config(), "enable.idempotence": True})
        self._positions = self.store.offsets()
        _log.info("subscriber consuming", group=self.settings.group_id)
        delay = 0.5
        watcher = TopicWatcher(
            self.kafka.confluent_config(), self._pattern, self.settings.metadata_refresh_ms / 1000
        ).start(consumer)
        heap = HeapKeeper().start()
        try:
            while not self._stop.is_set():
                latest = watcher.partitions  # replaced whole by the watcher when it reads the list
                if latest is not self._seen:
                    self._assign_new_partitions(consumer, latest)
                first = consumer.poll(0.5)
                if first is None:
                    self.ready.set()
                    heap.idle()
                    continue
                messages = [first, *consumer.consume(num_messages=self.settings.batch_size - 1, timeout=0)]
                try:
                    self._process(consumer, producer, messages)
                    heap.settle()
                    delay = 0.5
                except TransientError as exc:
                    _log.warning("batch rolled back; reading it again", error=exc.message, delay_s=delay)
                    self._seek_stored(consumer)
                    self._stop.wait(delay)
                    delay = min(delay * 2, 10.0)
        finally:
            heap.stop()
            watcher.stop()
            consumer.close()
            producer.flush(10)
        _log.info("subscriber stopped cleanly")

    def _stored(self, partitions: AbstractSet[tuple[str, int]]) -> list[TopicPartition]:
        return [
            TopicPartition(t, p, self._positions.get((t, p), OFFSET_BEGINNING)) for t, p in sorted(partitions)
        ]

    def _assign_new_partitions(self, consumer: Any, wanted: frozenset[tuple[str, int]]) -> None:
        """Start reading partitions of matching topics not read yet, each at its stored position."""
        self._seen = wanted
        new = wanted - self._assigned
        if new:
            consumer.incremental_assign(self._stored(new))
            self._assigned |= new
            _log.info("partitions assigned", count=len(new), size=len(self._assigned))

    def _seek_stored(self, consumer: Any) -> None:
        """Read again from the stored positions (after a batch rolled back)."""
        self._positions = self.store.offsets()
        consumer.assign(self._stored(self._assigned))

    def _read(self, producer: Producer, messages: list[Message]) -> _Read:
        """Decode a poll's messages; undecodable ones go to the DLQ (their positions advance too)."""
        read = _Read()
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise MaisError(f"the consumer failed fatally: {error.name()}")
                if error.code() != KafkaError._PARTITION_EOF:
                    _log.warning("consumer error", error_class=error.name())
                continue
            topic, partition, offset = (
                str(message.topic()),
                int(message.partition() or 0),
                int(message.offset() or 0),
            )
            if offset < self._positions.get((topic, partition), 0):
                continue  # already in the store (read again after a batch rolled back)
            read.positions[(topic, partition)] = offset + 1
            read.newest = max(read.newest, (message.timestamp()[1] or 0) / 1000)
            try:
                read.events.append(self._decode(message, topic, partition, offset))
            except DataError as exc:
                read.rejects += 1
                self._dead_letter(producer, message, exc, (topic, partition, offset))
        return read

    def _process(self, consumer: Any, producer: Producer, messages: list[Message]) -> None:
        read = self._read(producer, messages)
        events, positions, newest = read.events, read.positions, read.newest
        if not positions:
            return
        if read.rejects and producer.flush(30) > 0:
            raise TransientError("the DLQ write was not acknowledged")
        try:
            applied = self.store.apply_batch(events, positions)
        except MaisError:
            raise
        except Exception as exc:  # a database that went away: retry from the stored positions
            raise TransientError(f"store transaction failed ({type(exc).__name__})") from exc
        self._positions.update(positions)
        for agency, count in Counter(event.agency for event in events).items():
            self.metrics.applied.labels(agency).inc(count)
        self.metrics.batches.inc()
        if newest:
            self.metrics.ingest_lag.set(max(0.0, time.time() - newest))
        person_ids = applied.person_ids | person_ids_for_subjects(self.store.reader(), applied.subject_keys)
        self.notifier.publish(person_ids)
        with contextlib.suppress(KafkaException):  # informational only: the store holds the positions
            consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in positions.items()], asynchronous=True
            )

    def _decode(self, message: Message, topic: str, partition: int, offset: int) -> Event:
        value = message.value()
        if value is None:
            raise DataError("message has no value", stage="read")
        envelope = parse_headers(cast(Any, message.headers()))
        reader = _READERS.get(envelope.type)
        if reader is None:
            raise DataError(f"event type {envelope.type!r} is not a standard event", stage="read")
        decoded = self.codec.decode(value, reader)
        raw_key = message.key()
        key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else str(raw_key or "")
        if not key:
            raise DataError("message has no key", stage="read")
        return Event(topic, partition, offset, key, envelope.type, decoded.value)

    def _dead_letter(
        self, producer: Producer, message: Message, exc: DataError, coordinates: tuple[str, int, int]
    ) -> None:
        self.metrics.rejected.labels(exc.stage).inc()
        reject = Reject(
            exc.stage,
            type(exc).__name__,
            exc.message,
            message.value() or b"",
            "/".join(map(str, coordinates)),
        )
        headers = dlq_headers(
            reject, adapter="singleview", agency="singleview", source=coordinates[0],
            original_headers=cast(Any, message.headers()), kafka_coordinates=coordinates,
        )  # fmt: skip
        producer.produce(
            self.settings.dlq_topic, value=message.value(), key=message.key(), headers=cast(Any, headers)
        )
        _log.warning("event sent to the DLQ", topic=coordinates[0], partition=coordinates[1],
                     offset=coordinates[2], stage=exc.stage, error=exc.message)  # fmt: skip
