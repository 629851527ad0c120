"""One generated sample set shared by the sample tests (generating is fast, reading it is not free)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.samples import GeneratedSamples, generate

REPO = Path(__file__).resolve().parents[3]
# The DfE reference copies sit in shared/ beside the repository (developers' machines and CI).
DFE_REFERENCE = REPO.parent / "shared" / "reference" / "dfe"


@pytest.fixture(scope="session")
def sample_set(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSamples:
    return generate(tmp_path_factory.mktemp("samples"), people=200, seed=11)
