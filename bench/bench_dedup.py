"""Start-up of a push source (``http:``/``mllp:``) after 1,000,000 pushed messages, before and after
bounded idempotency markers.

Run: ``python bench/bench_dedup.py --bootstrap HOST:PORT [--markers 1000000] [--window-keys 100000]
[--write docs/benchmarks.md] [--note TEXT]``

The benchmark writes the markers a push source leaves on its progress topic after N messages,
the way the loop writes them (same keys and values; written directly, not through HTTP, so that
a million of them take seconds), then starts the marker reader of each version in a fresh
process and records how long it took and how much resident memory it added:

* **before** — the reader of commit 35c2616 (copied below as :func:`legacy_load`): every record
  polled one by one, its JSON parsed, the full key kept in memory;
* **after** — :class:`exchange.runtime._dedup.DedupMarkers`: read in batches, a 16-byte digest
  and a shared minute per key; the default window (24 hours, 1,000,000 keys) keeps all of them;
* **after, window of K keys** — the same N markers plus the tombstones the loop writes as keys
  leave a window of K keys, as the log looks before compaction has removed them (the worst case;
  after compaction only K markers are left to read);
* **reference** — a consumer reading the same records in batches and doing nothing with them.

Not a test: figures depend on the machine and its load (both recorded).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

sys.path.insert(0, str(Path(__file__).parent))
from _report import RunFacts, write_section

from exchange.runtime._dedup import DedupMarkers
from exchange.runtime._progress import PROGRESS_TOPIC_CONFIG, Progress
from exchange.settings import KafkaSettings

BEGIN = "<!-- bench/bench_dedup.py: begin -->"
END = "<!-- bench/bench_dedup.py: end -->"
ADAPTER = "hl7v2"
VALUE = Progress(done=1, complete=True).encode()


def _idempotency_key(i: int) -> str:
    """An MLLP-style key: sending application and facility, control id, short hash."""
    return f"PAS.RGT01:MSG{i:010d}:{hashlib.sha256(str(i).encode()).hexdigest()[:16]}"


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def legacy_load(
    kafka: KafkaSettings, topic: str, adapter: str, timeout_s: float = 60.0
) -> dict[str, Progress]:
    """The start-up read of commit 35c2616 (``ProgressStore.load``), unchanged but for its result."""
    config: dict[str, Any] = {
        **kafka.confluent_config(),
        "group.id": f"mais-progress-reader-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    }
    state: dict[str, Progress] = {}
    consumer = Consumer(config)
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        partitions = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions]
        consumer.assign(partitions)
        remaining = {p.partition for p in partitions}
        prefix = f"{adapter}|".encode()
        while remaining:
            message = consumer.poll(timeout_s)
            if message is None:
                raise RuntimeError("timed out reading the progress topic")
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(int(message.partition() or 0))
                    continue
                raise RuntimeError(f"cannot read the progress topic: {error.name()}")
            key, value = message.key(), message.value()
            if isinstance(key, bytes) and key.startswith(prefix) and isinstance(value, bytes):
                record = json.loads(value)
                state[key[len(prefix) :].decode()] = Progress(int(record["done"]), bool(record["complete"]))
    finally:
        consumer.close()
    return state


def raw_read(kafka: KafkaSettings, topic: str) -> int:
    """Reference: every record read in batches, nothing done with it."""
    consumer = Consumer(
        {
            **kafka.confluent_config(),
            "group.id": f"bench-raw-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    count = 0
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        done = False
        while not done:
            for message in consumer.consume(10_000, 0.2):
                error = message.error()
                if error is not None:
                    done = error.code() == KafkaError._PARTITION_EOF
                    continue
                count += 1
    finally:
        consumer.close()
    return count


def measure(mode: str, bootstrap: str, topic: str, window_keys: int, *, traced: bool) -> dict[str, float]:
    """One start-up in this (fresh) process: seconds, keys kept, memory.

    ``traced``: instead, the Python memory the start-up leaves allocated (what the loop keeps),
    measured with tracemalloc, which slows the run down (so its time is not reported).
    """
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    gc.collect()
    if traced:
        tracemalloc.start()
    rss_before = _status_kb("VmRSS")
    started = time.perf_counter()
    if mode == "before":
        kept: Any = legacy_load(kafka, topic, ADAPTER)
    elif mode == "raw":
        kept = [None] * raw_read(kafka, topic)
    else:
        markers = DedupMarkers(
            kafka, topic, ADAPTER, window_s=24 * 3600, max_keys=window_keys if mode == "window" else 1_000_000
        )
        markers.load()
        kept = markers
    seconds = time.perf_counter() - started
    gc.collect()
    if traced:
        return {"kept_mb": tracemalloc.get_traced_memory()[0] / 2**20}
    return {
        "seconds": seconds,
        "kept": 0 if mode == "raw" else len(kept),
        "rss_added_mb": (_status_kb("VmRSS") - rss_before) / 1024,
        "peak_rss_mb": _status_kb("VmHWM") / 1024,
    }


def _fill(
    bootstrap: str,
    topic: str,
    count: int,
    *,
    legacy: bool,
    window_keys: int = 0,
    config: dict[str, str] | None = None,
) -> int:
    """Write ``count`` markers (and the tombstones of a ``window_keys`` window) to a new topic."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, num_partitions=1, config=config or PROGRESS_TOPIC_CONFIG)
    admin.create_topics([new])[topic].result(30)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "compression.type": "lz4",
            "batch.num.messages": 10_000,
        }
    )
    markers = DedupMarkers(KafkaSettings(bootstrap_servers=bootstrap), topic, ADAPTER, window_s=1, max_keys=1)
    written = 0

    def send(key: bytes, value: bytes | None) -> None:
        while True:
            try:
                producer.produce(topic, value, key)
                return
            except BufferError:
                producer.poll(0.05)

    for i in range(count):
        key = _idempotency_key(i)
        send(f"{ADAPTER}|{key}".encode() if legacy else markers.marker_key(key), VALUE)
        written += 1
        if window_keys and i >= window_keys:
            send(markers.marker_key(_idempotency_key(i - window_keys)), None)
            written += 1
    producer.flush(300)
    return written


def run(bootstrap: str, count: int, window_keys: int, compaction_wait_s: float) -> list[dict[str, Any]]:
    run_id = uuid.uuid4().hex[:8]
    topics = {
        "before": (f"bench.progress.before.{run_id}", _fill_args(count, legacy=True)),
        "after": (f"bench.progress.after.{run_id}", _fill_args(count, legacy=False)),
        "window": (
            f"bench.progress.window.{run_id}",
            _fill_args(count, legacy=False, window_keys=window_keys),
        ),
        "compacted": (
            f"bench.progress.compacted.{run_id}",
            _fill_args(count, legacy=False, window_keys=window_keys, config=_QUICK_COMPACTION),
        ),
    }
    records = {}
    for name, (topic, args) in topics.items():
        records[name] = _fill(bootstrap, topic, **args)
        print(f"wrote {records[name]:,} records to {topic}", flush=True)
    records["compacted"] = _compacted(
        bootstrap, topics["compacted"][0], count, window_keys, compaction_wait_s
    )
    rows = []
    for mode, scenario in (("before",) * 2, ("after",) * 2, ("window",) * 2, ("window", "compacted")):
        topic = topics[scenario][0]
        reference = _subprocess("raw", bootstrap, topic, window_keys)
        figures = _subprocess(mode, bootstrap, topic, window_keys)
        memory = _subprocess(mode, bootstrap, topic, window_keys, "--traced")
        row = {"mode": scenario, "records": records[scenario], "reference": reference, **figures, **memory}
        rows.append(row)
        print(scenario, row, flush=True)
    return rows


_QUICK_COMPACTION = {
    **PROGRESS_TOPIC_CONFIG,
    "segment.ms": "5000",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "1000",
}
"""The compacted scenario's topic: compaction within the benchmark's minutes instead of hours."""


def _compacted(bootstrap: str, topic: str, count: int, window_keys: int, wait_s: float) -> int:
    """Wait (up to ``wait_s``) until compaction leaves about the window's markers to read.

    A cleaning pass removes the markers that tombstones shadow; the tombstones themselves go in a
    later pass, once ``delete.retention.ms`` has passed, and a pass needs new writes (a dirty log).
    So while the count stands still the benchmark keeps the source "running": 1 % more pushed
    messages, with the tombstones their window implies, as the push loop would write them.
    """
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    markers = DedupMarkers(kafka, topic, ADAPTER, window_s=1, max_keys=1)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    deadline = time.monotonic() + wait_s
    written, last = count, -1
    current = raw_read(kafka, topic)
    while current > 1.5 * window_keys and time.monotonic() < deadline:
        if current == last:
            for i in range(written, written + max(1, count // 100)):
                producer.produce(topic, VALUE, markers.marker_key(_idempotency_key(i)))
                producer.produce(topic, None, markers.marker_key(_idempotency_key(i - window_keys)))
            written += max(1, count // 100)
            producer.flush(60)
        time.sleep(10)
        last, current = current, raw_read(kafka, topic)
        print(f"{current:,} records left in {topic}", flush=True)
    return current


def _fill_args(
    count: int, *, legacy: bool, window_keys: int = 0, config: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"count": count, "legacy": legacy, "window_keys": window_keys, "config": config}


def _subprocess(mode: str, bootstrap: str, topic: str, window_keys: int, *extra: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--measure", mode, "--topic", topic, "--bootstrap", bootstrap]
    out = subprocess.run(
        [*command, "--window-keys", str(window_keys), *extra], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def render(rows: list[dict[str, Any]], count: int, window_keys: int, facts: RunFacts) -> str:
    labels = {
        "before": "before (commit 35c2616): poll one by one, JSON per record, full keys",
        "after": "after: batches, digests; default window keeps all keys",
        "window": f"after, window of {window_keys:,} keys: markers + tombstones, not yet compacted",
        "compacted": f"after, window of {window_keys:,} keys, once compaction has run",
    }
    lines = [
        BEGIN,
        f"## Push-source start-up after {count:,} pushed messages (idempotency markers)",
        "",
        *facts.lines(),
        "",
        f"The progress topic holds the markers {count:,} pushed messages leave (written by the",
        "benchmark the way the push loop writes them). Each start-up runs in a fresh process.",
        "*Kept* is the Python memory the start-up leaves allocated (tracemalloc, in a second run);",
        "*peak RSS* is the process's high-water mark, Kafka client buffers included. The reference",
        "reads the same records in batches and does nothing with them, in the same run.",
        "",
        "| start-up | records read | keys kept | seconds | reference (s) | ratio | kept (MB) "
        "| peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ref = row["reference"]
        lines.append(
            f"| {labels[row['mode']]} | {row['records']:,} | {row['kept']:,} | {row['seconds']:.2f} "
            f"| {ref['seconds']:.2f} | {row['seconds'] / ref['seconds']:.1f}x | {row['kept_mb']:.0f} "
            f"| {row['peak_rss_mb']:.0f} |"
        )
    by_mode = {row["mode"]: row for row in rows}
    before, after, window = by_mode["before"], by_mode["after"], by_mode["window"]
    lines += [
        "",
        f"With all {count:,} keys still in the window, start-up took "
        f"{after['seconds'] / before['seconds']:.2f}x the time of before and kept "
        f"{after['kept_mb'] / before['kept_mb']:.2f}x the memory. With a window of {window_keys:,} keys "
        f"it kept {window['kept_mb'] / before['kept_mb']:.2f}x the memory of before; before compaction it "
        "read every marker and tombstone, once the log was compacted it read "
        f"{by_mode['compacted']['records']:,} records and took "
        f"{by_mode['compacted']['seconds'] / before['seconds']:.2f}x the time of before. The compacted "
        "scenario's topic rolls segments every 5 s and keeps tombstones 1 s so that compaction happens "
        "within the benchmark (which meanwhile keeps the source running: 1 % more pushed messages "
        "whenever the log stands still, since a cleaning pass needs new writes); the runtime's "
        "progress topic rolls hourly and keeps tombstones a day.",
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--markers", type=int, default=1_000_000)
    parser.add_argument("--window-keys", type=int, default=100_000)
    parser.add_argument("--write", type=Path, help="markdown file whose section to replace")
    parser.add_argument("--note", help="a note printed with the figures (e.g. what else ran)")
    parser.add_argument("--compaction-wait", type=float, default=300.0, help="seconds to wait for compaction")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        figures = measure(args.measure, args.bootstrap, args.topic, args.window_keys, traced=args.traced)
        print(json.dumps(figures))
        return 0
    facts = RunFacts(args.note)
    rows = run(args.bootstrap, args.markers, args.window_keys, args.compaction_wait)
    section = render(rows, args.markers, args.window_keys, facts)
    print(section)
    if args.write:
        write_section(args.write, section, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
