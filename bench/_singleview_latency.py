"""Event to visible for ``bench_singleview.py``: a second sample set's events (the same mix of
persons, episodes and life events as the ingest run) produced at a steady rate into a SingleView
running in its own process, as in production, that already holds the first set. An event is
visible once the store the API reads has committed its position (``sv_offset``, written in the
same transaction as the event). Reference: a plain ``read_committed`` consumer of the same topics.

The events are encoded (Avro, CloudEvents headers) before the clock starts: the producer stands in
for adapters that run on other machines, so only sending them shares this machine's two cores
with the broker and the SingleView."""

from __future__ import annotations

import collections
import functools
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from services.singleview import Database
from services.singleview.testing import Publisher, SampleEvent

__all__ = ["latency", "percentiles"]

_POLL_S = 0.005
_TICK_S = 0.01
Position = tuple[str, int, int]


def percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p99) of ``values``."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def _subscriber(bootstrap: str, registry: str, url: str, pattern: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MAIS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "MAIS_SCHEMA_REGISTRY_URL": registry,
        "MAIS_SINGLEVIEW_DATABASE_URL": url,
        "MAIS_SINGLEVIEW_TOPIC_PATTERN": pattern,
        "MAIS_SINGLEVIEW_GROUP_ID": f"bench-latency-{uuid.uuid4().hex[:8]}",
        "MAIS_SINGLEVIEW_METADATA_REFRESH_MS": "500",
    }
    with log.open("ab") as out:
        command = [sys.executable, "-m", "services.singleview", "serve", "--ingest-only"]
        return subprocess.Popen(command, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)


class _Watch:
    """When each produced message was committed in the store, and when a plain consumer saw it."""

    def __init__(self, url: str, bootstrap: str, topics: list[str]) -> None:
        self.produced: dict[Position, float] = {}
        self.visible: dict[Position, float] = {}
        self.consumed: dict[Position, float] = {}
        self._fresh: collections.deque[Position] = collections.deque()  # delivered, not yet watched
        self.done = threading.Event()
        self._url, self._bootstrap, self._topics = url, bootstrap, topics
        self._threads = [threading.Thread(target=self._store), threading.Thread(target=self._kafka)]

    def delivered(self, error: Any, message: Any, sent: float) -> None:
        if error is None:
            position = (message.topic(), message.partition(), message.offset())
            self.produced[position] = sent
            self._fresh.append(position)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.done.set()
        for thread in self._threads:
            thread.join(300)

    def _settled(self, seen: dict[Position, float]) -> bool:
        # a count, not a walk over every position: the watch must not take the CPU it measures
        return self.done.is_set() and len(seen) >= len(self.produced)

    def _store(self) -> None:
        db = Database(self._url).connect()
        waiting: dict[tuple[str, int], list[int]] = {}
        while not self._settled(self.visible):
            while self._fresh:
                position = self._fresh.popleft()
                waiting.setdefault(position[:2], []).append(position[2])
            stored = {(str(t), int(p)): int(o) for t, p, o in db.query("SELECT * FROM sv_offset")}
            now = time.perf_counter()
            for (topic, partition), offsets in waiting.items():
                upto = stored.get((topic, partition), 0)
                for offset in [o for o in offsets if o < upto]:
                    self.visible[(topic, partition, offset)] = now
                offsets[:] = [o for o in offsets if o >= upto]
            time.sleep(_POLL_S)
        db.close()

    def _kafka(self) -> None:
        settings = {"bootstrap.servers": self._bootstrap, "group.id": f"lat-{uuid.uuid4().hex[:8]}",
                    "isolation.level": "read_committed", "fetch.wait.max.ms": 10}  # fmt: skip
        consumer = Consumer(settings)
        consumer.assign([TopicPartition(t, 0, OFFSET_END) for t in self._topics])
        while not self._settled(self.consumed):
            for message in consumer.consume(500, 0.05):
                if message.error() is None:
                    where = (str(message.topic()), int(message.partition() or 0), int(message.offset() or 0))
                    self.consumed.setdefault(where, time.perf_counter())
        consumer.close()


def _warm_up(
    publisher: Publisher, url: str, firsts: list[SampleEvent], process: subprocess.Popen[bytes]
) -> None:
    """One event on every topic, and wait until the SingleView reads them all."""
    publisher.publish(firsts)
    topics = {f"mais.{e.agency}.{e.entity}.v1" for e in firsts}
    db = Database(url).connect()
    while len(topics & {str(r[0]) for r in db.query("SELECT topic FROM sv_offset")}) < len(topics):
        if process.poll() is not None:
            raise RuntimeError("the SingleView process stopped")
        time.sleep(0.1)
    db.close()


def latency(
    bootstrap: str, registry: str, url: str, events: list[SampleEvent], *, rate: float, log: Path,
    pattern: str,
) -> dict[str, Any]:  # fmt: skip
    """Produce ``events`` at ``rate`` a second into a SingleView process on ``url`` (following
    ``pattern``); p50/p99 of produced -> visible in the store and -> consumed."""
    process = _subscriber(bootstrap, registry, url, pattern, log)
    publisher = Publisher(bootstrap, registry)
    try:
        firsts: dict[str, SampleEvent] = {}
        for event in events:
            firsts.setdefault(f"{event.agency}.{event.entity}", event)
        _warm_up(publisher, url, list(firsts.values()), process)
        warmed = {id(e) for e in firsts.values()}
        timed = publisher.prepare(e for e in events if id(e) not in warmed)  # encoded before the clock starts
        watch = _Watch(url, bootstrap, sorted({f"mais.{e.agency}.{e.entity}.v1" for e in events}))
        watch.start()
        time.sleep(1.0)
        started, sent = time.perf_counter(), 0
        while sent < len(timed):
            due = min(len(timed), int((time.perf_counter() - started) * rate) + 1)
            for message in timed[sent:due]:
                now = time.perf_counter()
                publisher.send(
                    [message], flush=False, on_delivery=functools.partial(watch.delivered, sent=now)
                )
            sent = due
            time.sleep(_TICK_S)
        achieved = len(timed) / (time.perf_counter() - started)
        publisher.producer.flush(30)
        watch.stop()
    finally:
        publisher.close()
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    produced = watch.produced
    to_store = [(watch.visible[p] - t) * 1000 for p, t in produced.items() if p in watch.visible]
    to_consumer = [(watch.consumed[p] - t) * 1000 for p, t in produced.items() if p in watch.consumed]
    return {"rate": achieved, "count": len(produced), "store": percentiles(to_store),
            "kafka": percentiles(to_consumer), "seen": len(watch.visible)}  # fmt: skip
