"""Run every benchmark once and write ``docs/benchmarks.md`` (figures and references from one run).

Run: ``python bench/run_all.py --bootstrap HOST:PORT --registry-url URL [--soak 600]``.
Not a test: nothing here passes or fails; the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import confluent_kafka
import fastavro

sys.path.insert(0, str(Path(__file__).parent))
import bench_codec
import bench_e2e
from _report import write_section

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- bench/run_all.py: begin -->"
END = "<!-- bench/run_all.py: end -->"


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{memory_kb / 2**20:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "confluent-kafka / librdkafka": f"{confluent_kafka.version()} / {confluent_kafka.libversion()[0]}",
        "fastavro": fastavro.__version__,
        "load average before the run": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def render(results: dict[str, Any]) -> str:
    m, codec, ref, full = (
        results["machine"],
        results["codec"],
        results["reference_producer"],
        results["full_rate"],
    )
    lines = [
        BEGIN,
        "## Exchange runtime: codec and end to end",
        "",
        f"One run of `python bench/run_all.py` on {results['date']}"
        + (f" (code at commit `{results['commit']}`)" if results.get("commit") else "")
        + ". These are measurements, not",
        "tests: they depend on the machine and on whatever else it was doing (this machine is shared",
        "with other work, so tail latencies in particular move between runs). Reproduce with the",
        "command above against a local broker (`mais dev up`) and schema registry.",
        "",
        "### Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in m.items()],
        f"| broker | one Apache Kafka {results['kafka_version']} node (KRaft) on the same machine |",
        "| schema registry | `services/registry` on the same machine |",
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
        f"| full rate, {full['events']:,} preloaded records | **{full['per_s']:,.0f} events/s** | ≥ 15,000 |",
        f"| reference: confluent-kafka producing pre-encoded Person values (idempotent, acks=all) "
        f"| {ref['per_s']:,.0f} messages/s | — |",
        f"| ratio end to end / reference producer | {full['per_s'] / ref['per_s']:.2f} | — |",
        "| ratio end to end / fastavro encode alone "
        f"| {full['per_s'] / codec['fastavro_encode_per_s']:.2f} | — |",
        f"| adapter peak resident memory at full rate | {full['peak_rss_mb']:.0f} MB | < 200 MB |",
        "",
        "Latency from the moment an input record is produced to the moment its output is visible to",
        "a `read_committed` consumer, at steady offered loads:",
        "",
        "| offered load (events/s) | events | p50 (ms) | p99 (ms) | max (ms) | adapter peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["latency"]:
        lines.append(
            f"| {run['offered_per_s']:,.0f} | {run['events']:,} | {run['p50_ms']:.1f} "
            f"| {run['p99_ms']:.1f} | {run['max_ms']:.1f} | {run['peak_rss_mb']:.0f} |"
        )
    lines += ["", "Target: p99 < 100 ms at half of 15,000 events/s (7,500/s)."]
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
    if results.get("note"):
        lines += ["", "### Note on this run", "", str(results["note"])]
    lines.append(END)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument(
        "--registry-url", default=os.environ.get("MAIS_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081")
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--loads", default="3750,7500,11250")
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--soak", type=float, default=0.0)
    parser.add_argument("--soak-rate", type=float, default=10_000.0)
    parser.add_argument("--kafka-version", default="4.1.1")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--render", type=Path, help="only re-render --out from a results JSON of an earlier run"
    )
    args = parser.parse_args()
    if args.render:
        write_section(args.out, render(json.loads(args.render.read_text())), BEGIN, END)
        return
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    results: dict[str, Any] = {
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "kafka_version": args.kafka_version,
    }
    results["codec"] = bench_codec.run()
    print("codec", results["codec"], flush=True)
    results["reference_producer"] = bench_e2e.reference_producer(
        args.bootstrap, args.registry_url, args.events
    )
    print("reference", results["reference_producer"], flush=True)
    results["full_rate"] = bench_e2e.full_rate(args.bootstrap, args.registry_url, args.events)
    print("full rate", results["full_rate"], flush=True)
    results["latency"] = [
        bench_e2e.latency_at(args.bootstrap, args.registry_url, float(load), args.load_seconds)
        for load in args.loads.split(",")
    ]
    print("latency", results["latency"], flush=True)
    if args.soak:
        results["soak"] = bench_e2e.soak(args.bootstrap, args.registry_url, args.soak_rate, args.soak)
        print("soak", results["soak"], flush=True)
    write_section(args.out, render(results), BEGIN, END)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
