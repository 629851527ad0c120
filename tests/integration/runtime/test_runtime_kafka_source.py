"""Kafka → adapter → Kafka with a real broker and registry: outputs, DLQ, replay, SIGTERM-style stop."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import runtime_people_adapter as people
from runtime_it_helpers import create_topic, people_lines, person_id, produce_lines, read_all, wait_for

from exchange.codec import AvroCodec
from exchange.envelope import parse_headers
from exchange.registry_client import SchemaRegistryClient
from exchange.runtime import KafkaSource, LoadedAdapter, RunOptions, StopSignal, run_adapter
from exchange.runtime._context import LoopContext
from exchange.runtime._replay import read_dlq, replay
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration


def _options(agency: str, topic: str, bootstrap: str, registry_url: str, adapter: object) -> RunOptions:
    return RunOptions(
        adapter=LoadedAdapter(adapter, people.schemas.__getitem__),  # type: ignore[arg-type]
        agency=agency,
        source=KafkaSource(topic),
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        registry=SchemaRegistryClient(registry_url),
        instance_id="it",
        batch_size=200,
    )


@pytest.fixture
def running_adapter(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object
) -> Iterator[tuple[str, RunOptions, StopSignal]]:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(kafka_bootstrap, topic, partitions=3)
    options = _options(agency, topic, kafka_bootstrap, schema_registry_url, people.adapter)
    stop = StopSignal()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run_adapter(options, stop)
        except BaseException as exc:  # the test reports it
            failure.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    yield topic, options, stop
    stop.stop()
    thread.join(60)
    assert not thread.is_alive(), "the adapter did not stop after the stop request"
    assert not failure, failure


def test_every_record_reaches_the_output_or_the_dlq_then_replay_delivers(
    running_adapter: tuple[str, RunOptions, StopSignal],
    kafka_bootstrap: str,
    schema_registry_url: str,
    agency: str,
) -> None:
    topic, options, _ = running_adapter
    lines = people_lines(2000, poison_every=100)  # 1% poison
    produce_lines(kafka_bootstrap, topic, lines)
    poison = {line.split(b",")[0].decode() for line in lines if b"/" in line}
    assert len(poison) == 20

    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=1980)
    ids = Counter(person_id(m) for m in outputs)
    assert len(outputs) == 1980
    assert set(ids) == {line.split(b",")[0].decode() for line in lines} - poison
    assert max(ids.values()) == 1

    codec = AvroCodec(SchemaRegistryClient(schema_registry_url))
    sample = outputs[0]
    envelope = parse_headers(sample.headers())
    assert envelope.type == people.SCHEMA_NAME
    assert envelope.subject == sample.key().decode()
    assert codec.decode(sample.value()).value["person_id"] == person_id(sample)

    wait_for(lambda: len(read_dlq(options.kafka, agency)) >= 20, 30, "20 DLQ entries")
    entries = read_dlq(options.kafka, agency)
    assert len(entries) == 20
    originals = {line.split(b",")[0].decode(): line for line in lines}
    for entry in entries:
        pid = entry.value.split(b",")[0].decode()
        assert entry.value == originals[pid]  # the original bytes
        assert entry.key == pid.encode()  # and the original key
        assert (entry.stage, entry.error_class, entry.adapter) == ("validate", "DataError", "people_csv")
        assert "birth_date" in entry.message
        assert entry.kafka_coordinates is not None
        assert entry.kafka_coordinates[0] == topic
        assert entry.source == f"kafka:{topic}"

    # Replaying with the still-strict adapter: each fails again and returns to the DLQ once.
    strict = _options(agency, topic, kafka_bootstrap, schema_registry_url, people.adapter)
    log = __import__("structlog").get_logger()
    from exchange.metrics import HealthState, RuntimeMetrics  # noqa: PLC0415
    from exchange.runtime import build_pipeline  # noqa: PLC0415

    def context(opts: RunOptions) -> LoopContext:
        metrics = RuntimeMetrics("people_csv", agency)
        return LoopContext(
            build_pipeline(opts, metrics), opts.kafka, metrics, HealthState(), StopSignal(), log
        )

    first = replay(context(strict), entries[:5])
    assert (first.replayed, first.failed_again, first.events) == (5, 5, 0)
    again = read_dlq(options.kafka, agency)
    assert len(again) == 25
    assert sorted(e.replays for e in again).count(1) == 5
    assert replay(context(strict), entries[:5]).skipped == 5  # replayed already: not twice

    # After the fix, the remaining 15 and the 5 re-rejected ones are delivered.
    fixed = _options(agency, topic, kafka_bootstrap, schema_registry_url, people.fixed_adapter)
    report = replay(
        context(fixed), [e for e in again if e.coordinate not in {x.coordinate for x in entries[:5]}]
    )
    assert (report.replayed, report.events, report.failed_again) == (20, 20, 0)
    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=2000)
    ids = Counter(person_id(m) for m in outputs)
    assert len(outputs) == 2000
    assert set(ids) == set(originals)
    assert len(read_dlq(options.kafka, agency)) == 25  # nothing more was rejected


def test_stop_request_commits_what_was_read_and_a_restart_continues(
    running_adapter: tuple[str, RunOptions, StopSignal], kafka_bootstrap: str, agency: str
) -> None:
    topic, options, stop = running_adapter
    produce_lines(kafka_bootstrap, topic, people_lines(500))
    wait_for(
        lambda: len(read_all(kafka_bootstrap, f"mais.{agency}.person.v1", timeout_s=5)) >= 500,
        60,
        "500 outputs",
    )
    stop.stop()
    produce_lines(kafka_bootstrap, topic, people_lines(500, start=500))
    second = StopSignal()
    thread = threading.Thread(target=run_adapter, args=(options, second), daemon=True)
    thread.start()
    try:
        outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=1000)
    finally:
        second.stop()
        thread.join(60)
    ids = Counter(person_id(m) for m in outputs)
    assert len(ids) == 1000
    assert max(ids.values()) == 1
