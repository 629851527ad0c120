"""The subscriber's reading process: poll, decode and prepare batches on the other core.

Decoding Avro and working out what each event asks of the store (``_changes.py``) is about a
third of the subscriber's work and needs nothing the store holds, so a child process does it
while the parent writes the previous batch. Threads would not do: both halves are Python and
would take turns on one interpreter lock. What crosses the pipe is small (JSON already encoded,
records already normalised for matching), so it costs the parent a few microseconds an event
where decoding cost tens.

The child owns the consumer, the topic watcher and the DLQ producer. It never touches the store:
positions are stored by the parent with the batch that reaches them, and every partition is
assigned at the position the parent handed over. When a batch rolls back the parent sends a
rewind with the store's positions and a new generation; batches of an older generation are
dropped. The child exits when told to stop or when its parent is gone (killed included), and
ignores SIGINT/SIGTERM, which are its parent's to handle.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
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
from exchange.logging import configure_logging, get_logger
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.runtime import Reject, dlq_headers
from exchange.schemas import event_names, schema_json
from services.singleview._changes import Preparer, change_of
from services.singleview._records import Event
from services.singleview._settings import SingleViewSettings
from services.singleview._topics import TopicWatcher

__all__ = ["Batch", "CaughtUp", "Failure", "ReadingConfig", "ReadingProcess"]

_log = get_logger("mais.singleview.subscriber")
Positions = dict[tuple[str, int], int]
_POLL_S = 0.2
"""How long one poll waits: also how soon a command or the parent's death is noticed."""


@dataclass(frozen=True)
class ReadingConfig:
    """Everything the child needs (it is pickled to start it: secrets cross a pipe, never a log)."""

    kafka: dict[str, Any]
    """The confluent-kafka client settings."""
    registry: RegistrySettings
    settings: SingleViewSettings
    prepare: Preparer
    floor: Positions
    """Where each partition starts: the store's positions."""


@dataclass(frozen=True)
class Batch:
    """What one poll brought: events, the positions they reach, DLQ'd rejects by stage, newest time."""

    generation: int
    events: list[Event]
    positions: Positions
    rejects: dict[str, int]
    newest: float


@dataclass(frozen=True)
class Failure:
    """The child could not read a batch (``transient``: rewind and retry) or stopped."""

    generation: int
    transient: bool
    message: str


@dataclass(frozen=True)
class CaughtUp:
    """A poll found nothing new: every batch before this one is all there is."""

    generation: int


class ReadingProcess:
    """The parent's handle: :meth:`start`, then :meth:`next` batches in order."""

    def __init__(self, config: ReadingConfig) -> None:
        context = multiprocessing.get_context("spawn")  # the parent runs threads: never fork it
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_child, args=(config, child, os.getpid()), name="singleview-reader", daemon=True
        )
        self._child_end = child
        self.generation = 0

    def start(self) -> ReadingProcess:
        self._process.start()
        self._child_end.close()
        return self

    def next(self, timeout: float) -> Batch | Failure | CaughtUp | None:
        """What the child sent next in the current generation (``None``: nothing in ``timeout``).

        Raises :class:`MaisError` if the child has gone.
        """
        try:
            if not self._conn.poll(timeout):
                return None
            message = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(5)
            raise MaisError(
                f"the SingleView reading process stopped (exit code {self._process.exitcode})"
            ) from None
        if message.generation != self.generation:
            return None  # read before a rewind
        return cast(Batch | Failure | CaughtUp, message)

    def rewind(self, positions: Positions) -> None:
        """Drop what was read ahead; read again from ``positions`` (the store's)."""
        self.generation += 1
        self._send(("rewind", self.generation, positions))

    def committed(self, positions: Positions) -> None:
        """Commit the store's new positions under the group, for lag monitors."""
        self._send(("commit", positions))

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the child to stop; it may be waiting to send a batch, so read (and drop) until it has."""
        self._send(("stop",))
        deadline = time.monotonic() + timeout
        while self._process.is_alive() and time.monotonic() < deadline:
            try:
                if self._conn.poll(0.05):
                    self._conn.recv()
            except (EOFError, OSError):
                break
        self._process.join(max(0.0, deadline - time.monotonic()))
        if self._process.is_alive():
            self._process.kill()  # it ignores SIGTERM
            self._process.join(5)
        self._conn.close()

    def _send(self, command: tuple[Any, ...]) -> None:
        with contextlib.suppress(OSError):  # the child has gone: next() says so
            self._conn.send(command)


def _child(config: ReadingConfig, conn: Connection, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    configure_logging()
    try:
        _Reader(config, conn, parent).run()
    except (BrokenPipeError, EOFError):
        pass  # the parent has gone
    except Exception as exc:  # the parent sees the pipe close and reports it on /readyz
        _log.error("reading process stopped", exc_info=exc)
        sys.exit(1)


class _Reader:
    def __init__(self, config: ReadingConfig, conn: Connection, parent: int) -> None:
        self.config, self.conn, self.parent = config, conn, parent
        settings = config.settings
        self.consumer = Consumer(
            {
                **config.kafka,
                "group.id": settings.group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 50,
            }
        )
        self.producer = Producer({**config.kafka, "enable.idempotence": True})
        self.registry = SchemaRegistryClient.from_settings(config.registry)
        self.codec = AvroCodec(self.registry)
        self.readers = {name: schema_json(name) for name in event_names()}
        self.floor = dict(config.floor)
        self.generation = 0
        self.assigned: set[tuple[str, int]] = set()
        self.seen: frozenset[tuple[str, int]] = frozenset()
        self.idle_told = False
        self.watcher = TopicWatcher(
            config.kafka, re.compile(settings.topic_pattern), settings.metadata_refresh_ms / 1000
        )

    def run(self) -> None:
        self.watcher.start(self.consumer)
        try:
            while self._commands() and os.getppid() == self.parent:
                self._assign_new()
                first = self.consumer.poll(_POLL_S)
                if first is None:
                    if not self.idle_told:
                        self.conn.send(CaughtUp(self.generation))
                        self.idle_told = True
                    continue
                self.idle_told = False
                messages = [first, *self.consumer.consume(self.config.settings.batch_size - 1, timeout=0)]
                read = self._read(messages)
                if isinstance(read, Failure) or read.positions:  # all read before: nothing to store
                    self.conn.send(read)
        finally:
            self.watcher.stop()
            self.consumer.close()
            self.producer.flush(10)
            self.registry.close()

    def _commands(self) -> bool:
        """Carry out what the parent asked since the last poll; False when told to stop."""
        while self.conn.poll(0):
            command = self.conn.recv()
            if command[0] == "stop":
                return False
            if command[0] == "rewind":
                self.generation, self.floor = command[1], dict(command[2])
                self.consumer.assign(self._at_floor(self.assigned))
                self.idle_told = False
            elif command[0] == "commit":
                offsets = [TopicPartition(t, p, o) for (t, p), o in command[1].items()]
                try:  # informational only: the store holds the positions
                    self.consumer.commit(offsets=offsets, asynchronous=True)
                except KafkaException as exc:
                    _log.debug("position commit for lag monitors failed", error_class=type(exc).__name__)
        return True

    def _assign_new(self) -> None:
        latest = self.watcher.partitions  # replaced whole by the watcher when it reads the list
        if latest is self.seen:
            return
        self.seen = latest
        new = latest - self.assigned
        if new:
            self.consumer.incremental_assign(self._at_floor(new))
            self.assigned |= new
            _log.info("partitions assigned", count=len(new), size=len(self.assigned))

    def _at_floor(
        self, partitions: set[tuple[str, int]] | frozenset[tuple[str, int]]
    ) -> list[TopicPartition]:
        floor = self.floor
        return [TopicPartition(t, p, floor.get((t, p), OFFSET_BEGINNING)) for t, p in sorted(partitions)]

    def _read(self, messages: list[Message]) -> Batch | Failure:
        """Decode and prepare a poll's messages; undecodable ones go to the DLQ (positions advance)."""
        events: list[Event] = []
        positions: Positions = {}
        rejects: Counter[str] = Counter()
        newest = 0.0
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    return Failure(self.generation, False, f"the consumer failed fatally: {error.name()}")
                if error.code() != KafkaError._PARTITION_EOF:
                    _log.warning("consumer error", error_class=error.name())
                continue
            topic, partition, offset = (
                str(message.topic()),
                int(message.partition() or 0),
                int(message.offset() or 0),
            )
            if offset < self.floor.get((topic, partition), 0):
                continue  # already in the store (read again after a batch rolled back)
            positions[(topic, partition)] = offset + 1
            newest = max(newest, (message.timestamp()[1] or 0) / 1000)
            try:
                events.append(self._event(message, topic, partition, offset))
            except TransientError as exc:  # the registry is unreachable: the parent rewinds
                return Failure(self.generation, True, exc.message)
            except DataError as exc:
                rejects[exc.stage] += 1
                self._dead_letter(message, exc, (topic, partition, offset))
        if rejects and self.producer.flush(30) > 0:
            return Failure(self.generation, True, "the DLQ write was not acknowledged")
        return Batch(self.generation, events, positions, dict(rejects), newest)

    def _event(self, message: Message, topic: str, partition: int, offset: int) -> Event:
        value = message.value()
        if value is None:
            raise DataError("message has no value", stage="read")
        envelope = parse_headers(cast(Any, message.headers()))
        reader = self.readers.get(envelope.type)
        if reader is None:
            raise DataError(f"event type {envelope.type!r} is not a standard event", stage="read")
        decoded = self.codec.decode(value, reader)
        raw_key = message.key()
        key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else str(raw_key or "")
        if not key:
            raise DataError("message has no key", stage="read")
        event = Event(topic, partition, offset, key, envelope.type, decoded.value)
        try:
            change = change_of(event, self.config.prepare)
        except MaisError:
            raise
        except Exception as exc:  # a value the schema allows but the store cannot use
            raise DataError(f"event cannot be applied ({type(exc).__name__})", stage="apply") from None
        if change is None:
            return event  # erasure or merge: the store reads the whole value
        return Event(topic, partition, offset, key, envelope.type, {}, change)

    def _dead_letter(self, message: Message, exc: DataError, coordinates: tuple[str, int, int]) -> None:
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
        self.producer.produce(
            self.config.settings.dlq_topic,
            value=message.value(),
            key=message.key(),
            headers=cast(Any, headers),
        )
        _log.warning("event sent to the DLQ", topic=coordinates[0], partition=coordinates[1],
                     offset=coordinates[2], stage=exc.stage, error=exc.message)  # fmt: skip
