"""Imports a person can act on: a template CSV to fill in (this course's columns, learners
and skill codes), a long list of problems summarised (the first 100, the count per field
with an example, the whole list to download as CSV, only by the launch that checked), and
the catalog check listing the changes it would make."""

from __future__ import annotations

import csv
import io
import json
import re

from lti_tool.services import problem_lists
from tests.support.admin import INSTITUTION_ADMIN, INSTRUCTOR, Page, launch, make_issuer
from tests.support.instructor import attach, intro_course


def _import(person, data: bytes, mode: str = "check") -> Page:
    form = person.page("/course/import").form("/course/import")
    payload = {**{k: form.data().getlist(k) for k in form.data()}, "mode": mode,
               "file": (io.BytesIO(data), "marks.csv")}
    return Page(person.client.post(form.action, data=payload,
                                   content_type="multipart/form-data"))


def test_the_template_has_the_columns_and_this_courses_learners_and_skills(app, db,
                                                                          platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    page = s.terry.page("/course/import")
    link = re.search(r'href="(/course/import/template\.csv\?lt=[^"]+)"', page.html).group(1)
    response = s.terry.client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["learner", "skill_code", "outcome", "date", "evidence_url", "method",
                       "note"]
    assert {r[0] for r in rows[1:]} == {"lena@example.edu", "omar@example.edu"}
    assert {r[1] for r in rows[1:]} == {"PY-VARS"}
    # The template imports as it is (its example rows are real, valid rows).
    checked = _import(s.terry, response.data)
    assert checked.status == 200 and "Check passed" in checked.text
    # The skill codes to use are listed on the page.
    assert "PY-CTRL" in page.text and "Skill codes of this course (2)" in page.text


def test_a_long_list_of_problems_is_summarised_and_downloadable(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    lines = ["learner,skill_code,outcome,date"]
    lines += [f"lena,NOPE-{n},pass,2025-01-01" for n in range(150)]
    lines += [f"nobody{n},PY-VARS,pass,2025-01-01" for n in range(30)]
    lines += ["lena,PY-VARS,maybe,2025-01-01"]
    page = _import(s.terry, "\n".join(lines).encode())
    assert page.status == 422
    assert "The file has 181 problems: nothing was imported" in page.text
    table = re.search(r'<table class="data">\s*<caption id="problems-caption">.*?</table>',
                      page.html, re.S).group(0)
    assert table.count("<tr>") == 1 + problem_lists.SHOWN   # header + the first 100
    assert "The first 100 of 181 problems" in page.text
    kinds = page.text[page.text.index("Problems by field"):]
    assert re.search(r"skill_code : 150 problems", kinds)
    assert re.search(r"learner : 30 problems", kinds)
    assert re.search(r"outcome : 1 problem\b", kinds)
    link = re.search(r'href="(/course/import/problems/[^"]+\.csv\?lt=[^"]+)"', page.html)
    download = s.terry.client.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["where", "field", "problem"] and len(rows) == 1 + 181
    # Another launch (another person) cannot read it.
    assert s.omar.client.get(link.group(1).replace("&amp;", "&").split("?")[0],
                             query_string={"lt": s.omar.lt}).status_code in (403, 404)
    lena_staff = s.lena.get(link.group(1).split("?")[0])
    assert lena_staff.status_code == 403


def test_the_catalog_check_lists_what_it_would_change(app, db, platform):
    make_issuer(db, platform)
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    io_page = avery.page("/admin/io")
    doc = json.loads(avery.get("/admin/io/catalog").get_data(as_text=True))
    doc["skills"] = [{"code": "NEW-1", "name": "A new skill", "description": "",
                      "criteria": "", "alignments": [], "tags": []}]
    form = io_page.form("/admin/io")
    payload = {**{k: form.data().getlist(k) for k in form.data()}, "kind": "catalog",
               "mode": "check",
               "file": (io.BytesIO(json.dumps(doc).encode()), "catalog.json")}
    page = Page(avery.client.post(form.action, data=payload,
                                  content_type="multipart/form-data"))
    assert page.status == 200
    assert "What the import would change" in page.text
    assert re.search(r"Skill NEW-1 New A new skill", page.text)
