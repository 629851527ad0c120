"""Fixtures of the runtime's integration tests; the registry fixture is in tests/conftest.py."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def agency() -> str:
    """A fresh agency id, so each test has its own mais.<agency>.* topics."""
    return f"t{uuid.uuid4().hex[:10]}"
