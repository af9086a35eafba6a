"""Who may use the course pages, and with which ids: learners get 403 on every /course route;
every POST needs the launch's CSRF token; a teaching assistant reads and records but cannot
offer, withdraw, set the course kind or decide on awards; and an instructor of one course
cannot read or change another course's learners, cells, records, offerings, awards or
evidence by guessing ids — always with nothing changed."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from lti_tool.models import Award, Context, Demonstration, EvidenceFile, Offering
from tests.support.admin import Page
from tests.support.instructor import (
    CODETEACH,
    INSTRUCTOR,
    LEARNER,
    TA,
    account_id,
    attach,
    counts,
    csrf_of,
    intro_course,
    launch_as,
    post,
    publish,
    record,
)

PDF = b"%PDF-1.4\n%%EOF\n"


_csrf = csrf_of
_post = post


def _course_rules(app) -> list[tuple[str, set[str]]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/course"):
            path = re.sub(r"<int:[a-z_]+>", "1", rule.rule)
            rules.append((path, set(rule.methods or ()) & {"GET", "POST"}))
    return rules


def test_learners_get_403_on_every_course_route(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"))
    rules = _course_rules(app)
    assert len(rules) >= 14
    csrf = _csrf(app, s.lena)
    before = counts(db)
    for path, methods in rules:
        if "GET" in methods:
            assert s.lena.get(path, c=f"{s.lena_id}.{s.skill('PY-VARS')}").status_code == 403, \
                path
        if "POST" in methods:
            response = _post(s.lena, path, {"learner": s.lena_id, "skill": s.skill("PY-VARS"),
                                             "outcome": "pass", "credential_id":
                                             s.cred.credential_id, "kind": "other",
                                             "reason": "x"}, csrf=csrf)
            assert response.status_code == 403, path
    assert counts(db) == before


def test_every_post_needs_the_csrf_token(app, db, platform):
    s = intro_course(app, db, platform, kind=None)
    attach(s.terry, s.cred.credential_id)
    kind_form = s.terry.page("/course/offerings").form("/course/kind")
    assert s.terry.submit(kind_form, kind="for-credit").status_code == 303
    record(s.terry, s.lena_id, s.skill("PY-VARS"))
    record(s.terry, s.lena_id, s.skill("PY-CTRL"))
    db.expire_all()
    award = db.scalars(select(Award)).one()
    demo = db.scalars(select(Demonstration)).first()
    offering = db.scalars(select(Offering)).one()
    other = publish(db, s.issuer, "GIT", ("VCS",), title="Version Control")
    fields = {"learner": s.lena_id, "skill": s.skill("PY-VARS"), "outcome": "fail",
              "method": "observation", "reason": "because", "kind": "continuing-ed",
              "credential_id": other.credential_id, "mode": "import"}
    before = counts(db)
    for path in ("/course/cell", f"/course/correct/{demo.id}", "/course/bulk",
                 "/course/offerings/attach", f"/course/offerings/{offering.id}/detach",
                 "/course/kind", f"/course/awards/{award.id}/revoke",
                 f"/course/awards/{award.id}/keep", "/course/import"):
        for csrf in (None, "0" * 64, _csrf(app, s.lena)):
            response = _post(s.terry, path, fields, csrf=csrf)
            assert response.status_code == 403, (path, csrf)
            assert "did not come from MicroCred" in response.get_data(as_text=True)
    assert counts(db) == before
    db.expire_all()
    assert db.scalars(select(Context).where(Context.title.contains("Intro"))).one().kind \
        == "for-credit"
    # An upload without the token stores no file either.
    response = s.terry.client.post(
        "/course/cell", data={"lt": s.terry.lt, "learner": s.lena_id,
                              "skill": s.skill("PY-VARS"),
                              "evidence_file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 403 and counts(db) == before


def test_a_teaching_assistant_reads_and_records_but_does_not_manage(app, db, platform):
    s = intro_course(app, db, platform)
    other = publish(db, s.issuer, "GIT", ("VCS",), title="Version Control")
    attach(s.terry, s.cred.credential_id)
    tina = launch_as(app, platform, sub="tina", name="Tina Assistant", roles=[TA],
                     kind="for-credit")
    for path in ("/course", "/course/grid", "/course/offerings", "/course/awards",
                 "/course/import", "/course/bulk"):
        assert tina.get(path).status_code == 200, path
    offerings = tina.page("/course/offerings")
    assert not offerings.has_form("/course/offerings/attach")
    assert not offerings.has_form("/course/kind")
    assert "Stop offering" not in offerings.text
    # Records: yes (and the award follows).
    record(tina, s.lena_id, s.skill("PY-VARS"))
    response = record(tina, s.lena_id, s.skill("PY-CTRL"))
    assert response.status_code == 303
    db.expire_all()
    award = db.scalars(select(Award)).one()
    demo = db.scalars(select(Demonstration)).first()
    correct = tina.page(f"/course/correct/{demo.id}")
    assert correct.status == 200
    assert tina.submit(correct.form(f"/course/correct/{demo.id}"), outcome="fail",
                       reason="Re-marked.").status_code == 303
    db.expire_all()
    assert db.scalars(select(Award)).one().status == "flagged"
    # Offerings, course kind and award decisions: no.
    csrf = _csrf(app, tina)
    offering = db.scalars(select(Offering)).one()
    before = counts(db)
    for path, data in (("/course/offerings/attach", {"credential_id": other.credential_id}),
                       (f"/course/offerings/{offering.id}/detach", {}),
                       ("/course/kind", {"kind": "other"}),
                       (f"/course/awards/{award.id}/revoke", {"reason": "no"}),
                       (f"/course/awards/{award.id}/keep", {})):
        assert _post(tina, path, data, csrf=csrf).status_code == 403, path
    assert tina.get(f"/course/awards/{award.id}/revoke").status_code == 403
    assert tina.get(f"/course/offerings/{offering.id}/detach").status_code == 403
    awards = tina.page("/course/awards")
    assert "Revoke" not in awards.text and not awards.has_form("/keep")
    assert counts(db) == before
    db.expire_all()
    assert db.scalars(select(Award)).one().status == "flagged"


@pytest.fixture()
def two_courses(app, db, platform):
    """Course A (Intro, Terry) and course B (Coding for Teachers, Bea) on one platform.
    Cara is only in B; Lena is in both. B offers Version Control (only there) and Python
    Basics; B has a record with an evidence file for Cara and an award for Cara."""
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    git = publish(db, s.issuer, "GIT", ("VCS",), title="Version Control")
    cara = launch_as(app, platform, sub="cara", name="Cara Cole", roles=[LEARNER],
                     fixture=CODETEACH, kind="continuing-ed")
    launch_as(app, platform, sub="lena", name="Lena Learner", roles=[LEARNER],
              fixture=CODETEACH, kind="continuing-ed")
    bea = launch_as(app, platform, sub="bea", name="Bea Brown", roles=[INSTRUCTOR],
                    fixture=CODETEACH, kind="continuing-ed")
    attach(bea, git.credential_id)
    attach(bea, s.cred.credential_id)
    cara_id = account_id(db, "cara")
    assert record(bea, cara_id, git.skill_ids["VCS"],
                  files={"evidence_file": (io.BytesIO(PDF), "cara.pdf", "application/pdf")}
                  ).status_code == 303
    record(bea, s.lena_id, s.skill("PY-VARS"))
    db.expire_all()
    return {"s": s, "bea": bea, "cara": cara, "cara_id": cara_id, "git": git,
            "b_offering": db.scalars(select(Offering).where(
                Offering.credential_id == git.credential_id)).one(),
            "cara_demo": db.scalars(select(Demonstration).where(
                Demonstration.account_id == cara_id)).one(),
            "lena_demo_in_b": db.scalars(select(Demonstration).where(
                Demonstration.account_id == s.lena_id)).one(),
            "award": db.scalars(select(Award)).one(),
            "file": db.scalars(select(EvidenceFile)).one()}


def test_instructor_of_a_cannot_read_course_b_by_guessing_ids(two_courses):
    t = two_courses
    s, terry = t["s"], t["s"].terry
    vcs = t["git"].skill_ids["VCS"]
    assert t["award"].person_id != 0 and t["award"].credential_id == t["git"].credential_id
    # A learner of B only; a skill of a credential offered only in B.
    assert terry.get("/course/cell", c=f"{t['cara_id']}.{s.skill('PY-VARS')}"
                     ).status_code == 404
    assert terry.get("/course/cell", c=f"{s.lena_id}.{vcs}").status_code == 404
    assert terry.get("/course/cell", learner=t["cara_id"], skill=vcs).status_code == 404
    assert terry.get(f"/course/correct/{t['cara_demo'].id}").status_code == 404
    assert terry.get(f"/course/evidence/{t['file'].id}").status_code == 404
    assert terry.get(f"/course/offerings/{t['b_offering'].id}/detach").status_code == 404
    assert terry.get(f"/course/awards/{t['award'].id}/revoke").status_code == 404
    grid = terry.page("/course/grid", per="all")
    assert "Cara Cole" not in grid.text and "Skill VCS" not in grid.text
    awards = terry.page("/course/awards")
    assert "Cara Cole" not in awards.text
    export = terry.get("/course/export/grid.csv").get_data(as_text=True)
    assert "Cara" not in export and "VCS" not in export
    # Lena is in both courses: her record made in B is visible from A, but not correctable.
    assert terry.get(f"/course/correct/{t['lena_demo_in_b'].id}").status_code == 403


def test_instructor_of_a_cannot_change_course_b_by_guessing_ids(two_courses, app, db):
    t = two_courses
    s, terry = t["s"], t["s"].terry
    csrf = _csrf(app, terry)
    vcs = t["git"].skill_ids["VCS"]
    before = counts(db)
    attempts = [
        ("/course/cell", {"learner": t["cara_id"], "skill": s.skill("PY-VARS"),
                          "outcome": "pass", "method": "observation"}, 404),
        ("/course/cell", {"learner": s.lena_id, "skill": vcs, "outcome": "pass",
                          "method": "observation"}, 404),
        ("/course/bulk", {"learner": [s.lena_id, t["cara_id"]], "skill": s.skill("PY-VARS"),
                          "outcome": "pass", "method": "observation"}, 404),
        ("/course/bulk", {"learner": [s.lena_id], "skill": vcs, "outcome": "pass",
                          "method": "observation"}, 404),
        (f"/course/correct/{t['cara_demo'].id}", {"outcome": "fail", "method": "observation",
                                                  "reason": "guess"}, 404),
        (f"/course/correct/{t['lena_demo_in_b'].id}", {"outcome": "fail",
                                                       "method": "observation",
                                                       "reason": "guess"}, 403),
        (f"/course/offerings/{t['b_offering'].id}/detach", {}, 404),
        (f"/course/awards/{t['award'].id}/revoke", {"reason": "guess"}, 404),
        (f"/course/awards/{t['award'].id}/keep", {}, 404),
    ]
    for path, data, status in attempts:
        assert _post(terry, path, data, csrf=csrf).status_code == status, path
    assert counts(db) == before
    db.expire_all()
    assert db.get(Offering, t["b_offering"].id).detached_at is None
    assert db.get(Award, t["award"].id).status == "active"
    # A credential of another institution's catalog cannot be attached either.
    response = _post(terry, "/course/offerings/attach", {"credential_id": 999999}, csrf=csrf)
    assert response.status_code == 404
    assert counts(db) == before
    # And Bea still sees her course as it was.
    page = t["bea"].page("/course/grid")
    assert "Cara Cole" in page.text and Page is not None
