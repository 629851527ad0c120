"""SingleView benchmark: ingest, event-to-visible latency, and search at a million people.

Not a test: the figures depend on the machine and its load. In one run, against a real Kafka
broker, schema registry and PostgreSQL that it starts itself on free ports:

* reference: the generated sample set's events read from their topics without applying them
  (consumed, and consumed + decoded through the registry as the subscriber does);
* ingest: the SingleView subscriber draining the same topics into SQLite, then into PostgreSQL,
  linking as it goes (events/s, and the ratio to the reference);
* latency: new person records produced at half the SQLite ingest rate; produced -> committed in
  the store the API reads (p50/p99), beside produced -> seen by a plain consumer (reference);
* search: a million distinct people loaded into a store; searches through the function behind
  ``/api/search`` and through HTTP (which also writes the audit entry to Kafka), beside an indexed
  SQL look-up of the exact name and date of birth (reference).

Run: ``python bench/bench_singleview.py [--people 10000] [--search-people 1000000]``.
Writes its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import uvicorn
from confluent_kafka import Consumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import RunFacts, write_section
from _singleview_data import S47, search_queries, synthetic_people
from _singleview_latency import latency, percentiles

from exchange.codec import AvroCodec
from exchange.envelope import parse_headers
from exchange.localkafka import LocalKafkaCluster, LocalRegistry, free_port
from exchange.localpg import LocalPostgres
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.schemas import event_names, schema_json
from exchange.settings import KafkaSettings
from services.singleview import Database, SingleView, SingleViewSettings, Store, search_people
from services.singleview._linking import SearchQuery
from services.singleview.testing import Publisher, as_events, sample_events

T = TypeVar("T")
USER, PASSWORD = "bench", "bench-password"
ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- bench/bench_singleview.py: begin -->"
END = "<!-- bench/bench_singleview.py: end -->"


def _rss() -> int:
    """Resident memory of this process in bytes (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _view(bootstrap: str, registry: str, url: str, suffix: str, **extra: Any) -> SingleView:
    settings = SingleViewSettings(
        database_url=url,
        topic_pattern=rf"^mais\.[a-z-]+-{suffix}\.(person|episode|event)\.v1$",
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        dlq_topic=f"bench.dlq.{suffix}",
        audit_topic=f"bench.audit.{suffix}",
        metadata_refresh_ms=500,
        dev_user=USER,
        dev_password=PASSWORD,
        **extra,
    )
    return SingleView(settings, KafkaSettings(bootstrap_servers=bootstrap), RegistrySettings(url=registry))


def _applied(url: str) -> int:
    db = Database(url).connect()
    try:
        return int(db.query("SELECT COALESCE(SUM(next_offset), 0) FROM sv_offset")[0][0])
    finally:
        db.close()


def reference_read(bootstrap: str, registry: str, suffix: str, total: int, *, decode: bool) -> float:
    """Events/s of reading the topics (and decoding them as the subscriber does), applying nothing."""
    codec = AvroCodec(SchemaRegistryClient(registry))
    readers = {name: schema_json(name) for name in event_names()}
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"ref-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    topics = consumer.list_topics(timeout=10).topics
    consumer.assign(
        [
            TopicPartition(name, p, 0)
            for name, t in topics.items()
            if name.startswith("mais.") and suffix in name
            for p in t.partitions
        ]
    )
    seen, started = 0, time.perf_counter()
    while seen < total:
        for message in consumer.consume(500, 1.0):
            if message.error() is None:
                if decode:
                    envelope = parse_headers(cast(Any, message.headers()))
                    codec.decode(message.value() or b"", readers[envelope.type])
                seen += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return total / elapsed


def ingest(bootstrap: str, registry: str, url: str, suffix: str, total: int) -> tuple[float, SingleView]:
    """Events/s of the subscriber draining the topics into ``url`` (linking included)."""
    view = _view(bootstrap, registry, url, suffix)
    started = time.perf_counter()
    view.start()
    while _applied(url) < total:
        time.sleep(0.05)
    return total / (time.perf_counter() - started), view


def _timed(run: Callable[[T], object], items: list[T]) -> list[float]:
    """Milliseconds each call of ``run`` took, one per item."""
    times = []
    for item in items:
        t = time.perf_counter_ns()
        run(item)
        times.append((time.perf_counter_ns() - t) / 1e6)
    return times


def search(size: int, queries: int, folder: Path, bootstrap: str, registry: str) -> dict[str, Any]:
    """A million people in a store: load rate, memory, search latency in-process and over HTTP."""
    url = f"sqlite:///{folder}/million.db"
    store = Store(Database(url)).open()
    before = _rss()
    people = synthetic_people(size, seed=size)
    kept: list[Mapping[str, Any]] = []
    started = time.perf_counter()
    for start in range(0, size, 2000):
        chunk = as_events(itertools.islice(people, 2000))
        store.apply_batch(chunk, {(chunk[0].topic, 0): start + len(chunk)})
        kept += [e.value["person"] for e in chunk[:: max(1, size // queries)]]  # people to search for
    load_rate = size / (time.perf_counter() - started)
    memory = _rss() - before
    asked = search_queries(kept, queries)
    db = store.reader()
    ours = _timed(lambda q: search_people(db, store.linker, q), asked)
    exact = [q for q in asked if q.family and q.birth_date]
    sql = "SELECT record_key, person_json FROM sv_person_record WHERE family_name = ? AND birth_date = ?"
    reference = _timed(lambda q: db.query(sql, (q.family.upper(), q.birth_date)), exact)
    view = _view(bootstrap, registry, url, "million")
    view.store = store
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(view.app(), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=(USER, PASSWORD)) as client:
        params = [_params(q) for q in asked[: queries // 2]]
        http = _timed(lambda p: client.get("/api/search", params=p).raise_for_status(), params)
    server.should_exit = True
    found = sum(bool(search_people(db, store.linker, q)) for q in asked[:200]) / min(200, len(asked))
    return {
        "size": size,
        "load_rate": load_rate,
        "memory": memory,
        "ours": percentiles(ours),
        "reference": percentiles(reference),
        "http": percentiles(http),
        "found": found,
    }


def _params(query: SearchQuery) -> dict[str, str]:
    return {
        "given": query.given,
        "family": query.family,
        "dob": query.birth_date,
        "identifier": query.identifier,
        "purpose": S47,
    }


@dataclass
class Results:
    """Everything one run measured."""

    total: int = 0
    read: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] | None = None
    restore: tuple[int, float] = (0, 0.0)


def _search_lines(found: dict[str, Any]) -> list[str]:
    per_person = found["memory"] / found["size"]
    rows = (
        ("SQL exact look-up (reference)", found["reference"]),
        ("`search_people` (what `/api/search` runs)", found["ours"]),
        ("`GET /api/search` over HTTP, audit entry written", found["http"]),
    )
    return [
        "",
        f"Search: {found['size']:,} distinct synthetic people loaded through the store "
        f"({found['load_rate']:,.0f} people/s, linking included; {per_person:,.0f} B of resident memory "
        "per person). Queries: name + date of birth, a given-name typo + family name + date of birth, "
        f"NHS number; {found['found']:.0%} found their person. Reference: an indexed SQL look-up of the "
        "exact family name and date of birth on the same store.",
        "",
        "| search | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|",
        *(f"| {name} | {p50:.2f} | {p99:.2f} |" for name, (p50, p99) in rows),
    ]


def render(facts: RunFacts, results: Results) -> str:
    total, read, rates, lat, found = (
        results.total,
        results.read,
        results.rates,
        results.latency,
        results.search,
    )
    raw, decoded = read["raw"], read["decoded"]
    lines = [
        BEGIN,
        "## SingleView: ingest, event to visible, search",
        "",
        *facts.lines(),
        "",
        "Kafka, the registry and PostgreSQL ran on the same two cores.",
        "",
        f"Ingest: {total:,} events of the generated sample set (persons, episodes, life events of all "
        "agencies) preloaded on their topics, drained by one subscriber; linking with the shipped model "
        "included. Reference: the same topics read by one consumer in the same run.",
        "",
        "| reader | events/s | vs reading and decoding |",
        "|---|---:|---:|",
        f"| consume only (reference) | {raw:,.0f} | {raw / decoded:.2f}x |",
        f"| consume + decode (reference) | {decoded:,.0f} | 1.00x |",
    ]
    lines += [
        f"| SingleView into {name} | {rate:,.0f} | {rate / decoded:.2f}x |" for name, rate in rates.items()
    ]
    store, kafka = lat["store"], lat["kafka"]
    lines += [
        "",
        f"Event to visible: {lat['count']:,} events of a second sample set (the same mix) produced at "
        f"{lat['rate']:,.0f}/s (half the SQLite ingest rate) into a SingleView process (`mais singleview "
        "serve --ingest-only`) holding the first set; visible = position committed in the store the API "
        "reads, in the same transaction as the event (polled every 5 ms). The events were encoded before "
        "the clock started (the producer stands in for adapters on other machines). Reference: a plain "
        "`read_committed` consumer of the same topics, on a thread of the benchmark's own process beside "
        "the producer (it shares that interpreter; the SingleView has a process of its own, so its p50 can "
        "come out lower).",
        "",
        "| path | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|",
        f"| produced -> consumed (reference) | {kafka[0]:.0f} | {kafka[1]:.0f} |",
        f"| produced -> visible in the SingleView | {store[0]:.0f} | {store[1]:.0f} |",
    ]
    records, seconds = results.restore
    lines += [
        "",
        f"Start-up: reopening the SQLite store re-links its {records:,} records "
        f"in {seconds:.1f} s ({records / seconds:,.0f} records/s).",
    ]
    if found is not None:
        lines += _search_lines(found)
    return "\n".join([*lines, "", END, ""])


def _measure(args: argparse.Namespace, folder: Path, bootstrap: str, registry: str, pg_url: str) -> Results:
    results = Results()
    events = sample_events(folder / "samples", people=args.people, seed=args.people)
    suffix = uuid.uuid4().hex[:8]
    publisher = Publisher(bootstrap, registry)
    publisher.publish([e.for_agency(f"{e.agency}-{suffix}") for e in events])
    results.total = total = len(events)
    for name, decode in (("raw", False), ("decoded", True)):
        results.read[name] = reference_read(bootstrap, registry, suffix, total, decode=decode)
    print(results.read, flush=True)
    results.rates["PostgreSQL"], view = ingest(bootstrap, registry, pg_url, suffix, total)
    view.stop()
    sqlite_url = f"sqlite:///{folder}/sv.db"
    results.rates["SQLite"], view = ingest(bootstrap, registry, sqlite_url, suffix, total)
    view.stop()
    publisher.close()
    print(results.rates, flush=True)
    second = uuid.uuid4().hex[:8]
    mix = sample_events(folder / "samples-2", people=args.people, seed=args.people + 1)
    rate = results.rates["SQLite"] / 2
    mix = [e.for_agency(f"{e.agency}-{second}") for e in mix][: int(rate * args.latency_seconds)]
    pattern = rf"^mais\.[a-z-]+-({suffix}|{second})\.(person|episode|event)\.v1$"
    log = folder / "latency.log"
    results.latency = latency(bootstrap, registry, sqlite_url, mix, rate=rate, log=log, pattern=pattern)
    print(results.latency, flush=True)
    started = time.perf_counter()
    store = Store(Database(f"sqlite:///{folder}/sv.db")).open()
    results.restore = (store.counts()["records"], time.perf_counter() - started)
    store.close()
    print(results.restore, flush=True)
    if args.search_people:
        results.search = search(args.search_people, args.queries, folder, bootstrap, registry)
        print(results.search, flush=True)
    return results


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers it started on SIGTERM too
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="generated sample set for ingest")
    parser.add_argument(
        "--search-people", type=int, default=1_000_000, help="people loaded for search (0: skip)"
    )
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--note", help="a note written into the report with this run")
    args = parser.parse_args()
    facts = RunFacts(args.note)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cluster = LocalKafkaCluster(folder / "kafka", nodes=1, ports=[(free_port(), free_port())])
        cluster.start(timeout=180)
        registry = LocalRegistry(folder / "registry", port=free_port())
        postgres = LocalPostgres()
        try:
            bootstrap = cluster.bootstrap_servers
            registry_url = registry.start(bootstrap, topic="_schemas-bench", timeout=120)
            pg_url = postgres.start()
            results = _measure(args, folder, bootstrap, registry_url, pg_url)
        finally:
            postgres.stop()
            registry.stop()
            cluster.stop()
    write_section(ROOT / "docs" / "benchmarks.md", render(facts, results), BEGIN, END)


if __name__ == "__main__":
    main()
