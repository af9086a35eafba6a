"""The catalog administration in French, in a real browser: an institution administrator
whose Moodle sends ``launch_presentation.locale`` ``fr-CA`` opens the catalog, goes to the
review rubric, saves it with a mistake (the error summary, in French, takes the focus and
links to the field), corrects it and reads the French notice; then creates an API token
and reads its one-time secret. Every page is ``<html lang="fr-CA">`` and axe-core finds no
serious or critical violation on any of them; the rubric page also fits 320 px.

The launch comes from a Moodle-shaped test platform registered in the server's database
(its key set served by a fake transport for its own host only), so the test does not depend
on the sandbox's language choice."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION, CLAIM_ROLES
from lti_tool.services import catalog as catalog_service
from lti_tool.services.platforms import PlatformInput, add_platform
from tests.e2e.conftest import screenshot
from tests.e2e.test_catalog_browser import NARROW, assert_accessible, assert_fits, at_width
from tests.support.admin import INSTITUTION_ADMIN
from tests.support.lti import login, post_launch
from tests.support.platform import FakeTransport, TestPlatform, moodle_fixture, query_of

pytestmark = pytest.mark.e2e

FIXTURE = "instructor_claims_INTROPROG.json"


@pytest.fixture()
def french_admin(live_server: Any) -> Iterator[str]:
    """The launch token of an institution administrator launched in fr-CA from a Moodle of
    its own, linked to a new institution; the Moodle's key set is served only for its host."""
    app = live_server.app
    host = f"moodle-fr-{uuid.uuid4().hex[:8]}.test"
    platform = TestPlatform(issuer=f"https://{host}", client_id=f"fr-{uuid.uuid4().hex[:8]}")
    transport = FakeTransport()
    http = app.extensions["lti"].http
    http.session.mount(f"https://{host}/", transport)
    session = app.extensions["db_sessionmaker"]()
    try:
        transport.add("GET", platform.jwks_url, lambda _req: (200, platform.jwks()))
        row = add_platform(session, PlatformInput(
            name="Moodle (français)", issuer=platform.issuer, client_id=platform.client_id,
            preset="moodle", deployment_ids=(platform.deployment_id,)), allow_http=True)
        catalog_service.create_issuer(
            session, {"name": "Collège Boréal (essai)", "url": "https://borealtest.example.ca",
                      "email": "registrariat@borealtest.example.ca"},
            slug=f"boreal-{uuid.uuid4().hex[:6]}", platform_id=row.id)
        session.commit()
    finally:
        session.close()
    presentation = dict(moodle_fixture(FIXTURE).get(CLAIM_LAUNCH_PRESENTATION, {}))
    presentation["locale"] = "fr-CA"
    client = app.test_client()
    launch_url = live_server.url + "/lti/launch"  # the server's own address
    started = login(client, platform, target_link_uri=launch_url)
    body = platform.claims(FIXTURE, nonce=started.nonce, target_link_uri=launch_url,
                           sub="fr-admin-1", name="Camille Côté", given_name="Camille",
                           family_name="Côté", email="camille@borealtest.example.ca",
                           **{CLAIM_ROLES: [INSTITUTION_ADMIN],
                              CLAIM_LAUNCH_PRESENTATION: presentation})
    response = post_launch(client, platform.sign(body), started.state)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    try:
        yield query_of(response.headers["Location"])["lt"]
    finally:
        http.session.adapters.pop(f"https://{host}/", None)


def _html_lang(page: Any) -> str:
    return str(page.evaluate("document.documentElement.lang"))


def test_an_administrator_works_in_french(page, french_admin) -> None:
    page.goto(f"/admin?lt={french_admin}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Catalogue de microcertifications")
    assert _html_lang(page) == "fr-CA"
    expect(page.get_by_role("heading", name="Aucune microcertification pour le moment")) \
        .to_be_visible()
    assert_accessible(page, "the catalog list, in French")
    nav = page.get_by_role("navigation", name="Administration du catalogue")

    # -- the review rubric: the seeded criteria read in French ------------------------------
    nav.get_by_role("link", name="Grille").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grille d'examen")
    expect(page.get_by_role("heading", name="Objectifs et normes pédagogiques")).to_be_visible()
    expect(page.locator(".criteria-list").first).to_contain_text("Rigueur de l'évaluation")
    assert _html_lang(page) == "fr-CA"
    assert_accessible(page, "the rubric, in French")
    at_width(page, NARROW)
    assert_fits(page, "the rubric at 320 px, in French")
    screenshot(page, "admin-rubric-fr-320")
    at_width(page, 1024)

    # a mistake: the summary (in French) takes the focus and links to the field
    key = page.get_by_role("textbox", name=re.compile("^Clé")).first
    key.fill("Mauvaise clé!")
    page.get_by_role("button", name="Enregistrer la grille").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Il y a un problème")
    expect(summary).to_contain_text("Critère 1\u00a0: Clé\u00a0: Utilisez de 1 à 50 lettres "
                                    "minuscules")
    assert_accessible(page, "the rubric with an error, in French")
    summary.get_by_role("link").first.click()
    bad = page.locator("#f-rubric-0-key")
    expect(bad).to_be_focused()
    expect(bad).to_have_attribute("aria-invalid", "true")
    bad.fill("structure")
    page.get_by_role("button", name="Enregistrer la grille").click()
    expect(page.get_by_role("status")).to_contain_text(
        "La grille a été enregistrée. Les révisions antérieures conservent la grille")

    # -- an API token: the one-time secret, in French ----------------------------------------
    nav.get_by_role("link", name="Jetons d'API").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jetons d'API")
    page.get_by_label("Nom", exact=True).fill("Synchronisation du registrariat")
    page.get_by_label("Expire après").select_option(label="90 jours")
    page.get_by_role("button", name="Créer le jeton").click()
    once = page.get_by_role("heading", name=re.compile("^Votre nouveau jeton"))
    expect(once).to_be_visible()
    expect(page.locator(".token-once")).to_contain_text("Copiez-le maintenant")
    expect(page.get_by_role("table")).to_contain_text("Synchronisation du registrariat")
    assert _html_lang(page) == "fr-CA"
    assert_accessible(page, "the API tokens with a new token, in French")

    # -- the other pages an administrator visits, in French and accessible -------------------
    for link, heading in (("Personnes et rôles", "Personnes et rôles"),
                          ("Paramètres", "Paramètres de suivi"),
                          ("Plateformes", "Plateformes d'apprentissage"),
                          ("Importation et exportation", "Importation et exportation")):
        nav.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert _html_lang(page) == "fr-CA"
        assert_accessible(page, f"{heading}, in French")
