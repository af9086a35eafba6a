"""The admin Platforms page (institution administrators): the platforms and deployments of
the institution and the unlinked ones (never another institution's), adding one with the
Moodle and Canvas presets and the values to paste, linking a platform or a deployment to
this or a new institution, and deactivating: a deactivated platform or deployment launches
nothing, with a message that says what to do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.models import AuditEvent, Deployment, Issuer, Platform
from lti_tool.services import catalog as catalog_service
from lti_tool.services.platforms import PlatformInput, add_platform
from tests.support.admin import INSTITUTION_ADMIN, INSTRUCTOR, Page, launch, make_issuer
from tests.support.lti import LAUNCH_URL, login, post_launch


@pytest.fixture()
def avery(app, db, platform):
    make_issuer(db, platform)
    return launch(app, platform, sub="admin-1", name="Avery Admin",
                  roles=[INSTITUTION_ADMIN, INSTRUCTOR])


def _add_form(page: Page):
    [form] = [f for f in page.forms if f.action == "/admin/platforms"]
    return form


def _active_form(page: Page, platform_id: int, deployment_id: int | None = None):
    action = f"/admin/platforms/{platform_id}/active"
    [form] = [f for f in page.forms if f.action == action and
              (f.value("deployment") or None) == (str(deployment_id) if deployment_id
                                                  else None)]
    return form


def _other(db, issuer_url: str, client_id: str) -> Platform:
    row = add_platform(db, PlatformInput(name=f"Moodle {client_id}", issuer=issuer_url,
                                         client_id=client_id, preset="moodle",
                                         deployment_ids=("1",)), allow_http=True)
    db.commit()
    return row


def test_the_page_lists_this_institutions_and_unlinked_platforms_only(avery, db, platform):
    unlinked = _other(db, "https://spare.example.edu", "spare")
    elsewhere = _other(db, "https://elsewhere.example.edu", "else")
    catalog_service.create_issuer(db, {"name": "Elsewhere College",
                                       "url": "https://elsewhere.example.edu",
                                       "email": "a@elsewhere.example.edu"},
                                  slug="elsewhere", platform_id=elsewhere.id)
    db.commit()
    page = avery.page("/admin/platforms")
    assert page.status == 200
    mine = page.text.split("Platforms of Northern College", 1)[1].split(
        "Linked to no institution", 1)[0]
    assert "Moodle test" in mine and "https://moodle.test" in mine
    assert "spare" in page.text.split("Linked to no institution", 1)[1]
    assert "elsewhere.example.edu" not in page.text
    # The values to paste into the platform.
    assert "http://tool.test/lti/login" in page.text
    assert "http://tool.test/.well-known/jwks.json" in page.text
    assert "http://tool.test/lti/register" in page.text
    assert unlinked.id != elsewhere.id
    # Another institution's platform cannot be changed from here.
    form = _active_form(page, unlinked.id)
    response = avery.client.post(f"/admin/platforms/{elsewhere.id}/active",
                                 data={**form.data().to_dict(), "active": "0"})
    assert response.status_code == 404
    db.expire_all()
    assert db.get(Platform, elsewhere.id).active


def test_only_institution_administrators_manage_platforms(app, db, platform):
    make_issuer(db, platform)
    teacher = launch(app, platform, sub="t1", name="Terry Teacher", roles=[INSTRUCTOR])
    assert teacher.get("/admin/platforms").status_code == 403


def test_add_a_moodle_platform_with_its_preset_linked_to_this_institution(avery, db):
    form = _add_form(avery.page("/admin/platforms"))
    response = avery.submit(form, preset="moodle", issuer="https://moodle.college.ca/",
                            client_id="abc123", deployment_id="2", name="College Moodle")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.expire_all()
    added = db.scalars(select(Platform).where(Platform.client_id == "abc123")).one()
    assert added.auth_login_url == "https://moodle.college.ca/mod/lti/auth.php"
    assert added.jwks_url == "https://moodle.college.ca/mod/lti/certs.php"
    assert [d.deployment_id for d in added.deployments] == ["2"]
    northern = db.scalars(select(Issuer).where(Issuer.slug == "northern")).one()
    assert catalog_service.issuer_for_platform(db, added.id, None).id == northern.id
    after = Page(avery.client.get(response.headers["Location"]))
    assert "The platform was added." in after.text and "College Moodle" in after.text


def test_add_a_canvas_platform_for_a_new_institution_and_field_errors_keep_the_input(avery,
                                                                                   db):
    form = _add_form(avery.page("/admin/platforms"))
    refused = Page(avery.submit(form, preset="canvas", issuer="", client_id="",
                                deployment_id="", link="new", new_name="Lake College",
                                new_url="nope", new_email="", new_slug=""))
    assert refused.status == 422
    assert refused.field_error("client_id") and refused.field_error("deployment_id")
    assert refused.field_error("new_url") and refused.field_error("new_slug")
    assert 'value="Lake College"' in refused.html
    assert db.scalars(select(Platform).where(Platform.product_family == "canvas")).first() \
        is None
    done = avery.submit(form, preset="canvas", issuer="", client_id="10000000000042",
                        deployment_id="99:abc", link="new", new_name="Lake College",
                        new_url="https://lake.example.edu", new_email="mc@lake.example.edu",
                        new_slug="lake")
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    db.expire_all()
    canvas = db.scalars(select(Platform).where(Platform.client_id == "10000000000042")).one()
    assert canvas.issuer == "https://canvas.instructure.com"
    assert catalog_service.issuer_for_platform(db, canvas.id, None).slug == "lake"


def test_link_an_unlinked_platform_and_one_deployment(avery, db):
    spare = _other(db, "https://spare.example.edu", "spare")
    page = avery.page("/admin/platforms")
    form = page.form(f"/admin/platforms/{spare.id}/link")
    assert avery.submit(form, link="this").status_code == 303
    db.expire_all()
    assert catalog_service.issuer_for_platform(db, spare.id, None).slug == "northern"
    # One deployment of it, to a new institution of its own.
    deployment = db.scalars(select(Deployment).where(Deployment.platform_id == spare.id)).one()
    form = avery.page("/admin/platforms").form(f"/admin/platforms/{spare.id}/link")
    bad = Page(avery.submit(form, deployment=str(deployment.id), link="new", new_name="",
                            new_url="", new_email="", new_slug=""))
    assert bad.status == 422 and "The link was not saved" in bad.text
    done = avery.submit(form, deployment=str(deployment.id), link="new",
                        new_name="Spare Campus", new_url="https://spare.example.edu",
                        new_email="a@spare.example.edu", new_slug="spare-campus")
    assert done.status_code == 303
    db.expire_all()
    assert catalog_service.issuer_for_platform(db, spare.id, deployment.id).slug == \
        "spare-campus"
    assert catalog_service.issuer_for_platform(db, spare.id, None).slug == "northern"
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "platform.linked")) \
        .first() is not None


def test_a_deactivated_platform_or_deployment_launches_nothing(app, avery, db, platform):
    spare = _other(db, platform.issuer + "/other", "spare")  # not the admin's own platform
    form = avery.page("/admin/platforms").form(f"/admin/platforms/{spare.id}/link")
    avery.submit(form, link="this")
    own = db.scalars(select(Platform).where(Platform.client_id == platform.client_id)).one()
    # Deactivating the platform one launched from is refused (it would lock them out).
    page = avery.page("/admin/platforms")
    refused = Page(avery.submit(_active_form(page, own.id), active="0"))
    assert refused.status == 409 and "lock you out" in refused.text
    # Its deployment can be deactivated: launches through it are refused with a message.
    deployment = own.deployments[0]
    form = _active_form(page, own.id, deployment.id)
    assert avery.submit(form).status_code == 303
    db.expire_all()
    assert db.get(Deployment, deployment.id).active is False
    client = app.test_client()
    at_login = client.get("/lti/login", query_string={
        "iss": platform.issuer, "login_hint": "3", "target_link_uri": LAUNCH_URL,
        "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id})
    assert at_login.status_code == 400
    assert "deployment_deactivated" in at_login.get_data(as_text=True)
    started = login(client, platform, lti_deployment_id="")  # a login naming no deployment
    body = platform.claims("instructor_claims_INTROPROG.json", nonce=started.nonce,
                           target_link_uri=LAUNCH_URL)
    blocked = post_launch(client, platform.sign(body), started.state)
    html = blocked.get_data(as_text=True)
    assert blocked.status_code == 400 and "deployment_deactivated" in html
    assert "Platforms page" in html
    events = [e.action for e in db.scalars(select(AuditEvent))]
    assert "platform.deactivated" in events
