"""``mais samples generate``: writes a sample set, refuses to mix it into a folder in use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _mais(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


def test_generate_writes_files_truth_and_manifest_and_reports_them(tmp_path: Path) -> None:
    out = tmp_path / "set"
    result = _mais("samples", "generate", "--out", str(out), "--people", "40", "--seed", "9")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 9 and manifest["people"] == 40
    assert (out / "truth.csv").read_text(encoding="utf-8").startswith("person_id,agency,format,file,record,")
    assert "hl7v2" in result.stdout and "truth.csv" in result.stdout


def test_a_non_empty_folder_needs_force(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    refused = _mais("samples", "generate", "--out", str(tmp_path), "--people", "5")
    assert refused.returncode == 2
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "truth.csv").exists()
    forced = _mais("samples", "generate", "--out", str(tmp_path), "--people", "5", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "truth.csv").exists() and (tmp_path / "keep.txt").exists()


def test_an_impossible_population_size_is_a_usage_error(tmp_path: Path) -> None:
    for size in ("0", "20001"):
        result = _mais("samples", "generate", "--out", str(tmp_path / "x"), "--people", size)
        assert result.returncode == 2
        assert "--people" in result.stderr
    assert not (tmp_path / "x").exists()
