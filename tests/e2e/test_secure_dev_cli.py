"""`mais dev up --secure` and `mais agency add` as an operator runs them (real broker and registry)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.localkafka import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]


class Mais:
    def __init__(self, state_dir: Path, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("MAIS_KAFKA_", "MAIS_SCHEMA_REGISTRY_"))
            },
            "MAIS_DEV_STATE_DIR": str(state_dir),
        }

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "exchange.cli", *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            cwd=self.workdir,
            timeout=300,
            check=False,
        )


@pytest.fixture
def mais(tmp_path: Path) -> Iterator[Mais]:
    runner = Mais(tmp_path / "dev", tmp_path)
    yield runner
    runner("dev", "down")


def _free_pair() -> int:
    """A broker port whose neighbour (the controller's) is free too."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two free neighbouring ports")


def _env_lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line.startswith("MAIS_"))


def test_secure_dev_stack_then_an_agency_whose_settings_work_and_print_once(
    mais: Mais, tmp_path: Path
) -> None:
    up = mais("dev", "up", "--secure", "--kafka-port", str(_free_pair()), "--registry-port", str(free_port()))
    assert up.returncode == 0, up.stderr
    assert "SASL/SCRAM-SHA-512" in up.stdout and "https://127.0.0.1:" in up.stdout
    status = mais("dev", "status", "--json")
    assert json.loads(status.stdout)["secure"] is True

    added = mais("agency", "add", "csc", "--name", "Children's social care", "--reads", "hospital.person")
    assert added.returncode == 0, added.stderr
    settings = _env_lines(added.stdout)
    password = settings["MAIS_KAFKA_SASL_PASSWORD"]
    assert settings["MAIS_KAFKA_SASL_USERNAME"] == "csc"
    assert settings["MAIS_SCHEMA_REGISTRY_PASSWORD"] == password
    assert settings["MAIS_KAFKA_GROUP_PREFIX"] == "mais.csc."
    assert (tmp_path / "agencies.toml").is_file()
    assert password not in (tmp_path / "agencies.toml").read_text()

    # the agency's own settings reach its topics and the registry; nothing shows the password again
    dlq = mais("dlq", "list", "--agency", "csc", env=settings)
    assert dlq.returncode == 0, dlq.stderr
    for later in (mais("agency", "list"), mais("agency", "acls", "csc"), mais("dev", "status")):
        assert later.returncode == 0, later.stderr
        assert password not in later.stdout + later.stderr
    assert "mais.hospital.person.v1" in mais("agency", "acls", "csc").stdout

    # an agency cannot read a topic not granted to it
    tail = mais("tail", "mais.police.person.v1", "--from-beginning", "--idle-timeout", "5", env=settings)
    assert tail.returncode != 0
    assert "not allowed to read mais.police.person.v1" in tail.stderr
