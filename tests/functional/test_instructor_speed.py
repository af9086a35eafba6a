"""Recording fast without losing care: no outcome preselected (an untouched form records
nothing), save and back to the grid with the changed cell focused (in the same filtered
view), save and next skill / next learner, several skills for one learner on one form, the
per-learner progress column, evidence links completed with https://, and refusals that keep
what was typed: 413 (file too large), 409 (already corrected: the latest record), 422."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from lti_tool.models import Award, Demonstration
from tests.support.admin import Page
from tests.support.instructor import attach, counts, intro_course, publish, record


def _query(response) -> dict[str, str]:
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _follow(person, response) -> Page:
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    return Page(person.client.get(response.headers["Location"]))


def _demos(db) -> list[Demonstration]:
    db.expire_all()
    return list(db.scalars(select(Demonstration).order_by(Demonstration.id)))


def _focused(page: Page) -> list[str]:
    """The elements the page focuses when it loads (their opening tags)."""
    return re.findall(r"<(?:button|a)\b[^>]*data-focus-on-load[^>]*>", page.html)


def test_the_cell_form_preselects_no_outcome_and_an_untouched_form_records_nothing(
        app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    page = s.terry.page("/course/cell", c=f"{s.lena_id}.{s.skill('PY-VARS')}")
    form = page.form("/course/cell")
    assert form.value("outcome") is None, "no radio is checked"
    before = counts(db)
    refused = Page(s.terry.submit(form))
    assert refused.status == 422
    assert refused.field_error("outcome").endswith(
        "choose Demonstrated or Not demonstrated yet")
    assert counts(db) == before
    # The grid's bulk form and the list form preselect nothing either.
    assert s.terry.page("/course/grid").form("/course/bulk").value("outcome") is None
    assert s.terry.page("/course/bulk").form("/course/bulk").value("outcome") is None


def test_save_goes_back_to_the_same_grid_view_with_the_changed_cell_focused(
        app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    vars_ = s.skill("PY-VARS")
    # Opened from a filtered grid ("lena"): the cell form carries the view.
    grid = s.terry.page("/course/grid", q="lena")
    cells_form = grid.form("/course/cell", method="get")
    assert cells_form.value("g_q") == "lena"
    cell = s.terry.page("/course/cell", c=f"{s.lena_id}.{vars_}", g_q="lena")
    form = cell.form("/course/cell")
    assert form.value("g_q") == "lena"
    response = s.terry.submit(form, outcome="pass", then="grid")
    query = _query(response)
    assert query["focus"] == f"{s.lena_id}.{vars_}" and query["q"] == "lena"
    back = Page(s.terry.client.get(response.headers["Location"]))
    assert "Recorded for Lena Learner: Skill PY-VARS — demonstrated." in back.text
    [focused] = _focused(back)
    assert f'value="{s.lena_id}.{vars_}"' in focused
    assert 'aria-describedby="notice"' in focused  # the status message describes it
    assert 'id="notice"' in back.html


def test_save_and_next_skill_then_next_learner(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    vars_, ctrl = s.skill("PY-VARS"), s.skill("PY-CTRL")
    cell = s.terry.page("/course/cell", c=f"{s.lena_id}.{vars_}")
    assert "Save and next skill: Skill PY-CTRL" in cell.text
    assert "Save and next learner: Omar Osei" in cell.text
    form = cell.form("/course/cell")
    next_skill = _query(s.terry.submit(form, outcome="pass", then="next_skill"))
    assert next_skill["c"] == f"{s.lena_id}.{ctrl}"
    last_skill = s.terry.page("/course/cell", c=f"{s.lena_id}.{ctrl}")
    assert "Save and next skill" not in last_skill.text  # PY-CTRL is the last column
    next_learner = _query(s.terry.submit(last_skill.form("/course/cell"), outcome="fail",
                                         then="next_learner"))
    assert next_learner["c"] == f"{s.omar_id}.{ctrl}"
    assert [(d.skill_id, d.outcome) for d in _demos(db)] == [(vars_, "pass"), (ctrl, "fail")]
    omar = s.terry.page("/course/cell", c=f"{s.omar_id}.{ctrl}")
    assert "Save and next learner" not in omar.text  # Omar is the last learner


def test_several_skills_for_one_learner_on_one_form(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    grid = s.terry.page("/course/grid")
    # The progress cell of Lena's row opens her form and says where she stands.
    link = re.search(r'<td class="progress"><a href="([^"]+)" aria-label="([^"]+)">'
                     r'<span class="todo">0/2</span>', grid.html)
    assert link, grid.html[:2000]
    assert link.group(2) == ("Record several skills for Lena Learner (Python Basics: 0 of 2 "
                             "skills)")
    page = Page(s.terry.client.get(link.group(1).replace("&amp;", "&")))
    assert page.status == 200 and "Record skills for Lena Learner" in page.text
    form = page.form("/course/learner")
    fields = [f"outcome_{s.skill(c)}" for c in ("PY-VARS", "PY-CTRL")]
    assert all(form.value(f) is None for f in fields), "nothing is chosen for the user"
    # Nothing chosen: nothing recorded.
    before = counts(db)
    empty = Page(s.terry.submit(form))
    assert empty.status == 422
    assert empty.field_error("outcomes").endswith(
        "choose Demonstrated or Not yet for at least one skill")
    assert counts(db) == before
    # A bad shared field: nothing recorded, the choices kept.
    bad = Page(s.terry.submit(form, **{fields[0]: "pass"}, evidence_url="ftp://files"))
    assert bad.status == 422 and bad.field_error("evidence_url")
    assert bad.form("/course/learner").value(fields[0]) == "pass"
    assert counts(db) == before
    # Both skills in one save: both recorded, the credential earned.
    response = s.terry.submit(form, **{fields[0]: "pass", fields[1]: "pass"},
                              evidence_url="moodle.test/mod/assign/view.php?id=7")
    assert _query(response)["focus"] == str(s.lena_id)
    back = Page(s.terry.client.get(response.headers["Location"]))
    assert "Recorded for Lena Learner: 2 demonstrated." in back.text
    assert "Lena Learner earned Python Basics." in back.text
    demos = _demos(db)
    assert len(demos) == 2 and {d.outcome for d in demos} == {"pass"}
    assert {d.evidence_url for d in demos} == {"https://moodle.test/mod/assign/view.php?id=7"}
    db.expire_all()
    assert db.scalars(select(Award)).one().status == "active"
    # Back on the grid: her row's progress link has the focus and says "Earned".
    [focused] = _focused(back)
    assert "Lena Learner (Python Basics: earned)" in focused
    assert '<td class="progress earned">' in back.html


def test_several_skills_and_next_learner(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    form = s.terry.page("/course/learner", l=str(s.lena_id)).form("/course/learner")
    response = s.terry.submit(form, **{f"outcome_{s.skill('PY-VARS')}": "fail"},
                              then="next_learner")
    assert _query(response)["l"] == str(s.omar_id)
    page = Page(s.terry.client.get(response.headers["Location"]))
    assert "Recorded for Lena Learner: 1 not demonstrated yet." in page.text
    assert "Record skills for Omar Osei" in page.text


def test_progress_counts_the_rule_and_names_each_credential_when_several(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    second = publish(db, s.issuer, "PYX", ("PY-VARS", "PY-FUNC"), title="Python Extra")
    attach(s.terry, second.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"))
    grid = s.terry.page("/course/grid")
    row = grid.html[grid.html.index("Lena Learner"):]
    row = row[:row.index("</tr>")]
    assert '<span class="todo">PYB 1/2</span><span class="todo">PYX 1/2</span>' in row
    assert "Python Basics: 1 of 2 skills; Python Extra: 1 of 2 skills" in row
    # Filtered to one credential: only its progress.
    offering = re.search(r'<option value="(\d+)"[^>]*>Python Extra', grid.html).group(1)
    filtered = s.terry.page("/course/grid", credential=offering)
    row = filtered.html[filtered.html.index("Lena Learner"):]
    assert '<span class="todo">1/2</span>' in row[:row.index("</tr>")]


def test_evidence_link_without_a_scheme_is_completed_and_bad_ones_refused(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"), evidence_url="  drive.college.ca/file/1 ")
    assert _demos(db)[0].evidence_url == "https://drive.college.ca/file/1"
    for bad in ("javascript:alert(1)", "mailto:a@b.ca", "not a link"):
        page = Page(record(s.terry, s.lena_id, s.skill("PY-CTRL"), evidence_url=bad))
        assert page.status == 422 and page.field_error("evidence_url"), bad
    assert len(_demos(db)) == 1


def test_a_file_too_large_is_refused_on_the_form_keeping_what_was_typed(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    before = counts(db)
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10)
    import io

    response = record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="pass",
                      evidence_note="Presented the whole project.",
                      files={"evidence_file": (io.BytesIO(big), "project.pdf")})
    page = Page(response)
    assert response.status_code == 413
    assert page.field_error("evidence_file").startswith("Error: the file is larger than 5 MB")
    form = page.form("/course/cell")
    assert form.value("evidence_note") == "Presented the whole project."
    assert form.value("outcome") == "pass"
    assert counts(db) == before
    # The browser refuses it before upload too: the input says its limit.
    assert 'data-max-bytes="5242880"' in page.html


def test_already_corrected_shows_the_latest_record_with_what_was_typed(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"))
    original = _demos(db)[0]
    form = s.terry.page(f"/course/correct/{original.id}").form(
        f"/course/correct/{original.id}")
    # Someone else corrects it first (the same form, another tab).
    s.terry.submit(form, outcome="fail", reason="First correction.")
    latest = _demos(db)[-1]
    before = counts(db)
    late = Page(s.terry.submit(form, outcome="pass", reason="My own late correction."))
    assert late.status == 409
    assert "Not saved: this record was already corrected" in late.text
    again = late.form(f"/course/correct/{latest.id}")  # now corrects the latest record
    assert again.value("reason") == "My own late correction."
    assert again.value("outcome") == "pass"
    assert counts(db) == before
    done = s.terry.submit(again)
    assert done.status_code == 303
    assert _demos(db)[-1].supersedes_id == latest.id
