"""Recording demonstrations from the grid's cells (one learner, many learners), the status
message that names any credential earned, corrections that supersede a record, flagged
awards, and revoking or keeping them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lti_tool.models import Award, Demonstration
from lti_tool.models.base import utcnow
from tests.support.admin import Page
from tests.support.instructor import (
    LEARNER,
    account_id,
    attach,
    counts,
    grid_cells,
    intro_course,
    launch_as,
    record,
)


def _follow(person, response) -> Page:
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    return Page(person.client.get(response.headers["Location"]))


def _awards(db) -> list[Award]:
    db.expire_all()
    return list(db.scalars(select(Award).order_by(Award.id)))


def test_recording_every_skill_awards_the_credential(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    first = _follow(s.terry, record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="pass",
                                    method="observation",
                                    evidence_url="https://moodle.test/mod/assign/1",
                                    evidence_note="Explained every type.\nWell done."))
    assert "Recorded for Lena Learner: Skill PY-VARS — demonstrated." in first.text
    assert "Lena Learner earned" not in first.text
    assert _awards(db) == []
    # The cell page shows the record with everything that was entered.
    cell = s.terry.page("/course/cell", c=f"{s.lena_id}.{s.skill('PY-VARS')}")
    assert "Observation" in cell.text and "Explained every type." in cell.text
    assert 'href="https://moodle.test/mod/assign/1"' in cell.html

    second = _follow(s.terry, record(s.terry, s.lena_id, s.skill("PY-CTRL"), outcome="pass"))
    assert "Lena Learner earned Python Basics." in second.text
    (award,) = _awards(db)
    assert award.route == "integrated" and award.status == "active"
    awards = s.terry.page("/course/awards")
    row = awards.html[awards.html.index("Lena Learner"):]
    assert "Python Basics" in row and "This course" in row and "Active" in row
    # Double submitting the last form records another pass but never a second award.
    record(s.terry, s.lena_id, s.skill("PY-CTRL"), outcome="pass")
    assert len(_awards(db)) == 1


def test_bad_input_is_refused_with_field_errors_and_nothing_changes(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    before = counts(db)
    tomorrow_plus = (utcnow() + timedelta(days=3)).date().isoformat()
    response = record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="maybe",
                      method="telepathy", evidence_url="javascript:alert(1)",
                      demonstrated_at=tomorrow_plus)
    page = Page(response)
    assert response.status_code == 422
    for name in ("outcome", "method", "evidence_url", "demonstrated_at"):
        assert page.field_error(name), name
    assert page.field_error("demonstrated_at").endswith("cannot be in the future")
    assert page.is_invalid("evidence_url")
    assert set(page.summary_links()) >= {"f-outcome", "f-method", "f-evidence_url",
                                         "f-demonstrated_at"}
    # The user's input is kept (escaped) for correction.
    assert 'value="javascript:alert(1)"' in page.html
    assert counts(db) == before
    assert Page(record(s.terry, s.lena_id, s.skill("PY-VARS"),
                       demonstrated_at="14/03/2025")).field_error(
        "demonstrated_at").endswith("enter the date as YYYY-MM-DD")


def test_a_past_date_is_kept_and_today_defaults(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    page = s.terry.page("/course/cell", c=f"{s.lena_id}.{s.skill('PY-VARS')}")
    form = page.form("/course/cell")
    assert form.value("demonstrated_at") == utcnow().date().isoformat()
    record(s.terry, s.lena_id, s.skill("PY-VARS"), demonstrated_at="2024-11-05")
    db.expire_all()
    demo = db.scalars(select(Demonstration)).one()
    assert demo.demonstrated_at.date().isoformat() == "2024-11-05"
    assert demo.assessor_name == "Terry Teacher" and demo.method == "in_course_assignment"


def test_bulk_marks_one_skill_for_selected_learners_in_one_post(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    grid = s.terry.page("/course/grid")
    form = grid.form("/course/bulk")
    # The grid's checkboxes belong to the bulk form (form="bulk").
    assert f'form="bulk" name="learner" value="{s.lena_id}"' in grid.html
    for code in ("PY-VARS", "PY-CTRL"):
        response = s.terry.submit(form, skill=str(s.skill(code)),
                                  learner=[str(s.lena_id), str(s.omar_id)], outcome="pass")
        page = _follow(s.terry, response)
    assert "Recorded Skill PY-CTRL as demonstrated for 2 learners." in page.text
    assert "Lena Learner earned Python Basics." in page.text
    assert "Omar Osei earned Python Basics." in page.text
    assert len(_awards(db)) == 2
    cells = grid_cells(page)
    assert {c.status for c in cells.values()} == {"demonstrated"}


def test_bulk_refuses_everything_when_one_learner_is_not_on_the_roster(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    form = s.terry.page("/course/bulk").form("/course/bulk")
    before = counts(db)
    response = s.terry.submit(form, skill=str(s.skill("PY-VARS")),
                              learner=[str(s.lena_id), "987654"], outcome="pass")
    assert response.status_code == 404
    assert counts(db) == before
    # No learner selected: a field error, nothing recorded.
    page = Page(s.terry.submit(form, skill=str(s.skill("PY-VARS")), learner=[],
                               outcome="pass"))
    assert page.status == 422
    assert page.field_error("learner").endswith("select at least one learner")
    # A bad field fails the whole batch, not just one learner.
    page = Page(s.terry.submit(form, skill=str(s.skill("PY-VARS")),
                               learner=[str(s.lena_id), str(s.omar_id)],
                               evidence_url="ftp://x"))
    assert page.status == 422 and page.field_error("evidence_url")
    assert f'value="{s.lena_id}" checked' in page.html  # the selection is kept
    assert counts(db) == before


def test_correction_supersedes_flags_the_award_and_revoke_shows_revoked(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="pass")
    record(s.terry, s.lena_id, s.skill("PY-CTRL"), outcome="pass")
    (award,) = _awards(db)
    cell = s.terry.page("/course/cell", c=f"{s.lena_id}.{s.skill('PY-CTRL')}")
    (original,) = db.scalars(select(Demonstration).where(
        Demonstration.skill_id == s.skill("PY-CTRL"))).all()
    correct_page = s.terry.page(f"/course/correct/{original.id}")
    assert f'href="/course/correct/{original.id}?lt=' in cell.html
    form = correct_page.form(f"/course/correct/{original.id}")

    # A reason is required; nothing changes without one.
    before = counts(db)
    missing = Page(s.terry.submit(form, outcome="fail", reason="  "))
    assert missing.status == 422
    assert missing.field_error("reason").endswith("say why the earlier record is corrected")
    assert counts(db) == before

    page = _follow(s.terry, s.terry.submit(form, outcome="fail",
                                           reason="Copied from a classmate."))
    assert "now attempted, not demonstrated yet" in page.text
    assert "Flagged for your review: Lena Learner's Python Basics" in page.text
    # History, oldest first: the original (marked corrected), then the correction.
    history = page.html[page.html.index("History, oldest first"):]
    assert history.index("Corrected later") < history.index("Copied from a classmate.")
    assert "Correct this record" in history  # the new (current) record can be corrected
    # A second correction of the superseded record is refused.
    assert s.terry.get(f"/course/correct/{original.id}").status_code == 409
    assert grid_cells(s.terry.page("/course/grid"))[
        (s.lena_id, s.skill("PY-CTRL"))].status == "attempted"

    awards = s.terry.page("/course/awards")
    assert "award-flagged" in awards.html and "Flagged" in awards.text
    assert "Copied from a classmate." in awards.text  # the flag reason
    revoke_page = s.terry.page(f"/course/awards/{award.id}/revoke")
    revoke_form = revoke_page.form(f"/course/awards/{award.id}/revoke")
    no_reason = Page(s.terry.submit(revoke_form, reason=""))
    assert no_reason.status == 422 and no_reason.field_error("reason")
    assert _awards(db)[0].status == "flagged"
    done = _follow(s.terry, s.terry.submit(revoke_form, reason="Academic integrity case 12."))
    assert "Lena Learner's Python Basics was revoked." in done.text
    assert "Revoked" in done.text and "Academic integrity case 12." in done.text
    (award,) = _awards(db)
    assert award.status == "revoked" and award.revoked_reason == "Academic integrity case 12."
    # Revoked awards offer no further action.
    assert not done.has_form(f"/course/awards/{award.id}/keep")
    assert "/revoke?" not in done.html


def test_keep_clears_the_flag(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="pass")
    record(s.terry, s.lena_id, s.skill("PY-CTRL"), outcome="pass")
    demo = db.scalars(select(Demonstration).where(
        Demonstration.skill_id == s.skill("PY-VARS"))).one()
    form = s.terry.page(f"/course/correct/{demo.id}").form(f"/course/correct/{demo.id}")
    s.terry.submit(form, outcome="fail", reason="Wrong learner ticked.")
    awards = s.terry.page("/course/awards")
    (award,) = _awards(db)
    keep = awards.form(f"/course/awards/{award.id}/keep")
    page = _follow(s.terry, s.terry.submit(keep))
    assert "is kept; the flag is cleared." in page.text
    assert _awards(db)[0].status == "active"


def test_a_learner_who_earned_it_elsewhere_shows_as_earned_here(app, db, platform):
    from tests.support.instructor import CODETEACH, INSTRUCTOR

    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    launch_as(app, platform, sub="lena", name="Lena Learner", roles=[LEARNER],
              fixture=CODETEACH, kind="continuing-ed")
    bea = launch_as(app, platform, sub="bea", name="Bea Brown", roles=[INSTRUCTOR],
                    fixture=CODETEACH, kind="continuing-ed")
    attach(bea, s.cred.credential_id)
    record(bea, s.lena_id, s.skill("PY-VARS"))
    page = _follow(bea, record(bea, s.lena_id, s.skill("PY-CTRL")))
    assert "Lena Learner earned Python Basics." in page.text
    awards = s.terry.page("/course/awards")
    row = awards.html[awards.html.index("Lena Learner"):]
    assert "Coding for Teachers (continuing ed)" in row
    assert "Stand-alone (continuing education)" in row
    assert "Managed where earned" in row
    (award,) = _awards(db)
    # Terry cannot revoke an award earned in Bea's course.
    assert s.terry.get(f"/course/awards/{award.id}/revoke").status_code == 403
    assert account_id(db, "lena") == s.lena_id
