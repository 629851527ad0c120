"""The browser fixtures themselves: Debian's Chromium renders a page and the screenshot is saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_chromium_renders_a_page_and_saves_a_screenshot(page: Any, screenshot: Callable[..., Path]) -> None:
    page.set_content("<main><h1>Who knows this child?</h1><p id='n'>3 agencies</p></main>")
    assert page.locator("h1").inner_text() == "Who knows this child?"
    assert page.evaluate("document.getElementById('n').textContent") == "3 agencies"
    path = screenshot(page, "browser-fixture")
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
