"""Process-wide resources: the database engine and sessions, the key-value store (Redis).

Bound to the app with ``init_app``; services receive a ``Session`` explicitly. The web tier
opens one session per request (``db_session()``) and closes it at teardown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import redis
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


class KeyValueStore(Protocol):
    """What OIDC state, nonces and launch data need: TTLs and atomic one-time use."""

    name: str

    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool: ...
    def get(self, key: str) -> str | None: ...
    def take(self, key: str) -> str | None: ...
    def delete(self, key: str) -> None: ...
    def ping(self) -> bool: ...


class RedisStore:
    name = "redis"

    def __init__(self, client: redis.Redis, prefix: str = "mc:") -> None:
        self.client = client
        self.prefix = prefix

    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool:
        return bool(self.client.set(self.prefix + key, value, ex=ttl, nx=only_if_absent))

    def get(self, key: str) -> str | None:
        value = self.client.get(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def take(self, key: str) -> str | None:
        """Atomically read and delete (GETDEL): the one-time-use primitive."""
        value = self.client.getdel(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def delete(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    def ping(self) -> bool:
        return bool(self.client.ping())


class MemoryStore:
    """In-process store for the single-process demo only: not shared between workers."""

    name = "memory"

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] < time.monotonic():
            del self._data[key]
            return None
        return item[0]

    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool:
        with self._lock:
            if only_if_absent and self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ttl)
            return True

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def take(self, key: str) -> str | None:
        with self._lock:
            value = self._live(key)
            self._data.pop(key, None)
            return value

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def ping(self) -> bool:
        return True


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
            # pysqlite's own transaction handling breaks SAVEPOINTs; let SQLAlchemy emit
            # BEGIN itself (the recipe from SQLAlchemy's SQLite dialect documentation).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def default_sqlite_url(instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'microcred.sqlite3'}"


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"] or default_sqlite_url(app.instance_path)
    app.config["DATABASE_URL"] = url
    engine = make_engine(url)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    if app.config["REDIS_URL"]:
        client = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2
        )
        app.extensions["kv"] = RedisStore(client, prefix=app.config.get("REDIS_PREFIX", "mc:"))
    else:
        if app.config["ENV"] == "production":  # settings already refuse this; belt and braces
            raise RuntimeError("REDIS_URL is required in production")
        app.extensions["kv"] = MemoryStore()
        log.warning(
            "REDIS_URL is not set: using an in-process store for LTI state, nonces and "
            "launches. This works only for a single process (the demo); set REDIS_URL for "
            "anything else."
        )

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def db_session() -> Session:
    """The request's session (created on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    session: Session = g.db_session
    return session


def kv() -> KeyValueStore:
    store: KeyValueStore = current_app.extensions["kv"]
    return store


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session outside a request (CLI): commits on success, rolls back on error."""
    session: Session = app.extensions["db_sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
