"""The fault-injection suite's world: a private PostgreSQL and Redis, a platform whose JWKS
is served on the loopback interface, a course with a published credential, learners and an
API token, and MicroCred under real gunicorn workers (2 processes x 4 threads) using them.

Deadlines are set shorter than the defaults (statement 2 s, outbound calls 2 s) to keep
the suite quick; the assertions are written against those settings. Every test that
breaks a dependency puts it back and waits until the tool has recovered.

The whole directory is marked ``fault`` (slow, but part of ``make test``: it runs once, in
the SQLite pass; it brings its own PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lti_tool.extensions import BREAKER_SECONDS, make_engine
from lti_tool.models.migrate import upgrade
from lti_tool.services import api_tokens
from lti_tool.services.platforms import PlatformInput, add_platform
from tests.fault.harness import (
    Gunicorn,
    JwksServer,
    PrivatePostgres,
    PrivateRedis,
    free_port,
    postgres_bin,
    wait_until,
)
from tests.support.catalog import make_issuer
from tests.support.demonstrations import Course, add_learners, make_course
from tests.support.platform import TestPlatform, query_of

SKILLS = ("py.vars", "py.loops", "py.funcs")
STATEMENT_TIMEOUT = 2.0          # DB_STATEMENT_TIMEOUT_SECONDS in this suite
ANSWER_DEADLINE = STATEMENT_TIMEOUT + 1.0  # the client-side deadline
CONNECT_TIMEOUT = 2.0
HTTP_DEADLINE = 2.0
RETRY_AFTER = 5


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/fault/" in str(item.fspath):
            item.add_marker(pytest.mark.fault)


def _missing() -> str:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if postgres_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    return ""


def _require_servers() -> None:
    """Skipped on a developer's machine without the servers; under CI (.ci/run installs
    them) a missing one is a failure, not a silent skip."""
    missing = _missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"fault suite: {missing}")
    if missing:
        pytest.skip(missing)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    _require_servers()
    server = PrivatePostgres()
    try:
        server.init()
        engine = make_engine(server.url)
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[PrivateRedis]:
    _require_servers()
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@dataclass
class World:
    web: Gunicorn
    postgres: PrivatePostgres
    redis: PrivateRedis
    lms: TestPlatform
    jwks: JwksServer
    course: Course
    token: str
    engine: Engine
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.web.base

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.base + path, headers=headers, **kwargs)

    def try_launch(self, lms: TestPlatform | None = None, sub: str = "fault-learner-1",
                   fixture: str = "learner_claims_INTROPROG.json") -> requests.Response:
        """A real login and launch through gunicorn, as a browser does it (cookies kept);
        the launch's response (303 to ``/app?lt=...`` when accepted)."""
        lms = lms or self.lms
        browser = requests.Session()
        params = {"iss": lms.issuer, "login_hint": sub,
                  "target_link_uri": self.base + "/lti/launch",
                  "client_id": lms.client_id, "lti_deployment_id": lms.deployment_id}
        response = browser.get(self.base + "/lti/login", params=params, allow_redirects=False,
                               timeout=30)
        location = response.headers.get("Location", "")
        if location.startswith((self.base, "/")):  # the one-time cookie check
            response = browser.get(urljoin(self.base, location), allow_redirects=False,
                                   timeout=30)
            location = response.headers.get("Location", "")
        assert response.status_code == 302, response.text[:300]
        query = query_of(location)
        body = lms.claims(fixture, nonce=query["nonce"],
                          target_link_uri=self.base + "/lti/launch", sub=sub)
        return browser.post(self.base + "/lti/launch", allow_redirects=False, timeout=30,
                            data={"id_token": lms.sign(body), "state": query["state"]})

    def launch(self, sub: str = "fault-learner-1",
               fixture: str = "learner_claims_INTROPROG.json") -> str:
        """The landing page URL (``/app?lt=...``) of an accepted launch."""
        launched = self.try_launch(sub=sub, fixture=fixture)
        assert launched.status_code == 303, launched.text[:300]
        return urljoin(self.base, launched.headers["Location"])

    def register_platform(self, issuer: str, client_id: str) -> TestPlatform:
        """Another registered platform (Moodle preset) whose JWKS lives under ``issuer``."""
        lms = TestPlatform(issuer=issuer, client_id=client_id, key_name="fault-platform")
        with Session(self.engine) as db:
            add_platform(db, PlatformInput(name=f"Moodle {client_id}", issuer=lms.issuer,
                                           client_id=lms.client_id, preset="moodle",
                                           deployment_ids=(lms.deployment_id,)),
                         allow_http=True)
            db.commit()
        return lms

    def count(self, model: Any, *where: Any) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where))
                       or 0)

    def healthy(self) -> bool:
        return requests.get(self.base + "/readyz", timeout=5).status_code == 200


def suite_settings(pg: PrivatePostgres, redis_server: PrivateRedis,
                   port: int) -> dict[str, str]:
    return {
        "MICROCRED_ENV": "development", "SECRET_KEY": "fault-suite-secret-not-for-production",
        "DATABASE_URL": pg.url, "REDIS_URL": redis_server.url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SANDBOX_ENABLED": "false",
        "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "JOBS_INLINE": "true",
        "DB_STATEMENT_TIMEOUT_SECONDS": str(STATEMENT_TIMEOUT),
        "DB_LOCK_TIMEOUT_SECONDS": "2", "DB_CONNECT_TIMEOUT_SECONDS": str(int(CONNECT_TIMEOUT)),
        "DB_POOL_TIMEOUT_SECONDS": "1", "REDIS_TIMEOUT_SECONDS": "1",
        "HTTP_TIMEOUT_SECONDS": str(HTTP_DEADLINE), "JWKS_FAILURE_CACHE_SECONDS": "30",
        "RETRY_AFTER_SECONDS": str(RETRY_AFTER),
    }


@pytest.fixture(scope="session")
def world(postgres: PrivatePostgres, redis_server: PrivateRedis) -> Iterator[World]:
    placeholder = TestPlatform(key_name="fault-platform")
    jwks = JwksServer(placeholder.jwks())
    lms = TestPlatform(issuer=jwks.origin, client_id="fault-client", key_name="fault-platform")
    engine = make_engine(postgres.url)
    with Session(engine, expire_on_commit=False) as db:
        add_platform(db, PlatformInput(name="Fault Moodle", issuer=lms.issuer,
                                       client_id=lms.client_id, preset="moodle",
                                       deployment_ids=(lms.deployment_id,)), allow_http=True)
        db.commit()
        course = make_course(db, lms, issuer=make_issuer(db, "fault-college"),
                             lti_context_id="fault-course")
        add_learners(db, course, 4, prefix="fault")
        _row, token = api_tokens.create_token(db, course.issuer.id, "autograder",
                                              ("demonstrations:write", "awards:read"),
                                              created_by="fault suite")
        db.commit()
    port = free_port()
    settings = suite_settings(postgres, redis_server, port)
    web = Gunicorn(settings, port=port, workers=2, threads=4)
    web.start()
    try:
        yield World(web, postgres, redis_server, lms, jwks, course, token, engine, settings)
    finally:
        web.destroy()
        jwks.close()
        engine.dispose()


@pytest.fixture()
def healthy(world: World) -> Iterator[World]:
    """The world, checked ready before and after the test (a test that broke a
    dependency must have put it back). Afterwards each worker may still fail fast for
    BREAKER_SECONDS after its last failure: wait that out, so the next test starts clean."""
    wait_until(world.healthy, 20)
    yield world
    wait_until(world.healthy, 20)
    time.sleep(BREAKER_SECONDS)
