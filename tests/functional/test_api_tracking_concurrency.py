"""Two autograders (or one retrying) post at the same moment: the award engine creates
exactly one award, and neither gets an error (SQLite serialises the writers, PostgreSQL's
row locks make the later one wait). These tests need real concurrent transactions, so
unlike the rest of the suite they commit through the engine, from two threads each with
its own connection, and delete every row they created afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.models import Award, Demonstration
from lti_tool.models.base import Base
from lti_tool.services import api_tokens
from tests.conftest import register_platform
from tests.support.api import Api
from tests.support.catalog import make_issuer
from tests.support.demonstrations import add_learners, make_course
from tests.support.platform import FakeTransport, TestPlatform

SKILLS = ("py.vars", "py.loops", "py.funcs")


@pytest.fixture()
def live(base_app: Flask, redis_prefix: str,
         transport: FakeTransport) -> Iterator[tuple[Flask, Session]]:
    """The app with sessions on the real engine (each request its own connection and
    transaction), and a session for the test; every row created is deleted at the end."""
    engine = base_app.extensions["db_engine"]
    saved = base_app.extensions["db_sessionmaker"]
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    base_app.extensions["db_sessionmaker"] = maker
    base_app.extensions["kv"].prefix = redis_prefix
    tables = [t for t in Base.metadata.sorted_tables if "id" in t.c]
    with engine.connect() as conn:
        marks = {t.name: conn.scalar(select(func.coalesce(func.max(t.c.id), 0)))
                 for t in tables}
    session = maker()
    try:
        yield base_app, session
    finally:
        session.close()
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                if "id" in table.c:
                    conn.execute(delete(table).where(table.c.id > marks[table.name]))
                elif "version_id" in table.c:  # credential_skills
                    conn.execute(delete(table).where(
                        table.c.version_id > marks["credential_versions"]))
        base_app.extensions["db_sessionmaker"] = saved


def setup_course(db: Session, transport: FakeTransport) -> tuple[Any, str]:
    test_platform = TestPlatform(issuer="https://moodle.race.test", client_id="race-1")
    register_platform(db, test_platform, transport, name="Race Moodle")
    course = make_course(db, test_platform, issuer=make_issuer(db, "race-college"))
    add_learners(db, course, 1, prefix="race")
    _row, token = api_tokens.create_token(db, course.issuer.id, "grader",
                                          ("demonstrations:write", "awards:read"),
                                          created_by="test")
    db.commit()
    return course, token


def race(app: Flask, token: str, bodies: list[dict[str, Any]]) -> list[Any]:
    """Post the bodies from as many threads, released together."""
    barrier = threading.Barrier(len(bodies))
    results: list[Any] = [None] * len(bodies)

    def post(index: int) -> None:
        client = Api(app.test_client(), token)
        barrier.wait()
        results[index] = client.post("/api/v1/demonstrations", json=bodies[index])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def demonstration(course: Any, skill: str) -> dict[str, Any]:
    return {"offering_id": course.offering_id, "skill_code": skill, "outcome": "pass",
            "learner": {"platform_user_id": course.learners[0].sub}}


def awards(db: Session, person_id: int) -> list[Award]:
    db.expire_all()
    return list(db.scalars(select(Award).where(Award.person_id == person_id)))


def test_two_concurrent_requests_for_the_last_skill_create_one_award(live, transport):
    app, db = live
    course, token = setup_course(db, transport)
    api = Api(app.test_client(), token)
    for skill in SKILLS[:2]:
        assert api.post("/api/v1/demonstrations",
                        json=demonstration(course, skill)).status_code == 201
    bodies = [demonstration(course, SKILLS[2])] * 2
    results = race(app, token, bodies)
    assert [r.status_code for r in results] == [201, 201], [r.get_json() for r in results]
    assert sum(len(r.get_json()["awards"]) for r in results) == 1
    assert len(awards(db, course.learners[0].person_id)) == 1
    assert db.scalar(select(func.count()).select_from(Demonstration).where(
        Demonstration.person_id == course.learners[0].person_id)) == 4


def test_the_last_two_skills_recorded_at_once_still_award_once(live, transport):
    """Each request adds one of the two missing skills: without serialisation each would
    miss the other's uncommitted demonstration and neither would award."""
    app, db = live
    course, token = setup_course(db, transport)
    api = Api(app.test_client(), token)
    assert api.post("/api/v1/demonstrations",
                    json=demonstration(course, SKILLS[0])).status_code == 201
    bodies = [demonstration(course, SKILLS[1]), demonstration(course, SKILLS[2])]
    results = race(app, token, bodies)
    assert [r.status_code for r in results] == [201, 201], [r.get_json() for r in results]
    assert sum(len(r.get_json()["awards"]) for r in results) == 1
    [award] = awards(db, course.learners[0].person_id)
    assert len(award.demonstration_ids) == 3


def test_a_retry_racing_its_original_with_one_idempotency_key_records_once(live, transport):
    app, db = live
    course, token = setup_course(db, transport)
    body = demonstration(course, SKILLS[0])
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def post(index: int) -> None:
        client = Api(app.test_client(), token)
        barrier.wait()
        results[index] = client.post("/api/v1/demonstrations", json=body,
                                     headers={"Idempotency-Key": "run-1"})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in results)
    # The loser waits for the winner's transaction (PostgreSQL: on the key's row; SQLite:
    # for the write lock), then replays its committed answer: never a 409 or a 503.
    assert statuses == [201, 201], [r.get_json() for r in results]
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in results) == ["", "true"]
    assert results[0].get_json() == results[1].get_json()
    retry = Api(app.test_client(), token).post("/api/v1/demonstrations", json=body,
                                               headers={"Idempotency-Key": "run-1"})
    assert retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.get_json() == next(r for r in results if r.status_code == 201).get_json()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Demonstration).where(
        Demonstration.person_id == course.learners[0].person_id)) == 1
