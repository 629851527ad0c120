"""Registries for integration tests: real broker, one fresh ``_schemas``-style topic per test.

``start_registry`` runs the service in this process (uvicorn on a thread); ``spawn_registry``
runs ``python -m services.registry`` as a child process, for restart and kill -9 tests.
Tests talk to both only through confluent-kafka's ``SchemaRegistryClient``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from confluent_kafka.schema_registry import SchemaRegistryClient

from exchange.localkafka import free_port
from exchange.settings import KafkaSettings
from services.registry import RegistrySettings, create_app

_START_TIMEOUT = 60.0


def wait_healthy(url: str, timeout: float = _START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"registry at {url} not healthy after {timeout}s")


@dataclass
class InProcessRegistry:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def client(self) -> SchemaRegistryClient:
        return SchemaRegistryClient({"url": self.url})

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def registry_topic(unique_topic: Callable[..., str]) -> str:
    return unique_topic("schemas")


def launch(settings: RegistrySettings) -> InProcessRegistry:
    """Serve ``settings`` with uvicorn on a thread of this process; return once healthy."""
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    registry = InProcessRegistry(settings.url, server, thread)
    try:
        wait_healthy(registry.url)
    except TimeoutError:
        registry.stop()
        raise
    return registry


@pytest.fixture
def start_registry(kafka_bootstrap: str, registry_topic: str) -> Iterator[Callable[..., InProcessRegistry]]:
    started: list[InProcessRegistry] = []

    def start(topic: str | None = None, **overrides: object) -> InProcessRegistry:
        settings = RegistrySettings(
            port=free_port(),
            topic=topic or registry_topic,
            kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
            **overrides,  # type: ignore[arg-type]
        )
        registry = launch(settings)
        started.append(registry)
        return registry

    yield start
    for registry in started:
        registry.stop()


@pytest.fixture(scope="module")
def module_registry(kafka_bootstrap: str) -> Iterator[InProcessRegistry]:
    """One registry (own topic) shared by a module's tests; each test uses its own subjects."""
    settings = RegistrySettings(
        port=free_port(),
        topic=f"test.registry-module.{uuid.uuid4().hex[:10]}",
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
    )
    registry = launch(settings)
    yield registry
    registry.stop()


@dataclass
class ChildRegistry:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_events(self) -> list[str]:
        """The ``event`` of every JSON log line the child wrote so far."""
        events = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                events.append(str(json.loads(line).get("event")))
            except json.JSONDecodeError:
                continue
        return events

    def client(self) -> SchemaRegistryClient:
        return SchemaRegistryClient({"url": self.url})


@pytest.fixture
def spawn_registry(
    kafka_bootstrap: str, registry_topic: str, tmp_path: Path
) -> Iterator[Callable[..., ChildRegistry]]:
    children: list[ChildRegistry] = []

    def spawn(port: int | None = None) -> ChildRegistry:
        port = port or free_port()
        env = {
            **os.environ,
            "MAIS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "MAIS_REGISTRY_PORT": str(port),
            "MAIS_REGISTRY_TOPIC": registry_topic,
        }
        log_path = tmp_path / f"registry-{len(children)}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "services.registry"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        child = ChildRegistry(f"http://127.0.0.1:{port}", process, log_path)
        children.append(child)
        try:
            wait_healthy(child.url)
        except TimeoutError:
            process.kill()
            process.wait(timeout=10)
            raise AssertionError(f"registry did not start: {log_path.read_text()[-2000:]}") from None
        return child

    yield spawn
    for child in children:
        if child.process.poll() is None:
            child.process.kill()
            child.process.wait(timeout=10)
