"""At scale on a local 3-node cluster: two adapter instances, replication factor 3, a broker killed.

Starts its own three-node KRaft cluster (replication factor 3, ``min.insync.replicas=2``) and a
schema registry, then measures in one run:

* reference: confluent-kafka producing pre-encoded Person values to a 6-partition RF 3 topic
  (idempotent, acks=all): the raw limit of this cluster on this machine;
* a bare transaction (100 messages, commit) on this cluster: what each adapter batch pays at least;
* full rate: two ``mais adapter run`` instances (one consumer group, 6 partitions, exactly once)
  draining a preloaded topic, events/s, and its ratio to the reference;
* latency at half of that full rate: p50/p99 from input produced to output visible to a
  ``read_committed`` consumer;
* the same load with one broker SIGKILLed a third of the way in: p99 and max during the run, and
  every output counted by key (exactly once expected).

Run: ``python bench/bench_scale.py [--events 100000] [--note TEXT]``; it writes its section of
``docs/benchmarks.md``. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

sys.path.insert(0, str(Path(__file__).parent))
import bench_e2e
import bench_person
from _report import RunFacts, write_section
from bench_e2e import AdapterProcess, OutputWatcher, _create, _key, _lines, _produce_all, _producer

from exchange.codec import AvroCodec
from exchange.localkafka import LocalKafkaCluster, LocalRegistry, free_port, kafka_version
from exchange.registry_client import SchemaRegistryClient

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- bench/bench_scale.py: begin -->"
END = "<!-- bench/bench_scale.py: end -->"
PARTITIONS = 6


def reference(bootstrap: str, registry: str, count: int) -> dict[str, float]:
    codec = AvroCodec(SchemaRegistryClient(registry))
    schema = bench_person.schemas[bench_person.SCHEMA_NAME]
    topic = f"bench.reference.{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, PARTITIONS)
    items = [
        (f"k{i}".encode(), codec.encode(topic, schema, bench_person.person_value(i))) for i in range(count)
    ]
    producer = _producer(bootstrap)
    started = time.perf_counter()
    _produce_all(producer, topic, items)
    return {"messages": count, "per_s": count / (time.perf_counter() - started)}


def transaction_latency(bootstrap: str, transactions: int = 60) -> dict[str, float]:
    """A bare transactional producer: begin, 100 messages over the partitions, commit (p50/p90 ms)."""
    topic = f"bench.txn.{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, PARTITIONS)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": topic, "linger.ms": 5})
    producer.init_transactions(60)
    times = []
    for _ in range(transactions):
        started = time.perf_counter()
        producer.begin_transaction()
        for j in range(100):
            producer.produce(topic, b"x" * 300, str(j).encode())
        producer.commit_transaction(30)
        times.append((time.perf_counter() - started) * 1000)
    times = sorted(times[10:])  # the first ones find coordinators and leaders
    return {"p50_ms": statistics.median(times), "p90_ms": times[int(len(times) * 0.9)]}


def _pair(bootstrap: str, registry: str, agency: str, topic: str) -> list[AdapterProcess]:
    return [AdapterProcess(bootstrap, registry, agency, topic, instance_id=i) for i in ("one", "two")]


def full_rate(bootstrap: str, registry: str, count: int) -> dict[str, float]:
    agency = f"bench{uuid.uuid4().hex[:6]}"
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, PARTITIONS)
    _create(bootstrap, f"mais.{agency}.person.v1", PARTITIONS)
    _produce_all(_producer(bootstrap), topic, _lines(0, count))
    watcher = OutputWatcher(bootstrap, f"mais.{agency}.person.v1")
    adapters = _pair(bootstrap, registry, agency, topic)
    try:
        if not watcher.wait_for(1, 180):
            raise SystemExit("the adapters produced nothing")
        first = min(watcher.seen.values())
        complete = watcher.wait_for(count, 900)
        last = max(watcher.seen.values())
    finally:
        peaks = [a.stop() for a in adapters]
        watcher.close()
    if not complete:
        raise SystemExit(f"only {len(watcher.seen)} of {count} outputs arrived")
    return {"events": count, "per_s": (count - 1) / (last - first), "peak_rss_mb": max(peaks) / 2**20}


def _output_keys(bootstrap: str, topic: str) -> Counter[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-count-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    keys: Counter[bytes] = Counter()
    quiet = 0
    while quiet < 3:
        batch = [m for m in consumer.consume(10_000, 1.0) if m.error() is None]
        keys.update(bytes(m.key()) for m in batch)  # type: ignore[arg-type]
        quiet = 0 if batch else quiet + 1
    consumer.close()
    return keys


def steady(
    bootstrap: str, registry: str, cluster: LocalKafkaCluster, rate: float, seconds: float, *, kill: bool
) -> dict[str, Any]:
    """Feed ``rate`` events/s for ``seconds`` through two instances; optionally SIGKILL a broker."""
    agency = f"bench{uuid.uuid4().hex[:6]}"
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    output = f"mais.{agency}.person.v1"
    _create(bootstrap, topic, PARTITIONS)
    _create(bootstrap, output, PARTITIONS)
    watcher = OutputWatcher(bootstrap, output)
    adapters = _pair(bootstrap, registry, agency, topic)
    producer = _producer(bootstrap)
    sent: dict[bytes, float] = {}
    victim = None
    gc.collect()
    gc.disable()  # the harness's own pauses stay out of the figures
    try:
        _produce_all(producer, topic, _lines(10_000_000, 200))  # warm-up: group joined, schema cached
        if not watcher.wait_for(200, 180):
            raise SystemExit("the adapters did not start")
        total, tick = int(rate * seconds), 0.01
        started, i = time.perf_counter(), 0
        while i < total:
            if kill and victim is None and time.perf_counter() - started > seconds / 3:
                victim = max(cluster.running_pids())  # the highest node id: not always the controller
                cluster.kill_node(victim, signal.SIGKILL)
            due = min(total, int((time.perf_counter() - started) / tick * rate * tick) + 1)
            while i < due:
                try:
                    producer.produce(topic, bench_person.export_line(i), f"CM{i:08d}".encode())
                except BufferError:
                    producer.poll(0.01)
                    continue
                sent[_key(i)] = time.perf_counter()
                i += 1
            producer.poll(0)
            time.sleep(tick / 2)
        producer.flush(120)
        offered = total / (time.perf_counter() - started)
        watcher.wait_for(total + 200, 300)
    finally:
        for adapter in adapters:
            adapter.stop()
        watcher.close()
        gc.enable()
        if victim is not None:
            cluster.start_node(victim)
    latencies = sorted((watcher.seen[k] - t) * 1000 for k, t in sent.items() if k in watcher.seen)
    keys = _output_keys(bootstrap, output)
    ours = {k: n for k, n in keys.items() if k in sent}
    return {
        "target_per_s": rate,
        "offered_per_s": offered,
        "events": len(sent),
        "outputs_once": sum(1 for n in ours.values() if n == 1),
        "duplicated": sum(1 for n in ours.values() if n > 1),
        "missing": len(sent) - len(ours),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "max_ms": latencies[-1],
        "killed_node": victim,
    }


def render(results: dict[str, Any], facts: RunFacts) -> str:
    ref, full, half, failover = (
        results["reference"],
        results["full_rate"],
        results["half"],
        results["failover"],
    )
    lines = [
        BEGIN,
        "## At scale: 3-node cluster, replication factor 3, two adapter instances, a broker killed",
        "",
        *facts.lines(),
        "",
        f"Three Apache Kafka {results['kafka_version']} nodes (KRaft, combined controller+broker, RF 3,",
        "min ISR 2) and the registry on the same machine. Two `mais adapter run` instances share one",
        f"consumer group on a {PARTITIONS}-partition topic, exactly once (Kafka transactions).",
        "Measurements, not tests.",
        "",
        "| measure | result |",
        "|---|---:|",
        f"| reference: raw producer, pre-encoded Person values, idempotent, acks=all, RF 3 | "
        f"{ref['per_s']:,.0f} messages/s |",
        f"| full rate, two instances, {full['events']:,} preloaded records | "
        f"**{full['per_s']:,.0f} events/s** |",
        f"| ratio full rate / raw producer (same run) | {full['per_s'] / ref['per_s']:.2f} |",
        f"| adapter peak resident memory | {full['peak_rss_mb']:.0f} MB |",
        f"| reference: one bare Kafka transaction of 100 messages (begin, produce, commit), p50 / p90 | "
        f"{results['transaction']['p50_ms']:.0f} / {results['transaction']['p90_ms']:.0f} ms |",
        "",
        "Latency from input produced to output visible to a `read_committed` consumer, at half of the",
        "full rate, without and with one broker SIGKILLed a third of the way in (restarted afterwards):",
        "",
        "| run | offered (events/s) | events | p50 (ms) | p99 (ms) | max (ms) | exactly once "
        "| duplicated | missing |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, run in (("steady", half), (f"node {failover['killed_node']} SIGKILLed", failover)):
        lines.append(
            f"| {label} | {run['offered_per_s']:,.0f} | {run['events']:,} | {run['p50_ms']:.1f} | "
            f"{run['p99_ms']:.1f} | {run['max_ms']:.1f} | {run['outputs_once']:,} | {run['duplicated']} | "
            f"{run['missing']} |"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events of the full-rate run")
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--note", help="a note printed with the figures (e.g. what else ran)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    facts = RunFacts(args.note)
    results: dict[str, Any] = {
        "commit": facts.commit,
        "date": f"{facts.started:%Y-%m-%d %H:%M} UTC",
        "command": facts.command,
        "machine": facts.machine,
        "kafka_version": kafka_version(),
        "note": args.note,
    }
    with tempfile.TemporaryDirectory(prefix="mais-bench-scale-") as tmp:
        cluster = LocalKafkaCluster(Path(tmp), nodes=3, ports=[(free_port(), free_port()) for _ in range(3)])
        registry = LocalRegistry(Path(tmp), port=free_port())
        try:
            cluster.start(timeout=240)
            url = registry.start(cluster.bootstrap_servers, timeout=120)
            bootstrap = cluster.bootstrap_servers
            results["reference"] = reference(bootstrap, url, args.events)
            print("reference", results["reference"], flush=True)
            results["transaction"] = transaction_latency(bootstrap)
            print("transaction", results["transaction"], flush=True)
            results["full_rate"] = full_rate(bootstrap, url, args.events)
            print("full rate", results["full_rate"], flush=True)
            half = results["full_rate"]["per_s"] / 2
            results["half"] = steady(bootstrap, url, cluster, half, args.load_seconds, kill=False)
            print("half load", results["half"], flush=True)
            results["failover"] = steady(bootstrap, url, cluster, half, args.load_seconds, kill=True)
            print("half load, broker killed", results["failover"], flush=True)
        finally:
            registry.stop()
            cluster.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    write_section(args.out, render(results, facts), BEGIN, END)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    _ = bench_e2e  # imported for its helpers
    main()
