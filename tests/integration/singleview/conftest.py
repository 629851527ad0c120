"""Fixtures for SingleView tests: a real PostgreSQL, sample events, a running SingleView."""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from exchange.localkafka import free_port
from exchange.localpg import LocalPostgres
from exchange.logging import configure_logging
from exchange.registry_client import RegistrySettings
from exchange.settings import KafkaSettings
from services.singleview import SingleView, SingleViewSettings
from services.singleview.testing import Publisher, SampleEvent, sample_events

USER, PASSWORD = "practitioner", "correct horse battery staple"
S47 = "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47"
MIN_NAME = 3
"""Names shorter than this are not looked for in logs (they occur inside ordinary words)."""


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A real PostgreSQL server (Debian's binaries) for the session."""
    server = LocalPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_database(postgres: LocalPostgres) -> str:
    """A fresh database on the session's PostgreSQL; returns its URL."""
    import psycopg  # noqa: PLC0415

    name = f"sv_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleEvent]]:
    out = tmp_path_factory.mktemp("samples")
    return out, sample_events(out, people=200, seed=1)


@dataclass(frozen=True)
class PersonalData:
    """The generated people's names, NHS numbers and dates of birth (from a sample set's people.csv)."""

    pattern: re.Pattern[str]

    @classmethod
    def of(cls, sample_dir: Path) -> PersonalData:
        values: set[str] = set()
        with (sample_dir / "people.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                names = [row["given"], row["middle"], row["family"]]
                values |= {n for name in names for n in (name, name.upper()) if len(name) >= MIN_NAME}
                values |= {row["nhs_number"], row["birth_date"]} - {""}
        alternatives = "|".join(sorted(map(re.escape, values), key=len, reverse=True))
        return cls(re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])"))

    def found_in(self, text: str) -> list[str]:
        """Every generated name, NHS number or date of birth that occurs in ``text`` as a whole word."""
        return sorted(set(self.pattern.findall(text)))


@dataclass
class RunningSingleView:
    view: SingleView
    url: str
    suffix: str
    audit_topic: str
    server: uvicorn.Server

    def agency(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(USER, PASSWORD), timeout=30)

    def wait_for(self, check: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise AssertionError("condition not reached in time")

    def count(self, sql: str) -> int:
        return int(self.view.store.reader().query(sql)[0][0])


def directory_for(tmp_path: Path, suffix: str) -> Path:
    """The shipped directory, with the test's agency ids."""
    from importlib import resources  # noqa: PLC0415

    text = (resources.files("services.singleview") / "directory.toml").read_text()
    for name in ("gp-practice", "gp", "hospital", "community", "csc", "school", "police", "housing"):
        text = text.replace(f"[agencies.{name}]", f"[agencies.{name}-{suffix}]")
    path = tmp_path / "directory.toml"
    path.write_text(text)
    return path


_TEST_CLIENT_LOGGERS = ("httpx", "httpcore")
"""The test's own HTTP client logs the URLs it asks for (searches carry what was typed)."""


@pytest.fixture
def singleview(
    kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    samples: tuple[Path, list[SampleEvent]],
) -> Iterator[Callable[..., RunningSingleView]]:  # fmt: skip
    """Start a SingleView (subscriber + HTTP) on its own agency suffix; ``start(database_url=None)``.

    Everything the SingleView logs while the test runs, and its ``/metrics`` at the end, must hold
    none of the generated people's names, NHS numbers or dates of birth.
    """
    started: list[RunningSingleView] = []
    logs = io.StringIO()
    configure_logging("DEBUG", stream=logs)
    caplog.set_level(logging.DEBUG)

    def start(database_url: str | None = None, **extra: Any) -> RunningSingleView:
        suffix = uuid.uuid4().hex[:8]
        port = free_port()
        settings = SingleViewSettings(
            database_url=database_url or f"sqlite:///{tmp_path}/sv-{suffix}.db",
            port=port,
            topic_pattern=rf"^mais\.[a-z-]+-{suffix}\.(person|episode|event)\.v1$",
            group_id=f"sv-test-{suffix}",
            audit_topic=f"test.audit.{suffix}",
            dlq_topic=f"test.dlq.{suffix}",
            dev_user=USER,
            dev_password=PASSWORD,
            directory=directory_for(tmp_path, suffix),
            metadata_refresh_ms=1000,
            **extra,
        )
        view = SingleView(
            settings,
            KafkaSettings(bootstrap_servers=kafka_bootstrap),
            RegistrySettings(url=schema_registry_url),
        )
        view.start()
        server = uvicorn.Server(uvicorn.Config(view.app(), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        running = RunningSingleView(view, f"http://127.0.0.1:{port}", suffix, settings.audit_topic, server)
        started.append(running)
        return running

    yield start
    metrics = []
    for running in started:
        with running.client() as client:
            metrics.append(client.get("/metrics").text)
        running.server.should_exit = True
        running.view.stop()
    configure_logging()
    records = [r for r in caplog.records if not r.name.startswith(_TEST_CLIENT_LOGGERS)]
    captured = "\n".join([logs.getvalue(), *(r.getMessage() for r in records), *metrics])
    assert "mais_singleview_events_applied_total" in captured and "subscriber consuming" in captured
    leaked = PersonalData.of(samples[0]).found_in(captured)
    assert not leaked, f"personal data in the SingleView's logs or metrics: {len(leaked)} values"


@pytest.fixture
def publisher(kafka_bootstrap: str, schema_registry_url: str) -> Iterator[Publisher]:
    pub = Publisher(kafka_bootstrap, schema_registry_url)
    try:
        yield pub
    finally:
        pub.close()
