"""Exactly once into the store: SIGKILL the subscriber again and again while 20,000 events flow,
then compare the store with a clean replay, table by table, row by row (SQLite and PostgreSQL).

Every table is compared row for row. Person ids are numbered in the order persons are created,
and the two runs read the topics' partitions interleaved differently, so persons are compared by
their record keys; that person ids survive a restart unchanged is shown row for row, ids
included, by ``tests/unit/singleview/test_singleview_store.py``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import PersonalData

from services.singleview import Database
from services.singleview.testing import Publisher, SampleEvent, sample_events, store_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

KILLS = 10
TOTAL = 20_000
CHUNK = 500
PACE_S = 0.75
"""Seconds between two chunks of 500 events: the 20,000 flow for about 30 s, through the kills."""


@pytest.fixture(scope="module")
def flowing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleEvent]]:
    out = tmp_path_factory.mktemp("samples")
    events = sample_events(out, people=4200, seed=7)[:TOTAL]
    assert len(events) == TOTAL
    return out, events


def _subscriber(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.singleview", "serve", "--ingest-only"],
            env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
        )  # fmt: skip


def _env(base: dict[str, str], database_url: str, suffix: str, group: str) -> dict[str, str]:
    return {
        **base,
        "MAIS_SINGLEVIEW_DATABASE_URL": database_url,
        "MAIS_SINGLEVIEW_TOPIC_PATTERN": rf"^mais\.[a-z-]+-{suffix}\.(person|episode|event)\.v1$",
        "MAIS_SINGLEVIEW_GROUP_ID": group,
        "MAIS_SINGLEVIEW_BATCH_SIZE": "200",
        "MAIS_SINGLEVIEW_DLQ_TOPIC": f"test.dlq.{suffix}",
    }


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started (its reading process, multiprocessing's resource tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found |= {int(child) for child in task.read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _applied(database_url: str) -> int:
    try:
        db = Database(database_url).connect()
    except Exception:
        return 0
    try:
        return int(db.query("SELECT COALESCE(SUM(next_offset), 0) FROM sv_offset")[0][0])
    except Exception:
        return 0  # not migrated yet
    finally:
        db.close()


def _run_to_end(env: dict[str, str], database_url: str, log: Path, timeout: float = 300) -> None:
    process = _subscriber(env, log)
    try:
        deadline = time.monotonic() + timeout
        while _applied(database_url) < TOTAL:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"only {_applied(database_url)} of {TOTAL} applied"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _database(store: str, request: pytest.FixtureRequest, tmp_path: Path, name: str) -> str:
    if store == "sqlite":
        return f"sqlite:///{tmp_path}/{name}.db"
    import psycopg  # noqa: PLC0415

    server = request.getfixturevalue("postgres")
    database = f"sv_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {database}")
    return str(server.url.rsplit("/", 1)[0] + f"/{database}")


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_sigkill_ten_times_while_20000_events_flow_equals_clean_replay(
    store: str, *, request: pytest.FixtureRequest, kafka_bootstrap: str, schema_registry_url: str,
    tmp_path: Path, flowing: tuple[Path, list[SampleEvent]],
) -> None:  # fmt: skip
    sample_dir, sample = flowing
    suffix = uuid.uuid4().hex[:8]
    events = [e.for_agency(f"{e.agency}-{suffix}") for e in sample]
    base = {
        **os.environ,
        "MAIS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MAIS_SCHEMA_REGISTRY_URL": schema_registry_url,
    }
    killed_url = _database(store, request, tmp_path, "killed")
    clean_url = _database(store, request, tmp_path, "clean")
    killed_env = _env(base, killed_url, suffix, f"sv-killed-{suffix}")

    publisher = Publisher(kafka_bootstrap, schema_registry_url)

    def flow() -> None:
        for start in range(0, TOTAL, CHUNK):
            publisher.publish(events[start : start + CHUNK])
            time.sleep(PACE_S)

    flowing_thread = threading.Thread(target=flow)
    flowing_thread.start()
    rng = random.Random(11)
    log = tmp_path / "killed.log"
    progress: list[int] = []
    orphans: set[int] = set()
    for _ in range(KILLS):
        process = _subscriber(killed_env, log)
        started, before = time.monotonic(), _applied(killed_url)
        while _applied(killed_url) == before and time.monotonic() - started < 60:
            time.sleep(0.02)  # kill only once it is applying
        time.sleep(rng.uniform(0.0, 0.5))
        orphans |= _children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        progress.append(_applied(killed_url))
    flowing_thread.join(120)
    publisher.close()
    assert progress[-1] < TOTAL, "every event was in before the last kill: the test proved less than it says"
    assert len(set(progress)) == KILLS, f"some kills landed before anything was applied: {progress}"
    assert orphans, "no reading process was seen: the test proved less than it says"
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in orphans) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in orphans if _alive(pid)], "a killed subscriber's reading process lived on"
    _run_to_end(killed_env, killed_url, log)
    _run_to_end(_env(base, clean_url, suffix, f"sv-clean-{suffix}"), clean_url, tmp_path / "clean.log")

    killed = store_snapshot(killed_url, person_ids=False)
    clean = store_snapshot(clean_url, person_ids=False)
    for table in clean:
        assert killed[table] == clean[table], f"{table} differs after {KILLS} kills"
    assert len(clean["sv_person_record"]) > 3000 and len(clean["persons"]) < len(clean["sv_person_record"])
    logs = log.read_text() + (tmp_path / "clean.log").read_text()
    assert "subscriber consuming" in logs
    assert not PersonalData.of(sample_dir).found_in(logs), "personal data in the subscriber's logs"
