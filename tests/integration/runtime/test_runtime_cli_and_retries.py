"""``mais dlq`` through the CLI, and transient registry failures retried without loss or duplicates."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import replace

import httpx
import pytest
import runtime_people_adapter as people
from runtime_it_helpers import (
    TEST_SECRET,
    create_topic,
    people_lines,
    person_id,
    produce_lines,
    read_all,
    wait_for,
)
from typer.testing import CliRunner

from exchange.cli import app
from exchange.errors import ConfigError, TransientError
from exchange.registry_client import RegisteredSchema, SchemaRegistry, SchemaRegistryClient
from exchange.runtime import KafkaSource, LoadedAdapter, RunOptions, StopSignal, run_adapter
from exchange.runtime._replay import read_dlq
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration


class FlakyRegistry:
    """The real registry client, failing its first ``failures`` calls as if the registry were down."""

    def __init__(self, real: SchemaRegistryClient, failures: int) -> None:
        self.real = real
        self.failures = failures

    def _trip(self) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TransientError("schema registry unreachable (injected)")

    def register(self, subject: str, schema: str) -> int:
        self._trip()
        return self.real.register(subject, schema)

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        self._trip()
        return self.real.lookup(subject, schema)

    def get_schema(self, schema_id: int) -> str:
        return self.real.get_schema(schema_id)

    def latest_version(self, subject: str) -> RegisteredSchema:
        return self.real.latest_version(subject)

    def get_compatibility(self, subject: str | None = None) -> str:
        return self.real.get_compatibility(subject)

    def set_compatibility(self, level: str, subject: str | None = None) -> str:
        return self.real.set_compatibility(level, subject)


def _people_options(agency: str, topic: str, kafka_bootstrap: str, registry: SchemaRegistry) -> RunOptions:
    """The people test adapter on ``kafka:topic``, as each test here runs it."""
    return RunOptions(
        adapter=LoadedAdapter(people.adapter, people.schemas.__getitem__),
        agency=agency,
        source=KafkaSource(topic),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        registry=registry,
        instance_id="it",
    )


def test_transient_registry_failures_are_retried_and_nothing_is_lost_or_doubled(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(kafka_bootstrap, topic, partitions=2)
    produce_lines(kafka_bootstrap, topic, people_lines(300))
    registry = FlakyRegistry(SchemaRegistryClient(schema_registry_url), failures=3)
    options = replace(_people_options(agency, topic, kafka_bootstrap, registry), batch_size=50)
    stop = StopSignal()
    thread = threading.Thread(target=run_adapter, args=(options, stop), daemon=True)
    thread.start()
    try:
        outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=300, timeout_s=90)
    finally:
        stop.stop()
        thread.join(60)
    assert registry.failures == 0  # the failures happened …
    ids = Counter(person_id(m) for m in outputs)
    assert len(ids) == 300  # … and every record still arrived
    assert max(ids.values()) == 1  # once
    assert read_dlq(options.kafka, agency) == []  # transient failures are not data errors


def test_dlq_commands(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(kafka_bootstrap, topic, partitions=1)
    produce_lines(kafka_bootstrap, topic, people_lines(100, poison_every=50))
    options = _people_options(agency, topic, kafka_bootstrap, SchemaRegistryClient(schema_registry_url))
    stop = StopSignal()
    thread = threading.Thread(target=run_adapter, args=(options, stop), daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(read_dlq(options.kafka, agency)) == 2, 60, "two rejects")
    finally:
        stop.stop()
        thread.join(60)

    runner = CliRunner()
    common = ["--agency", agency, "--bootstrap-servers", kafka_bootstrap]
    listed = runner.invoke(app, ["dlq", "list", *common], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("validate") == 2
    assert "birth_date" in listed.output
    assert "Harrison" not in listed.output  # the list shows why and where, never content

    first = read_dlq(options.kafka, agency)[0]
    shown = runner.invoke(app, ["dlq", "show", *common, first.coordinate], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "validate" in shown.output
    assert first.value.decode() not in shown.output
    with_bytes = runner.invoke(
        app, ["dlq", "show", *common, first.coordinate, "--bytes"], env={"COLUMNS": "250"}
    )
    assert first.value.decode() in with_bytes.output

    replay = [
        "dlq", "replay", *common, "--registry-url", schema_registry_url,
        "--adapter", "runtime_people_adapter:fixed_adapter", "--all",
    ]  # fmt: skip
    secret = {"COLUMNS": "250", "MAIS_KEYED_HASH_SECRET": TEST_SECRET}
    replayed = runner.invoke(app, replay, env=secret)
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 2, events delivered 2" in replayed.output
    again = runner.invoke(app, replay, env=secret)
    assert "replayed 0, events delivered 0" in again.output
    assert "already replayed 2" in again.output
    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=100)
    assert len({person_id(m) for m in outputs}) == 100

    missing = runner.invoke(app, ["dlq", "show", *common, "0:99999"])
    assert isinstance(missing.exception, ConfigError)  # `mais` prints it with its hint, exit code 2
    assert missing.exception.hint


def _run_in_thread(options: RunOptions, stop: StopSignal) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            run_adapter(options, stop)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def test_a_subject_in_read_only_mode_holds_records_back_without_rejecting_them(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(kafka_bootstrap, topic, partitions=2)
    subject = f"mais.{agency}.person.v1-{people.SCHEMA_NAME}"
    mode_url = f"{schema_registry_url}/mode/{subject}"
    assert httpx.put(mode_url, json={"mode": "READONLY"}, timeout=10).status_code == 200
    produce_lines(kafka_bootstrap, topic, people_lines(200))
    registry = SchemaRegistryClient(schema_registry_url)
    options = replace(_people_options(agency, topic, kafka_bootstrap, registry), batch_size=50)
    stop = StopSignal()
    thread, failures = _run_in_thread(options, stop)
    try:
        time.sleep(6)  # the registry refuses to register while the subject is read-only
        assert read_all(kafka_bootstrap, f"mais.{agency}.person.v1", timeout_s=3) == []
        assert thread.is_alive() and not failures
        assert httpx.put(mode_url, json={"mode": "READWRITE"}, timeout=10).status_code == 200
        outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=200, timeout_s=90)
    finally:
        httpx.put(mode_url, json={"mode": "READWRITE"}, timeout=10)
        stop.stop()
        thread.join(60)
    ids = Counter(person_id(m) for m in outputs)
    assert len(ids) == 200
    assert max(ids.values()) == 1
    assert read_dlq(options.kafka, agency) == []  # nothing was rejected for the registry's state
    assert not failures


def test_a_schema_the_registry_finds_incompatible_stops_the_adapter_and_rejects_nothing(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(kafka_bootstrap, topic, partitions=1)
    subject = f"mais.{agency}.person.v1-{people.SCHEMA_NAME}"
    registry = SchemaRegistryClient(schema_registry_url)
    earlier = json.loads(people.schemas[people.SCHEMA_NAME])
    earlier["fields"] = [{"name": "person_id", "type": "long"}]  # an earlier version of another shape
    registry.register(subject, json.dumps(earlier))
    registry.set_compatibility("FULL_TRANSITIVE", subject)
    produce_lines(kafka_bootstrap, topic, people_lines(20))
    options = _people_options(agency, topic, kafka_bootstrap, registry)
    stop = StopSignal()
    thread, failures = _run_in_thread(options, stop)
    thread.join(90)
    stop.stop()
    assert not thread.is_alive(), "the adapter stops by itself"
    (failure,) = failures
    assert isinstance(failure, ConfigError)
    assert "409" in failure.message
    assert failure.hint and "incompatible" in failure.hint
    assert read_dlq(options.kafka, agency) == []  # no record was blamed for the schema
