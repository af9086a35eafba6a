"""Readiness: can this process serve requests right now? (``/readyz``; ``/healthz`` checks
nothing but that the process answers.)

Each check has a deadline and the whole answer comes within ``READY_TIMEOUT`` seconds,
even when a dependency hangs rather than fails (a frozen database answers nothing; waiting
for it would make the orchestrator's probe time out instead of reading a clear 503):

- ``database``: ``SELECT 1`` with a client-side deadline of ``CHECK_TIMEOUT``;
- ``store``: Redis ``PING`` (its socket timeout, ``REDIS_TIMEOUT_SECONDS``);
- ``disk`` (SQLite only): the free space of the database's volume, at least
  ``READY_MIN_FREE_DISK_MB``: a full disk makes every write fail.

The checks run in a few background threads so that the answer never waits for a stuck
one; a check still running from an earlier probe is waited on again rather than started a
second time, so a hung dependency never piles up threads. A dependency that answers closes
this process's breaker (``extensions.Breaker``) at once.
"""

from __future__ import annotations

import logging
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from lti_tool.extensions import DATABASE, STORE, database_deadline, reading_only

log = logging.getLogger(__name__)

READY_TIMEOUT = 1.5     # the whole /readyz answer
CHECK_TIMEOUT = 1.0     # one database round trip
OK, UNAVAILABLE, TIMEOUT, FULL = "ok", "unavailable", "timeout", "full"


@dataclass
class _Probes:
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=3,
                                                   thread_name_prefix="microcred-ready"))
    running: dict[str, Future[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _database(engine: Any) -> str:
    with reading_only(), database_deadline(CHECK_TIMEOUT), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return OK


def _store(store: Any) -> str:
    return OK if store.ping() else UNAVAILABLE


def _disk(path: Path, min_free_mb: int) -> str:
    free_mb = shutil.disk_usage(path).free / (1024 * 1024)
    return OK if free_mb >= min_free_mb else FULL


def sqlite_directory(url: str) -> Path | None:
    """The directory of a SQLite database file (None for another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve().parent


def _submit(probes: _Probes, name: str, func: Any, *args: Any) -> Future[str]:
    with probes.lock:
        future = probes.running.get(name)
        if future is None or future.done():
            future = probes.executor.submit(func, *args)
            probes.running[name] = future
        return future


def readiness(app: Flask) -> tuple[bool, dict[str, str]]:
    """(ready, checks): every check ``ok``, or the failing ones named ``unavailable``,
    ``timeout`` or ``full``. Never raises; answers within READY_TIMEOUT."""
    probes: _Probes = app.extensions.setdefault("readiness_probes", _Probes())
    store = app.extensions["kv"]
    futures = {"database": _submit(probes, "database", _database,
                                   app.extensions["db_engine"]),
               "store": _submit(probes, "store", _store, store)}
    directory = sqlite_directory(app.config["DATABASE_URL"])
    if directory is not None:
        futures["disk"] = _submit(probes, "disk", _disk, directory,
                                  int(app.config["READY_MIN_FREE_DISK_MB"]))
    wait(futures.values(), timeout=READY_TIMEOUT)
    checks: dict[str, str] = {}
    for name, future in futures.items():
        if not future.done():
            checks[name] = TIMEOUT
            continue
        try:
            checks[name] = future.result()
        except Exception as exc:  # any failure means not ready
            log.warning("readiness: %s failed: %s", name, type(exc).__name__)
            checks[name] = UNAVAILABLE
    breaker = app.extensions.get("breaker")
    if breaker is not None:  # a dependency that answers again is used again at once
        for name, dependency in (("database", DATABASE), ("store", STORE)):
            if checks.get(name) == OK:
                breaker.close(dependency)
    ready = all(value == OK for value in checks.values())
    checks["store_kind"] = store.name
    return ready, checks
