"""Debian's Chromium, headless, driven by Playwright: the browser of the page tests.

Playwright never downloads a browser here: ``make unit`` installs Debian's ``chromium``
(as root, with apt). Without it a browser test fails, saying what to install; it never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

__all__ = ["chromium"]

CHROMIUM = Path("/usr/bin/chromium")
# Nothing reaches out: no QUIC, no component or sync traffic, no first-run pages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; the test fails (never skips) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the status page's browser test needs Debian's Chromium at {CHROMIUM}: run "
            "`make unit` as root (it runs `apt-get install -y chromium`), or install the "
            "`chromium` package yourself",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
