"""`mais dev up/status/down` as an operator runs them: real brokers, real processes."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange.localkafka import kafka_version

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(nodes: int) -> int:
    for _ in range(200):
        base = random.randrange(20000, 50000)
        if all(port_is_free(base + 100 * i + d) for i in range(nodes) for d in (0, 1)):
            return base
    raise AssertionError("no free port range found")


class Mais:
    def __init__(self, state_dir: Path) -> None:
        self.env = {**os.environ, "MAIS_DEV_STATE_DIR": str(state_dir)}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "exchange.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=300,
            check=False,
        )


@pytest.fixture
def mais(tmp_path: Path) -> Iterator[Mais]:
    runner = Mais(tmp_path / "dev")
    yield runner
    runner("dev", "down")  # never leave a broker behind, whatever the test did


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def recorded_pids(state_dir: Path) -> list[int]:
    files = [*state_dir.glob("kafka-*node/node-*/pid"), *state_dir.glob("kafka-*node/registry.pid")]
    return sorted(int(p.read_text()) for p in files)


def test_up_status_second_up_and_down(mais: Mais, tmp_path: Path) -> None:
    port = free_base_port(1)
    registry_port = free_base_port(1)
    up = mais("dev", "up", "--kafka-port", str(port), "--registry-port", str(registry_port))
    assert up.returncode == 0, up.stderr
    assert f"127.0.0.1:{port}" in up.stdout

    status = mais("dev", "status", "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["bootstrap_servers"] == f"127.0.0.1:{port}"
    assert info["brokers"] == 1
    assert len(info["cluster_id"]) == 22
    assert info["kafka_version"] == kafka_version()
    assert info["schema_registry_url"] == f"http://127.0.0.1:{registry_port}"
    assert httpx.get(f"{info['schema_registry_url']}/subjects").json() == []
    pids = recorded_pids(tmp_path / "dev")
    assert len(pids) == 2  # the broker and the registry
    assert all(alive(pid) for pid in pids)

    again = mais("dev", "up", "--kafka-port", str(port))
    assert again.returncode == 0
    assert "already running" in again.stdout
    assert recorded_pids(tmp_path / "dev") == pids
    assert json.loads(mais("dev", "status", "--json").stdout)["cluster_id"] == info["cluster_id"]

    down = mais("dev", "down")
    assert down.returncode == 0
    assert "Stopped 1 broker process" in down.stdout
    assert "Stopped the schema registry" in down.stdout
    assert not any(alive(pid) for pid in pids)
    gone = mais("dev", "status", "--json")
    assert gone.returncode == 3
    assert json.loads(gone.stdout) == {"running": False}


def test_up_with_port_taken_names_the_port(mais: Mais) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = mais("dev", "up", "--kafka-port", str(port))
    assert result.returncode != 0
    assert f"port {port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert mais("dev", "status").returncode == 3


@pytest.mark.slow
def test_three_nodes(mais: Mais, tmp_path: Path) -> None:
    port = free_base_port(3)
    registry_port = str(free_base_port(1))
    up = mais("dev", "up", "--nodes", "3", "--kafka-port", str(port), "--registry-port", registry_port)
    assert up.returncode == 0, up.stderr
    info = json.loads(mais("dev", "status", "--json").stdout)
    assert info["brokers"] == 3
    assert info["bootstrap_servers"].split(",") == [f"127.0.0.1:{port + 100 * i}" for i in range(3)]
    pids = recorded_pids(tmp_path / "dev")
    assert len(pids) == 4  # three brokers and the registry
    assert mais("dev", "down").returncode == 0
    assert not any(alive(pid) for pid in pids)
