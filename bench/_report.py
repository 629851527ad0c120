"""Shared by the benchmarks: each writes its own marked section of ``docs/benchmarks.md``."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path


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


def machine_line(extra: str = "") -> str:
    """The CPU, core count, Python and the load average now, as one sentence fragment."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if found:
            cpu = found.group(1).strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    more = f"; {extra}" if extra else ""
    python = platform.python_version()
    return f"{cpu}; {os.cpu_count()} logical CPUs; Python {python}{more}; load average {load}"


def commit() -> str:
    """The short commit the benchmark ran at (``unknown`` outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent, capture_output=True, text=True, check=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()
