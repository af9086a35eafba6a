"""The admin forms: skills and micro-credentials created and edited through the real forms,
field-level errors next to each field (and in a summary that links to them), HTML kept as
text and shown escaped, CSRF and optimistic locking refusing a save without changing
anything."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.models import CredentialVersion, Issuer, MicroCredential, Skill
from lti_tool.services import catalog as catalog_service
from tests.support.admin import (
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    Page,
    credential_fields,
    launch,
    make_issuer,
)


@pytest.fixture()
def avery(app, platform, db):
    make_issuer(db, platform)
    return launch(app, platform, sub="admin-1", name="Avery Admin",
                  roles=[INSTITUTION_ADMIN, INSTRUCTOR])


def add_skill(avery, code="PY-VAR", name="Variables and types", **extra):
    form = avery.page("/admin/skills/new").form("/admin/skills/new")
    response = avery.submit(form, code=code, name=name, **extra)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response


# -- skills ----------------------------------------------------------------------------------
def test_create_a_skill_with_an_alignment_and_find_it(avery, db):
    page = avery.page("/admin/skills/new")
    form = page.form("/admin/skills/new")
    # At least two blank alignment rows are offered.
    assert {"alignments-0-framework", "alignments-1-framework"} <= {n for n, _ in form.fields}
    response = avery.submit(form, **{
        "code": "PY-FUNC", "name": "Functions", "description": "Define and call functions.",
        "criteria": "Writes a function with parameters and a return value.",
        "tags": "python, programming, python",
        "alignments-1-framework": "ESCO",
        "alignments-1-target_url": "http://data.europa.eu/esco/skill/abc",
        "alignments-1-target_code": "S1.2", "alignments-1-target_type": "ESCO"})
    assert response.status_code == 303
    skill = db.scalars(select(Skill).where(Skill.code == "PY-FUNC")).one()
    assert skill.tags == ["python", "programming"]
    assert skill.alignments == [{"framework": "ESCO", "target_code": "S1.2",
                                 "target_name": "",
                                 "target_url": "http://data.europa.eu/esco/skill/abc",
                                 "target_type": "ESCO"}]
    saved = Page(avery.client.get(response.headers["Location"]))
    assert "The skill was created." in saved.text
    # The edit form shows the alignment in row 1 plus two blank rows.
    assert saved.form("/edit").value("alignments-0-framework") == "ESCO"
    assert saved.form("/edit").value("alignments-2-framework") == ""

    add_skill(avery, "PY-DBG", "Debugging", tags="debugging")
    listing = avery.page("/admin/skills", q="func")
    assert "Functions" in listing.text and "Debugging" not in listing.text
    by_tag = avery.page("/admin/skills", tag="debugging")
    assert "Debugging" in by_tag.text and "Functions" not in by_tag.text


def test_skill_form_shows_each_error_next_to_its_field_and_keeps_the_input(avery, db):
    form = avery.page("/admin/skills/new").form("/admin/skills/new")
    page = Page(avery.submit(form, **{
        "code": "bad code!", "name": "", "criteria": "Kept as typed",
        "alignments-0-framework": "CASE",
        "alignments-0-target_url": "javascript:alert(1)"}))
    assert page.status == 422
    for name in ("code", "name", "alignments-0-target_url"):
        assert page.is_invalid(name), name
        assert page.field_error(name), name
    assert page.field_error("name") == "Error: This is required."
    assert "http:// or https://" in page.field_error("alignments-0-target_url")
    assert page.summary_links() == ["f-code", "f-name", "f-alignments-0-target_url"]
    assert 'data-focus-on-load' in page.html
    again = page.form("/admin/skills/new")
    assert again.value("criteria") == "Kept as typed"
    assert again.value("alignments-0-target_url") == "javascript:alert(1)"
    assert db.scalars(select(Skill)).first() is None


def test_duplicate_skill_code_is_a_field_error(avery, db):
    add_skill(avery)
    form = avery.page("/admin/skills/new").form("/admin/skills/new")
    page = Page(avery.submit(form, code="PY-VAR", name="Again"))
    assert page.status == 422
    assert "already used" in page.field_error("code")
    assert len(db.scalars(select(Skill)).all()) == 1


def test_delete_a_skill_after_confirming_and_refuse_when_used(avery, db):
    add_skill(avery, "PY-VAR")
    add_skill(avery, "OLD", "Unused skill")
    unused = db.scalars(select(Skill).where(Skill.code == "OLD")).one()
    confirm = avery.page(f"/admin/skills/{unused.id}/delete")
    assert "Deleting it cannot be undone" in confirm.text
    response = avery.submit(confirm.form("/delete"))
    assert response.status_code == 303
    assert db.scalars(select(Skill).where(Skill.code == "OLD")).first() is None

    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    assert avery.submit(form, **credential_fields()).status_code == 303
    used = db.scalars(select(Skill).where(Skill.code == "PY-VAR")).one()
    confirm = avery.page(f"/admin/skills/{used.id}/delete")
    assert "cannot be deleted" in confirm.text
    assert "Python Programming Fundamentals" in confirm.text
    assert not confirm.has_form("/delete")
    # A POST anyway (a stale confirmation page) is refused with the service's message.
    with_token = avery.page(f"/admin/skills/{used.id}/edit").form("/edit")
    refused = Page(avery.client.post(f"/admin/skills/{used.id}/delete", data={
        "lt": avery.lt, "csrf_token": with_token.value("csrf_token"),
        "row_version": str(used.row_version)}))
    assert refused.status == 409
    assert "part of a micro-credential and cannot be deleted" in refused.text
    assert db.scalars(select(Skill).where(Skill.code == "PY-VAR")).one()


# -- micro-credentials ---------------------------------------------------------------------
def test_create_a_credential_through_the_form(avery, db):
    add_skill(avery, "PY-VAR", "Variables and types",
              criteria="Declares variables of the right type.")
    add_skill(avery, "PY-FUNC", "Functions")
    add_skill(avery, "PY-GIT", "Version control basics")
    page = avery.page("/admin/credentials/new")
    form = page.form("/admin/credentials/new")
    # Checkbox groups for delivery modes and routes; the skills come from the picker: the
    # library's first page, each to add as required or optional.
    assert set(form.options["delivery_modes"]) == {"self_directed", "asynchronous",
                                                   "synchronous", "in_person"}
    assert set(form.options["add_required"]) == {"PY-VAR", "PY-FUNC", "PY-GIT"}
    assert set(form.options["add_optional"]) == {"PY-VAR", "PY-FUNC", "PY-GIT"}
    assert "<legend>Delivery modes" in page.html and "<legend>Required skills (0)" in page.html
    picked = Page(avery.submit(form, **credential_fields(required_skills=[]),
                               skill_action="add", add_required=["PY-VAR", "PY-FUNC"],
                               add_optional=["PY-GIT"]))
    assert picked.status == 200, "adding skills saves nothing"
    assert db.scalars(select(CredentialVersion)).first() is None
    form = picked.form("/admin/credentials/new")
    assert form.values("required_skills") == ["PY-VAR", "PY-FUNC"]
    assert form.values("optional_skills") == ["PY-GIT"]
    assert form.value("title") == credential_fields()["title"]   # what was typed is kept
    assert not form.options.get("add_required")   # nothing left to add
    response = avery.submit(form, **credential_fields(
        required_skills=["PY-VAR", "PY-FUNC"], optional_skills=["PY-GIT"],
        optional_min="1", expiry_months="24",
        learning_outcomes="  Write programs with variables\r\n\r\nUse control flow\n"
                          "Write and call functions  "))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    version = db.scalars(select(CredentialVersion)).one()
    data = catalog_service.input_of(version)
    assert data["learning_outcomes"] == ["Write programs with variables", "Use control flow",
                                         "Write and call functions"]
    assert data["required_skills"] == ["PY-VAR", "PY-FUNC"]
    assert data["optional_skills"] == ["PY-GIT"] and data["optional_min"] == 1
    assert data["credit_bearing"] is True and data["credit_value"] == "3.00"
    assert data["expiry_months"] == 24 and data["languages"] == ["en", "fr"]
    assert data["delivery_modes"] == ["asynchronous", "in_person"]
    assert version.state == "draft" and version.author_name == "Avery Admin"

    shown = Page(avery.client.get(response.headers["Location"]))
    assert "The draft micro-credential was created." in shown.text
    assert "Preview: what learners and employers read" in shown.text
    assert ("To earn it, demonstrate Variables and types and Functions and at least 1 of "
            "Version control basics.") in shown.text
    assert "Declares variables of the right type." in shown.text
    assert "40 hours" in shown.text and "3 Ontario college credit hours" in shown.text
    assert "Expires 24 months after it is awarded" in shown.text


def test_credential_form_errors_map_back_to_their_fields(avery, db):
    add_skill(avery)
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    page = Page(avery.submit(form, **credential_fields(
        title="", notional_hours="5000", image_url="javascript:alert(1)",
        credit_value="", delivery_modes=[], languages="en, EN!",
        learning_outcomes="ok outcome\nno")))
    assert page.status == 422
    expected = {
        "title": "This is required.",
        "notional_hours": "Enter a number from 1 to 2000.",
        "image_url": "http:// or https://",
        "credit_value": "is required for a credit-bearing credential",
        "languages": "Language 2: Use language codes",
        "learning_outcomes": "Line 2: Use between 3 and 500 characters.",
    }
    for name, message in expected.items():
        assert message in page.field_error(name), (name, page.field_error(name))
        assert page.is_invalid(name), name
    assert page.field_error("delivery_modes") == "Error: Choose at least one."
    links = page.summary_links()
    assert {"f-title", "f-notional_hours", "f-image_url", "f-credit_value",
            "f-delivery_modes"} <= set(links)
    # Every summary link points at a control on the page.
    for link in links:
        assert f'id="{link}"' in page.html, link
    kept = page.form("/admin/credentials/new")
    assert kept.value("notional_hours") == "5000"
    assert kept.value("short_description") == credential_fields()["short_description"]
    assert kept.values("required_skills") == ["PY-VAR"]
    assert db.scalars(select(MicroCredential)).first() is None


def test_earning_rule_problems_show_on_the_skill_lists(avery, db):
    add_skill(avery)
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    page = Page(avery.submit(form, **credential_fields(
        required_skills=["PY-VAR"], optional_skills=["PY-VAR"], optional_min="3")))
    assert page.status == 422
    assert "both required and optional" in page.field_error("optional_skills")
    assert "between 0 and the number of optional skills" in page.field_error("optional_min")
    none = Page(avery.submit(form, **credential_fields(required_skills=[])))
    assert "at least one required skill" in none.field_error("required_skills")
    assert db.scalars(select(MicroCredential)).first() is None


def test_html_in_a_title_is_stored_as_text_and_shown_escaped(avery, db):
    add_skill(avery)
    title = '<script>alert("x")</script> <b>Basics</b>'
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    response = avery.submit(form, **credential_fields(title=title))
    assert response.status_code == 303
    version = db.scalars(select(CredentialVersion)).one()
    assert version.title == title
    for path in (response.headers["Location"].split("?")[0], "/admin"):
        html = avery.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>Basics</b>" not in html
        assert "&lt;script&gt;alert(" in html


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(avery, db):
    add_skill(avery)
    skill = db.scalars(select(Skill)).one()
    form = avery.page(f"/admin/skills/{skill.id}/edit").form("/edit")
    data = form.data()
    data.setlist("name", ["Renamed"])
    data.pop("csrf_token")
    response = avery.client.post(form.action, data=data)
    assert response.status_code == 403
    assert "did not come from MicroCred" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Skill, skill.id).name == "Variables and types"

    new = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    data = new.data()
    for key, value in credential_fields().items():
        data.setlist(key, value if isinstance(value, list) else [value])
    data.setlist("csrf_token", ["0" * 64])
    assert avery.client.post(new.action, data=data).status_code == 403
    assert db.scalars(select(MicroCredential)).first() is None


def test_a_stale_skill_save_is_refused_and_keeps_the_users_input(avery, db):
    add_skill(avery)
    skill = db.scalars(select(Skill)).one()
    first = avery.page(f"/admin/skills/{skill.id}/edit").form("/edit")
    second = avery.page(f"/admin/skills/{skill.id}/edit").form("/edit")
    assert avery.submit(first, name="First save").status_code == 303
    page = Page(avery.submit(second, name="Second save", criteria="My careful criteria"))
    assert page.status == 409
    assert "Someone else saved this in the meantime" in page.text
    kept = page.form("/edit")
    assert kept.value("name") == "Second save"
    assert kept.value("criteria") == "My careful criteria"
    # Saving the kept form again is still refused: nothing is silently overwritten.
    assert avery.submit(kept).status_code == 409
    db.expire_all()
    assert db.get(Skill, skill.id).name == "First save"


def test_a_stale_draft_save_is_refused_and_keeps_the_users_input(avery, db):
    add_skill(avery)
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    assert avery.submit(form, **credential_fields()).status_code == 303
    version = db.scalars(select(CredentialVersion)).one()
    first = avery.page(f"/admin/versions/{version.id}/edit").form("/edit")
    second = avery.page(f"/admin/versions/{version.id}/edit").form("/edit")
    assert first.value("learning_outcomes").startswith("Write programs with variables")
    assert avery.submit(first, title="Title from the first tab").status_code == 303
    page = Page(avery.submit(second, title="Title from the second tab", notional_hours="45"))
    assert page.status == 409
    assert "Someone else saved this in the meantime" in page.text
    assert page.form("/edit").value("title") == "Title from the second tab"
    assert page.form("/edit").value("notional_hours") == "45"
    db.expire_all()
    version = db.get(CredentialVersion, version.id)
    assert version.title == "Title from the first tab"
    assert str(version.notional_hours) == "40.0"


def test_issuer_profile_edit_and_stale_save(avery, db):
    first = avery.page("/admin/issuer").form("/admin/issuer")
    second = avery.page("/admin/issuer").form("/admin/issuer")
    bad = Page(avery.submit(first, url="javascript:alert(1)"))
    assert bad.status == 422 and bad.is_invalid("url")
    assert avery.submit(first, description="Polytechnic in the north.").status_code == 303
    stale = Page(avery.submit(second, name="Other name"))
    assert stale.status == 409 and "Someone else saved this" in stale.text
    assert stale.form("/admin/issuer").value("name") == "Other name"
    issuer = db.scalars(select(Issuer)).one()
    db.refresh(issuer)
    assert issuer.description == "Polytechnic in the north."
    assert issuer.name == "Northern College"
