"""A real MicroCred server for tests that need one over HTTP (the browser tests, the
independent verifier): werkzeug, threaded, on a free loopback port, with its own migrated
SQLite database in a temporary directory and its own Redis key prefix, removed at the end.

Such tests do not use the transactional ``app``/``db`` fixtures of ``tests/conftest.py``:
requests come from other threads (or processes), so everything must commit for real."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis as redis_lib
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool import create_app
from lti_tool.models.migrate import upgrade

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


def _not_ready(_environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def serve(root: Path, **settings: Any) -> Iterator[LiveServer]:
    """A MicroCred server with its own database under ``root`` and its own Redis prefix,
    running until the block ends. ``settings`` override the app settings."""
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
        "VERIFY_FETCH_ISSUER_DOCUMENTS": False,  # tests never reach the internet
        **settings,
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
