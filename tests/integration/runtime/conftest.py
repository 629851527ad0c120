"""Fixtures of the runtime's integration tests: a real schema registry, helpers to feed and read topics.

``schema_registry_url`` uses ``MAIS_TEST_SCHEMA_REGISTRY_URL`` when set (any running
Confluent-compatible registry); otherwise it starts ``python -m services.registry`` against the
session's broker, or skips when that service is not installed in this checkout.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from exchange.localkafka import free_port


@pytest.fixture(scope="session")
def schema_registry_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("MAIS_TEST_SCHEMA_REGISTRY_URL")
    if external:
        yield external
        return
    if importlib.util.find_spec("services.registry") is None:
        pytest.skip("services.registry is not in this checkout yet (it lands from the registry branch)")
    port = free_port()
    log_file = tmp_path_factory.mktemp("registry") / "registry.log"
    env = {
        **os.environ,
        "MAIS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MAIS_REGISTRY_PORT": str(port),
        "MAIS_REGISTRY_TOPIC": f"_schemas-{uuid.uuid4().hex[:8]}",
    }
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.registry"], env=env, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/subjects", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"schema registry did not start:\n{log_file.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def agency() -> str:
    """A fresh agency id, so each test has its own mais.<agency>.* topics."""
    return f"t{uuid.uuid4().hex[:10]}"
