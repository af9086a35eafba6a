"""What only real gunicorn workers show: the SQLite demo's concurrent saves, gunicorn's
control socket, and a chunked request body over the size limit."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session

from lti_tool.extensions import make_engine
from lti_tool.models.migrate import upgrade
from lti_tool.services import api_tokens
from lti_tool.services.platforms import PlatformInput, add_platform
from tests.fault.conftest import SKILLS, World
from tests.fault.harness import Gunicorn, free_port
from tests.support.catalog import make_issuer
from tests.support.demonstrations import Course, add_learners, make_course
from tests.support.platform import TestPlatform


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gunicorn, Course, str]]:
    """The single-process demo as `make run` starts it: SQLite, no Redis, one worker with
    8 threads; with a control socket of its own."""
    root = tmp_path_factory.mktemp("sqlite-demo")
    url = f"sqlite:///{root / 'demo.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    lms = TestPlatform()
    with Session(engine, expire_on_commit=False) as db:
        add_platform(db, PlatformInput(name="Demo Moodle", issuer=lms.issuer,
                                       client_id=lms.client_id, preset="moodle",
                                       deployment_ids=(lms.deployment_id,)), allow_http=True)
        db.commit()
        course = make_course(db, lms, issuer=make_issuer(db, "demo-college"))
        add_learners(db, course, 20, prefix="demo")
        _row, token = api_tokens.create_token(db, course.issuer.id, "grader",
                                              ("demonstrations:write",), created_by="test")
        db.commit()
    engine.dispose()
    port = free_port()
    web = Gunicorn({"MICROCRED_ENV": "development", "DATABASE_URL": url, "REDIS_URL": "",
                    "SECRET_KEY": "demo-secret-for-the-fault-suite", "LOG_FORMAT": "json",
                    "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                    "GUNICORN_CONTROL_SOCKET": str(root / "gunicorn.ctl")},
                   port=port, workers=1, threads=8, app="wsgi:app")
    web.start()
    try:
        yield web, course, token
    finally:
        web.destroy()


def test_two_saves_at_the_same_moment_in_the_sqlite_demo_both_succeed(demo):
    web, course, token = demo
    statuses: list[int] = []

    def save(sub: str, skill: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        response = requests.post(web.base + "/api/v1/demonstrations", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"},
                                 json={"offering_id": course.offering_id, "skill_code": skill,
                                       "outcome": "pass", "learner": {"platform_user_id": sub}})
        statuses.append(response.status_code)

    for round_ in range(10):
        barrier = threading.Barrier(2)
        pair = [threading.Thread(target=save, args=(course.learners[2 * round_ + i].sub,
                                                    SKILLS[i], barrier)) for i in range(2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join(timeout=30)
    assert statuses == [201] * 20, statuses


def test_each_instance_has_its_own_control_socket_or_none(demo, healthy: World):
    web, _course, _token = demo
    socket_path = Path(web.env["GUNICORN_CONTROL_SOCKET"])
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    # Without GUNICORN_CONTROL_SOCKET there is none: nothing in the shared per-user place.
    home = Path(healthy.web.env["HOME"])
    assert not (home / ".gunicorn").exists()
    assert not any(p.name == "gunicorn.ctl" for p in home.rglob("*"))
    assert os.environ.get("HOME") != str(home)


def test_a_chunked_body_over_the_limit_is_413(healthy: World):
    world = healthy

    def body() -> Iterator[bytes]:
        yield b'{"note": "'
        for _ in range(24):  # 1.5 MB, over MAX_CONTENT_LENGTH (1 MB)
            yield b"x" * 65536
        yield b'"}'

    response = world.api("POST", "/api/v1/demonstrations", data=body(),
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text[:300]
    assert response.json()["error"]["code"] == "http_413"
