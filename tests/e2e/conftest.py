"""Browser fixtures: a real MicroCred server (werkzeug, threaded, on a free loopback port)
with its own migrated SQLite database and its own Redis key prefix, and Debian's headless
Chromium driven by Playwright.

These tests do not use the transactional ``app``/``db`` fixtures of ``tests/conftest.py``:
the browser talks to a real server over HTTP, from other threads, so every request must
commit for real (``tests/support/live_server.py``).

Playwright is never allowed to download a browser: the tests use ``chromium`` from PATH
(Debian's package) and are skipped, saying so, when it is absent.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.live_server import LiveServer, serve

__all__ = ["LiveServer", "serve"]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Where screenshots go, for a person to look at (unset: none are written).
SCREENSHOT_DIR = os.environ.get("MC_E2E_SCREENSHOT_DIR", "")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the session (tests may see each other's data: write them so)."""
    with serve(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("the browser tests need Debian's `chromium` on PATH "
                    "(apt-get install chromium); Playwright never downloads a browser here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no cookies) at a 1024 px wide viewport."""
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1024, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str) -> None:
    """Save ``mc-<name>.png`` in MC_E2E_SCREENSHOT_DIR, when it is set."""
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"mc-{name}.png"), full_page=True)
