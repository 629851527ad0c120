"""Adapter processes: one ``mais adapter run`` per ``[[adapters]]`` table, and their metrics."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from exchange.run._config import AdapterEntry
from exchange.runtime import ListenerSource, SourceSpec

__all__ = ["AdapterProcess", "Counts", "child_env", "parse_metrics"]

_SAMPLE = re.compile(r"^(mais_records_(?:in|out|rejected)_total)\{[^}]*\}\s+([0-9.eE+-]+)$")


@dataclass(frozen=True, slots=True)
class Counts:
    records_in: float = 0.0
    records_out: float = 0.0
    rejected: float = 0.0


def parse_metrics(text: str) -> Counts:
    """Sum the runtime's record counters over all their labels."""
    sums = {"mais_records_in_total": 0.0, "mais_records_out_total": 0.0, "mais_records_rejected_total": 0.0}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is not None:
            sums[match[1]] += float(match[2])
    return Counts(
        sums["mais_records_in_total"], sums["mais_records_out_total"], sums["mais_records_rejected_total"]
    )


@dataclass
class AdapterProcess:
    """One adapter subprocess with its own metrics port; logs go to ``log_file``."""

    entry: AdapterEntry
    source: SourceSpec
    metrics_port: int
    log_file: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    counts: Counts = Counts()
    rate: float = 0.0
    ready: bool = False
    _history: list[tuple[float, float]] = field(default_factory=list)
    _log: IO[bytes] | None = None
    _terminated: bool = False

    def start(self) -> None:
        entry = self.entry
        command = [
            sys.executable, "-m", "exchange.cli", "adapter", "run",
            "--adapter", entry.adapter,
            "--agency", entry.agency,
            "--source", str(self.source),
            "--metrics-port", str(self.metrics_port),
            "--instance-id", f"run-{entry.name}",
        ]  # fmt: skip
        if entry.organisation:
            command += ["--organisation", entry.organisation]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        # Its own session: Ctrl-C in the terminal reaches `mais run` only, which stops adapters in order.
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=self.env,
            start_new_session=True,
        )  # fmt: skip

    @property
    def shown_source(self) -> str:
        """The source as configured (a drop folder relative to the state folder), with the real port."""
        if isinstance(self.source, ListenerSource):
            return str(self.source)
        return self.entry.source

    @property
    def state(self) -> str:
        if self.process is None:
            return "not started"
        code = self.process.poll()
        if code is not None:
            return f"exited ({code})"
        return "running" if self.ready else "starting"

    def scrape(self, client: httpx.Client) -> None:
        """Read the counters from ``/metrics``; events/s over the last five seconds."""
        if self.process is None or self.process.poll() is not None:
            self.rate = 0.0
            return
        try:
            base = f"http://127.0.0.1:{self.metrics_port}"
            self.counts = parse_metrics(client.get(f"{base}/metrics").text)
            self.ready = client.get(f"{base}/readyz").status_code == 200
        except httpx.HTTPError:
            return
        now = time.monotonic()
        self._history.append((now, self.counts.records_out))
        self._history = [(t, v) for t, v in self._history if now - t <= 5.0]
        first_t, first_v = self._history[0]
        self.rate = (self.counts.records_out - first_v) / (now - first_t) if now > first_t else 0.0

    def terminate(self) -> None:
        """Ask the adapter to drain and stop: one SIGTERM only.

        A second SIGTERM could land while the adapter's interpreter is shutting down, after Python
        has put the default handlers back, and kill a process that was stopping cleanly.
        """
        if self.process is not None and not self._terminated and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (the adapter drains and commits), then SIGKILL if it does not exit in time."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            self.terminate()
            wait_or_kill(process, timeout)
        if self._log is not None:
            self._log.close()
        return process.returncode


def child_env(bootstrap_servers: str, registry_url: str) -> dict[str, str]:
    """The adapters' environment: this one, with the local stack, and without ``MAIS_INGRESS_*``.

    ``mais run``'s feeders speak plain MLLP on loopback: ingress settings meant for a production
    adapter (TLS, client certificates) must not reach the demo's listeners.
    """
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith("MAIS_INGRESS_")},
        "MAIS_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "MAIS_SCHEMA_REGISTRY_URL": registry_url,
    }


def agency_secret(state: Path, agency: str) -> str:
    """The local demo's keyed-hash secret of ``agency``, made once and kept (mode 0600) under ``state``."""
    path = state / "secrets" / f"{agency}.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def wait_or_kill(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait ``timeout`` seconds for a process asked to stop, then kill it."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
