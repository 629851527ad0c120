"""Pytest plugin for page tests in a real headless Chromium (registered in ``tests/conftest.py``).

The browser is Debian's ``/usr/bin/chromium`` (``scripts/install-browser.sh`` installs it; CI
runs that script), driven by Playwright without Playwright's own browser download. Fixtures:

* ``browser`` (module): one launched Chromium per test module;
* ``page``: a fresh browser context and page per test, closed afterwards;
* ``screenshot``: ``screenshot(page, name)`` saves ``.mais/screenshots/<name>.png`` (git-ignored),
  prints its path for the reviewer and returns it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("MAIS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / ".mais" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the test module (fails with what to run when it is not installed).

    Module scope, not session: Playwright's sync API keeps its event loop marked as running in this
    thread until it stops, so a later test's ``asyncio.run`` (aiokafka) would fail.
    """
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/install-browser.sh` (scripts/test.sh does)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only page tests need it

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new page in its own browser context (cookies are not shared between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``screenshot(page, name="", full_page=True)``: save a PNG under ``.mais/screenshots/``."""

    def take(page: Any, name: str = "", *, full_page: bool = True) -> Path:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name or request.node.name).strip("-")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{stem}.png"
        page.screenshot(path=str(path), full_page=full_page)
        print(f"screenshot: {path}")  # noqa: T201 - the reviewer opens this file
        return path

    return take
