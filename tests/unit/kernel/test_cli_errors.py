"""CLI usage errors say what was wrong and what to do, without a traceback, and exit non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_mais(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def test_bad_node_count_is_a_usage_error(tmp_path: Path) -> None:
    result = run_mais("dev", "up", "--nodes", "2", env={"MAIS_DEV_STATE_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "1 or 3 nodes" in result.stderr
    assert "what to do:" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_without_cluster_exits_3(tmp_path: Path) -> None:
    result = run_mais("dev", "status", env={"MAIS_DEV_STATE_DIR": str(tmp_path)})
    assert result.returncode == 3
    assert "mais dev up" in result.stdout
