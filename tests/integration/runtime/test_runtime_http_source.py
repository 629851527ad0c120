"""HTTP push → adapter → Kafka: answered only after commit, idempotent by key, rejects in the DLQ."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
import runtime_people_adapter as people
from runtime_it_helpers import people_lines, person_id, read_all, wait_for

from exchange.localkafka import free_port
from exchange.registry_client import SchemaRegistryClient
from exchange.runtime import (
    ListenerSource,
    LoadedAdapter,
    RunOptions,
    RuntimeSettings,
    StopSignal,
    run_adapter,
)
from exchange.runtime._dedup import DedupMarkers
from exchange.runtime._replay import read_dlq
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration


def _options(kafka_bootstrap: str, schema_registry_url: str, agency: str, **runtime: int) -> RunOptions:
    return RunOptions(
        adapter=LoadedAdapter(people.adapter, people.schemas.__getitem__),
        agency=agency,
        source=ListenerSource("http", "127.0.0.1", free_port()),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        registry=SchemaRegistryClient(schema_registry_url),
        instance_id="it",
        runtime=RuntimeSettings(**runtime),  # type: ignore[arg-type]
    )


def test_http_push_is_acknowledged_after_commit_and_deduplicated_by_key(
    kafka_bootstrap: str, schema_registry_url: str, agency: str
) -> None:
    options = _options(kafka_bootstrap, schema_registry_url, agency)
    port = options.source.port  # type: ignore[union-attr]
    stop = StopSignal()
    thread = threading.Thread(target=run_adapter, args=(options, stop), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/records"

    def post(body: bytes, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return httpx.post(url, content=body, headers=headers, timeout=30)

    try:
        wait_for(lambda: _listening(url), 60, "the HTTP source")
        lines = people_lines(200, poison_every=50)
        first = post(b"\n".join(lines[:100]), "export-2026-11-25-a")
        assert first.status_code == 202
        assert first.json() == {"records": 100, "events": 98, "rejected": 2}
        # Already visible to read_committed consumers when the answer arrives:
        visible = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", timeout_s=5)
        assert len(visible) == 98
        again = post(b"\n".join(lines[:100]), "export-2026-11-25-a")  # the sender retried
        assert (again.status_code, again.json()) == (200, {"duplicate": True})
        unkeyed = post(b"\n".join(lines[100:]))
        assert unkeyed.status_code == 202
        assert post(b"\n".join(lines[100:])).json() == {"duplicate": True}  # same body, same default key
        assert post(b"x", "not a valid key!").status_code == 400
        assert httpx.post(url.replace("/records", "/other"), content=b"x").status_code == 404
    finally:
        stop.stop()
        thread.join(60)
    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=196)
    ids = Counter(person_id(m) for m in outputs)
    assert len(ids) == 196
    assert max(ids.values()) == 1
    rejects = read_dlq(options.kafka, agency)
    assert len(rejects) == 4
    assert {e.origin.split(":")[0] for e in rejects} >= {"http/export-2026-11-25-a"}
    assert all(e.stage == "validate" and e.source == f"http:127.0.0.1:{port}" for e in rejects)


def test_idempotency_keys_are_forgotten_beyond_the_window_with_tombstones_and_after_a_restart(
    kafka_bootstrap: str, schema_registry_url: str, agency: str
) -> None:
    """A window of 3 keys: older keys are tombstoned on the progress topic and processed again."""
    options = _options(kafka_bootstrap, schema_registry_url, agency, dedup_max_keys=3)
    url = f"http://127.0.0.1:{options.source.port}/records"  # type: ignore[union-attr]
    lines = people_lines(6)

    def run_and_post(posts: list[tuple[int, str]]) -> list[int]:
        stop = StopSignal()
        thread = threading.Thread(target=run_adapter, args=(options, stop), daemon=True)
        thread.start()
        try:
            wait_for(lambda: _listening(url), 60, "the HTTP source")
            return [
                httpx.post(url, content=lines[i], headers={"Idempotency-Key": key}, timeout=30).status_code
                for i, key in posts
            ]
        finally:
            stop.stop()
            thread.join(60)

    first = run_and_post([(i, f"unit-{i}") for i in range(5)] + [(4, "unit-4"), (0, "unit-0")])
    assert first == [202] * 5 + [200, 202]  # unit-4 is remembered; unit-0 is not (3 newer keys)
    markers = DedupMarkers(
        options.kafka, f"mais.{agency}.progress.v1", "people_csv", window_s=3600, max_keys=3
    )
    progress = read_all(kafka_bootstrap, f"mais.{agency}.progress.v1", expect=8)
    tombstoned = {bytes(m.key()) for m in progress if m.value() is None}
    assert markers.marker_key("unit-1") in tombstoned  # forgotten keys get tombstones on the topic
    again = run_and_post([(3, "unit-3"), (1, "unit-1")])  # after a restart: the same window
    assert again == [200, 202]
    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=7)
    assert Counter(person_id(m) for m in outputs) == Counter(
        {"P0000000": 2, "P0000001": 2, "P0000002": 1, "P0000003": 1, "P0000004": 1}
    )


def _listening(url: str) -> bool:
    try:
        return httpx.post(url, content=b"", timeout=1).status_code == 400
    except httpx.TransportError:
        return False
