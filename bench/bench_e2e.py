"""End-to-end benchmark: Kafka → ``mais adapter run`` (exactly once) → Kafka, plus references.

Measures, in one run against a real broker and schema registry:

* reference: confluent-kafka producing pre-encoded (framed) Person values, idempotent, acks=all;
* full rate: events/s of the adapter process draining a preloaded topic, with its peak RSS;
* latency at several offered loads: p50/p99 from the moment the input was produced to the moment
  its output was visible to a ``read_committed`` consumer;
* optionally (``--soak SECONDS``) resident memory over a long run at a steady load.

Run: ``python bench/bench_e2e.py --bootstrap HOST:PORT --registry-url URL [--json out.json]``
(``KAFKA_BOOTSTRAP_SERVERS`` / ``MAIS_SCHEMA_REGISTRY_URL`` are used when set).
"""

from __future__ import annotations

import argparse
import gc
import json
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

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

sys.path.insert(0, str(Path(__file__).parent))
import bench_person

from exchange.codec import AvroCodec
from exchange.registry_client import SchemaRegistryClient

BENCH_DIR = Path(__file__).resolve().parent


def _create(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions)])[topic].result(30)


def _producer(bootstrap: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 500_000,
            "batch.num.messages": 10_000,
        }
    )


def _produce_all(producer: Producer, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    for key, value in items:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(120)


def reference_producer(bootstrap: str, registry: str, count: int) -> dict[str, float]:
    """confluent-kafka alone, producing already-encoded Person values."""
    codec = AvroCodec(SchemaRegistryClient(registry))
    schema = bench_person.schemas[bench_person.SCHEMA_NAME]
    topic = f"bench.reference.{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, 3)
    items = [
        (f"k{i}".encode(), codec.encode(topic, schema, bench_person.person_value(i))) for i in range(count)
    ]
    producer = _producer(bootstrap)
    started = time.perf_counter()
    _produce_all(producer, topic, items)
    elapsed = time.perf_counter() - started
    return {"messages": count, "per_s": count / elapsed}


class AdapterProcess:
    def __init__(
        self, bootstrap: str, registry: str, agency: str, topic: str, instance_id: str = "bench"
    ) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(BENCH_DIR), os.environ.get("PYTHONPATH", "")]),
            "MAIS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "MAIS_SCHEMA_REGISTRY_URL": registry,
        }
        command = [
            sys.executable, "-c", "from exchange.cli import main; main()", "adapter", "run",
            "--adapter", "bench_person:adapter", "--agency", agency, "--source", f"kafka:{topic}",
            "--instance-id", instance_id, "--log-level", "WARNING",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        self.rss_samples: list[int] = []
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _status(self, field: str) -> int:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _sample(self) -> None:
        while self._sampling and self.process.poll() is None:
            self.rss_samples.append(self._status("VmRSS"))
            time.sleep(1.0)

    def peak_rss(self) -> int:
        return self._status("VmHWM")

    def stop(self) -> int:
        peak = self.peak_rss()
        self._sampling = False
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        if code != 0 and self.process.stderr is not None:
            sys.stderr.write(self.process.stderr.read().decode(errors="replace")[-3000:])
        return peak


class OutputWatcher:
    """A read_committed consumer of the output topic, recording when each key became visible."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.seen: dict[bytes, float] = {}
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-watch-{uuid.uuid4().hex}",
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 10,
            }
        )
        self._topic = topic
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            metadata = self._consumer.list_topics(self._topic, timeout=10).topics[self._topic]
            if metadata.error is None and metadata.partitions:
                break
            time.sleep(0.2)
        self._consumer.assign([TopicPartition(self._topic, p, 0) for p in metadata.partitions])
        while self._running:
            first = self._consumer.poll(0.05)  # returns as soon as one output is visible
            if first is None:
                continue
            now = time.perf_counter()
            for message in [first, *self._consumer.consume(10_000, 0)]:
                if message.error() is None:
                    self.seen.setdefault(bytes(message.key()), now)  # type: ignore[arg-type]

    def wait_for(self, count: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while len(self.seen) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.seen) >= count

    def close(self) -> None:
        self._running = False
        self._thread.join(10)
        self._consumer.close()


def _lines(start: int, count: int) -> list[tuple[bytes, bytes]]:
    return [(f"CM{i:08d}".encode(), bench_person.export_line(i)) for i in range(start, start + count)]


def _key(i: int) -> bytes:
    return f"urn:mais:leeds-cc:mosaic|CM{i:08d}".encode()


def full_rate(bootstrap: str, registry: str, count: int) -> dict[str, float]:
    agency = f"bench{uuid.uuid4().hex[:6]}"
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, 3)
    _create(bootstrap, f"mais.{agency}.person.v1", 3)
    _produce_all(_producer(bootstrap), topic, _lines(0, count))
    watcher = OutputWatcher(bootstrap, f"mais.{agency}.person.v1")
    adapter = AdapterProcess(bootstrap, registry, agency, topic)
    try:
        if not watcher.wait_for(1, 120):
            raise SystemExit("adapter produced nothing")
        first = min(watcher.seen.values())
        complete = watcher.wait_for(count, 600)
        last = max(watcher.seen.values())
    finally:
        peak = adapter.stop()
        watcher.close()
    if not complete:
        raise SystemExit(f"only {len(watcher.seen)} of {count} outputs arrived")
    return {"events": count, "per_s": (count - 1) / (last - first), "peak_rss_mb": peak / 2**20}


def latency_at(bootstrap: str, registry: str, rate: float, seconds: float) -> dict[str, float]:
    agency = f"bench{uuid.uuid4().hex[:6]}"
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, 3)
    _create(bootstrap, f"mais.{agency}.person.v1", 3)
    watcher = OutputWatcher(bootstrap, f"mais.{agency}.person.v1")
    adapter = AdapterProcess(bootstrap, registry, agency, topic)
    producer = _producer(bootstrap)
    sent: dict[bytes, float] = {}
    # The harness keeps hundreds of thousands of timestamps: keep its own garbage-collector pauses
    # out of the figures (the adapter under test runs in its own process, untouched).
    gc.collect()
    gc.disable()
    try:
        _produce_all(producer, topic, _lines(10_000_000, 100))  # warm-up: group joined, schema cached
        if not watcher.wait_for(100, 120):
            raise SystemExit("adapter did not start")
        total = int(rate * seconds)
        tick = 0.01
        per_tick = rate * tick
        started = time.perf_counter()
        i = 0
        while i < total:
            due = min(total, int((time.perf_counter() - started) / tick * per_tick) + 1)
            while i < due:
                key, value = f"CM{i:08d}".encode(), bench_person.export_line(i)
                try:
                    producer.produce(topic, value, key)
                except BufferError:
                    producer.poll(0.01)
                    continue
                sent[_key(i)] = time.perf_counter()
                i += 1
            producer.poll(0)
            time.sleep(tick / 2)
        producer.flush(60)
        offered = total / (time.perf_counter() - started)
        watcher.wait_for(total + 100, 120)
    finally:
        peak = adapter.stop()
        watcher.close()
        gc.enable()
    latencies = sorted((watcher.seen[k] - t) * 1000 for k, t in sent.items() if k in watcher.seen)
    if len(latencies) < len(sent):
        raise SystemExit(f"{len(sent) - len(latencies)} outputs missing at rate {rate}")
    return {
        "target_per_s": rate,
        "offered_per_s": offered,
        "events": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "max_ms": latencies[-1],
        "peak_rss_mb": peak / 2**20,
    }


def soak(bootstrap: str, registry: str, rate: float, seconds: float) -> dict[str, Any]:
    """Resident memory of the adapter over a long run at a steady load."""
    agency = f"bench{uuid.uuid4().hex[:6]}"
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, 3)
    adapter = AdapterProcess(bootstrap, registry, agency, topic)
    producer = _producer(bootstrap)
    started = time.perf_counter()
    i = 0
    while time.perf_counter() - started < seconds:
        due = int((time.perf_counter() - started) * rate)
        while i < due:
            try:
                producer.produce(topic, bench_person.export_line(i), f"CM{i:08d}".encode())
                i += 1
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
        time.sleep(0.005)
    producer.flush(60)
    samples = adapter.rss_samples[:]
    peak = adapter.stop()
    minute = max(1, len(samples) // max(1, int(seconds / 60)))
    return {
        "seconds": seconds,
        "rate_per_s": rate,
        "events": i,
        "rss_mb_after_1_min": samples[min(len(samples) - 1, 60)] / 2**20,
        "rss_mb_at_end": samples[-1] / 2**20,
        "peak_rss_mb": peak / 2**20,
        "rss_mb_per_minute": [s / 2**20 for s in samples[::minute]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument(
        "--registry-url", default=os.environ.get("MAIS_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081")
    )
    parser.add_argument("--events", type=int, default=200_000, help="events in the full-rate run")
    parser.add_argument("--loads", default="3750,7500,11250", help="offered loads (events/s) for latency")
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--soak", type=float, default=0.0, help="seconds of the memory soak run (0: skip)")
    parser.add_argument("--soak-rate", type=float, default=7500.0)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "reference_producer": reference_producer(args.bootstrap, args.registry_url, args.events),
    }
    print("reference producer", results["reference_producer"], flush=True)
    results["full_rate"] = full_rate(args.bootstrap, args.registry_url, args.events)
    print("full rate", results["full_rate"], flush=True)
    results["latency"] = []
    for load in (float(x) for x in args.loads.split(",")):
        results["latency"].append(latency_at(args.bootstrap, args.registry_url, load, args.load_seconds))
        print("latency", results["latency"][-1], flush=True)
    if args.soak:
        results["soak"] = soak(args.bootstrap, args.registry_url, args.soak_rate, args.soak)
        print("soak", results["soak"], flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
