"""The API's course reads and offerings for autograders and integrators: courses with their
offering ids (found by the platform's context id), rosters, demonstrations by course,
offering, learner and time (paged, corrections linked), offering and detaching a
micro-credential, and naming a course by its context id alone (ambiguity said). Another
institution's course is 404; the scopes are checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import LifecycleState
from lti_tool.models import Offering
from lti_tool.models.base import utcnow
from lti_tool.services import api_tokens
from tests.conftest import register_platform
from tests.support.api import Api
from tests.support.catalog import make_issuer as make_other_issuer
from tests.support.demonstrations import add_learners, make_course
from tests.support.platform import TestPlatform

READ, OFFER, WRITE = "courses:read", "offerings:write", "demonstrations:write"


def token_for(db, issuer, *scopes):
    _row, plaintext = api_tokens.create_token(db, issuer.id, "integrator",
                                              scopes or (READ, OFFER, WRITE),
                                              created_by="test")
    db.commit()
    return plaintext


@pytest.fixture()
def course(db, platform):
    course = make_course(db, platform, lti_context_id="MOODLE-42")
    add_learners(db, course, 3)
    return course


@pytest.fixture()
def api(client, db, course):
    return Api(client, token_for(db, course.issuer))


def _record(api, course, learner, skill, outcome="pass", **extra):
    response = api.post("/api/v1/demonstrations", json={
        "context": {"context_id": course.context.lti_context_id},
        "learner": {"platform_user_id": learner.sub}, "skill_code": skill,
        "outcome": outcome, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["demonstration"]


def test_courses_list_their_offerings_and_are_found_by_context_id(api, db, course,
                                                                  transport):
    elsewhere = TestPlatform(issuer="https://elsewhere.test", client_id="x")
    register_platform(db, elsewhere, transport)
    other = make_course(db, elsewhere, issuer=make_other_issuer(db, "other"),
                        lti_context_id="MOODLE-42")
    page = api.get("/api/v1/courses").get_json()
    assert page["total"] == 1, "another institution's course is not listed"
    [item] = page["items"]
    assert item["id"] == course.context.id and item["context_id"] == "MOODLE-42"
    assert item["roster_size"] == 3 and item["kind"] == "for-credit"
    assert item["platform"]["issuer"] == course.platform.issuer
    [offering] = item["offerings"]
    assert offering["id"] == course.offering_id and offering["credential_code"] == "PYF"
    assert offering["skill_codes"] == ["py.vars", "py.loops", "py.funcs"]
    found = api.get("/api/v1/courses", query_string={"context_id": "MOODLE-42"}).get_json()
    assert [c["id"] for c in found["items"]] == [course.context.id]
    assert api.get(f"/api/v1/courses/{course.context.id}").get_json()["title"] == \
        course.context.title
    assert api.get(f"/api/v1/courses/{other.context.id}").status_code == 404


def test_the_roster_names_each_member_by_the_ids_a_demonstration_takes(api, course):
    response = api.get(f"/api/v1/courses/{course.context.id}/roster")
    assert response.status_code == 200
    members = response.get_json()["items"]
    assert [m["platform_user_id"] for m in members] == [lr.sub for lr in course.learners]
    first = members[0]
    assert first["email"] == course.learners[0].email and first["learner"] is True
    assert first["institutional_id"] == course.learners[0].sourcedid
    assert first["status"] == "active" and first["source"] == "nrps"
    paged = api.get(f"/api/v1/courses/{course.context.id}/roster?per_page=2").get_json()
    assert paged["total"] == 3 and len(paged["items"]) == 2


def test_demonstrations_by_course_offering_learner_and_since(api, db, course):
    ada, bob = course.learners[:2]
    first = _record(api, course, ada, "py.vars")
    _record(api, course, bob, "py.loops", "fail")
    before = utcnow()
    third = _record(api, course, ada, "py.funcs")
    everything = api.get("/api/v1/demonstrations",
                         query_string={"course_id": course.context.id}).get_json()
    assert [d["id"] for d in everything["items"]] == sorted(d["id"] for d in
                                                            everything["items"])
    assert everything["total"] == 3
    mine = api.get("/api/v1/demonstrations",
                   query_string={"person_id": ada.person_id}).get_json()
    assert {d["skill_code"] for d in mine["items"]} == {"py.vars", "py.funcs"}
    recent = api.get("/api/v1/demonstrations", query_string={
        "offering_id": course.offering_id,
        "since": (before - timedelta(milliseconds=1)).isoformat()}).get_json()
    assert [d["id"] for d in recent["items"]] == [third["id"]]
    paged = api.get("/api/v1/demonstrations?per_page=2").get_json()
    assert paged["total"] == 3 and len(paged["items"]) == 2
    assert all(d["superseded_by"] is None and d["supersedes_id"] is None
               for d in everything["items"])
    assert first["learner_name"] == ada.name


def test_offering_and_detaching_a_micro_credential(api, db, course):
    builder = course.builder
    version = builder.credential("SQL", LifecycleState.PUBLISHED, required=("py.vars",))
    draft = builder.credential("WIP", LifecycleState.DRAFT, required=("py.vars",))
    db.commit()
    path = f"/api/v1/courses/{course.context.id}/offerings"
    created = api.post(path, json={"credential_code": "SQL"})
    assert created.status_code == 201, created.get_json()
    offering = created.get_json()
    assert offering["credential_code"] == "SQL" and offering["version"] == version.version
    again = api.post(path, json={"credential_code": "SQL"})
    assert again.status_code == 200 and again.get_json()["id"] == offering["id"]
    refused = api.post(path, json={"credential_code": "WIP"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == \
        "not_published"
    assert api.post(path, json={"credential_code": "NOPE"}).status_code == 404
    assert api.post(path, json={"credential": "SQL"}).status_code == 422
    detached = api.delete(f"/api/v1/offerings/{offering['id']}")
    assert detached.status_code == 200 and detached.get_json()["detached_at"]
    assert api.delete(f"/api/v1/offerings/{offering['id']}").status_code == 200  # idempotent
    db.expire_all()
    row = db.get(Offering, offering["id"])
    assert row.detached_at is not None
    assert draft.state == "draft"


def test_a_course_is_named_by_its_context_id_and_ambiguity_is_said(api, db, course,
                                                                    transport):
    learner = course.learners[0]
    _record(api, course, learner, "py.vars")
    # The same context id on a second platform of the same institution: ambiguous.
    second = TestPlatform(issuer="https://canvas.test", client_id="c2")
    register_platform(db, second, transport)
    twin = make_course(db, second, issuer=course.issuer, lti_context_id="MOODLE-42",
                       credentials=())
    assert twin.context.id != course.context.id
    response = api.post("/api/v1/demonstrations", json={
        "context": {"context_id": "MOODLE-42"}, "learner": {"platform_user_id": learner.sub},
        "skill_code": "py.vars", "outcome": "pass"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "ambiguous_course"
    narrowed = api.post("/api/v1/demonstrations", json={
        "context": {"context_id": "MOODLE-42", "issuer": course.platform.issuer},
        "learner": {"platform_user_id": learner.sub}, "skill_code": "py.vars",
        "outcome": "pass"})
    assert narrowed.status_code == 201


def test_scopes_are_checked(client, db, course):
    reader = Api(client, token_for(db, course.issuer, "awards:read"))
    assert reader.get("/api/v1/courses").status_code == 403
    assert reader.get("/api/v1/demonstrations").status_code == 403
    only_read = Api(client, token_for(db, course.issuer, READ))
    assert only_read.post(f"/api/v1/courses/{course.context.id}/offerings",
                          json={"credential_code": "PYF"}).status_code == 403
    assert only_read.delete(f"/api/v1/offerings/{course.offering_id}").status_code == 403
    assert db.scalars(select(Offering)).first().detached_at is None
