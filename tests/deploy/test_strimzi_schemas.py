"""The committed Strimzi CRD schemas are exactly what Strimzi's own generator produces (JDK 21+)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from deploy_tools import REPO

sys.path.insert(0, str(REPO / "deploy" / "k8s" / "schemas"))
import regenerate

pytestmark = pytest.mark.slow


def test_committed_strimzi_schemas_match_a_fresh_generation() -> None:
    if regenerate.find_java() is None:
        pytest.skip("no Java 21+ on this machine: Strimzi's CRD generator cannot run (JDK 17 is too old)")
    checked = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "k8s" / "schemas" / "regenerate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert regenerate.strimzi_version() == "1.2.0"
