"""The tracking API as an autograder or a student-records system meets it: recording
demonstrations (POST /api/v1/demonstrations), importing them from CSV, and reading awards
(GET /api/v1/awards, /api/v1/awards/<id>): token scopes, validation with field messages,
another institution's courses and awards hidden (404), idempotency keys, and the award
engine behind all of it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lti_tool.models import AuditEvent, Demonstration, IdempotencyRecord
from lti_tool.services import api_tokens, tracking
from tests.support.api import Api
from tests.support.demonstrations import (
    INSTRUCTOR,
    add_learners,
    awards_of,
    csv_text,
    demonstration_count,
    make_course,
)
from tests.support.lti import full_launch
from tests.support.platform import TestPlatform

WRITE, READ = "demonstrations:write", "awards:read"
SKILLS = ("py.vars", "py.loops", "py.funcs")


def token_for(db, issuer, *scopes):
    _row, plaintext = api_tokens.create_token(db, issuer.id, "autograder",
                                              scopes or (WRITE, READ), created_by="test")
    db.commit()
    return plaintext


@pytest.fixture()
def course(db, platform):
    course = make_course(db, platform)
    add_learners(db, course, 3)
    return course


@pytest.fixture()
def api(client, db, course):
    return Api(client, token_for(db, course.issuer))


def body(course, learner=None, skill="py.vars", **fields):
    learner = learner or course.learners[0]
    data = {"offering_id": course.offering_id, "learner": {"platform_user_id": learner.sub},
            "skill_code": skill, "outcome": "pass"}
    data.update(fields)
    return data


def fields_of(response):
    payload = response.get_json()
    assert payload is not None, response.data
    return payload["error"].get("fields", {})


# -- authentication and scopes ---------------------------------------------------------------
ENDPOINTS = [("post", "/api/v1/demonstrations"), ("post", "/api/v1/demonstrations/import"),
             ("get", "/api/v1/awards"), ("get", "/api/v1/awards/1")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_is_401(client, db, course, method, path):
    response = getattr(client, method)(path, json=body(course))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert demonstration_count(db) == 0


def test_a_revoked_or_unknown_token_is_401(client, db, course):
    token = token_for(db, course.issuer)
    api_tokens.revoke_token(db, course.issuer.id, token.split("_")[1], by="test")
    db.commit()
    for value in (token, "mc_deadbeef_" + "x" * 40):
        response = Api(client, value).post("/api/v1/demonstrations", json=body(course))
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_token"
    assert demonstration_count(db) == 0


@pytest.mark.parametrize(("scopes", "method", "path", "missing"), [
    ((READ,), "post", "/api/v1/demonstrations", WRITE),
    (("catalog:write", "catalog:read"), "post", "/api/v1/demonstrations", WRITE),
    ((READ,), "post", "/api/v1/demonstrations/import?offering_id=1", WRITE),
    ((WRITE,), "get", "/api/v1/awards", READ),
    ((WRITE,), "get", "/api/v1/awards/1", READ),
    (("catalog:read",), "get", "/api/v1/awards", READ),
])
def test_a_token_without_the_scope_is_403(client, db, course, scopes, method, path, missing):
    api = Api(client, token_for(db, course.issuer, *scopes))
    kwargs = {"json": body(course)} if path.endswith("demonstrations") else {}
    if path.startswith("/api/v1/demonstrations/import"):
        kwargs = {"data": csv_text([[course.learners[0].sub, "py.vars", "pass", "2025-01-01",
                                     ""]]), "content_type": "text/csv"}
    response = getattr(api, method)(path, **kwargs)
    assert response.status_code == 403
    assert f'scope="{missing}"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"]["code"] == "missing_scope"
    assert demonstration_count(db) == 0


# -- recording a demonstration --------------------------------------------------------------
def test_an_autograder_records_a_demonstration(api, db, course):
    learner = course.learners[0]
    response = api.post("/api/v1/demonstrations", json=body(
        course, skill="py.loops", outcome="fail", method="challenge_assessment",
        evidence_url="https://grader.example.edu/runs/42", note="3 of 5 tests passed",
        demonstrated_at="2025-03-14T10:30:00-05:00"))
    assert response.status_code == 201, response.get_json()
    out = response.get_json()
    demo = out["demonstration"]
    assert out["awards"] == []
    assert demo["person_id"] == learner.person_id
    assert demo["account_id"] == learner.account_id
    assert demo["learner_name"] == learner.name
    assert (demo["skill_code"], demo["outcome"], demo["method"]) == (
        "py.loops", "fail", "challenge_assessment")
    assert demo["evidence_url"] == "https://grader.example.edu/runs/42"
    assert demo["note"] == "3 of 5 tests passed"
    assert demo["demonstrated_at"].startswith("2025-03-14T15:30:00")
    assert demo["route"] == "integrated"
    assert demo["context_title"] == course.context.title
    assert demo["assessor_name"] == "API token autograder"
    row = db.get(Demonstration, demo["id"])
    assert row.context_id == course.context.id and row.assessor_ref.startswith("token:")
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "demonstration.recorded",
        AuditEvent.subject_id == str(demo["id"]))).one()
    assert event.detail["by"].startswith("token:")


@pytest.mark.parametrize("key", ["platform_user_id", "email", "institutional_id"])
def test_the_learner_may_be_named_three_ways(api, db, course, key):
    learner = course.learners[1]
    value = {"platform_user_id": learner.sub, "email": learner.email.upper(),
             "institutional_id": learner.sourcedid}[key]
    response = api.post("/api/v1/demonstrations",
                        json={**body(course), "learner": {key: value}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["demonstration"]["person_id"] == learner.person_id


def test_the_course_may_be_named_by_the_platforms_ids(api, db, course):
    data = body(course)
    del data["offering_id"]
    data["context"] = course.lti_ref
    response = api.post("/api/v1/demonstrations", json=data)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["demonstration"]["context_id"] == course.context.id


def test_the_last_skill_creates_the_award_through_the_same_engine(api, db, course):
    learner = course.learners[0]
    for skill in SKILLS[:2]:
        response = api.post("/api/v1/demonstrations", json=body(course, skill=skill))
        assert response.status_code == 201 and response.get_json()["awards"] == []
    response = api.post("/api/v1/demonstrations", json=body(course, skill=SKILLS[2]))
    assert response.status_code == 201
    [award] = response.get_json()["awards"]
    [row] = awards_of(db, learner.person_id)
    assert award["id"] == row.id and award["public_id"] == row.public_id
    assert (award["credential_code"], award["version"], award["route"], award["status"]) == (
        "PYF", 1, "integrated", "active")
    assert award["context_title"] == course.context.title
    assert award["learner_name"] == learner.name
    assert [d["skill_code"] for d in award["demonstrations"]] == list(SKILLS)
    # A later pass of the same skill completes nothing new.
    again = api.post("/api/v1/demonstrations", json=body(course, skill=SKILLS[2]))
    assert again.status_code == 201 and again.get_json()["awards"] == []
    assert len(awards_of(db, learner.person_id)) == 1


def test_a_learner_who_launched_the_tool_can_be_graded_by_platform_user_id(
        client, db, platform):
    """The whole path: a real LTI launch puts the learner on the roster; the autograder then
    names them as the platform does (sub "4", the Moodle fixture's student)."""
    custom = {"context_kind": "for-credit"}
    response = full_launch(client, platform, "learner_claims_INTROPROG.json",
                           **{"https://purl.imsglobal.org/spec/lti/claim/custom": custom})
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:300]
    course = make_course(db, platform)  # the issuer, its catalog, a mapping
    from lti_tool.models import Context

    launched = db.scalars(select(Context).where(Context.lti_context_id == "2")).one()
    assert launched.kind == "for-credit"
    tracking.attach_offering(db, issuer_id=course.issuer.id, context=launched,
                             credential_id=course.versions["PYF"].credential_id,
                             by=INSTRUCTOR)
    db.commit()
    api = Api(client, token_for(db, course.issuer))
    ref = {"issuer": platform.issuer, "client_id": platform.client_id,
           "deployment_id": platform.deployment_id, "context_id": "2"}
    for learner, skill in (({"platform_user_id": "4"}, "py.vars"),
                           ({"email": "student1@example.com"}, "py.loops"),
                           ({"platform_user_id": "4"}, "py.funcs")):
        response = api.post("/api/v1/demonstrations", json={
            "context": ref, "learner": learner, "skill_code": skill, "outcome": "pass"})
        assert response.status_code == 201, response.get_json()
    assert response.get_json()["demonstration"]["learner_name"] == "Sam Student"
    assert response.get_json()["demonstration"]["context_id"] == launched.id
    assert len(response.get_json()["awards"]) == 1


# -- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "field"), [
    ({"learner": None}, "learner"),
    ({"learner": {}}, "learner"),
    ({"learner": {"platform_user_id": "a", "email": "b@example.edu"}}, "learner"),
    ({"learner": {"student_number": "1"}}, "learner.student_number"),
    ({"skill_code": None}, "skill_code"),
    ({"skill_code": ""}, "skill_code"),
    ({"outcome": "passed"}, "outcome"),
    ({"outcome": None}, "outcome"),
    ({"method": "vibes"}, "method"),
    ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
    ({"evidence_url": "ftp://files.example.edu/x"}, "evidence_url"),
    ({"note": "x" * 4001}, "note"),
    ({"note": "bell\x07"}, "note"),
    ({"demonstrated_at": "2025-03-14T10:30:00"}, "demonstrated_at"),
    ({"demonstrated_at": "yesterday"}, "demonstrated_at"),
    ({"demonstrated_at": "2999-01-01T00:00:00Z"}, "demonstrated_at"),
    ({"offering_id": "1"}, "offering_id"),
    ({"offering_id": 0}, "offering_id"),
    ({"offering_id": None}, "_schema"),
    ({"context": {"issuer": "https://moodle.test"}}, "context.context_id"),
    ({"grade": 97}, "grade"),
    ({"skill_code": "nope"}, "skill_code"),
    ({"learner": {"platform_user_id": "ghost"}}, "learner.platform_user_id"),
])
def test_invalid_input_is_422_with_a_message_for_the_field(api, db, course, change, field):
    data = body(course)
    for key, value in change.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    response = api.post("/api/v1/demonstrations", json=data)
    assert response.status_code == 422, response.get_json()
    assert field in fields_of(response), fields_of(response)
    assert demonstration_count(db) == 0


def test_both_offering_and_context_is_422(api, db, course):
    data = body(course, context=course.lti_ref)
    response = api.post("/api/v1/demonstrations", json=data)
    assert response.status_code == 422
    assert fields_of(response)["_schema"] == ["give exactly one of offering_id and context"]


def test_a_learner_of_another_course_is_422(api, db, course, platform):
    other = make_course(db, platform, issuer=course.issuer, credentials=[])
    [outsider] = add_learners(db, other, 1, prefix="o")
    response = api.post("/api/v1/demonstrations", json=body(course, outsider))
    assert response.status_code == 422
    assert "roster" in fields_of(response)["learner.platform_user_id"][0]
    assert demonstration_count(db) == 0


@pytest.mark.parametrize(("content_type", "data"), [
    ("text/plain", "learner=x"), ("application/x-www-form-urlencoded", "learner=x")])
def test_a_body_that_is_not_json_is_415(api, course, content_type, data):
    response = api.post("/api/v1/demonstrations", data=data,
                        headers={"Content-Type": content_type})
    assert response.status_code == 415


# -- another institution ---------------------------------------------------------------------
@pytest.fixture()
def rival(db, transport):
    """Another institution, on its own platform, with its own course, learner and award."""
    from tests.conftest import register_platform

    other_platform = TestPlatform(issuer="https://canvas.rival.test", client_id="rival-1",
                                  key_name="platform-b")
    register_platform(db, other_platform, transport, name="Rival Canvas")
    from tests.support.catalog import make_issuer

    course = make_course(db, other_platform, issuer=make_issuer(db, "rival"))
    [learner] = add_learners(db, course, 1, prefix="r")
    from lti_tool.services.demonstration_import import import_demonstrations_csv

    import_demonstrations_csv(db, context=course.context, assessor=INSTRUCTOR, text=csv_text(
        [[learner.sub, s, "pass", "2025-01-01", ""] for s in SKILLS]))
    db.commit()
    course.award = awards_of(db, learner.person_id)[0]
    return course


def test_another_institutions_offering_or_course_is_404(api, db, course, rival):
    before = demonstration_count(db)
    learner = {"platform_user_id": rival.learners[0].sub}
    for where in ({"offering_id": rival.offering_id}, {"context": rival.lti_ref},
                  {"offering_id": 2**31 - 1}):
        data = {**where, "learner": learner, "skill_code": "py.vars", "outcome": "pass"}
        response = api.post("/api/v1/demonstrations", json=data)
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"]["code"] == "not_found"
    response = api.post(f"/api/v1/demonstrations/import?offering_id={rival.offering_id}",
                        data=csv_text([[rival.learners[0].sub, "py.vars", "pass",
                                        "2025-02-01", ""]]), content_type="text/csv")
    assert response.status_code == 404
    assert demonstration_count(db) == before


def test_a_course_of_an_unmapped_platform_is_404_even_with_the_right_ids(api, db, course,
                                                                        rival):
    """The rival's course, addressed by its real platform ids, stays hidden even though the
    skill codes and learner exist: our token's institution does not serve that platform."""
    response = api.post("/api/v1/demonstrations", json={
        "context": rival.lti_ref, "learner": {"email": rival.learners[0].email},
        "skill_code": "py.vars", "outcome": "pass"})
    assert response.status_code == 404
    assert awards_of(db, rival.learners[0].person_id)[0].id == rival.award.id


def test_another_institutions_award_is_404(api, db, course, rival):
    for ref in (rival.award.id, rival.award.public_id):
        response = api.get(f"/api/v1/awards/{ref}")
        assert response.status_code == 404
    listed = api.get("/api/v1/awards").get_json()
    assert listed["total"] == 0 and listed["items"] == []
    own = api.get(f"/api/v1/awards?person_id={rival.learners[0].person_id}").get_json()
    assert own["items"] == []


# -- reading awards --------------------------------------------------------------------------
@pytest.fixture()
def awarded(api, db, course):
    """Every learner of the course earns the credential; the second one's is revoked."""
    for learner in course.learners:
        for skill in SKILLS:
            response = api.post("/api/v1/demonstrations",
                                json=body(course, learner, skill=skill))
            assert response.status_code == 201
    awards = [awards_of(db, learner.person_id)[0] for learner in course.learners]
    tracking.revoke_award(db, awards[1], reason="Evidence was plagiarised", by=INSTRUCTOR)
    db.commit()
    return awards


def test_an_award_is_read_by_id_or_public_id(api, db, course, awarded):
    award = awarded[1]
    by_id = api.get(f"/api/v1/awards/{award.id}")
    by_public = api.get(f"/api/v1/awards/{award.public_id}")
    assert by_id.status_code == by_public.status_code == 200
    assert by_id.get_json() == by_public.get_json()
    out = by_id.get_json()
    assert out["status"] == "revoked" and out["revoked_reason"] == "Evidence was plagiarised"
    assert out["revoked_at"] is not None
    assert out["credential_code"] == "PYF" and out["credential_title"] == "Credential PYF"
    assert out["person_id"] == course.learners[1].person_id
    assert out["learner_name"] == course.learners[1].name
    assert out["context_id"] == course.context.id and out["route"] == "integrated"
    assert sorted(d["skill_code"] for d in out["demonstrations"]) == sorted(SKILLS)
    assert all(d["outcome"] == "pass" for d in out["demonstrations"])
    etag = by_id.headers["ETag"]
    assert api.get(f"/api/v1/awards/{award.id}",
                   headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("ref", ["999999", "2147483648", "no-such-award", "0", "-1"])
def test_an_unknown_award_is_404(api, course, ref):
    assert api.get(f"/api/v1/awards/{ref}").status_code == 404


def test_awards_are_listed_and_filtered(api, db, course, awarded):
    listed = api.get("/api/v1/awards").get_json()
    assert listed["total"] == 3 and [a["id"] for a in listed["items"]] == [
        a.id for a in awarded]
    assert api.get("/api/v1/awards?status=revoked").get_json()["items"][0]["id"] == \
        awarded[1].id
    active = api.get("/api/v1/awards?status=active").get_json()
    assert {a["id"] for a in active["items"]} == {awarded[0].id, awarded[2].id}
    person = course.learners[2].person_id
    assert [a["id"] for a in api.get(f"/api/v1/awards?person_id={person}")
            .get_json()["items"]] == [awarded[2].id]
    assert api.get("/api/v1/awards?credential=PYF").get_json()["total"] == 3
    assert api.get("/api/v1/awards?credential=OTHER").get_json()["total"] == 0
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert api.get("/api/v1/awards", query_string={"since": later}).get_json()["total"] == 0
    assert api.get("/api/v1/awards", query_string={"since": earlier}).get_json()["total"] == 3


@pytest.mark.parametrize("query", ["status=gone", "person_id=abc", "since=yesterday",
                                   "since=2025-01-01T00:00:00", "per_page=1000", "page=0"])
def test_bad_award_filters_are_422(api, course, query):
    response = api.get(f"/api/v1/awards?{query}")
    assert response.status_code == 422
    assert fields_of(response)


def test_awards_are_paginated_with_links_and_etags(api, db, course, awarded):
    first = api.get("/api/v1/awards?per_page=2")
    body_ = first.get_json()
    assert (body_["total"], body_["page"], body_["per_page"], len(body_["items"])) == (
        3, 1, 2, 2)
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    second = api.get("/api/v1/awards?per_page=2&page=2").get_json()
    assert [a["id"] for a in second["items"]] == [awarded[2].id]
    etag = first.headers["ETag"]
    assert api.get("/api/v1/awards?per_page=2",
                   headers={"If-None-Match": etag}).status_code == 304
    # A new award changes the list: the old ETag no longer matches.
    [late] = add_learners(db, course, 1, prefix="late")
    for skill in SKILLS:
        api.post("/api/v1/demonstrations", json=body(course, late, skill=skill))
    assert api.get("/api/v1/awards?per_page=2",
                   headers={"If-None-Match": etag}).status_code == 200


# -- idempotency -----------------------------------------------------------------------------
def test_a_retry_with_the_same_idempotency_key_records_once(api, db, course):
    key = str(uuid.uuid4())
    data = body(course, skill="py.loops")
    first = api.post("/api/v1/demonstrations", json=data, headers={"Idempotency-Key": key})
    retry = api.post("/api/v1/demonstrations", json=data, headers={"Idempotency-Key": key})
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert demonstration_count(db) == 1
    # Another key is another demonstration.
    other = api.post("/api/v1/demonstrations", json=data,
                     headers={"Idempotency-Key": str(uuid.uuid4())})
    assert other.status_code == 201
    assert demonstration_count(db) == 2


def test_an_award_is_not_replayed_as_a_second_award(api, db, course):
    for skill in SKILLS[:2]:
        api.post("/api/v1/demonstrations", json=body(course, skill=skill))
    key = "grader-run-77"
    data = body(course, skill=SKILLS[2])
    first = api.post("/api/v1/demonstrations", json=data, headers={"Idempotency-Key": key})
    retry = api.post("/api/v1/demonstrations", json=data, headers={"Idempotency-Key": key})
    assert len(first.get_json()["awards"]) == 1
    assert retry.get_json()["awards"] == first.get_json()["awards"]
    assert len(awards_of(db, course.learners[0].person_id)) == 1
    assert demonstration_count(db) == 3


def test_the_same_key_with_another_body_is_422(api, db, course):
    key = str(uuid.uuid4())
    assert api.post("/api/v1/demonstrations", json=body(course),
                    headers={"Idempotency-Key": key}).status_code == 201
    response = api.post("/api/v1/demonstrations", json=body(course, outcome="fail"),
                        headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in fields_of(response)
    assert demonstration_count(db) == 1


def test_a_refused_request_does_not_use_up_its_key(api, db, course):
    key = str(uuid.uuid4())
    bad = api.post("/api/v1/demonstrations", json=body(course, skill="nope"),
                   headers={"Idempotency-Key": key})
    assert bad.status_code == 422
    good = api.post("/api/v1/demonstrations", json=body(course),
                    headers={"Idempotency-Key": key})
    assert good.status_code == 201
    assert demonstration_count(db) == 1


def test_keys_are_per_token(client, db, api, course):
    key = "shared-key"
    other = Api(client, token_for(db, course.issuer))
    assert api.post("/api/v1/demonstrations", json=body(course),
                    headers={"Idempotency-Key": key}).status_code == 201
    response = other.post("/api/v1/demonstrations", json=body(course, outcome="fail"),
                          headers={"Idempotency-Key": key})
    assert response.status_code == 201
    assert demonstration_count(db) == 2


def test_the_answer_is_stored_with_the_demonstration_in_the_database(api, db, course):
    """Not in Redis: in the same transaction as the write, scoped by issuer, token and
    endpoint, so a crash after the commit still finds it (tests/fault kills a worker)."""
    token_row = api_tokens.authenticate(db, api.token)
    db.rollback()
    response = api.post("/api/v1/demonstrations", json=body(course),
                        headers={"Idempotency-Key": "stored-1"})
    assert response.status_code == 201
    [record] = db.scalars(select(IdempotencyRecord)).all()
    assert (record.issuer_id, record.token_id, record.endpoint) == (
        course.issuer.id, token_row.id, "api_tracking.record_demonstration")
    assert record.status == 201
    assert json.loads(record.body) == response.get_json()
    assert record.key_hash != "stored-1"  # the key itself is not kept


def test_a_key_is_kept_for_a_day(api, db, course):
    key = "day-old"
    assert api.post("/api/v1/demonstrations", json=body(course),
                    headers={"Idempotency-Key": key}).status_code == 201
    record = db.scalars(select(IdempotencyRecord)).one()
    expired = record.created_at - timedelta(hours=25)
    record.created_at = expired
    db.commit()
    again = api.post("/api/v1/demonstrations", json=body(course),
                     headers={"Idempotency-Key": key})
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert demonstration_count(db) == 2
    db.expire_all()
    assert db.scalars(select(IdempotencyRecord)).one().created_at > expired


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "key with spaces", "ключ"])
def test_a_malformed_idempotency_key_is_422(api, db, course, key):
    response = api.post("/api/v1/demonstrations", json=body(course),
                        headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in fields_of(response)
    assert demonstration_count(db) == 0


# -- CSV import through the API ---------------------------------------------------------------
def test_a_csv_import_through_the_api(api, db, course):
    rows = [[learner.sub, skill, "pass", "2025-03-01", ""] for learner in course.learners
            for skill in SKILLS]
    text = csv_text(rows)
    url = f"/api/v1/demonstrations/import?offering_id={course.offering_id}"
    dry = api.post(url + "&dry_run=1", data=text, content_type="text/csv")
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["applied"] is False
    assert dry.get_json()["counts"]["awards_created"] == 3
    assert demonstration_count(db) == 0
    done = api.post(url, data=text, content_type="text/csv; charset=utf-8")
    assert done.status_code == 200
    report = done.get_json()
    assert report["applied"] is True and report["counts"]["recorded"] == 9
    assert sorted(a["person_id"] for a in report["awards"]) == sorted(
        learner.person_id for learner in course.learners)
    assert demonstration_count(db) == 9
    assert api.get("/api/v1/awards").get_json()["total"] == 3


def test_a_csv_import_by_platform_ids(api, db, course):
    text = csv_text([[course.learners[0].email, "py.vars", "fail", "2025-03-01", ""]])
    response = api.post("/api/v1/demonstrations/import", data=text, content_type="text/csv",
                        query_string=course.lti_ref)
    assert response.status_code == 200, response.get_json()
    assert demonstration_count(db) == 1


def test_a_csv_import_with_problems_is_422_and_applies_nothing(api, db, course):
    text = csv_text([[course.learners[0].sub, "py.vars", "pass", "2025-03-01", ""],
                     ["ghost", "py.vars", "pass", "2025-03-01", ""],
                     [course.learners[1].sub, "py.vars", "maybe", "2025-03-01", ""]])
    response = api.post(f"/api/v1/demonstrations/import?offering_id={course.offering_id}",
                        data=text, content_type="text/csv")
    assert response.status_code == 422
    out = response.get_json()
    assert out["error"]["code"] == "import_invalid"
    assert set(out["error"]["fields"]) == {"row 3", "row 4"}
    assert [p["where"] for p in out["report"]["problems"]] == ["row 3", "row 4"]
    assert demonstration_count(db) == 0


@pytest.mark.parametrize("query", ["", "?offering_id=1&context_id=2",
                                   "?offering_id=x", "?issuer=a&client_id=b&deployment_id=c"])
def test_a_csv_import_must_name_exactly_one_course(api, course, query):
    response = api.post(f"/api/v1/demonstrations/import{query}", data="learner\r\n",
                        content_type="text/csv")
    assert response.status_code == 422


def test_a_csv_import_needs_csv(api, course):
    response = api.post(f"/api/v1/demonstrations/import?offering_id={course.offering_id}",
                        json={"rows": []})
    assert response.status_code == 415


def test_a_csv_import_may_be_larger_than_the_default_body_limit(app, api, db, course):
    """The API's default body limit is 1 MiB; an import may be up to 2 MB, and a larger one
    is a reported problem (nothing applied), not a bare 413."""
    learner = course.learners[0]
    note = "n" * 3000
    rows = [[learner.sub, "py.vars", "fail", f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}Z", "",
             "observation", note] for i in range(600)]
    header = ("learner", "skill_code", "outcome", "date", "evidence_url", "method", "note")
    text = csv_text(rows, header=header)
    assert app.config["MAX_CONTENT_LENGTH"] < len(text.encode()) < 2_000_000
    url = f"/api/v1/demonstrations/import?offering_id={course.offering_id}"
    response = api.post(url, data=text, content_type="text/csv")
    assert response.status_code == 200, response.get_json()
    assert demonstration_count(db) == 600
    too_big = csv_text(rows + rows[:60], header=header).replace(",fail,", ",pass,")
    assert 2_000_000 < len(too_big.encode()) < 2_000_000 + 64 * 1024
    response = api.post(url, data=too_big, content_type="text/csv")
    assert response.status_code == 422
    assert "larger than 2 MB" in response.get_json()["report"]["problems"][0]["message"]
    huge = too_big + "x" * 100_000
    assert api.post(url, data=huge, content_type="text/csv").status_code == 413
    assert demonstration_count(db) == 600


def test_the_openapi_document_lists_the_tracking_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert paths["/api/v1/demonstrations"]["post"]["x-required-scope"] == WRITE
    assert paths["/api/v1/demonstrations/import"]["post"]["x-required-scope"] == WRITE
    assert paths["/api/v1/awards"]["get"]["x-required-scope"] == READ
    assert paths["/api/v1/awards/{award_id}"]["get"]["x-required-scope"] == READ
    names = [p["name"] for p in paths["/api/v1/demonstrations"]["post"]["parameters"]]
    assert names == ["Idempotency-Key"]
    assert "10,000 rows" in paths["/api/v1/demonstrations/import"]["post"]["description"]
    learner = document["components"]["schemas"]["LearnerRef"]
    assert set(learner["properties"]) == {"platform_user_id", "email", "institutional_id"}
