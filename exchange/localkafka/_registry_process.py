"""The schema registry service of the local stack, run as a background process beside Kafka.

It is ``python -m services.registry`` with its state in the local cluster's ``_schemas`` topic,
its output in ``<state>/registry.log`` and its pid in ``<state>/registry.pid``. The extra
interpreter option ``-X mais.dev=<state>`` marks the process as ours, so a reused pid is never
signalled. A secured registry (beside a secured cluster) serves HTTPS with a certificate of the
cluster's CA and authenticates every client against ``<state>/registry-users.json``.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from exchange.errors import PrerequisiteError
from exchange.localkafka._prereqs import ensure_port_free
from exchange.localkafka._process import read_pid, runs_with, send_signal
from exchange.security import CertificateAuthority
from exchange.settings import KafkaSettings

__all__ = ["LocalRegistry"]


class LocalRegistry:
    """One registry process for a local cluster, recorded in ``state_dir``."""

    def __init__(self, state_dir: Path, *, port: int = 8081, secure: bool = False) -> None:
        self.state_dir = state_dir.resolve()
        self.port = port
        self.secure = secure
        self._child: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        """The CA clients must trust to reach a secured registry."""
        return self._ca.cert_file if self.secure else None

    @property
    def users_file(self) -> Path:
        return self.state_dir / "registry-users.json"

    @property
    def _ca(self) -> CertificateAuthority:
        return CertificateAuthority(self.state_dir / "tls")

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "registry.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "registry.log"

    @property
    def _marker(self) -> str:
        return f"mais.dev={self.state_dir}"

    @classmethod
    def from_state(cls, state_dir: Path) -> LocalRegistry | None:
        port_file = state_dir / "registry.port"
        if not port_file.is_file():
            return None
        secure = (state_dir / "registry.secure").is_file()
        return cls(state_dir, port=int(port_file.read_text().strip()), secure=secure)

    def running_pid(self) -> int | None:
        pid = read_pid(self.pid_file)
        if pid is None:
            return None
        if self._child is not None and self._child.pid == pid:
            return pid if self._child.poll() is None else None
        return pid if runs_with(pid, self._marker) else None

    def start(
        self,
        bootstrap_servers: str,
        *,
        topic: str = "_schemas",
        timeout: float = 60.0,
        kafka: KafkaSettings | None = None,
    ) -> str:
        """Start the registry against ``bootstrap_servers`` and wait until ``/healthz`` answers 200.

        ``kafka`` (with its credentials) replaces ``bootstrap_servers`` on a secured cluster.
        """
        ensure_port_free(self.port)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("MAIS_KAFKA_", "MAIS_REGISTRY_"))
        }
        env = {
            **inherited,
            **(kafka or KafkaSettings(bootstrap_servers=bootstrap_servers)).environment(),
            "MAIS_REGISTRY_HOST": "127.0.0.1",
            "MAIS_REGISTRY_PORT": str(self.port),
            "MAIS_REGISTRY_TOPIC": topic,
        }
        verify: ssl.SSLContext | bool = True
        if self.secure:
            cert = self._ca.issue_server("registry")
            env |= {
                "MAIS_REGISTRY_TLS_CERT": str(cert.cert),
                "MAIS_REGISTRY_TLS_KEY": str(cert.key),
                "MAIS_REGISTRY_USERS_FILE": str(self.users_file),
            }
            verify = ssl.create_default_context(cafile=str(self._ca.cert_file))
            (self.state_dir / "registry.secure").write_text("https\n")
        with self.log_file.open("ab") as log:
            self._child = subprocess.Popen(
                [sys.executable, "-X", self._marker, "-m", "services.registry"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self._child.pid}\n")
        (self.state_dir / "registry.port").write_text(f"{self.port}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running_pid() is None:
                raise PrerequisiteError(
                    f"the schema registry exited while starting\n{self._log_tail()}",
                    hint=f"read {self.log_file}; after fixing the cause run `mais dev down` and try again",
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2, verify=verify).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise PrerequisiteError(
            f"the schema registry did not answer {self.url}/healthz within {timeout:.0f}s\n"
            + self._log_tail(),
            hint=f"read {self.log_file}, then `mais dev down` and try again",
        )

    def stop(self, *, timeout: float = 30.0) -> bool:
        """SIGTERM the registry, wait for it to exit (SIGKILL after ``timeout``); True if it ran."""
        pid = self.running_pid()
        if pid is None:
            return False
        send_signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.running_pid() is not None:
            if time.monotonic() > deadline:
                send_signal(pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
            time.sleep(0.2)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _log_tail(self, lines: int = 20) -> str:
        if not self.log_file.is_file():
            return ""
        tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return f"--- last lines of {self.log_file} ---\n" + "\n".join(tail)
