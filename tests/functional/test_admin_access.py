"""Who may use the catalog admin UI: institution administrators of a platform mapped to an
issuer, and people granted catalog-admin or reviewer; nobody else. A reviewer reads and
reviews but cannot create; the issuer is set up once, by an institution administrator."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.domain.catalog import CatalogRole
from lti_tool.models import Issuer, IssuerPlatform, MicroCredential
from lti_tool.services import catalog as catalog_service
from lti_tool.services.platforms import find_platform
from lti_tool.web.common.launch_session import csrf_for
from tests.support.admin import (
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    LEARNER,
    Page,
    credential_fields,
    launch,
    make_issuer,
)


def _grant(db, platform, issuer, sub, role):
    row = find_platform(db, platform.issuer, platform.client_id)
    actor = catalog_service.Actor("cli", "cli", issuer.id,
                                  catalog_service.scopes_for_roles([CatalogRole.CATALOG_ADMIN]))
    catalog_service.grant_role(db, actor, row.id, sub, role)
    db.commit()


def test_learner_is_refused(app, platform, db):
    make_issuer(db, platform)
    learner = launch(app, platform, sub="4", name="Sam Student", roles=[LEARNER],
                     fixture="learner_claims_INTROPROG.json")
    response = learner.get("/admin")
    assert response.status_code == 403
    assert "institution administrators, catalog administrators and reviewers" in \
        response.get_data(as_text=True)
    assert learner.get("/admin/skills").status_code == 403
    assert learner.get("/admin/credentials/new").status_code == 403


def test_instructor_without_grant_is_refused_and_sees_no_catalog_link(app, platform, db):
    make_issuer(db, platform)
    terry = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    assert terry.get("/admin").status_code == 403
    assert terry.get("/admin/rubric").status_code == 403
    home = terry.get("/app").get_data(as_text=True)
    assert "Open the catalog" not in home


def test_institution_admin_sees_the_catalog(app, platform, db):
    make_issuer(db, platform)
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    landing = avery.get("/app").get_data(as_text=True)
    assert "Open the catalog" in landing
    page = avery.get("/admin")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Micro-credential catalog" in html
    assert "New micro-credential" in html
    assert page.headers["Cache-Control"] == "no-store"
    for path in ("/admin/skills", "/admin/rubric", "/admin/tokens", "/admin/roles",
                 "/admin/io", "/admin/issuer", "/admin/reviews", "/admin/credentials/new",
                 "/admin/skills/new"):
        assert avery.get(path).status_code == 200, path


def test_reviewer_grant_reads_and_reviews_but_cannot_create(app, platform, db):
    issuer = make_issuer(db, platform)
    _grant(db, platform, issuer, "3", CatalogRole.REVIEWER)
    terry = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    home = terry.get("/admin")
    assert home.status_code == 200
    assert "New micro-credential" not in home.get_data(as_text=True)
    assert "Open the catalog" in terry.get("/app").get_data(as_text=True)
    assert terry.get("/admin/skills").status_code == 200
    assert terry.get("/admin/reviews").status_code == 200
    assert terry.get("/admin/credentials/new").status_code == 403
    assert terry.get("/admin/tokens").status_code == 403
    # A hand-made POST is refused too, and creates nothing.
    response = terry.client.post("/admin/credentials/new", data={
        **credential_fields(), "lt": terry.lt})
    assert response.status_code == 403
    assert db.scalars(select(MicroCredential)).first() is None


def test_catalog_admin_grant_may_create(app, platform, db):
    issuer = make_issuer(db, platform)
    _grant(db, platform, issuer, "3", CatalogRole.CATALOG_ADMIN)
    terry = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    assert terry.get("/admin/credentials/new").status_code == 200
    # ...but people & roles is for institution administrators only.
    roles = terry.get("/admin/roles").get_data(as_text=True)
    assert "Only an institution administrator" in roles


def test_first_admin_sets_up_the_institution(app, platform, db):
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    landing = avery.get("/app").get_data(as_text=True)
    assert "Set up your institution" in landing
    page = Page(avery.get("/admin"))
    assert page.status == 200
    assert "Set up your institution" in page.text
    form = page.form("/admin/setup")
    bad = Page(avery.submit(form, name="Northern College", slug="bad slug!", url="ftp://x",
                            email="nope"))
    assert bad.status == 422
    assert bad.is_invalid("slug") and bad.is_invalid("url") and bad.is_invalid("email")
    assert bad.summary_links()[:1] == ["f-slug"] or "f-slug" in bad.summary_links()
    assert db.scalars(select(Issuer)).first() is None

    response = avery.submit(form, name="Northern College", slug="northern",
                            url="https://northern.example.edu",
                            email="registrar@northern.example.edu", languages="en, fr")
    assert response.status_code == 303
    issuer = db.scalars(select(Issuer)).one()
    assert issuer.slug == "northern" and issuer.languages == ["en", "fr"]
    mapping = db.scalars(select(IssuerPlatform)).one()
    assert mapping.platform_id == find_platform(db, platform.issuer, platform.client_id).id
    home = avery.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your institution is set up" in home


def test_setup_is_only_for_institution_admins(app, platform, db):
    terry = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    assert terry.get("/admin").status_code == 403
    # Even a well-formed POST with Terry's own valid CSRF token is refused.
    with app.test_request_context():
        csrf = csrf_for(app.extensions["lti"].tokens.read(terry.lt))
    response = terry.client.post("/admin/setup", data={
        "lt": terry.lt, "csrf_token": csrf, "name": "X", "slug": "x",
        "url": "https://x.example", "email": "a@x.example"})
    assert response.status_code == 403
    assert "Only an institution administrator" in response.get_data(as_text=True)
    assert db.scalars(select(Issuer)).first() is None


def test_another_institutions_catalog_is_invisible(app, platform, db, transport):
    from tests.conftest import register_platform
    from tests.support.platform import TestPlatform

    make_issuer(db, platform)
    avery = launch(app, platform, sub="admin-1", name="Avery Admin", roles=[INSTITUTION_ADMIN])
    form = Page(avery.get("/admin/skills/new")).form("/admin/skills/new")
    assert avery.submit(form, code="PY-VAR", name="Variables").status_code == 303
    form = Page(avery.get("/admin/credentials/new")).form("/admin/credentials/new")
    response = avery.submit(form, **credential_fields())
    assert response.status_code == 303
    credential_path = response.headers["Location"].split("?")[0]
    version_id = db.scalars(select(MicroCredential)).one().versions[0].id

    other = TestPlatform(issuer="https://canvas.other.test", client_id="other-client",
                         key_name="platform-b")
    register_platform(db, other, transport)
    make_issuer(db, other, slug="southern")
    sam = launch(app, other, sub="admin-9", name="Sam Southern", roles=[INSTITUTION_ADMIN])
    home = Page(sam.get("/admin"))
    assert home.status == 200 and "Python Programming Fundamentals" not in home.text
    assert "PY-VAR" not in Page(sam.get("/admin/skills")).text
    assert sam.get(credential_path).status_code == 404
    assert sam.get(f"/admin/versions/{version_id}/review").status_code == 404
    assert sam.get(f"/admin/versions/{version_id}/edit").status_code == 404
    csrf = Page(sam.get("/admin/skills/new")).form("/admin/skills/new").value("csrf_token")
    refused = sam.client.post(f"/admin/versions/{version_id}/transition", data={
        "lt": sam.lt, "csrf_token": csrf, "action": "submit", "row_version": "1"})
    assert refused.status_code == 404
    db.expire_all()
    assert db.scalars(select(MicroCredential)).one().versions[0].state == "draft"
