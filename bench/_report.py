"""Shared by the benchmarks: each writes its own marked section of ``docs/benchmarks.md``.

Every section states, from facts the benchmark collects itself: when it ran, the commit of the
code measured (with ``+ uncommitted changes`` when the tree was not clean), the command line, the
machine and its load average before and after the run, and the note given with ``--note``.
Nothing in a section is written by hand.
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_section(path: Path, section: str, begin: str, end: str) -> None:
    """Replace the ``begin``…``end`` section of ``path`` (other benchmarks keep theirs)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def commit() -> str:
    """The short commit of the code being measured, marked when the working tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "exchange", "adapters", "bench")
    return f"{head} + uncommitted changes" if dirty else head


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, str]:
    """CPU, cores, memory, OS and Python of this machine."""
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = next(int(x.split()[1]) for x in meminfo.read_text().splitlines() if x.startswith("MemTotal"))
        memory = f"{kb / 2**20:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


class RunFacts:
    """What a section says about its own run; create it before measuring, render it after."""

    def __init__(self, note: str | None = None) -> None:
        self.started = datetime.now(UTC)
        self.commit = commit()
        script = Path(sys.argv[0]).resolve()
        shown = script.relative_to(ROOT).as_posix() if script.is_relative_to(ROOT) else script.name
        self.command = shlex.join(["python", shown, *sys.argv[1:]])
        self.load_before = load_average()
        self.machine = machine()
        self.note = note

    def lines(self) -> list[str]:
        """Markdown lines: run, commit, command, machine, load; then the note if there is one."""
        m = self.machine
        out = [
            f"Run {self.started:%Y-%m-%d %H:%M} UTC at commit `{self.commit}` with `{self.command}`.",
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}. "
            f"Load average (1, 5, 15 min) before the run {self.load_before}, after it {load_average()}.",
        ]
        if self.note:
            out += ["", f"Note given with this run: {self.note}"]
        return out
