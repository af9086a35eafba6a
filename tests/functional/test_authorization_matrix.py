"""Who may do what, route by route: learner / teaching assistant / instructor / institution
administrator / no launch x every course (``/course``) and learner (``/me``) page and action,
through real launches and the pages' own request shapes. A refused POST changes nothing (the
same POST, allowed, does change something: the check could fail). An instructor of course A
who guesses course B's ids (offering, learner, demonstration, award, evidence file) gets 403 or
404 and changes nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.lti import CLAIM_ROLES, ROLE_MEMBERSHIP, ROLE_TA_SUB
from lti_tool.models import (
    AuditEvent,
    Award,
    Context,
    Demonstration,
    EvidenceFile,
    LearnerAccount,
    Offering,
    RosterEntry,
    Skill,
)
from lti_tool.services import evidence as evidence_service
from lti_tool.services import tracking
from lti_tool.web.common.launch_session import csrf_for
from tests.support.admin import INSTITUTION_ADMIN, make_issuer
from tests.support.catalog import CatalogBuilder
from tests.support.lti import full_launch
from tests.support.platform import REMOVE, query_of

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
ROLES = {
    "learner": [ROLE_MEMBERSHIP + "Learner"],
    "ta": [ROLE_TA_SUB],
    "instructor": [ROLE_MEMBERSHIP + "Instructor"],
    "admin": [INSTITUTION_ADMIN],
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class User:
    client: FlaskClient
    lt: str
    csrf: str        # the launch's CSRF token, as its pages' forms carry it


def _launch(app: Any, platform: Any, *, sub: str, roles: list[str], course: str) -> User:
    client = app.test_client()
    response = full_launch(client, platform, sub=sub, name=f"User {sub}", email=f"{sub}@x.edu",
                           **{CLAIM_ROLES: roles,
                              CONTEXT: {"id": course, "label": course,
                                        "title": f"Course {course}", "type": ["CourseSection"]},
                              LINK: {"id": f"link-{course}", "title": "Skills"},
                              CUSTOM: {}, NRPS: REMOVE, AGS: REMOVE})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    lt = query_of(response.headers["Location"])["lt"]
    with app.app_context():
        csrf = csrf_for(app.extensions["lti"].tokens.read(lt))
    return User(client, lt, csrf)


@dataclass
class CourseIds:
    context_id: int
    offering_id: int
    learner_account_id: int
    demo_id: int
    award_id: int
    file_id: int


@dataclass
class World:
    users: dict[str, User]            # roles in course A
    a: CourseIds
    b: CourseIds
    skill_id: int
    other_credential_id: int          # published, not offered in A (to attach)
    foreign_credential_id: int        # another institution's
    code: str                         # the credential offered in A (learner page)


def _course_data(db: Any, builder: CatalogBuilder, version: Any, *, course: str,
                 learner_sub: str, skill_id: int) -> CourseIds:
    context = db.scalars(select(Context).where(Context.lti_context_id == course)).one()
    teacher = tracking.Assessor(ref="account:setup", name="Setup Teacher")
    tracking.set_context_kind(db, context, "for-credit", teacher)
    offering = tracking.attach_offering(db, issuer_id=builder.issuer.id, context=context,
                                        credential_id=version.credential_id, by=teacher)
    account = db.scalars(select(LearnerAccount).where(LearnerAccount.sub == learner_sub)).one()
    stored = evidence_service.store_evidence(db, filename="work.png", data=PNG,
                                             uploaded_by="account:setup")
    skill = db.get(Skill, skill_id)
    first = tracking.record_demonstration(
        db, context=context, account=account, skill=skill, outcome="pass",
        method="observation", assessor=teacher)
    [award] = first.new_awards
    # The supporting pass is corrected to a fail (the award is flagged for review), then the
    # learner shows the skill again, with an evidence file: the current, correctable record.
    tracking.record_demonstration(
        db, context=context, account=account, skill=skill, outcome="fail",
        method="observation", assessor=teacher, supersedes_id=first.demonstration.id,
        reason="Wrong learner's work.")
    latest = tracking.record_demonstration(
        db, context=context, account=account, skill=skill, outcome="pass",
        method="portfolio", assessor=teacher, evidence_file_id=stored.id).demonstration
    assert award.status == "flagged"
    db.commit()
    return CourseIds(context.id, offering.id, account.id, latest.id, award.id, stored.id)


@pytest.fixture()
def world(app, db, platform) -> World:
    issuer = make_issuer(db, platform)
    builder = CatalogBuilder(db, issuer)
    var, _loop = builder.skills("VAR", "LOOP")
    offered = builder.credential("PY-A", LifecycleState.PUBLISHED, required=("VAR",))
    other = builder.credential("PY-B", LifecycleState.PUBLISHED, required=("LOOP",))
    foreign = CatalogBuilder(db)
    foreign.skills("FX")
    foreign_version = foreign.credential("FOREIGN", LifecycleState.PUBLISHED, required=("FX",))
    db.commit()
    users = {role: _launch(app, platform, sub=f"{role}-a", roles=roles, course="COURSE-A")
             for role, roles in ROLES.items()}
    _launch(app, platform, sub="teacher-b", roles=ROLES["instructor"], course="COURSE-B")
    _launch(app, platform, sub="bob-b", roles=ROLES["learner"], course="COURSE-B")
    skill_id = var.id
    a = _course_data(db, builder, offered, course="COURSE-A", learner_sub="learner-a",
                     skill_id=skill_id)
    b = _course_data(db, builder, offered, course="COURSE-B", learner_sub="bob-b",
                     skill_id=skill_id)
    return World(users, a, b, skill_id, other.credential_id, foreign_version.credential_id,
                 "PY-A")


def fingerprint(db: Any) -> dict[str, Any]:
    """Everything a course action could change."""
    db.expire_all()

    def count(model: Any) -> int:
        return db.scalar(select(func.count()).select_from(model)) or 0

    return {
        "demonstrations": count(Demonstration), "evidence": count(EvidenceFile),
        "audit": db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action != "lti.launch")),
        "offerings": sorted(db.execute(select(Offering.id, Offering.detached_at)).all()),
        "awards": sorted(db.execute(select(Award.id, Award.status, Award.revoked_reason)).all()),
        "kinds": sorted(db.execute(select(Context.id, Context.kind)).all()),
        "roster": count(RosterEntry),
    }


# -- the routes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: Callable[[World], str]
    expected: dict[str, int]                     # role -> status ("none": no launch)
    data: Callable[[World], dict[str, Any]] | None = None
    params: Callable[[World], dict[str, Any]] | None = None


STAFF_PAGE = {"learner": 403, "ta": 200, "instructor": 200, "admin": 200, "none": 401}
MANAGER_PAGE = {"learner": 403, "ta": 403, "instructor": 200, "admin": 200, "none": 401}
STAFF_POST = {"learner": 403, "ta": 303, "instructor": 303, "admin": 303, "none": 401}
MANAGER_POST = {"learner": 403, "ta": 403, "instructor": 303, "admin": 303, "none": 401}
LEARNER_PAGE = {"learner": 200, "ta": 403, "instructor": 403, "admin": 403, "none": 401}
LEARNER_POST = {"learner": 303, "ta": 403, "instructor": 403, "admin": 403, "none": 401}
#: the registrar's pages: the LMS institution administrator (or a granted registrar)
REGISTRAR_PAGE = {"learner": 403, "ta": 403, "instructor": 403, "admin": 200, "none": 401}


def _csv(w: World) -> dict[str, Any]:
    text = "learner,skill_code,outcome,date\nlearner-a,VAR,fail,2025-01-15\n"
    return {"mode": "import", "file": (io.BytesIO(text.encode()), "marks.csv")}


def _record_form(w: World) -> dict[str, Any]:
    return {"outcome": "fail", "method": "observation", "demonstrated_at": "",
            "evidence_url": "https://example.edu/work", "evidence_note": "Seen in class.",
            "reason": "Re-assessed: not shown yet."}


ROUTES = [
    Route("course home", "GET", lambda w: "/course", STAFF_PAGE),
    Route("offerings", "GET", lambda w: "/course/offerings", STAFF_PAGE),
    Route("detach page", "GET", lambda w: f"/course/offerings/{w.a.offering_id}/detach",
          MANAGER_PAGE),
    Route("grid", "GET", lambda w: "/course/grid", STAFF_PAGE),
    Route("cell", "GET", lambda w: "/course/cell", STAFF_PAGE,
          params=lambda w: {"c": f"{w.a.learner_account_id}.{w.skill_id}"}),
    Route("correct page", "GET", lambda w: f"/course/correct/{w.a.demo_id}", STAFF_PAGE),
    Route("bulk page", "GET", lambda w: "/course/bulk", STAFF_PAGE),
    Route("awards", "GET", lambda w: "/course/awards", STAFF_PAGE),
    Route("revoke page", "GET", lambda w: f"/course/awards/{w.a.award_id}/revoke",
          MANAGER_PAGE),
    Route("evidence file", "GET", lambda w: f"/course/evidence/{w.a.file_id}", STAFF_PAGE),
    Route("grid csv", "GET", lambda w: "/course/export/grid.csv", STAFF_PAGE),
    Route("awards csv", "GET", lambda w: "/course/export/awards.csv", STAFF_PAGE),
    Route("import page", "GET", lambda w: "/course/import", STAFF_PAGE),
    Route("my skills", "GET", lambda w: "/me", LEARNER_PAGE),
    Route("my credential", "GET", lambda w: f"/me/credentials/{w.code}", LEARNER_PAGE),
    Route("my evidence", "GET", lambda w: f"/me/evidence/{w.a.demo_id}", LEARNER_PAGE),
    Route("my transfers", "GET", lambda w: "/me/transfer", LEARNER_PAGE),
    Route("transfer queue", "GET", lambda w: "/admin/transfers", REGISTRAR_PAGE),
    Route("equivalencies", "GET", lambda w: "/admin/equivalencies", REGISTRAR_PAGE),
    Route("registrar's record", "GET", lambda w: "/admin/records", REGISTRAR_PAGE),
    Route("record csv", "GET", lambda w: "/admin/records/export.csv", REGISTRAR_PAGE),
    # actions
    Route("attach", "POST", lambda w: "/course/offerings/attach", MANAGER_POST,
          data=lambda w: {"credential_id": str(w.other_credential_id)}),
    Route("detach", "POST", lambda w: f"/course/offerings/{w.a.offering_id}/detach",
          MANAGER_POST, data=lambda w: {}),
    Route("set kind", "POST", lambda w: "/course/kind", MANAGER_POST,
          data=lambda w: {"kind": "continuing-ed"}),
    Route("record", "POST", lambda w: "/course/cell", STAFF_POST,
          data=lambda w: {"c": f"{w.a.learner_account_id}.{w.skill_id}",
                          **_record_form(w)}),
    Route("correct", "POST", lambda w: f"/course/correct/{w.a.demo_id}", STAFF_POST,
          data=_record_form),
    Route("bulk", "POST", lambda w: "/course/bulk", STAFF_POST,
          data=lambda w: {"learner": str(w.a.learner_account_id), "skill": str(w.skill_id),
                          "outcome": "fail", "method": "observation",
                          "demonstrated_at": "", "evidence_url": "", "evidence_note": ""}),
    Route("revoke", "POST", lambda w: f"/course/awards/{w.a.award_id}/revoke", MANAGER_POST,
          data=lambda w: {"reason": "Withdrawn after an integrity review."}),
    Route("keep", "POST", lambda w: f"/course/awards/{w.a.award_id}/keep", MANAGER_POST,
          data=lambda w: {}),
    Route("submit a transfer", "POST", lambda w: "/me/transfer", LEARNER_POST,
          data=lambda w: {"credential_text": '{"not": "a credential"}'}),
    Route("import", "POST", lambda w: "/course/import",
          {**STAFF_POST, "ta": 200, "instructor": 200, "admin": 200}, data=_csv),
]
ROLE_NAMES = ["learner", "ta", "instructor", "admin", "none"]


def call(w: World, route: Route, role: str, *, csrf: bool = True,
         client: FlaskClient | None = None) -> TestResponse:
    user = w.users.get(role)
    client = client or (user.client if user else None)
    assert client is not None
    params = dict(route.params(w)) if route.params else {}
    if route.method == "GET":
        if user is not None:
            params["lt"] = user.lt
        return client.get(route.path(w), query_string=params)
    data = dict(route.data(w)) if route.data else {}
    if user is not None:
        data["lt"] = user.lt
        if csrf:
            data["csrf_token"] = user.csrf
    return client.post(route.path(w), data=data, query_string=params,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.name}")
def test_authorization_matrix(app, db, world, route, role):
    if role == "none":
        client = app.test_client()  # a browser with no launch at all (no cookie either)
        before = fingerprint(db)
        response = call(world, route, role, client=client)
    else:
        before = fingerprint(db)
        response = call(world, route, role)
    expected = route.expected[role]
    assert response.status_code == expected, (route.name, role,
                                              response.get_data(as_text=True)[:300])
    after = fingerprint(db)
    if route.method == "POST":
        if expected in (401, 403):
            assert after == before, f"refused {route.name} by {role} changed something"
        else:
            assert after != before, f"allowed {route.name} by {role} changed nothing"
    if expected in (401, 403):
        body = response.get_data(as_text=True)
        assert "Traceback" not in body


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "POST"],
                         ids=lambda r: r.name)
def test_post_without_csrf_is_refused_and_changes_nothing(app, db, world, route):
    before = fingerprint(db)
    response = call(world, route, "instructor", csrf=False)
    assert response.status_code == 403
    assert fingerprint(db) == before


def test_cookie_of_another_launch_does_not_stand_in_for_csrf(app, db, world):
    """The instructor's launch token sent with a TA's CSRF token: refused."""
    before = fingerprint(db)
    teacher = world.users["instructor"]
    response = teacher.client.post("/course/offerings/attach", data={
        "lt": teacher.lt, "csrf_token": world.users["ta"].csrf,
        "credential_id": str(world.other_credential_id)})
    assert response.status_code == 403
    assert fingerprint(db) == before


# -- an instructor of course A guessing course B's ids -----------------------------------------
def _b_record_form(w: World) -> dict[str, Any]:
    return {"c": f"{w.b.learner_account_id}.{w.skill_id}", **_record_form(w)}


CROSS = [
    Route("B's learner cell", "GET", lambda w: "/course/cell", {},
          params=lambda w: {"c": f"{w.b.learner_account_id}.{w.skill_id}"}),
    Route("record for B's learner", "POST", lambda w: "/course/cell", {}, data=_b_record_form),
    Route("bulk with B's learner", "POST", lambda w: "/course/bulk", {},
          data=lambda w: {"learner": [str(w.a.learner_account_id),
                                      str(w.b.learner_account_id)],
                          "skill": str(w.skill_id), "outcome": "pass",
                          "method": "observation", "demonstrated_at": "",
                          "evidence_url": "", "evidence_note": ""}),
    Route("B's demonstration page", "GET", lambda w: f"/course/correct/{w.b.demo_id}", {}),
    Route("correct B's demonstration", "POST", lambda w: f"/course/correct/{w.b.demo_id}", {},
          data=_record_form),
    Route("B's offering detach page", "GET",
          lambda w: f"/course/offerings/{w.b.offering_id}/detach", {}),
    Route("detach B's offering", "POST",
          lambda w: f"/course/offerings/{w.b.offering_id}/detach", {}, data=lambda w: {}),
    Route("B's award revoke page", "GET", lambda w: f"/course/awards/{w.b.award_id}/revoke",
          {}),
    Route("revoke B's award", "POST", lambda w: f"/course/awards/{w.b.award_id}/revoke", {},
          data=lambda w: {"reason": "Guessing ids"}),
    Route("keep B's award", "POST", lambda w: f"/course/awards/{w.b.award_id}/keep", {},
          data=lambda w: {}),
    Route("B's evidence file", "GET", lambda w: f"/course/evidence/{w.b.file_id}", {}),
    Route("attach another institution's credential", "POST",
          lambda w: "/course/offerings/attach", {},
          data=lambda w: {"credential_id": str(w.foreign_credential_id)}),
]


@pytest.mark.parametrize("role", ["instructor", "admin", "ta"])
@pytest.mark.parametrize("route", CROSS, ids=lambda r: r.name)
def test_course_a_staff_cannot_reach_course_b(app, db, world, route, role):
    before = fingerprint(db)
    response = call(world, route, role)
    assert response.status_code in (403, 404), (route.name, response.status_code)
    assert fingerprint(db) == before
    body = response.get_data(as_text=True)
    assert "User bob-b" not in body and "Course COURSE-B" not in body


def test_course_a_exports_and_grid_show_nothing_of_course_b(app, db, world):
    teacher = world.users["instructor"]
    for path in ("/course/grid", "/course/export/grid.csv", "/course/export/awards.csv",
                 "/course/awards"):
        body = teacher.client.get(path, query_string={"lt": teacher.lt}).get_data(
            as_text=True)
        assert "User learner-a" in body, path
        assert "bob-b" not in body, path


def test_learner_cannot_read_another_learners_evidence(app, db, world):
    learner = world.users["learner"]
    for demo_id in (world.b.demo_id, world.b.demo_id + 1000):
        response = learner.client.get(f"/me/evidence/{demo_id}",
                                      query_string={"lt": learner.lt})
        assert response.status_code == 404
    own = learner.client.get(f"/me/evidence/{world.a.demo_id}", query_string={"lt": learner.lt})
    assert own.status_code == 200 and own.data == PNG
    assert own.headers["Content-Disposition"].startswith("attachment")


def test_learner_pages_show_only_their_own_records(app, db, world, platform):
    """Bob (course B) also launches into course A: on A's "My skills" he sees his own
    credential, never Ada's evidence or name."""
    bob_in_a = _launch(app, platform, sub="bob-b", roles=ROLES["learner"], course="COURSE-A")
    body = bob_in_a.client.get("/me", query_string={"lt": bob_in_a.lt}).get_data(as_text=True)
    assert "User learner-a" not in body
    response = bob_in_a.client.get(f"/me/evidence/{world.a.demo_id}",
                                   query_string={"lt": bob_in_a.lt})
    assert response.status_code == 404
