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

Polling, decoding and preparing each event for the store run in a child process
(``_reading.py``), on the other core, while this one applies the previous batch. A value that
cannot be decoded goes to the DLQ topic with its original bytes and the reason; its position
advances with the batch. A transient failure (registry or database unreachable) rolls back, drops
what was read ahead, reads again from the stored positions and retries with backoff.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from exchange.errors import MaisError, TransientError
from exchange.logging import get_logger
from exchange.registry_client import RegistrySettings
from exchange.settings import KafkaSettings
from services.singleview._heap import HeapKeeper
from services.singleview._live import Notifier
from services.singleview._metrics import SingleViewMetrics
from services.singleview._queries import person_ids_for_subjects
from services.singleview._reading import Batch, CaughtUp, ReadingConfig, ReadingProcess
from services.singleview._settings import SingleViewSettings
from services.singleview._storeapi import Store

__all__ = ["Subscriber"]

_log = get_logger("mais.singleview.subscriber")


class Subscriber:
    """Runs on its own thread until :meth:`stop`."""

    def __init__(
        self,
        store: Store,
        *,
        kafka: KafkaSettings,
        registry: RegistrySettings,
        settings: SingleViewSettings,
        metrics: SingleViewMetrics,
        notifier: Notifier,
    ) -> None:
        self.store, self.kafka, self.registry, self.settings = store, kafka, registry, settings
        self.metrics, self.notifier = metrics, notifier
        self._stop = threading.Event()
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
        config = ReadingConfig(
            kafka=self.kafka.confluent_config(),
            registry=self.registry,
            settings=self.settings,
            prepare=type(self.store.linker).prepare,
            floor=self.store.offsets(),
        )
        reading = ReadingProcess(config).start()
        _log.info("subscriber consuming", group=self.settings.group_id)
        heap = HeapKeeper().start()
        delay = 0.5
        try:
            while not self._stop.is_set():
                got = reading.next(timeout=0.5)
                if got is None:
                    continue
                if isinstance(got, CaughtUp):
                    self.ready.set()
                    heap.idle()
                    continue
                try:
                    if not isinstance(got, Batch):
                        if not got.transient:
                            raise MaisError(got.message)
                        raise TransientError(got.message)
                    self._apply(got)
                    reading.committed(got.positions)
                    heap.settle()
                    delay = 0.5
                except TransientError as exc:
                    _log.warning("batch rolled back; reading it again", error=exc.message, delay_s=delay)
                    reading.rewind(self.store.offsets())
                    self._stop.wait(delay)
                    delay = min(delay * 2, 10.0)
        finally:
            heap.stop()
            reading.stop()
        _log.info("subscriber stopped cleanly")

    def _apply(self, batch: Batch) -> None:
        events = batch.events
        for stage, count in batch.rejects.items():
            self.metrics.rejected.labels(stage).inc(count)
        try:
            applied = self.store.apply_batch(events, batch.positions)
        except MaisError:
            raise
        except Exception as exc:  # a database that went away: retry from the stored positions
            raise TransientError(f"store transaction failed ({type(exc).__name__})") from exc
        for agency, count in Counter(event.agency for event in events).items():
            self.metrics.applied.labels(agency).inc(count)
        self.metrics.batches.inc()
        if batch.newest:
            self.metrics.ingest_lag.set(max(0.0, time.time() - batch.newest))
        person_ids = applied.person_ids | person_ids_for_subjects(self.store.reader(), applied.subject_keys)
        self.notifier.publish(person_ids)
