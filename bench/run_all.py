"""Run the runtime benchmarks once and write their section of ``docs/benchmarks.md``.

Run: ``python bench/run_all.py --bootstrap HOST:PORT --registry-url URL [--soak 600] [--note TEXT]``.

First the adapter's *capacity* on this machine (events/s draining a preloaded topic), then the
latency at 25 %, 50 % and 75 % of that capacity: offered loads relative to what the machine can
do, so a slower machine is not simply saturated. Not a test: nothing here passes or fails; the
figures depend on the machine and its load, both recorded with the commit measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import confluent_kafka
import fastavro

sys.path.insert(0, str(Path(__file__).parent))
import bench_codec
import bench_e2e
from _report import RunFacts, write_section

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- bench/run_all.py: begin -->"
END = "<!-- bench/run_all.py: end -->"


def render(results: dict[str, Any], facts: RunFacts) -> str:
    codec, ref, full = results["codec"], results["reference_producer"], results["full_rate"]
    lines = [
        BEGIN,
        "## Exchange runtime: codec and end to end",
        "",
        *facts.lines(),
        "",
        f"Clients: confluent-kafka / librdkafka {results['clients']}, fastavro {fastavro.__version__}. "
        f"Broker: one Apache Kafka {results['kafka_version']} node (KRaft) on the same machine; schema "
        "registry: `services/registry` on the same machine. These are measurements, not tests: they",
        "depend on the machine and on whatever else it was doing (the load average above says how busy",
        "it was), so tail latencies in particular move between runs.",
        "",
        "### Codec (Person event, Confluent framing)",
        "",
        f"A realistic `PersonRecorded` (2 identifiers, 2 names, date of birth, address, 2 contacts): "
        f"{codec['encoded_bytes']:.0f} bytes framed. Best of {codec['repeats']} interleaved runs of "
        f"{codec['records']:,} records each.",
        "",
        "| operation | our codec (records/s) | fastavro alone (records/s) | cost ratio (target ≤ 1.2x) |",
        "|---|---:|---:|---:|",
    ]
    for op in ("encode", "decode"):
        lines.append(
            f"| {op} | {codec[f'codec_{op}_per_s']:,.0f} | {codec[f'fastavro_{op}_per_s']:,.0f} | "
            f"{codec[f'{op}_cost_ratio']:.2f}x |"
        )
    lines += [
        "",
        "### End to end: Kafka → `mais adapter run` → Kafka, exactly once",
        "",
        "The adapter process (`bench/bench_person.py`: a legacy export line in, a Person event out)",
        "reads a 3-partition topic `read_committed`, translates, encodes against the registry, and",
        "produces each batch and its consumer offsets in one Kafka transaction.",
        "",
        "| measure | result | target |",
        "|---|---:|---|",
        f"| capacity: full rate draining {full['events']:,} preloaded records "
        f"| **{full['per_s']:,.0f} events/s** | ≥ 15,000 |",
        f"| reference: confluent-kafka producing pre-encoded Person values (idempotent, acks=all) "
        f"| {ref['per_s']:,.0f} messages/s | — |",
        f"| ratio end to end / reference producer | {full['per_s'] / ref['per_s']:.2f} | — |",
        "| ratio end to end / fastavro encode alone "
        f"| {full['per_s'] / codec['fastavro_encode_per_s']:.2f} | — |",
        f"| adapter peak resident memory at full rate | {full['peak_rss_mb']:.0f} MB | < 200 MB |",
        "",
        "Latency from the moment an input record is produced to the moment its output is visible to",
        "a `read_committed` consumer, at steady offered loads set as fractions of the capacity just",
        "measured:",
        "",
        "| share of capacity | offered load (events/s) | events | p50 (ms) | p99 (ms) | max (ms) "
        "| transactions | mean transaction (ms) | records per transaction | adapter peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["latency"]:
        lines.append(
            f"| {run['share']:.0%} | {run['offered_per_s']:,.0f} | {run['events']:,} | {run['p50_ms']:.1f} "
            f"| {run['p99_ms']:.1f} | {run['max_ms']:.1f} | {run['transactions']:,.0f} "
            f"| {run['mean_transaction_ms']:.1f} | {run['mean_records_per_transaction']:.1f} "
            f"| {run['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "A transaction takes what the consumer has already fetched (up to `--batch-size`) and never",
        "waits for more: the transaction and records-per-transaction columns (from the adapter's own",
        "metrics: `mais_processing_latency_seconds`, `mais_records_in_total`) show how batches grow",
        "with the load and what one transaction costs.",
    ]
    half = next((run for run in results["latency"] if abs(run["share"] - 0.5) < 1e-9), None)
    if half is not None:
        verdict = "meets" if half["p99_ms"] < 100 else "does not meet"
        lines += [
            "",
            f"Target: p99 < 100 ms at 50 % of measured capacity. This run {verdict} it "
            f"(p99 {half['p99_ms']:.1f} ms at {half['offered_per_s']:,.0f} events/s).",
        ]
    if "soak" in results:
        soak = results["soak"]
        per_minute = ", ".join(f"{x:.0f}" for x in soak["rss_mb_per_minute"] if x >= 1)  # 0: not started
        lines += [
            "",
            f"### Adapter memory over {soak['seconds'] / 60:.0f} minutes",
            "",
            f"{soak['events']:,} events at {soak['rate_per_s']:,.0f}/s. Resident memory after one minute "
            f"{soak['rss_mb_after_1_min']:.0f} MB, at the end {soak['rss_mb_at_end']:.0f} MB, peak "
            f"{soak['peak_rss_mb']:.0f} MB (target: under 200 MB, no growth).",
            "",
            f"RSS per minute (MB): {per_minute}.",
        ]
    lines.append(END)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument(
        "--registry-url", default=os.environ.get("MAIS_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081")
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--shares", default="0.25,0.5,0.75", help="offered loads as shares of capacity")
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--soak", type=float, default=0.0)
    parser.add_argument("--soak-rate", type=float, default=10_000.0)
    parser.add_argument("--kafka-version", default="4.1.1")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--note", help="a note printed with the figures (e.g. what else ran)")
    args = parser.parse_args()
    facts = RunFacts(args.note)
    results: dict[str, Any] = {
        "commit": facts.commit,
        "date": f"{facts.started:%Y-%m-%d %H:%M} UTC",
        "machine": facts.machine,
        "kafka_version": args.kafka_version,
        "clients": f"{confluent_kafka.version()} / {confluent_kafka.libversion()[0]}",
        "note": args.note,
    }
    results["codec"] = bench_codec.run()
    print("codec", results["codec"], flush=True)
    results["reference_producer"] = bench_e2e.reference_producer(
        args.bootstrap, args.registry_url, args.events
    )
    print("reference", results["reference_producer"], flush=True)
    results["full_rate"] = bench_e2e.full_rate(args.bootstrap, args.registry_url, args.events)
    print("capacity", results["full_rate"], flush=True)
    capacity = results["full_rate"]["per_s"]
    results["latency"] = []
    for share in (float(x) for x in args.shares.split(",")):
        run = bench_e2e.latency_at(args.bootstrap, args.registry_url, capacity * share, args.load_seconds)
        results["latency"].append({"share": share, **run})
        print("latency", results["latency"][-1], flush=True)
    if args.soak:
        results["soak"] = bench_e2e.soak(args.bootstrap, args.registry_url, args.soak_rate, args.soak)
        print("soak", results["soak"], flush=True)
    write_section(args.out, render(results, facts), BEGIN, END)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
