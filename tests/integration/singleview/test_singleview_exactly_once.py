"""Exactly once into the store: SIGKILL the subscriber again and again while 20,000 events flow,
then compare the store with a clean replay, table by table, row by row (SQLite and PostgreSQL)."""

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
from typing import Any

import pytest

from services.singleview import PERSONAL_TABLES, Database
from services.singleview.testing import Publisher, sample_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLS = 10
_DATA_TABLES = [t for t in PERSONAL_TABLES if t != "sv_link"] + ["sv_removed", "sv_offset"]


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
        "MAIS_SINGLEVIEW_BATCH_SIZE": "100",
        "MAIS_SINGLEVIEW_DLQ_TOPIC": f"test.dlq.{suffix}",
    }


def _applied(database_url: str) -> int:
    db = Database(database_url).connect()
    try:
        return int(db.query("SELECT COALESCE(SUM(next_offset), 0) FROM sv_offset")[0][0])
    except Exception:
        return 0
    finally:
        db.close()


def _snapshot(database_url: str) -> dict[str, Any]:
    db = Database(database_url).connect()
    try:
        tables = {t: sorted(map(repr, db.query(f"SELECT * FROM {t}"))) for t in _DATA_TABLES}
        links = db.query("SELECT person_id, record_key FROM sv_link")
        persons: dict[str, set[str]] = {}
        for person_id, key in links:
            persons.setdefault(person_id, set()).add(key)
        tables["persons (record sets)"] = sorted(sorted(keys) for keys in persons.values())
        return tables
    finally:
        db.close()


def _run_to_end(env: dict[str, str], database_url: str, total: int, log: Path, timeout: float = 240) -> None:
    process = _subscriber(env, log)
    try:
        deadline = time.monotonic() + timeout
        while _applied(database_url) < total:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"only {_applied(database_url)} of {total} applied"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_sigkill_ten_times_while_20000_events_flow_equals_clean_replay(
    store: str, request: pytest.FixtureRequest, kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path
) -> None:
    def database(name: str) -> str:
        if store == "sqlite":
            return f"sqlite:///{tmp_path}/{name}.db"
        return str(request.getfixturevalue("pg_database")) if name == "killed" else _second_pg(request)

    events = sample_events(tmp_path / "samples", people=4200, seed=7)
    suffix = uuid.uuid4().hex[:8]
    events = [e.for_agency(f"{e.agency}-{suffix}") for e in events][:20_000]
    total = len(events)
    assert total == 20_000
    base = {
        **os.environ,
        "MAIS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MAIS_SCHEMA_REGISTRY_URL": schema_registry_url,
    }
    killed_url, clean_url = database("killed"), database("clean")
    killed_env = _env(base, killed_url, suffix, f"sv-killed-{suffix}")

    publisher = Publisher(kafka_bootstrap, schema_registry_url)
    flowing = threading.Thread(
        target=lambda: [publisher.publish(events[i : i + 500]) for i in range(0, total, 500)]
    )
    flowing.start()
    rng = random.Random(11)
    log = tmp_path / "killed.log"
    progress: list[int] = []
    for _ in range(KILLS):
        process = _subscriber(killed_env, log)
        started = time.monotonic()
        before = _applied(killed_url)
        while _applied(killed_url) == before and time.monotonic() - started < 30:
            time.sleep(0.05)  # kill only once it is applying
        time.sleep(rng.uniform(0.0, 0.8))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        progress.append(_applied(killed_url))
    flowing.join(120)
    publisher.close()
    assert progress[-1] < total, "every event was in before the last kill: the test proved less than it says"
    _run_to_end(killed_env, killed_url, total, log)
    _run_to_end(_env(base, clean_url, suffix, f"sv-clean-{suffix}"), clean_url, total, tmp_path / "clean.log")

    killed, clean = _snapshot(killed_url), _snapshot(clean_url)
    for table in clean:
        assert killed[table] == clean[table], f"{table} differs after {KILLS} kills"
    assert len(clean["sv_person_record"]) > 3000


_created: dict[str, str] = {}


def _second_pg(request: pytest.FixtureRequest) -> str:
    import psycopg  # noqa: PLC0415

    server = request.getfixturevalue("postgres")
    name = f"sv_clean_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return str(server.url.rsplit("/", 1)[0] + f"/{name}")
