"""Chaos: the adapter process is SIGKILLed at random moments while 50,000 records flow.

Afterwards a read_committed reader must find every input's output exactly once (checked by
person id), every poison record exactly once in the DLQ, and the logs and metrics captured
during the run must hold none of the test people's names, NHS numbers or dates of birth.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from runtime_it_helpers import (
    FAMILY,
    GIVEN,
    AdapterProcess,
    create_topic,
    people_lines,
    person_id,
    produce_lines,
    read_all,
    subprocess_env,
)

from exchange.runtime._replay import read_dlq
from exchange.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

RECORDS = 50_000
KILLS = 20
POISON_EVERY = 100
LAST = 2500
"""Records fed only once the last (surviving) run is up, so its metrics count some of each kind."""


def _kill_repeatedly(adapter: AdapterProcess, kills: int, rng: random.Random) -> None:
    """Start, wait until ready (so the kill lands while work is done), sleep 0-2 s, SIGKILL."""
    for _ in range(kills):
        adapter.start()
        adapter.wait_ready(60)
        time.sleep(rng.uniform(0.0, 2.0))
        assert adapter.process is not None
        assert adapter.process.poll() is None, f"adapter died on its own:\n{adapter.logs()[-3000:]}"
        adapter.kill()


def _wait_for_outputs(bootstrap: str, topic: str, expected: int, timeout_s: float) -> list[object]:
    deadline = time.monotonic() + timeout_s
    outputs: list[object] = []
    while time.monotonic() < deadline:
        outputs = read_all(bootstrap, topic, timeout_s=30, expect=expected)
        if len({person_id(m) for m in outputs}) >= expected:
            break
    return outputs


def _assert_no_personal_data(text: str, lines: list[bytes]) -> None:
    for name in GIVEN + FAMILY:
        assert name not in text, f"a test person's name reached the logs or metrics: {name}"
    assert not re.search(r"999\d{7}", text), "an NHS number reached the logs or metrics"
    assert not re.search(r"2010-0\d-\d\d|\d\d/0\d/2011", text), "a date of birth reached the logs or metrics"
    assert len(lines) > 0


def _check_exactly_once(bootstrap: str, agency: str, lines: list[bytes]) -> None:
    expected = {line.split(b",")[0].decode() for line in lines if b"/" not in line}
    poison = {line.split(b",")[0].decode() for line in lines if b"/" in line}
    outputs = _wait_for_outputs(bootstrap, f"mais.{agency}.person.v1", len(expected), 300)
    ids = Counter(person_id(m) for m in outputs)
    duplicates = {pid: n for pid, n in ids.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} outputs written more than once"
    assert set(ids) == expected, f"{len(expected - set(ids))} inputs lost"
    dlq = Counter(
        e.value.split(b",")[0].decode() for e in read_dlq(KafkaSettings(bootstrap_servers=bootstrap), agency)
    )
    assert set(dlq) == poison
    assert max(dlq.values()) == 1, "a poison record was rejected twice"


def test_kafka_source_survives_sigkill_without_loss_or_duplicates(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object, tmp_path: Path
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(kafka_bootstrap, topic, partitions=3)
    lines = people_lines(RECORDS, poison_every=POISON_EVERY)
    rng = random.Random(20261125)

    def feed() -> None:  # records keep flowing while the adapter is being killed
        for start in range(0, RECORDS - LAST, 2500):
            produce_lines(kafka_bootstrap, topic, lines[start : start + 2500])
            time.sleep(2.0)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    adapter = AdapterProcess(
        f"kafka:{topic}", agency, subprocess_env(kafka_bootstrap, schema_registry_url), tmp_path
    )
    _kill_repeatedly(adapter, KILLS, rng)
    feeder.join(300)
    adapter.start()
    adapter.wait_ready(60)
    produce_lines(kafka_bootstrap, topic, lines[RECORDS - LAST :])  # work (and rejects) for the last run
    try:
        _check_exactly_once(kafka_bootstrap, agency, lines)
        deadline = time.monotonic() + 15
        while "mais_consumer_lag{" not in (metrics := adapter.scrape_metrics()):
            assert time.monotonic() < deadline, "consumer lag is reported every 5 s"
            time.sleep(0.5)
        assert f'mais_consumer_lag{{adapter="people-csv",agency="{agency}",topic="{topic}"}} 0.0' in metrics
        assert 'stage="validate"} ' in metrics
    finally:
        exit_code = adapter.terminate()
    assert exit_code == 0, "SIGTERM must drain, commit and exit 0"
    assert adapter.runs == KILLS + 1
    _assert_no_personal_data(adapter.logs() + metrics, lines)


def test_file_drop_survives_sigkill_without_loss_or_duplicates(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    logs = tmp_path / "logs"
    drop.mkdir()
    logs.mkdir()
    lines = people_lines(RECORDS, poison_every=POISON_EVERY)
    rng = random.Random(20261126)

    def feed() -> None:
        for number, start in enumerate(range(0, RECORDS, 2000)):
            temporary = drop / f".batch-{number:03d}.tmp"
            temporary.write_bytes(b"\n".join(lines[start : start + 2000]) + b"\n")
            temporary.rename(drop / f"batch-{number:03d}.csv")
            time.sleep(2.2)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    adapter = AdapterProcess(
        f"dir:{drop}", agency, subprocess_env(kafka_bootstrap, schema_registry_url), logs
    )
    _kill_repeatedly(adapter, KILLS, rng)
    feeder.join(300)
    adapter.start()
    try:
        _check_exactly_once(kafka_bootstrap, agency, lines)
        deadline = time.monotonic() + 60
        while list(drop.glob("*.csv")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not list(drop.glob("*.csv")), "every file is acknowledged (moved to done/)"
        assert len(list((drop / "done").glob("*.csv"))) == RECORDS // 2000
        metrics = adapter.scrape_metrics()
    finally:
        exit_code = adapter.terminate()
    assert exit_code == 0
    _assert_no_personal_data(adapter.logs() + metrics, lines)


def test_rebalances_between_two_instances_lose_and_duplicate_nothing(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, unique_topic: object, tmp_path: Path
) -> None:
    """Two copies share a 6-partition topic; partitions move as they start, stop and get killed."""
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(kafka_bootstrap, topic, partitions=6)
    lines = people_lines(30_000, poison_every=POISON_EVERY)
    env = subprocess_env(kafka_bootstrap, schema_registry_url)

    def feed() -> None:
        for start in range(0, len(lines), 1500):
            produce_lines(kafka_bootstrap, topic, lines[start : start + 1500])
            time.sleep(1.0)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    first = AdapterProcess(f"kafka:{topic}", agency, env, tmp_path, instance_id="a")
    second = AdapterProcess(f"kafka:{topic}", agency, env, tmp_path, instance_id="b")
    first.start()
    first.wait_ready(60)
    time.sleep(2)
    second.start()  # the group rebalances: some partitions move from a to b
    second.wait_ready(60)
    time.sleep(3)
    assert first.terminate() == 0  # a stops cleanly mid-stream (a static member: its partitions wait)
    time.sleep(2)
    first.start()  # and comes back under the same instance id, taking its partitions again
    first.wait_ready(60)
    time.sleep(2)
    second.kill()  # b dies mid-batch
    time.sleep(1)
    second.start()
    feeder.join(120)
    try:
        _check_exactly_once(kafka_bootstrap, agency, lines)
    finally:
        assert first.terminate() == 0
        assert second.terminate() == 0
    _assert_no_personal_data(first.logs(), lines)
