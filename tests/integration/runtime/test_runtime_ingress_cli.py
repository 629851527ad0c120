"""``mais adapter run`` with listener sources, as users run it: loopback only unless secured or --insecure."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest
from ingress_pki import TestPki
from runtime_it_helpers import people_lines, read_all, subprocess_env, wait_for

from exchange.ingress import TokenFile
from exchange.localkafka import free_port

pytestmark = pytest.mark.integration

ANYWHERE = "0.0.0.0"  # noqa: S104 - the point of these tests: a listener beyond loopback
PASSPHRASE = "cli-passphrase-Vb82-never-logged"


def _command(agency: str, source: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-c", "from exchange.cli import main; main()",
        "adapter", "run",
        "--adapter", "runtime_people_adapter:adapter",
        "--agency", agency,
        "--source", source,
        "--instance-id", "cli",
        *extra,
    ]  # fmt: skip


class Child:
    """The adapter as a child process, its stderr (JSON log lines) in a file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.metrics_port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--metrics-port", str(self.metrics_port)], env=env, stdout=out, stderr=out
            )

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                url = f"http://127.0.0.1:{self.metrics_port}/readyz"
                with urllib.request.urlopen(url, timeout=1) as answer:
                    return bool(answer.status == 200)
            except OSError:
                return False

        wait_for(ready, 90, "the adapter to be ready")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]


def test_a_plain_listener_beyond_loopback_refuses_to_start_and_says_what_to_pass(
    kafka_bootstrap: str, schema_registry_url: str, agency: str
) -> None:
    started = time.monotonic()
    result = subprocess.run(
        _command(agency, f"http:{ANYWHERE}:{free_port()}"),
        env=subprocess_env(kafka_bootstrap, schema_registry_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert time.monotonic() - started < 30  # refused before any broker work
    assert "would accept records from any machine that reaches the port" in result.stderr
    assert "it has no TLS and sender authentication" in result.stderr
    for option in ("--tls-cert", "--tls-key", "--tls-client-ca", "--token-file", "--insecure", "127.0.0.1"):
        assert option in result.stderr, option
    assert "Traceback" not in result.stderr


def test_insecure_starts_and_warns(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, tmp_path: Path
) -> None:
    port = free_port()
    child = Child(
        _command(agency, f"http:{ANYWHERE}:{port}", "--insecure"),
        subprocess_env(kafka_bootstrap, schema_registry_url),
        tmp_path / "insecure.log",
    )
    try:
        child.wait_ready()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/records", content=b"\n".join(people_lines(5)), timeout=60
        )
        assert answer.status_code == 202  # no authentication: anybody who reaches the port is taken
    finally:
        assert child.stop() == 0
    warnings = [line for line in child.lines() if line["level"] == "warning"]
    assert any("without TLS and sender authentication (--insecure)" in str(w.get("error")) for w in warnings)
    (message,) = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=5)[:1]
    assert not {"ce_authtype", "ce_authid"} & {name for name, _ in message.headers()}


def test_tls_and_token_options_secure_a_listener_beyond_loopback(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, tmp_path: Path
) -> None:
    pki = TestPki(tmp_path / "pki")
    server = pki.server(passphrase=PASSPHRASE, traditional_key=True)
    tokens = tmp_path / "senders.tokens"
    token = TokenFile(tokens).add("gp-emis")
    port = free_port()
    env = {
        **subprocess_env(kafka_bootstrap, schema_registry_url),
        "MAIS_INGRESS_TLS_KEY_PASSPHRASE": PASSPHRASE,
    }
    secured = [
        "--tls-cert",
        str(server.cert_path),
        "--tls-key",
        str(server.key_path),
        "--token-file",
        str(tokens),
    ]
    child = Child(_command(agency, f"http:{ANYWHERE}:{port}", *secured), env, tmp_path / "secured.log")
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(pki.ca.cert_path)), timeout=60)
    url = f"https://127.0.0.1:{port}/records"
    try:
        child.wait_ready()
        body = b"\n".join(people_lines(3))
        assert client.post(url, content=body).status_code == 401
        assert client.post(url, content=body, headers={"Authorization": f"Bearer {token}"}).status_code == 202
    finally:
        assert child.stop() == 0
    log = child.log.read_text()
    assert "(--insecure)" not in log
    assert PASSPHRASE not in log and token not in log
    messages = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=3)
    assert {dict(m.headers())["ce_authid"] for m in messages} == {b"gp-emis"}
