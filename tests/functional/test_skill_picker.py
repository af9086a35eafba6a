"""The credential form at catalog size: with 4,000 skills the form shows the chosen skills
and one page of a search (20, natural order of codes: SK-2 before SK-10), never the whole
library; searching, paging and adding keep what was typed and save nothing; pressing Enter
in a field still saves; routes that cannot award yet are not offered (PLAR and transfer are,
since they award)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, insert, select

from lti_tool.models import CredentialVersion, Issuer, Skill
from lti_tool.services import catalog as catalog_service
from tests.support.admin import (
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    Page,
    credential_fields,
    launch,
    make_issuer,
)

SKILLS = 4000


@pytest.fixture()
def library(app, platform, db):
    issuer = make_issuer(db, platform)
    # One multi-row INSERT: 4,000 skills as an institution's imported catalog holds them.
    db.execute(insert(Skill), [
        {"issuer_id": issuer.id, "code": f"SK-{n}", "name": f"Skill number {n}",
         "description": "Welding" if n % 1000 == 7 else f"Description {n}", "criteria": "",
         "alignments": [], "tags": []} for n in range(1, SKILLS + 1)])
    db.commit()
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    return issuer, avery


def _results(page: Page) -> list[str]:
    return page.form("/admin/credentials/new").options.get("add_required", [])


def test_the_form_shows_one_page_of_skills_in_natural_order(library, db):
    _issuer, avery = library
    assert db.scalar(select(func.count()).select_from(Skill)) == SKILLS
    page = avery.page("/admin/credentials/new")
    assert page.status == 200
    assert _results(page) == [f"SK-{n}" for n in range(1, 21)]   # 1, 2, … 20, not 1, 10, 100
    assert "4000 skills in the library. Page 1 of 200, by code." in page.text
    assert len(page.html) < 120_000, "the whole library is never sent"
    assert page.html.count('type="checkbox"') < 60


def test_search_and_pages_keep_what_was_typed_and_save_nothing(library, db):
    _issuer, avery = library
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    found = Page(avery.submit(form, **credential_fields(title="Half-typed title",
                                                        required_skills=[]),
                              skill_q="sk-39", skill_action="search"))
    assert found.status == 200
    assert _results(found)[:4] == ["SK-39", "SK-390", "SK-391", "SK-392"]
    assert "111 skills match “sk-39”" in found.text   # 39, 390 to 399, 3900 to 3999
    form = found.form("/admin/credentials/new")
    assert form.value("title") == "Half-typed title" and form.value("skill_q") == "sk-39"
    # The count is focused after a search, for keyboard and screen-reader users.
    assert re.search(r'id="picker-count"[^>]*data-focus-on-load', found.html)
    second = Page(avery.submit(form, skill_page="2"))
    assert _results(second)[0] == "SK-3909" and "Page 2 of 6" in second.text
    # Words of the description are searched too.
    welding = Page(avery.submit(form, skill_q="welding", skill_action="search"))
    assert _results(welding) == ["SK-7", "SK-1007", "SK-2007", "SK-3007"]
    assert db.scalars(select(CredentialVersion)).first() is None


def test_added_skills_leave_the_results_and_the_credential_saves(library, db):
    issuer, avery = library
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    added = Page(avery.submit(form, **credential_fields(required_skills=[]),
                              skill_action="add", add_required=["SK-2", "SK-10"],
                              add_optional=["SK-3", "SK-10"]))
    form = added.form("/admin/credentials/new")
    assert form.values("required_skills") == ["SK-2", "SK-10"]   # required wins
    assert form.values("optional_skills") == ["SK-3"]
    assert {"SK-2", "SK-3", "SK-10"}.isdisjoint(_results(added))
    assert "Skill number 10 SK-10" in added.text
    response = avery.submit(form, **credential_fields(
        required_skills=["SK-2", "SK-10"], optional_skills=["SK-3"], optional_min="1"))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.expire_all()
    version = db.scalars(select(CredentialVersion)).one()
    data = catalog_service.input_of(version)
    assert data["required_skills"] == ["SK-2", "SK-10"]
    assert data["optional_skills"] == ["SK-3"]
    assert db.get(Issuer, issuer.id) is not None


def test_enter_in_a_field_saves_and_the_picker_is_keyboard_usable(library):
    _issuer, avery = library
    html = avery.page("/admin/credentials/new").html
    form_start = html.index('<form method="post" action="/admin/credentials/new"')
    first_submit = re.search(r'<button type="submit"[^>]*>', html[form_start:]).group(0)
    assert "skill_action" not in first_submit and "default-submit" in first_submit
    # Every result's checkboxes are named by the skill (not just "Add as required").
    assert re.search(r'aria-labelledby="pick-r-label pick-1"', html)
    assert '<label for="f-skill_q">' in html


def test_routes_that_cannot_award_yet_are_not_offered(library, db):
    _issuer, avery = library
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    # PLAR and transfer award since issue 13 (services.plar, services.transfer).
    assert form.options["allowed_routes"][:4] == ["integrated", "stand_alone", "plar",
                                                  "transfer"]
