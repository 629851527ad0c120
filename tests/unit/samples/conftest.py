"""One generated sample set shared by the sample tests (generating is fast, reading it is not free)."""

from __future__ import annotations

import pytest

from exchange.samples import GeneratedSamples, generate


@pytest.fixture(scope="session")
def sample_set(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSamples:
    return generate(tmp_path_factory.mktemp("samples"), people=200, seed=11)
