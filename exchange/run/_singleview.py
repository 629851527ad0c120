"""The SingleView ``mais run`` starts beside the adapters: ``mais singleview serve`` in its own process.

The kernel reaches the service only through the ``mais`` command (its entry point), never by import.
It listens on 127.0.0.1, keeps its store in the run's state folder, shows example people in demo
mode, and lets the development user printed at start-up sign in.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from exchange.run._processes import wait_or_kill

__all__ = ["SingleViewProcess"]

DEV_USER = "practitioner"


@dataclass
class SingleViewProcess:
    port: int
    state: Path
    env: dict[str, str]
    password: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        log = self.state / "logs" / "singleview.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        env = {
            **self.env,
            "MAIS_SINGLEVIEW_DATABASE_URL": f"sqlite:///{self.state / 'singleview' / 'singleview.db'}",
            "MAIS_SINGLEVIEW_PORT": str(self.port),
            "MAIS_SINGLEVIEW_DEV_USER": DEV_USER,
            "MAIS_SINGLEVIEW_DEV_PASSWORD": self.password,
            "MAIS_SINGLEVIEW_DEMO": "true",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "exchange.cli", "singleview", "serve"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env, start_new_session=True,
        )  # fmt: skip

    def stop(self, timeout: float = 30.0) -> int | None:
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            wait_or_kill(process, timeout)
        if self._log is not None:
            self._log.close()
        return process.returncode
