"""API tokens, people & roles, the review rubric and import/export in the admin UI."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import CatalogRole
from lti_tool.models import ApiToken, CatalogGrant, Skill
from lti_tool.services import api_tokens
from lti_tool.services import catalog as catalog_service
from lti_tool.services.platforms import find_platform
from tests.support.admin import (
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    Page,
    launch,
    make_issuer,
)


@pytest.fixture()
def issuer(db, platform):
    return make_issuer(db, platform)


@pytest.fixture()
def avery(app, platform, issuer):
    return launch(app, platform, sub="admin-1", name="Avery Admin",
                  roles=[INSTITUTION_ADMIN, INSTRUCTOR])


# -- API tokens ------------------------------------------------------------------------------
def test_a_new_token_is_shown_once_and_revoking_it_stops_it(avery, db):
    page = avery.page("/admin/tokens")
    assert "No API tokens yet." in page.text
    form = page.form("/admin/tokens")
    response = avery.submit(form, name="Registrar sync", scopes=["catalog:read", "review"])
    created = Page(response)
    assert created.status == 201
    plaintext = re.search(r'value="(mc_[A-Za-z0-9_-]+)"', created.html).group(1)
    assert "Copy it now: it will not be shown again." in created.text
    row = api_tokens.authenticate(db, plaintext)
    assert row is not None and row.scopes == ["catalog:read", "review"]
    assert f"mc_{row.prefix}_…" in created.text

    again = avery.page("/admin/tokens")
    assert plaintext not in again.html
    assert "Registrar sync" in again.text and "Never" in again.text

    revoke = again.form(f"/admin/tokens/{row.id}/revoke")
    done = avery.submit(revoke)
    assert done.status_code == 303
    after = Page(avery.client.get(done.headers["Location"]))
    assert "The API token was revoked" in after.text and "Revoked" in after.text
    db.expire_all()
    assert api_tokens.authenticate(db, plaintext) is None


def test_a_token_may_be_given_an_expiry_which_the_list_shows(avery, db):
    form = avery.page("/admin/tokens").form("/admin/tokens")
    created = Page(avery.submit(form, name="Nightly export", scopes=["catalog:read"],
                                expires="90"))
    assert created.status == 201
    plaintext = re.search(r'value="(mc_[A-Za-z0-9_-]+)"', created.html).group(1)
    row = api_tokens.authenticate(db, plaintext)
    db.rollback()
    assert row is not None and row.expires_at is not None
    assert timedelta(days=89) < row.expires_at - datetime.now(UTC) <= timedelta(days=90)
    listed = avery.page("/admin/tokens")
    assert "Expires" in listed.text
    row.expires_at = datetime.now(UTC) - timedelta(hours=1)
    db.commit()
    assert "Expired" in avery.page("/admin/tokens").text
    create_form = next(f for f in avery.page("/admin/tokens").forms
                       if any(name == "expires" for name, _ in f.fields))
    bad = Page(avery.submit(create_form,
                            name="Odd", scopes=["catalog:read"], expires="7"))
    assert bad.status == 422 and bad.is_invalid("expires")


def test_token_form_errors_and_no_permission_beyond_your_own(avery, db, app, platform, issuer):
    form = avery.page("/admin/tokens").form("/admin/tokens")
    bad = Page(avery.submit(form, name="", scopes=[]))
    assert bad.status == 422
    assert bad.is_invalid("name")
    assert db.scalars(select(ApiToken)).first() is None

    row = find_platform(db, platform.issuer, platform.client_id)
    actor = catalog_service.Actor("cli", "cli", issuer.id,
                                  catalog_service.scopes_for_roles([CatalogRole.CATALOG_ADMIN]))
    catalog_service.grant_role(db, actor, row.id, "3", CatalogRole.CATALOG_ADMIN)
    db.commit()
    terry = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    page = terry.page("/admin/tokens")
    form = page.form("/admin/tokens")
    assert set(form.options["scopes"]) == {"catalog:read", "catalog:write"}
    refused = Page(terry.submit(form, name="Sneaky", scopes=["catalog:read", "review"]))
    assert refused.status == 422
    assert "cannot give a token a permission you do not hold" in refused.field_error("scopes")
    assert db.scalars(select(ApiToken)).first() is None


# -- people and roles ------------------------------------------------------------------------
def test_grant_and_revoke_a_reviewer_from_the_people_seen_on_this_platform(avery, app,
                                                                           platform, db):
    terry = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    assert terry.get("/admin").status_code == 403
    page = avery.page("/admin/roles")
    assert "No roles granted yet." in page.text
    form = page.form("/admin/roles")
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page.html))
    terry_id = next(k for k, v in options.items() if "Terry Teacher" in v)
    assert "3@example.edu" in options[terry_id]

    missing = Page(avery.submit(form, account="", role="reviewer"))
    assert missing.status == 422 and missing.is_invalid("account")

    response = avery.submit(form, account=terry_id, role="reviewer")
    assert response.status_code == 303
    listed = Page(avery.client.get(response.headers["Location"]))
    assert "The role was granted." in listed.text
    assert "Terry Teacher" in listed.text and "Reviewer" in listed.text
    assert "by Avery Admin" in listed.text
    assert terry.get("/admin").status_code == 200

    grant = db.scalars(select(CatalogGrant)).one()
    assert avery.submit(listed.form("/admin/roles/revoke")).status_code == 303
    assert db.scalars(select(CatalogGrant)).first() is None
    assert terry.get("/admin").status_code == 403
    # Revoking again (a stale page) is harmless.
    again = avery.client.post("/admin/roles/revoke", data={
        "lt": avery.lt, "csrf_token": listed.form("/admin/roles").value("csrf_token"),
        "grant": str(grant.id)})
    assert again.status_code == 303


def test_revoke_role_service_is_idempotent_and_audited(db, issuer, platform):
    from lti_tool.models import AuditEvent

    row = find_platform(db, platform.issuer, platform.client_id)
    actor = catalog_service.Actor("cli", "cli", issuer.id,
                                  catalog_service.scopes_for_roles([CatalogRole.CATALOG_ADMIN]))
    catalog_service.grant_role(db, actor, row.id, "7", CatalogRole.REVIEWER)
    assert catalog_service.revoke_role(db, actor, row.id, "7", CatalogRole.REVIEWER) is True
    assert catalog_service.revoke_role(db, actor, row.id, "7", CatalogRole.REVIEWER) is False
    assert catalog_service.catalog_roles(db, issuer.id, row.id, "7") == []
    events = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "catalog.role_revoked")).all()
    assert len(events) == 1


# -- rubric ----------------------------------------------------------------------------------
def test_edit_the_rubric_add_remove_and_reorder(avery, db, issuer):
    page = avery.page("/admin/rubric")
    assert "Structure and admission requirements" in page.text
    form = page.form("/admin/rubric")
    keys = [form.value(f"rubric-{i}-key") for i in range(10)]
    assert keys[0] == "structure" and form.value("rubric-10-key") == ""
    response = avery.submit(form, **{
        "rubric-1-remove": "1",                # drop "delivery"
        "rubric-9-position": "0.5",            # "competencies" moves first
        "rubric-10-key": "accessibility", "rubric-10-lens": "institutional",
        "rubric-10-title": "Accessible to all learners", "rubric-10-position": "3.5",
        "rubric-10-description": "Materials and assessments meet WCAG 2.1 AA."})
    assert response.status_code == 303
    criteria = catalog_service.rubric_for(db, issuer.id)
    assert [c.key for c in criteria][:5] == ["competencies", "structure", "curriculum",
                                             "accessibility", "outcomes"]
    assert "delivery" not in [c.key for c in criteria]
    assert len(criteria) == 10


def test_rubric_errors_and_stale_rubric(avery, db, issuer):
    first = avery.page("/admin/rubric").form("/admin/rubric")
    second = avery.page("/admin/rubric").form("/admin/rubric")
    bad = Page(avery.submit(first, **{"rubric-10-key": "Bad Key", "rubric-10-title": "",
                                      "rubric-10-description": "x", "rubric-2-key": "structure"}))
    assert bad.status == 422
    assert bad.is_invalid("rubric-10-key") and bad.is_invalid("rubric-10-title")
    assert "already uses this key" in bad.field_error("rubric-2-key")
    assert avery.submit(first, **{"rubric-0-title": "Structure"}).status_code == 303
    stale = Page(avery.submit(second, **{"rubric-0-title": "Mine"}))
    assert stale.status == 409
    assert "changed the rubric in the meantime" in stale.text
    assert stale.form("/admin/rubric").value("rubric-0-title") == "Mine"
    assert catalog_service.rubric_for(db, issuer.id)[0].title == "Structure"


# -- import / export -------------------------------------------------------------------------
def _upload(person, page, kind, filename, content, mode):
    form = page.form("/admin/io")
    data = form.data()
    data.setlist("kind", [kind])
    data.setlist("mode", [mode])
    data["file"] = (io.BytesIO(content.encode()), filename)
    return Page(person.client.post(form.action, data=data,
                                   content_type="multipart/form-data"))


def test_skills_csv_check_then_import_and_problems_with_rows(avery, db):
    page = avery.page("/admin/io")
    good = "code,name,tags\nPY-VAR,Variables and types,python\nPY-FUNC,Functions,\n"
    checked = _upload(avery, page, "skills", "skills.csv", good, "check")
    assert checked.status == 200
    assert "No problems found in skills.csv" in checked.text
    assert "Skills created: 2" in checked.text
    assert db.scalars(select(Skill)).first() is None

    imported = _upload(avery, page, "skills", "skills.csv", good, "import")
    assert "Imported skills.csv" in imported.text
    assert {s.code for s in db.scalars(select(Skill))} == {"PY-VAR", "PY-FUNC"}

    bad = "code,name\nOK-1,Fine\nbad code!,\n"
    refused = _upload(avery, page, "skills", "bad.csv", bad, "import")
    assert refused.status == 422
    assert "nothing was imported" in refused.text
    assert "row 3" in refused.text
    assert db.scalars(select(Skill).where(Skill.code == "OK-1")).first() is None


def test_catalog_json_download_and_bad_upload(avery, db):
    form = avery.page("/admin/skills/new").form("/admin/skills/new")
    avery.submit(form, code="PY-VAR", name="Variables and types")
    download = avery.get("/admin/io/catalog")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    document = json.loads(download.get_data(as_text=True))
    assert [s["code"] for s in document["skills"]] == ["PY-VAR"]
    csv_text = avery.get("/admin/io/skills").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("code,name")
    assert "PY-VAR" in csv_text

    page = avery.page("/admin/io")
    broken = _upload(avery, page, "catalog", "catalog.json", "{not json", "check")
    assert broken.status == 422
    assert "is not valid JSON" in broken.text
