"""Offerings (/course/offerings): find published credentials of the institution's catalog
by title or code, see their skills and rule before attaching, attach, detach (confirmed;
records stay) and the course kind."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.domain.catalog import LifecycleState
from lti_tool.models import Award, Context, Demonstration
from tests.support.admin import Page
from tests.support.catalog import CatalogBuilder
from tests.support.instructor import (
    attach,
    counts,
    csrf_of,
    intro_course,
    offering_open,
    post,
    publish,
    record,
)


def _follow(person, response) -> Page:
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    return Page(person.client.get(response.headers["Location"]))


def _intro(db) -> Context:
    db.expire_all()
    return db.scalars(select(Context).where(Context.title.contains("Intro"))).one()


def test_search_the_catalog_and_see_skills_and_rule_before_attaching(app, db, platform):
    s = intro_course(app, db, platform)
    builder = CatalogBuilder(db, s.issuer)
    builder.skills("DRAFT-S")
    builder.credential("DRAFTY", LifecycleState.DRAFT, required=("DRAFT-S",),
                       title="Draft Only")
    publish(db, s.issuer, "SHEETS", ("SS-A",), optional=("SS-B", "SS-C"), optional_min=1,
            title="Spreadsheets", builder=builder)
    page = s.terry.page("/course/offerings")
    assert "Python Basics" in page.text and "Spreadsheets" in page.text
    assert "Draft Only" not in page.text  # only published credentials can be offered
    assert "3 published credentials" not in page.text and "2 published credentials" in page.text
    # Each shows its skills and its rule sentence, in words.
    block = page.html[page.html.index("Spreadsheets"):]
    assert "Skill SS-A" in block and "Skill SS-B" in block and "Optional" in block
    rule = s.terry.page("/course/offerings", q="sheets")
    assert "Skill SS-A" in rule.text and "Python Basics" not in rule.text
    by_code = s.terry.page("/course/offerings", q="pyb")
    assert "Python Basics" in by_code.text and "Spreadsheets" not in by_code.text
    assert "1 published credential matching “pyb”." in by_code.text
    nothing = s.terry.page("/course/offerings", q="%_")
    assert "0 published credentials" in nothing.text

    done = _follow(s.terry, attach(s.terry, s.cred.credential_id))
    assert "Python Basics is now offered in this course." in done.text
    offered = done.html[done.html.index("Offered here"):done.html.index("Add from")]
    assert "Python Basics" in offered and "Skill PY-VARS" in offered
    assert "Skill PY-VARS" in offered and "and" in offered
    # The rule sentence comes from the catalog's learner view of the published version.
    from lti_tool.services.catalog import learner_view

    assert learner_view(s.cred.version)["earning_rule"] in done.text
    assert len(offering_open(db)) == 1
    # Attaching again changes nothing.
    before = counts(db)
    again = post(s.terry, "/course/offerings/attach",
                 {"credential_id": s.cred.credential_id}, csrf=csrf_of(app, s.terry))
    assert again.status_code == 303 and counts(db) == before


def test_detach_asks_first_and_keeps_every_record(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"))
    record(s.terry, s.lena_id, s.skill("PY-CTRL"))
    (offering,) = offering_open(db)
    confirm = s.terry.page(f"/course/offerings/{offering.id}/detach")
    assert "Nothing is deleted" in confirm.text
    before = counts(db)
    done = _follow(s.terry, s.terry.submit(confirm.form(f"/offerings/{offering.id}/detach")))
    assert "Python Basics is no longer offered in this course." in done.text
    assert offering_open(db) == []
    after = counts(db)
    assert after["demonstrations"] == before["demonstrations"] == 2
    assert after["awards"] == before["awards"] == 1
    assert "No credential is offered here yet" in s.terry.page("/course/grid").text
    # Offering it again brings the grid back with the records.
    attach(s.terry, s.cred.credential_id)
    assert len(offering_open(db)) == 1
    assert s.terry.page("/course/grid").text.count("by Terry Teacher") == 2
    db.expire_all()
    assert db.scalars(select(Award)).one().status == "active"
    assert len(db.scalars(select(Demonstration)).all()) == 2


def test_course_kind_can_be_set_only_when_the_platform_did_not(app, db, platform):
    s = intro_course(app, db, platform, kind=None)
    page = s.terry.page("/course/offerings")
    assert "not set yet" in page.text
    assert "count toward no credential" in page.text
    form = page.form("/course/kind")
    assert sorted(form.options["kind"]) == ["continuing-ed", "for-credit", "other"]
    invalid = s.terry.submit(form, kind="bogus")
    assert invalid.status_code == 422
    assert _intro(db).kind == "other"
    done = _follow(s.terry, s.terry.submit(form, kind="continuing-ed"))
    assert "This course is now continuing education." in done.text
    context = _intro(db)
    assert (context.kind, context.kind_source) == ("continuing-ed", "instructor")
    assert "set by an instructor" in done.text


def test_course_kind_set_by_the_platform_is_locked(app, db, platform):
    s = intro_course(app, db, platform)  # the launch says context_kind=for-credit
    page = s.terry.page("/course/offerings")
    assert "This course is for credit (set by the learning platform)" in page.text
    assert not page.has_form("/course/kind")
    token = page.form("/course/offerings/attach").value("csrf_token")
    before = counts(db)
    response = s.terry.client.post("/course/kind", data={"lt": s.terry.lt,
                                                         "csrf_token": token,
                                                         "kind": "other"})
    assert response.status_code == 409
    assert _intro(db).kind == "for-credit" and counts(db) == before


def test_a_credential_the_course_route_cannot_earn_is_flagged(app, db, platform):
    s = intro_course(app, db, platform)
    ce_only = publish(db, s.issuer, "CE", ("CE-1",), title="Workplace Safety",
                      routes=("stand_alone",))
    page = s.terry.page("/course/offerings", q="Workplace")
    assert ("This credential cannot be earned through the integrated (for-credit) route this "
            "course gives: demonstrations recorded here will not count toward it.") in page.text
    done = _follow(s.terry, attach(s.terry, ce_only.credential_id))
    offered = done.html[done.html.index("Offered here"):done.html.index("Add from")]
    assert "will not count toward it" in offered
