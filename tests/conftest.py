"""Fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL) migrated
once per session, each test inside a rolled-back transaction, and a real Redis (db 15)
with a per-test key prefix."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import create_app
from lti_tool.models.migrate import upgrade
from lti_tool.services.platforms import PlatformInput, add_platform
from tests.support.platform import FakeTransport, TestPlatform

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url or f"sqlite:///{tmp_root / 'test.sqlite3'}"


@pytest.fixture(autouse=True)
def _root_log_level() -> Iterator[None]:
    """A test that makes an app of its own (a CLI run with LOG_LEVEL=ERROR, say) sets the
    process's root log level; put it back, so later tests still see their warnings."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.fixture(scope="session")
def base_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp_root = tmp_path_factory.mktemp("microcred")
    app = create_app({"ENV": "test", "DATABASE_URL": _database_url(tmp_root),
                      "REDIS_URL": REDIS_URL, "INSTANCE_PATH": str(tmp_root / "instance")})
    engine = app.extensions["db_engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield app
    engine.dispose()


@pytest.fixture()
def connection(base_app: Flask) -> Iterator[Connection]:
    engine = base_app.extensions["db_engine"]
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


def bind_app(app: Flask, connection: Connection, prefix: str) -> None:
    app.extensions["db_sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app.extensions["kv"].prefix = prefix
    app.extensions["lti"].platform_keys.forget()


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    prefix = f"mc-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis_lib.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=prefix + "*", count=500):
        client.delete(key)


@pytest.fixture()
def transport(base_app: Flask) -> Iterator[FakeTransport]:
    fake = FakeTransport()
    http = base_app.extensions["lti"].http
    saved = dict(http.session.adapters)
    http.session.mount("https://", fake)
    http.session.mount("http://", fake)
    yield fake
    http.session.adapters.clear()
    http.session.adapters.update(saved)


@pytest.fixture()
def app(base_app: Flask, connection: Connection, redis_prefix: str,
        transport: FakeTransport) -> Flask:
    bind_app(base_app, connection, redis_prefix)
    return base_app


@pytest.fixture()
def db(app: Flask) -> Iterator[Session]:
    session: Session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def register_platform(db: Session, platform: TestPlatform, transport: FakeTransport,
                      **kwargs: Any) -> Any:
    transport.add("GET", platform.jwks_url, lambda _req: (200, platform.jwks()))
    row = add_platform(db, PlatformInput(
        name=kwargs.pop("name", "Moodle test"), issuer=platform.issuer,
        client_id=platform.client_id, preset="moodle",
        deployment_ids=kwargs.pop("deployment_ids", (platform.deployment_id,)), **kwargs,
    ), allow_http=True)
    db.commit()
    return row


@pytest.fixture()
def platform(db: Session, transport: FakeTransport) -> TestPlatform:
    test_platform = TestPlatform()
    register_platform(db, test_platform, transport)
    return test_platform
