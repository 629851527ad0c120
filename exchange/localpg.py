"""A real PostgreSQL server on this machine for tests and benchmarks: Debian's binaries, a temp folder.

``scripts/install-postgres.sh`` installs Debian's ``postgresql`` when it is missing (CI starts from
nothing). :class:`LocalPostgres` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/<v>/bin``
into a folder of its own, listening on 127.0.0.1 at a free port with no Unix socket, trust
authentication for the user ``mais``, and stops it by its own data directory. PostgreSQL refuses
to run as root, so under root (CI) the server runs as the ``postgres`` system user that the Debian
package creates, and its folder is handed to that user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from exchange.errors import PrerequisiteError
from exchange.localkafka import free_port

__all__ = ["LocalPostgres", "find_pg_bin"]

_PG_ROOT = Path("/usr/lib/postgresql")


def find_pg_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` and ``pg_ctl``."""
    found = sorted(
        (p for p in _PG_ROOT.glob("*/bin") if (p / "initdb").is_file() and (p / "pg_ctl").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise PrerequisiteError(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql",
            hint="run `bash scripts/install-postgres.sh` (it installs Debian's postgresql)",
        )
    return found[-1]


class LocalPostgres:
    """One PostgreSQL server in a temporary folder; ``url`` once started."""

    def __init__(self, *, port: int | None = None, user: str = "mais") -> None:
        self.port = port or free_port()
        self.user = user
        self._bin = find_pg_bin()
        self._dir = Path(tempfile.mkdtemp(prefix="mais-pg-"))
        self._data = self._dir / "data"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60.0) -> str:
        """Initialise the data folder and start the server; return its URL."""
        self._dir.chmod(0o755)
        if self._as_postgres:
            shutil.chown(self._dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self._data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run(
            "pg_ctl", "-D", str(self._data), "-o", options, "-l", str(self._dir / "server.log"),
            "-w", "-t", str(int(timeout)), "start",
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self._bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return self.url
            time.sleep(0.2)
        raise PrerequisiteError(f"PostgreSQL did not accept connections on port {self.port}")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if (self._data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self._dir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        log = self._dir / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self._bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise PrerequisiteError(
                f"{tool} failed with exit code {done.returncode}: {done.stderr.strip()[-400:]}",
                hint="check that Debian's postgresql is installed (scripts/install-postgres.sh)",
            )
