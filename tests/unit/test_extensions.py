"""The database and Redis deadlines, against the real servers of the test suite: a query
that takes longer than the client's deadline is cut by the client (the connection is
dropped from the pool, the next query works), the server's own statement timeout is a
"busy" failure rather than an outage, Redis gives up after its socket timeout without
retrying, and each failure is classified for the web tier's 503."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from lti_tool.extensions import (
    DATABASE,
    STORE,
    Breaker,
    DatabaseLimits,
    database_deadline,
    dependency_failure,
    make_engine,
    redis_client,
)

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
postgres_only = pytest.mark.skipif(not PG_URL.startswith("postgresql"),
                                   reason="needs TEST_DATABASE_URL (PostgreSQL)")


@postgres_only
def test_the_client_gives_up_on_a_server_that_does_not_answer_in_time():
    engine = make_engine(PG_URL, DatabaseLimits(statement_timeout=30))
    try:
        started = time.monotonic()
        with pytest.raises(sa_exc.OperationalError) as raised, database_deadline(0.5), \
                engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(3)"))
        assert time.monotonic() - started < 1.5
        assert "did not answer within 0.5 s" in str(raised.value)
        failure = dependency_failure(raised.value)
        assert failure is not None and failure.dependency == DATABASE and failure.outage
        # The cut connection was dropped from the pool: the next query just works.
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()


@postgres_only
def test_the_servers_statement_timeout_is_busy_not_an_outage():
    engine = make_engine(PG_URL, DatabaseLimits(statement_timeout=0.3))
    try:
        with pytest.raises(sa_exc.OperationalError) as raised, engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(2)"))
        failure = dependency_failure(raised.value)
        assert failure is not None
        assert (failure.dependency, failure.outage, failure.detail) == (
            DATABASE, False, "QueryCanceled")
        with engine.connect() as conn:
            assert conn.scalar(text("SHOW lock_timeout")) == "3s"
            assert conn.scalar(text("SHOW idle_in_transaction_session_timeout")) == "1min"
    finally:
        engine.dispose()


def _terminate(backend_pid: int) -> None:
    """End a server process from another connection, as a restart or a pooler would."""
    killer = make_engine(PG_URL)
    try:
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
    finally:
        killer.dispose()


@postgres_only
def test_a_pooled_connection_that_sat_idle_is_pinged_and_replaced_if_dead(monkeypatch):
    """An idle pooled connection whose server process is gone is replaced before use; one
    used moments ago is handed out without a ping (no round trip per request)."""
    from lti_tool import extensions

    engine = make_engine(PG_URL)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping",
                        lambda conn: pings.append(1) or real_ping(conn))
    try:
        with engine.connect() as conn:
            first = conn.scalar(text("SELECT pg_backend_pid()"))
        for _ in range(3):  # busy: the same connection, never pinged
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT pg_backend_pid()")) == first
        assert pings == []
        _terminate(first)
        monkeypatch.setattr(extensions, "POOL_PING_AFTER_IDLE_SECONDS", 0.0)  # "long idle"
        with engine.connect() as conn:  # pinged, found dead, replaced: no error
            assert conn.scalar(text("SELECT pg_backend_pid()")) != first
        assert pings
    finally:
        engine.dispose()


def test_a_database_that_refuses_connections_is_an_outage():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing")
    started = time.monotonic()
    with pytest.raises(sa_exc.OperationalError) as raised, engine.connect():
        pass
    assert time.monotonic() - started < 1
    failure = dependency_failure(raised.value)
    assert failure is not None and failure.outage and failure.dependency == DATABASE


@pytest.fixture()
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers: a frozen Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


def test_redis_gives_up_after_its_timeout_without_retrying(silent_redis):
    client = redis_client(silent_redis, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError) as raised:
        client.get("k")
    assert time.monotonic() - started < 0.9  # one try, not four with backoff
    failure = dependency_failure(raised.value)
    assert failure is not None and (failure.dependency, failure.outage) == (STORE, True)


def test_a_stopped_redis_fails_at_once():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = redis_client(f"redis://127.0.0.1:{port}/0", timeout=1)
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    assert time.monotonic() - started < 0.5


def test_other_errors_are_not_dependency_failures():
    assert dependency_failure(ValueError("x")) is None
    integrity = sa_exc.IntegrityError("INSERT", {}, Exception("duplicate"))
    assert dependency_failure(integrity) is None


def test_sqlite_locked_is_busy_and_a_missing_file_is_an_outage(tmp_path):
    import sqlite3

    locked = sa_exc.OperationalError("BEGIN", {}, sqlite3.OperationalError(
        "database is locked"))
    failure = dependency_failure(locked)
    assert failure is not None and not failure.outage
    gone = sa_exc.OperationalError("SELECT", {}, sqlite3.OperationalError(
        "unable to open database file"))
    failure = dependency_failure(gone)
    assert failure is not None and failure.outage


def test_the_breaker_remembers_a_failure_briefly():
    breaker = Breaker(seconds=0.2)
    assert not breaker.is_open(DATABASE)
    breaker.trip(DATABASE)
    assert breaker.is_open(DATABASE) and not breaker.is_open(STORE)
    time.sleep(0.25)
    assert not breaker.is_open(DATABASE)


@postgres_only
def test_a_read_before_any_transaction_costs_no_begin_or_rollback(base_app, monkeypatch):
    """``read_connection`` on PostgreSQL with no transaction open: autocommit, so the server
    sees the SELECT alone (no transaction is left open after it); the connection goes back to
    the pool in the default mode, and once the request's session has a transaction open,
    reads join it."""
    from psycopg.pq import TransactionStatus
    from sqlalchemy.orm import sessionmaker

    from lti_tool.extensions import db_session, read_connection

    engine = base_app.extensions["db_engine"]
    monkeypatch.setitem(base_app.extensions, "db_sessionmaker",
                        sessionmaker(bind=engine, expire_on_commit=False))
    with base_app.test_request_context():
        with read_connection() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi.autocommit is True
            assert conn.scalar(text("SELECT 1")) == 1
            assert dbapi.info.transaction_status == TransactionStatus.IDLE  # no BEGIN sent
        session = db_session()
        assert not session.in_transaction()  # the read did not start the session
        in_session = session.connection()
        assert in_session.connection.dbapi_connection.autocommit is False  # pool reset
        in_session.execute(text("SELECT 1"))
        assert in_session.connection.dbapi_connection.info.transaction_status \
            == TransactionStatus.INTRANS
        with read_connection() as conn:
            assert conn is in_session


def test_a_session_bound_to_one_connection_reads_through_it(app):
    """The tests' sessions are bound to one connection holding an outer transaction (and
    SQLite never takes the autocommit path): reads see what the test wrote, uncommitted."""
    from lti_tool.extensions import db_session, read_connection

    with app.test_request_context(), read_connection() as conn:
        assert conn is db_session().connection()
