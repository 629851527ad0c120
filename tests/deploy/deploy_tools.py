"""Where the offline deploy checks' tools are (installed by scripts/install-deploy-tools.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("MAIS_TOOLS_DIR", str(Path.home() / ".cache" / "mais-exchange" / "tools")))
K8S_SCHEMAS = TOOLS / "k8s-schemas" / "v1.33.0"
STRIMZI_SCHEMAS = REPO / "deploy" / "k8s" / "schemas" / "strimzi-1.2.0"


def tool(name: str) -> Path:
    path = TOOLS / "bin" / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `bash scripts/install-deploy-tools.sh` (scripts/test.sh does)")
    return path


def run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False
    )


def kubeconform(*files: Path) -> subprocess.CompletedProcess[str]:
    return run(
        tool("kubeconform"),
        "-strict",
        "-summary",
        "-skip",
        "Kustomization",
        "-schema-location",
        f"{STRIMZI_SCHEMAS}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
        "-schema-location",
        f"{K8S_SCHEMAS}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json",
        *files,
    )
