"""CSV exports of the grid and the awards, and the CSV import of demonstrations from the
course pages (check only / import, every problem with its row and field)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from lti_tool.models import Award, Demonstration
from tests.support.admin import Page
from tests.support.instructor import (
    LEARNER,
    attach,
    counts,
    intro_course,
    launch_as,
    record,
)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    text = response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_grid_export_has_one_row_per_learner_and_a_column_per_skill(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    launch_as(app, platform, sub="eve", name="=HYPERLINK(\"http://evil\") Eve",
              roles=[LEARNER], kind="for-credit", email="+1@evil.test")
    record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="pass", demonstrated_at="2025-03-14")
    record(s.terry, s.omar_id, s.skill("PY-CTRL"), outcome="fail", demonstrated_at="2025-03-15")
    response = s.terry.get("/course/export/grid.csv")
    assert 'filename="INTROPROG-skills.csv"' in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["Learner", "Email", "PY-VARS Skill PY-VARS", "PY-CTRL Skill PY-CTRL"]
    body = {row[0]: row[1:] for row in rows[1:]}
    assert body["Lena Learner"] == ["lena@example.edu", "demonstrated 2025-03-14", "not yet"]
    assert body["Omar Osei"] == ["omar@example.edu", "not yet", "attempted 2025-03-15"]
    # Cells a spreadsheet would run as a formula are defused with a leading apostrophe.
    assert body["'=HYPERLINK(\"http://evil\") Eve"][0] == "'+1@evil.test"
    assert len(rows) == 4


def test_awards_export(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    for code in ("PY-VARS", "PY-CTRL"):
        record(s.terry, s.lena_id, s.skill(code), outcome="pass")
    rows = _csv(s.terry.get("/course/export/awards.csv"))
    assert rows[0][:9] == ["Learner", "Email", "Credential", "Code", "Version", "Route",
                           "Earned in", "Awarded", "Status"]
    (row,) = rows[1:]
    assert row[:7] == ["Lena Learner", "lena@example.edu", "Python Basics", "PYB", "1",
                       "In a for-credit course", "Intro to Programming (for credit)"]
    assert row[8] == "active"
    db.expire_all()
    award = db.scalars(select(Award)).one()
    assert row[7] == award.awarded_at.strftime("%Y-%m-%d")


def _import_form(person):
    page = person.page("/course/import")
    assert page.status == 200
    return page.form("/course/import")


def _send(person, form, text: str, mode: str):
    data = {k: form.data().getlist(k) for k in form.data()}
    data["mode"] = mode
    data["file"] = (io.BytesIO(text.encode()), "marks.csv", "text/csv")
    return Page(person.client.post(form.action, data=data, content_type="multipart/form-data"))


def test_import_checks_then_imports(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    form = _import_form(s.terry)
    before = counts(db)
    bad = ("learner,skill_code,outcome,date\n"
           "lena@example.edu,PY-VARS,pass,2025-03-14\n"
           "nobody@example.edu,PY-VARS,pass,2025-03-14\n"
           "omar@example.edu,NOPE,maybe,2099-01-01\n")
    page = _send(s.terry, form, bad, "import")
    assert page.status == 422
    assert "nothing was imported" in page.text
    problems = page.html[page.html.index("Problems"):]
    assert "row 3" in problems and "row 4" in problems
    assert "learner" in problems and "skill_code" in problems and "outcome" in problems
    assert counts(db) == before

    good = ("learner,skill_code,outcome,date,evidence_url\n"
            "lena@example.edu,PY-VARS,pass,2025-03-14,https://moodle.test/a/1\n"
            "lena@example.edu,PY-CTRL,pass,2025-03-15,\n"
            "omar@example.edu,PY-CTRL,fail,2025-03-15,\n")
    check = _send(s.terry, form, good, "check")
    assert check.status == 200
    assert "Check passed: nothing was saved yet" in check.text
    assert "Would record 3 demonstrations (2 pass, 1 fail)" in check.text
    assert "Lena Learner would earn Python Basics" in check.text
    assert counts(db) == before

    done = _send(s.terry, form, good, "import")
    assert done.status == 200 and "Imported" in done.text
    assert "Lena Learner earned Python Basics" in done.text
    db.expire_all()
    assert len(db.scalars(select(Demonstration)).all()) == 3
    assert db.scalars(select(Award)).one().status == "active"
    # Importing the same file again records nothing new.
    again = _send(s.terry, form, good, "import")
    assert "Already recorded 3 (skipped)" in again.text
    db.expire_all()
    assert len(db.scalars(select(Demonstration)).all()) == 3


def test_import_needs_a_file(app, db, platform):
    s = intro_course(app, db, platform)
    form = _import_form(s.terry)
    data = {k: form.data().getlist(k) for k in form.data()}
    data["mode"] = "check"
    page = Page(s.terry.client.post(form.action, data=data,
                                    content_type="multipart/form-data"))
    assert page.status == 422 and page.field_error("file").endswith("choose a CSV file")
