"""Process-wide resources: the database engine and sessions, the key-value store (Redis), and
the deadlines and outage handling that keep them from hanging a request.

Bound to the app with ``init_app``; services receive a ``Session`` explicitly. The web tier
opens one session per request (``db_session()``) and closes it at teardown.

Deadlines (docs/operations.md, "Outages and deadlines"):

- PostgreSQL: ``connect_timeout``; the server's ``statement_timeout``, ``lock_timeout`` and
  ``idle_in_transaction_session_timeout``; and a client-side deadline on every wait for the
  server (``_DeadlineConnection``), one second past the statement timeout, for a server that
  does not answer at all (stopped process, failover, partition), where the server-side
  timeouts cannot fire. A short pool timeout: a request never queues long for a connection.
- SQLite (the demo): a busy timeout, and writers serialised: a request that may write
  starts its transaction with ``BEGIN IMMEDIATE``, so two saves at the same moment wait
  for each other instead of failing with "database is locked".
- Redis: socket and connect timeouts, and no retry with backoff (redis-py's default would
  turn an outage into seconds of sleeping per command); one immediate retry on a dropped
  connection, so a restarted Redis is picked up by the next command.

``dependency_failure`` classifies an exception from either as an outage (``database`` or
``store``) so that the web tier answers 503 with ``Retry-After`` and logs one line. A
dependency that has just failed is remembered for ``BREAKER_SECONDS`` per process, so the
requests that follow fail at once instead of each waiting for the same timeout.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import redis
from flask import Flask, current_app, g, has_request_context, request
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.errors import ServiceUnavailable
from lti_tool.models.base import autocommit_connection

log = logging.getLogger(__name__)

DATABASE, STORE = "database", "store"
#: After a connection-level failure, a dependency is treated as down for this long in
#: this process (requests answer 503 at once), then tried again.
BREAKER_SECONDS = 2.0
#: Methods whose requests normally only read: on SQLite they start a deferred transaction.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class KeyValueStore(Protocol):
    """What OIDC state, nonces and launch data need: TTLs and atomic one-time use."""

    name: str

    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool: ...
    def get(self, key: str) -> str | None: ...
    def take(self, key: str) -> str | None: ...
    def delete(self, key: str) -> None: ...
    def ping(self) -> bool: ...
    def get_many(self, keys: list[str]) -> list[str | None]: ...
    def set_many(self, items: list[tuple[str, str, int]]) -> None: ...
    def take_once(self, tombstone: str, key: str, ttl: int,
                  marks: list[tuple[str, int]]) -> tuple[str | None, int]: ...
    def incr(self, key: str) -> int: ...
    def spend_then_set(self, budget: Budget, items: list[tuple[str, str, int]]) -> int: ...


@dataclass(frozen=True)
class Budget:
    """A sliding-window-counter budget (as Flask-Limiter's strategy of that name): at most
    ``limit`` spends per ``window`` seconds, the previous window's count weighted by how
    much of it still overlaps (rounded down). ``key`` names the counter (without the
    window number)."""

    key: str
    limit: int
    window: int

    def keys_at(self, now: float) -> tuple[str, str, float]:
        """(this window's counter, the previous window's, the share of the previous window
        still counted)."""
        number = int(now // self.window)
        elapsed = now - number * self.window
        return (f"{self.key}:{number}", f"{self.key}:{number - 1}",
                (self.window - elapsed) / self.window)

    def retry_after(self, now: float) -> int:
        return max(1, int(self.window - (now % self.window)) + 1)


# KEYS: this window's counter, the previous window's, then the keys to set; ARGV: limit,
# the previous window's weight, the counters' TTL, then value and TTL of each key to set.
# Spends one unit of the budget and sets the keys, or (over budget) does neither.
# Returns the weighted count before this spend, or -1 when over budget.
_SPEND_THEN_SET = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = current + math.floor(previous * tonumber(ARGV[2]) + 0.000001)
if used + 1 > tonumber(ARGV[1]) then return -1 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
for i = 3, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 2], 'EX', ARGV[2 * i - 1])
end
return math.floor(used)
"""


# KEYS: tombstone, key, mark 1..n; ARGV: tombstone TTL, mark TTLs. Returns {0} when the key
# was absent, else {1, value, i}: i the first mark that was already set (0: none was).
_TAKE_ONCE = """
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
local value = redis.call('GETDEL', KEYS[2])
if not value then return {0} end
for i = 3, #KEYS do
  if not redis.call('SET', KEYS[i], '1', 'EX', ARGV[i - 1], 'NX') then
    return {1, value, i - 2}
  end
end
return {1, value, 0}
"""


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RedisStore:
    name = "redis"

    def __init__(self, client: redis.Redis, prefix: str = "mc:") -> None:
        self.client = client
        self.prefix = prefix
        self._take_once = client.register_script(_TAKE_ONCE)
        self._spend_then_set = client.register_script(_SPEND_THEN_SET)

    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool:
        return bool(self.client.set(self.prefix + key, value, ex=ttl, nx=only_if_absent))

    def get(self, key: str) -> str | None:
        value: Any = self.client.get(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def take(self, key: str) -> str | None:
        """Atomically read and delete (GETDEL): the one-time-use primitive."""
        value: Any = self.client.getdel(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def delete(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    def ping(self) -> bool:
        return bool(self.client.ping())

    def get_many(self, keys: list[str]) -> list[str | None]:
        """Several values in one round trip (MGET)."""
        values: Any = self.client.mget([self.prefix + k for k in keys])
        return [_text(v) for v in values]

    def set_many(self, items: list[tuple[str, str, int]]) -> None:
        """Several (key, value, ttl) at once: one round trip, all or none (MULTI)."""
        pipe = self.client.pipeline(transaction=True)
        for key, value, ttl in items:
            pipe.set(self.prefix + key, value, ex=ttl)
        pipe.execute()

    def take_once(self, tombstone: str, key: str, ttl: int,
                  marks: list[tuple[str, int]]) -> tuple[str | None, int]:
        """In one atomic step (a Lua script, one round trip): set ``tombstone`` (for
        ``ttl``), read and delete ``key``; if it was there, set each of ``marks`` (key, ttl)
        only if absent, in order, stopping at the first one already set. Returns (the value
        taken or None, the 1-based index of the first mark already set, 0 if none was)."""
        result: Any = self._take_once(
            keys=[self.prefix + tombstone, self.prefix + key,
                  *(self.prefix + m for m, _ in marks)],
            args=[ttl, *(t for _, t in marks)])
        if not result or not result[0]:
            return None, 0
        return _text(result[1]), int(result[2])

    def incr(self, key: str) -> int:
        value: Any = self.client.incr(self.prefix + key)
        return int(value)

    def spend_then_set(self, budget: Budget, items: list[tuple[str, str, int]]) -> int:
        """Spend one unit of ``budget`` and set ``items`` (key, value, ttl), atomically in
        one round trip (a Lua script); over budget, neither. Returns -1 when over budget,
        else the weighted count spent before."""
        current, previous, weight = budget.keys_at(time.time())
        args: list[Any] = [budget.limit, f"{weight:.9f}", 2 * budget.window]
        for _key, value, ttl in items:
            args += [value, ttl]
        result: Any = self._spend_then_set(
            keys=[self.prefix + current, self.prefix + previous,
                  *(self.prefix + key for key, _v, _t in items)], args=args)
        return int(result)


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

    def get_many(self, keys: list[str]) -> list[str | None]:
        with self._lock:
            return [self._live(k) for k in keys]

    def set_many(self, items: list[tuple[str, str, int]]) -> None:
        with self._lock:
            for key, value, ttl in items:
                self._data[key] = (value, time.monotonic() + ttl)

    def take_once(self, tombstone: str, key: str, ttl: int,
                  marks: list[tuple[str, int]]) -> tuple[str | None, int]:
        """As ``RedisStore.take_once``, under the store's lock."""
        with self._lock:
            now = time.monotonic()
            self._data[tombstone] = ("1", now + ttl)
            value = self._live(key)
            self._data.pop(key, None)
            if value is None:
                return None, 0
            for index, (mark, mark_ttl) in enumerate(marks, start=1):
                if self._live(mark) is not None:
                    return value, index
                self._data[mark] = ("1", now + mark_ttl)
            return value, 0

    def incr(self, key: str) -> int:
        with self._lock:
            current = self._live(key)
            value = int(current or 0) + 1
            self._data[key] = (str(value), time.monotonic() + 10 * 365 * 86400)
            return value

    def spend_then_set(self, budget: Budget, items: list[tuple[str, str, int]]) -> int:
        """As ``RedisStore.spend_then_set``, under the store's lock."""
        current, previous, weight = budget.keys_at(time.time())
        with self._lock:
            spent = int(self._live(current) or 0)
            used = spent + math.floor(int(self._live(previous) or 0) * weight + 0.000001)
            if used + 1 > budget.limit:
                return -1
            now = time.monotonic()
            self._data[current] = (str(spent + 1), now + 2 * budget.window)
            for key, value, ttl in items:
                self._data[key] = (value, now + ttl)
            return int(used)


def redis_client(url: str, *, timeout: float) -> redis.Redis:
    """A Redis client whose every command gives up after ``timeout`` seconds. A dropped
    connection (Redis restarted) is retried once at once; nothing is retried with backoff
    (redis-py's default is three retries with exponential backoff)."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout,
        retry=RedisRetry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)))


# -- database deadlines -------------------------------------------------------------------------
@dataclass(frozen=True)
class DatabaseLimits:
    """Deadlines and pool sizes of the database engine (settings ``DB_*``, ``SQLITE_*``)."""

    connect_timeout: int = 3
    statement_timeout: float = 5.0
    lock_timeout: float = 3.0
    idle_in_transaction_timeout: int = 60
    pool_size: int = 10
    pool_timeout: float = 2.0
    sqlite_busy_timeout: float = 10.0

    @property
    def answer_timeout(self) -> float:
        """The client's own deadline for any answer of the server: one second past the
        server's statement timeout, so that the server's clearer error normally wins."""
        return self.statement_timeout + 1.0

    @classmethod
    def from_config(cls, config: Any) -> DatabaseLimits:
        return cls(connect_timeout=int(config["DB_CONNECT_TIMEOUT_SECONDS"]),
                   statement_timeout=float(config["DB_STATEMENT_TIMEOUT_SECONDS"]),
                   lock_timeout=float(config["DB_LOCK_TIMEOUT_SECONDS"]),
                   idle_in_transaction_timeout=int(
                       config["DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS"]),
                   pool_size=int(config["DB_POOL_SIZE"]),
                   pool_timeout=float(config["DB_POOL_TIMEOUT_SECONDS"]),
                   sqlite_busy_timeout=float(config["SQLITE_BUSY_TIMEOUT_SECONDS"]))


#: A pooled PostgreSQL connection idle longer than this is pinged before use (see
#: ``_postgres_engine``).
POOL_PING_AFTER_IDLE_SECONDS = 1.0


class AnswerTimeout(Exception):
    """The database server did not answer within the client's deadline (raised as the
    driver's OperationalError; the connection is closed and discarded by the pool)."""


# None: the engine's own deadline; 0: none (migrations); else an absolute monotonic time.
_answer_deadline: ContextVar[float | None] = ContextVar("microcred_db_deadline", default=None)


@contextmanager
def database_deadline(seconds: float) -> Iterator[None]:
    """Every database wait inside gives up after ``seconds`` at most (readiness probes)."""
    token = _answer_deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _answer_deadline.reset(token)


@contextmanager
def unbounded_statements() -> Iterator[None]:
    """No client-side deadline inside (migrations, which may legitimately run long)."""
    token = _answer_deadline.set(0.0)
    try:
        yield
    finally:
        _answer_deadline.reset(token)


def _deadline_connection_class() -> type[Any]:
    """A psycopg ``Connection`` whose every wait for the server has a deadline. psycopg waits
    without one by default: a server that accepted the connection and then stopped
    answering (SIGSTOP, a VM paused, a partition without resets) would hold the request
    until gunicorn kills the worker."""
    import psycopg
    from psycopg import errors as pg_errors

    wait_timeout = getattr(pg_errors, "_WaitTimeout", pg_errors.OperationalError)

    class _DeadlineConnection(psycopg.Connection):
        answer_timeout: float | None = None

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            if timeout is None:
                deadline = _answer_deadline.get()
                if deadline is None:
                    timeout = self.answer_timeout
                elif deadline > 0:
                    timeout = max(0.001, deadline - time.monotonic())
            try:
                return super().wait(gen, interval=interval, timeout=timeout)
            except wait_timeout:
                if timeout is None:
                    raise
                # The protocol exchange was cut in the middle: the connection is unusable.
                # Closing it makes SQLAlchemy see a disconnect and drop it from the pool.
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"the database server did not answer within {timeout:.1f} s") \
                    from AnswerTimeout()

    return _DeadlineConnection


def _postgres_engine(url: str, limits: DatabaseLimits) -> Engine:
    connection_class = _deadline_connection_class()
    engine = create_engine(
        url, pool_size=limits.pool_size, max_overflow=limits.pool_size,
        pool_timeout=limits.pool_timeout,
        connect_args={"connect_timeout": limits.connect_timeout,
                      # Notice a dead peer on an idle pooled connection.
                      "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 5,
                      "keepalives_count": 3})

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        connection = connection_class.connect(*cargs, **cparams)
        connection.answer_timeout = limits.answer_timeout
        return connection

    # Pessimistic disconnect handling, as ``pool_pre_ping`` but only for a connection that
    # sat idle in the pool: one used less than POOL_PING_AFTER_IDLE_SECONDS ago is handed
    # out as it is (a busy worker would otherwise pay a round trip, ~0.2 ms of CPU, on
    # every request). A connection that fails its ping is replaced (DisconnectionError:
    # the pool retries with a new one); a server that went away while connections were
    # busy is noticed by their next statement, which invalidates the pool.
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < POOL_PING_AFTER_IDLE_SECONDS:
            return  # just connected, or used moments ago
        try:
            ok = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise sa_exc.DisconnectionError(f"pooled connection failed its ping: {exc}") \
                from exc
        if not ok:
            raise sa_exc.DisconnectionError("pooled connection failed its ping")

    @event.listens_for(engine, "connect")
    def _server_timeouts(dbapi_conn: Any, _record: Any) -> None:
        # SET (not startup options) so that a connection pooler in front works too.
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {int(limits.statement_timeout * 1000)}")
            cur.execute(f"SET lock_timeout = {int(limits.lock_timeout * 1000)}")
            cur.execute("SET idle_in_transaction_session_timeout = "
                        f"{int(limits.idle_in_transaction_timeout * 1000)}")
            # Every timestamp is stored and compared in UTC. Named "UTC", psycopg returns
            # datetimes with ``datetime.timezone.utc``: ~3x cheaper to load than with the
            # ZoneInfo of a server default such as "Etc/UTC" (a 600-learner grid reads
            # 28,000 timestamps), and the same instants whatever the server's default.
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine


_reading_only: ContextVar[bool] = ContextVar("microcred_reading_only", default=False)


@contextmanager
def reading_only() -> Iterator[None]:
    """Transactions begun inside only read (SQLite: a deferred BEGIN, no write lock)."""
    token = _reading_only.set(True)
    try:
        yield
    finally:
        _reading_only.reset(token)


def _begins_immediately() -> bool:
    """SQLite: whether a new transaction should take the write lock at once. Outside a
    request (CLI, jobs) and for requests that may write, yes; a GET starts a deferred
    (reading) transaction so that pages are read concurrently, and so does a readiness
    probe (``reading_only``)."""
    if _reading_only.get():
        return False
    if not has_request_context():
        return True
    return request.method not in SAFE_METHODS


def _sqlite_engine(url: str, limits: DatabaseLimits) -> Engine:
    engine = create_engine(url, pool_timeout=limits.pool_timeout, connect_args={
        "check_same_thread": False, "timeout": limits.sqlite_busy_timeout})

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
        # A deferred transaction that read first and writes later fails at once with
        # "database is locked" when another writer committed in between (WAL snapshot):
        # the busy timeout does not help there. Taking the write lock at BEGIN makes
        # concurrent writers queue (for up to the busy timeout) instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _begins_immediately() else "BEGIN")

    return engine


def make_engine(url: str, limits: DatabaseLimits | None = None) -> Engine:
    limits = limits or DatabaseLimits()
    if url.startswith("sqlite"):
        return _sqlite_engine(url, limits)
    return _postgres_engine(url, limits)


def default_sqlite_url(instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'microcred.sqlite3'}"


# -- outages ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DependencyFailure:
    dependency: str      # DATABASE or STORE
    outage: bool         # connection-level (down, frozen) rather than busy (a timeout, a lock)
    detail: str          # for the log: the error's class, never its text


_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def dependency_failure(exc: BaseException) -> DependencyFailure | None:
    """What an exception says about the database or Redis, or None if it is not theirs."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return DependencyFailure(STORE, True, type(exc).__name__)
    if isinstance(exc, redis.ReadOnlyError):  # a replica after failover
        return DependencyFailure(STORE, True, type(exc).__name__)
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return DependencyFailure(DATABASE, False, "PoolTimeout")
    if isinstance(exc, sa_exc.DBAPIError) and (
            isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
            or exc.connection_invalidated):
        orig = exc.orig
        name = type(orig).__name__
        if type(orig).__module__.startswith("sqlite3"):
            text = str(orig).lower()
            return DependencyFailure(DATABASE, not any(b in text for b in _SQLITE_BUSY), name)
        # The server answered "no" (statement or lock timeout, serialisation): it is up.
        busy = {"QueryCanceled", "LockNotAvailable", "DeadlockDetected",
                "SerializationFailure"}
        return DependencyFailure(DATABASE, name not in busy, name)
    return None


class Breaker:
    """Per-process memory of a dependency that just failed at the connection level."""

    def __init__(self, seconds: float = BREAKER_SECONDS) -> None:
        self.seconds = seconds
        self._open_until: dict[str, float] = {}

    def trip(self, dependency: str) -> None:
        self._open_until[dependency] = time.monotonic() + self.seconds

    def close(self, dependency: str) -> None:
        """The dependency answered (a readiness probe): stop failing fast at once."""
        self._open_until.pop(dependency, None)

    def is_open(self, dependency: str) -> bool:
        until = self._open_until.get(dependency)
        return until is not None and time.monotonic() < until

    def reset(self) -> None:
        self._open_until.clear()


def breaker() -> Breaker:
    found: Breaker = current_app.extensions["breaker"]
    return found


def _check_breaker(dependency: str) -> None:
    if breaker().is_open(dependency):
        raise ServiceUnavailable(dependency, retry_after=current_app.config["RETRY_AFTER_SECONDS"],
                                 log_detail="recently failed")


# -- wiring -------------------------------------------------------------------------------------
def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"] or default_sqlite_url(app.instance_path)
    app.config["DATABASE_URL"] = url
    engine = make_engine(url, DatabaseLimits.from_config(app.config))
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["breaker"] = Breaker()

    if app.config["REDIS_URL"]:
        client = redis_client(app.config["REDIS_URL"], timeout=app.config["REDIS_TIMEOUT_SECONDS"])
        app.extensions["redis"] = client
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

    # The registry cache (platforms, deployments, issuer links) is used inside requests;
    # commits of this app's sessions (CLI, jobs too) announce registry changes through its
    # store (services/registry_cache.py).
    from lti_tool.services.registry_cache import STORE_INFO_KEY
    from lti_tool.services.registry_cache import cache as registry

    app.extensions["db_sessionmaker"].configure(info={STORE_INFO_KEY: app.extensions["kv"]})

    def _store_failed(exc: BaseException) -> None:
        failure = dependency_failure(exc)
        if failure is not None and failure.outage:
            breaker().trip(failure.dependency)  # later requests skip it at once

    @app.before_request
    def _registry_scope() -> None:
        if breaker().is_open(STORE):
            return  # Redis is known to be down: lookups read the database
        store = current_app.extensions["kv"]
        g.registry_scope = registry.begin(store, (id(store), getattr(store, "prefix", "")),
                                          _store_failed,
                                          current_app.config["REGISTRY_CHECK_SECONDS"])

    @app.teardown_request
    def _registry_scope_end(_exc: BaseException | None) -> None:
        token = g.pop("registry_scope", None)
        if token is not None:
            registry.end(token)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                if exc is not None:
                    session.rollback()
                session.close()
            except Exception as close_exc:  # the database went away during the request
                failure = dependency_failure(close_exc)
                if failure is None:
                    raise
                session.invalidate()


def db_session() -> Session:
    """The request's session (created on first use, closed at teardown). Raises
    ServiceUnavailable while the database is known to be down (see ``Breaker``)."""
    if "db_session" not in g:
        _check_breaker(DATABASE)
        g.db_session = current_app.extensions["db_sessionmaker"]()
    session: Session = g.db_session
    return session


@contextmanager
def read_connection() -> Iterator[Connection]:
    """A connection for a request's read-only statements that may be all it needs from the
    database (a page served from a cache after checking its versions):
    ``models.base.autocommit_connection`` of the request's session, so on PostgreSQL, while
    the request has no transaction open, the SELECT alone, without BEGIN and ROLLBACK round
    trips. Never write through it. Raises ServiceUnavailable while the database is known to
    be down."""
    _check_breaker(DATABASE)
    with autocommit_connection(db_session()) as connection:
        yield connection


def kv() -> KeyValueStore:
    """The key-value store. Raises ServiceUnavailable while Redis is known to be down."""
    _check_breaker(STORE)
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
