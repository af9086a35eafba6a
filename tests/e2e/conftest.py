"""Browser fixtures: a real MicroCred server (werkzeug, threaded, on a free loopback port)
with its own migrated SQLite database and its own Redis key prefix, and Debian's headless
Chromium driven by Playwright.

These tests do not use the transactional ``app``/``db`` fixtures of ``tests/conftest.py``:
the browser talks to a real server over HTTP, from other threads, so every request must
commit for real. The database lives in a temporary directory and the Redis keys under a
unique prefix that is removed at the end.

Playwright is never allowed to download a browser: the tests use ``chromium`` from PATH
(Debian's package) and are skipped, saying so, when it is absent.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool import create_app
from lti_tool.models.migrate import upgrade

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Where screenshots go, for a person to look at (unset: none are written).
SCREENSHOT_DIR = os.environ.get("MC_E2E_SCREENSHOT_DIR", "")


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


def _not_ready(_environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def serve(root: Path) -> Iterator[LiveServer]:
    """A MicroCred server with its own database under ``root`` and its own Redis prefix,
    running until the block ends."""
    prefix = f"mc-e2e:{uuid.uuid4().hex}:"
    # Bind first (port 0: the OS picks a free port, no race), then build the app with the
    # real public URL: the sandbox's issuer and the tool's launch URL depend on it.
    server: BaseWSGIServer = make_server("127.0.0.1", 0, _not_ready, threaded=True)
    port = server.server_port
    base_url = f"http://127.0.0.1:{port}"
    app = create_app({
        "ENV": "development",
        "PUBLIC_BASE_URL": base_url,
        "DATABASE_URL": f"sqlite:///{Path(root) / 'e2e.sqlite3'}",
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "INSTANCE_PATH": str(Path(root) / "instance"),
        "SECRET_KEY": "e2e-secret",
        "LOG_LEVEL": "WARNING",
        "JOBS_INLINE": True,
    })
    engine = app.extensions["db_engine"]
    upgrade(engine)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(base_url, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        engine.dispose()
        client = redis_lib.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=prefix + "*", count=500):
            client.delete(key)
        client.close()


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
