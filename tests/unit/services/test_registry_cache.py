"""The registry cache: a request resolves platform, deployment and issuer without SQL once
they were read, and sees a change at once (same process: the flush clears the cache;
another process: the version token in Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from lti_tool.services import platforms as platform_service
from lti_tool.services.catalog import issuer_for_platform
from lti_tool.services.registry_cache import VERSION_KEY, cache
from tests.support.lti import TestPlatform


@contextmanager
def request_scope(app: Flask, check_every: float = 0.0) -> Iterator[None]:
    kv = app.extensions["kv"]
    token = cache.begin(kv, (id(kv), kv.prefix), check_every=check_every)
    try:
        yield
    finally:
        cache.end(token)


@contextmanager
def counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def note(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _new_session(app: Flask) -> Session:
    session: Session = app.extensions["db_sessionmaker"]()
    return session


def test_a_second_request_resolves_the_registry_without_sql(
        app: Flask, platform: TestPlatform) -> None:
    with request_scope(app):
        first = _new_session(app)
        found = platform_service.find_platform(first, platform.issuer, platform.client_id)
        assert found is not None
        deployment = platform_service.find_deployment(first, found.id, platform.deployment_id)
        assert deployment is not None
        issuer_for_platform(first, found.id, deployment.id)
        first.close()
    with request_scope(app):
        second = _new_session(app)
        with counting(second) as statements:
            again = platform_service.find_platform(second, platform.issuer, platform.client_id)
            dep = platform_service.find_deployment(second, found.id, platform.deployment_id)
            assert issuer_for_platform(second, found.id, deployment.id) is None
        assert statements == []
        assert again is not None and again is not found and again.id == found.id
        assert again in second  # attached: an ordinary object of this session
        assert again.deployments[0].deployment_id == platform.deployment_id  # lazy load works
        assert dep is not None and dep.id == deployment.id
        second.close()


def test_a_change_is_seen_by_the_next_lookup(app: Flask, platform: TestPlatform) -> None:
    with request_scope(app):
        session = _new_session(app)
        found = platform_service.find_platform(session, platform.issuer, platform.client_id)
        assert found is not None and found.active
        session.close()
    admin = _new_session(app)
    row = platform_service.find_platform(admin, platform.issuer, platform.client_id)
    assert row is not None
    row.active = False
    admin.commit()
    admin.close()
    with request_scope(app):
        session = _new_session(app)
        again = platform_service.find_platform(session, platform.issuer, platform.client_id)
        assert again is not None and again.active is False
        session.close()


def test_another_process_change_is_seen_through_the_version_token(
        app: Flask, platform: TestPlatform) -> None:
    kv = app.extensions["kv"]
    with request_scope(app):
        session = _new_session(app)
        assert platform_service.find_platform(session, platform.issuer, platform.client_id)
        session.close()
    # Another process renamed it: its commit replaced the version token.
    other = _new_session(app)
    other.execute(platform_service.Platform.__table__.update().values(name="Renamed"))
    other.commit()
    other.close()
    with request_scope(app):
        session = _new_session(app)
        stale = platform_service.find_platform(session, platform.issuer, platform.client_id)
        assert stale is not None and stale.name != "Renamed"  # Core UPDATE: not noticed
        session.close()
    kv.set(VERSION_KEY, "changed-elsewhere", 60)
    with request_scope(app):
        session = _new_session(app)
        fresh = platform_service.find_platform(session, platform.issuer, platform.client_id)
        assert fresh is not None and fresh.name == "Renamed"
        session.close()


class _CountingStore:
    """The app's store, counting the reads of the version token."""

    def __init__(self, store: Any) -> None:
        self.store, self.reads = store, 0
        self.prefix = store.prefix

    def get(self, key: str) -> str | None:
        self.reads += 1
        value: str | None = self.store.get(key)
        return value

    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool:
        done: bool = self.store.set(key, value, ttl, only_if_absent=only_if_absent)
        return done


def test_the_version_token_is_read_at_most_every_check_interval(
        app: Flask, platform: TestPlatform, monkeypatch: Any) -> None:
    kv = app.extensions["kv"]
    store = _CountingStore(kv)
    clock = [1000.0]
    monkeypatch.setattr("lti_tool.services.registry_cache.time.monotonic", lambda: clock[0])
    cache.clear()

    def lookup() -> str:
        token = cache.begin(store, (id(kv), kv.prefix), check_every=1.0)
        try:
            session = _new_session(app)
            found = platform_service.find_platform(session, platform.issuer, platform.client_id)
            session.close()
            assert found is not None
            return found.name
        finally:
            cache.end(token)

    first = lookup()
    assert store.reads >= 1
    store.reads = 0
    # Another process renames the platform and announces it.
    other = _new_session(app)
    other.execute(platform_service.Platform.__table__.update().values(name="Renamed"))
    other.commit()
    other.close()
    kv.set(VERSION_KEY, "changed-elsewhere", 60)
    clock[0] += 0.5
    assert lookup() == first  # within the interval: no read, the cached row
    assert store.reads == 0
    clock[0] += 0.6
    assert lookup() == "Renamed"  # past it: the token is read, the change seen
    assert store.reads == 1


def test_outside_a_request_every_lookup_reads_the_database(
        app: Flask, platform: TestPlatform) -> None:
    session = _new_session(app)
    platform_service.find_platform(session, platform.issuer, platform.client_id)
    with counting(session) as statements:
        platform_service.find_platform(session, platform.issuer, platform.client_id)
    assert len(statements) == 1
    session.close()


def test_unknown_platforms_are_not_cached(app: Flask, platform: TestPlatform) -> None:
    with request_scope(app):
        session = _new_session(app)
        for n in range(3):
            assert platform_service.find_platform(session, f"https://nope{n}.test", "x") is None
        with counting(session) as statements:
            platform_service.find_platform(session, "https://nope0.test", "x")
        assert len(statements) == 1
        session.close()


class _DeadStore:
    """A store whose Redis went away."""

    def get(self, key: str) -> str | None:
        raise ConnectionError("gone")

    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool:
        raise ConnectionError("gone")


def test_a_change_committed_while_redis_is_away_is_kept_and_logged(
        app: Flask, platform: TestPlatform, caplog: Any) -> None:
    from lti_tool.services.registry_cache import STORE_INFO_KEY

    session = _new_session(app)
    session.info[STORE_INFO_KEY] = _DeadStore()
    row = platform_service.find_platform(session, platform.issuer, platform.client_id)
    assert row is not None
    row.name = "Renamed while Redis was away"
    session.commit()  # the change is committed; announcing it failed
    session.close()
    assert "registry change not announced" in caplog.text
    check = _new_session(app)
    again = platform_service.find_platform(check, platform.issuer, platform.client_id)
    assert again is not None and again.name == "Renamed while Redis was away"
    check.close()


def test_the_apps_sessions_announce_changes_through_its_store(app: Flask) -> None:
    from lti_tool import create_app
    from lti_tool.services.registry_cache import STORE_INFO_KEY

    fresh = create_app({name: app.config[name] for name in
                        ("ENV", "DATABASE_URL", "REDIS_URL", "INSTANCE_PATH")})
    try:
        session = fresh.extensions["db_sessionmaker"]()
        assert session.info[STORE_INFO_KEY] is fresh.extensions["kv"]
        session.close()
    finally:
        fresh.extensions["db_engine"].dispose()


def test_without_redis_a_request_reads_the_database(app: Flask, platform: TestPlatform) -> None:
    token = cache.begin(_DeadStore(), ("dead", ""))
    try:
        session = _new_session(app)
        with counting(session) as statements:
            found = platform_service.find_platform(session, platform.issuer, platform.client_id)
        assert found is not None
        assert [s for s in statements if s.startswith("SELECT")]  # read from the database
        session.close()
    finally:
        cache.end(token)


def test_read_only_lookups_share_one_instance_outside_every_session(
        app: Flask, platform: TestPlatform) -> None:
    from sqlalchemy import inspect

    with request_scope(app):
        first_session = _new_session(app)
        platform_service.find_platform(first_session, platform.issuer, platform.client_id)
        first_session.close()
        one, two = _new_session(app), _new_session(app)
        a = platform_service.find_platform(one, platform.issuer, platform.client_id,
                                           read_only=True)
        b = platform_service.find_platform(two, platform.issuer, platform.client_id,
                                           read_only=True)
        assert a is not None and a is b  # one instance per process
        assert inspect(a).session is None  # in no session: nothing can flush or expire it
        assert a not in one and a not in two
        # A session that already holds its own copy (maybe changed) gets that one.
        own = platform_service.find_platform(one, platform.issuer, platform.client_id)
        assert own is not None and own is not a
        assert platform_service.find_platform(one, platform.issuer, platform.client_id,
                                              read_only=True) is own
        # A change clears it: the next read-only lookup sees the new values.
        own.name = "Renamed here"
        one.commit()
        one.close()
        two.close()
    with request_scope(app):
        session = _new_session(app)
        platform_service.find_platform(session, platform.issuer, platform.client_id)
        session.close()
        session = _new_session(app)
        fresh = platform_service.find_platform(session, platform.issuer, platform.client_id,
                                               read_only=True)
        assert fresh is not None and fresh is not a and fresh.name == "Renamed here"
        session.close()
