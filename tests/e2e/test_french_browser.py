"""MicroCred in French, in a real browser (issue 10): a French-speaking tryer (Chromium with
the fr-CA locale) opens the sandbox LMS, which speaks French and launches in French
(``launch_presentation.locale`` fr-CA). Terry, the instructor, offers "Python Programming
Fundamentals" and records Lena's five skills at once from her row of the grid; Lena sees
her skills and her microcertification in French; the public credential page, the catalog
and /verify follow the browser's language and switch to English and back. axe-core finds
no serious or critical violation on any of these pages, in either language.

This module runs its own server (its own database): Lena earning the credential here must
not change what the other browser tests see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, screenshot, serve
from tests.e2e.test_sandbox_browser import FRAME
from tests.e2e.test_tracking_browser import INTRO, assert_accessible

pytestmark = pytest.mark.e2e
LENA = "Lena Learner"
PYFUND_FR = "Notions fondamentales de programmation Python"   # the demo catalog's French title


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's own server (overrides the session's)."""
    with serve(tmp_path_factory.mktemp("e2e-french")) as server:
        yield server


def french_context(browser: Any, live_server: Any) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="fr-CA",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    return context


def launch_in_french(browser: Any, live_server: Any, person: str) -> Any:
    """Launch from the (French) sandbox into the tool frame, check the frame speaks French,
    then open the tool in its own tab."""
    sandbox = french_context(browser, live_server).new_page()
    sandbox.goto("/sandbox")
    expect(sandbox.get_by_role("heading", level=1)).to_have_text("Plateforme d'essai")
    expect(sandbox.locator("html")).to_have_attribute("lang", "fr-CA")
    sandbox.get_by_role("list", name=INTRO, exact=True).get_by_role(
        "link", name=re.compile("^Lancer en tant que " + re.escape(person))).click()
    frame = sandbox.frame_locator(FRAME)
    expect(frame.get_by_role("banner")).to_contain_text(person)
    expect(frame.locator("html")).to_have_attribute("lang", "fr-CA")
    url = sandbox.frame(name="tool-frame").url
    assert "/app?lt=" in url
    tab = sandbox.context.new_page()
    tab.goto(url)
    sandbox.close()
    return tab


def switch_language(page: Any, to: str) -> None:
    page.get_by_role("navigation", name=re.compile(
        "^(Page language|Langue de la page)$")).get_by_role("link", name=to).click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if to == "English" else "fr-CA")


def test_a_french_launch_walks_the_instructor_and_learner_pages(browser, live_server):
    launch_in_french(browser, live_server, LENA).context.close()   # Lena joins the roster

    # -- Terry: offers the credential, then records Lena's five skills at once -------------
    terry = launch_in_french(browser, live_server, "Terry Teacher")
    expect(terry.get_by_role("heading", level=1)).to_have_text(
        f"Compétences et microcertifications dans {INTRO}")
    expect(terry.get_by_role("banner").locator(".role")).to_have_text("Personnel enseignant")
    assert_accessible(terry, "the instructor's overview in French")
    tools = terry.get_by_role("navigation", name="Outils du cours")
    tools.get_by_role("link", name="Microcertifications offertes").click()
    expect(terry.get_by_role("heading", level=1)).to_have_text(
        f"Microcertifications offertes dans {INTRO}")
    terry.get_by_label("Titre ou code").fill("python")
    terry.get_by_role("button", name="Chercher parmi les microcertifications publiées").click()
    # the catalog's French title, for a French launch
    card = terry.locator("li.offer", has=terry.get_by_role("heading",
                                                            name=re.compile(PYFUND_FR)))
    assert_accessible(terry, "the offerings page in French")
    card.get_by_role("button", name=re.compile(r"^Offrir dans ce cours")).click()
    expect(terry.locator("div.notice[role=status]")).to_contain_text(
        "est maintenant offerte dans ce cours")

    tools.get_by_role("link", name="Grille d'évaluation").click()
    expect(terry.get_by_role("heading", level=1)).to_have_text("Grille d'évaluation")
    expect(terry.locator(".legend")).to_contain_text("Tentée, pas encore démontrée")
    assert_accessible(terry, "the grid in French")
    screenshot(terry, "grid-fr")
    terry.locator("td.progress a").filter(has_text="0/5").first.click()
    expect(terry.get_by_role("heading", level=1)).to_have_text(
        f"Consigner des compétences pour {LENA}")
    assert_accessible(terry, "the several-skills form in French")
    terry.get_by_role("button", name="Marquer toutes les compétences comme démontrées").click()
    terry.get_by_role("button", name="Enregistrer et revenir à la grille").click()
    notice = terry.locator("div.notice[role=status]")
    expect(notice).to_contain_text(f"Consigné pour {LENA}\u00a0: 5 démontrées.")
    expect(notice).to_contain_text(f"{LENA} a obtenu {PYFUND_FR}.")
    # the cells carry French dates (« 6 déc. 2026 »)
    expect(terry.locator("table.grid tbody")).to_contain_text(re.compile(
        r"\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? \d{4}"))
    tools.get_by_role("link", name="Attributions").click()
    expect(terry.get_by_role("heading", level=1)).to_have_text(f"Attributions dans {INTRO}")
    assert_accessible(terry, "the awards page in French")
    terry.context.close()

    # -- Lena: her skills and her microcertification, in French ----------------------------
    lena = launch_in_french(browser, live_server, LENA)
    expect(lena.get_by_role("heading", level=1)).to_have_text(
        "Mes compétences et microcertifications")
    earned = lena.get_by_role("list", name="Obtenue")
    expect(earned).to_contain_text(PYFUND_FR)
    expect(earned).to_contain_text(re.compile(
        r"Obtenue le\s*\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
        r"octobre|novembre|décembre) \d{4}"))
    assert_accessible(lena, "the learner's page in French")
    screenshot(lena, "learner-fr")

    # -- the public credential page: French (the browser's language), then English --------
    card = earned.get_by_role("listitem").filter(has_text=PYFUND_FR).first
    with lena.context.expect_page() as opened:
        card.get_by_role("link", name=re.compile("^Page publique de la microcertification"))\
            .click()
    public = opened.value
    public.wait_for_load_state()
    expect(public.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(public.locator(".status-line")).to_contain_text("Valide")
    expect(public.get_by_role("heading", name="Est-il authentique?")).to_be_visible()
    assert_accessible(public, "the public credential page in French")
    switch_language(public, "English")
    expect(public.locator(".status-line")).to_contain_text("Valid")
    expect(public.get_by_role("heading", name="Is it genuine?")).to_be_visible()
    assert_accessible(public, "the public credential page in English")
    switch_language(public, "Français")

    # -- /verify from the credential page, then in English ----------------------------------
    public.get_by_role("button", name="Vérifier ce titre de compétences étape par étape").click()
    expect(public.get_by_role("heading", name=re.compile("^Résultat"))).to_have_text(
        re.compile(r"Résultat\s*: Valide$"))
    assert_accessible(public, "/verify with a report, in French")
    switch_language(public, "English")
    expect(public.get_by_role("heading", level=1)).to_have_text("Verify a credential")
    assert_accessible(public, "/verify in English")
    public.context.close()


def test_catalog_and_verify_follow_the_browser_language_and_switch(browser, live_server):
    context = french_context(browser, live_server)
    page = context.new_page()
    page.goto("/c/lakeshore")
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Microcertifications de")
    expect(page.get_by_role("heading", name="Microcertifications publiées")).to_be_visible()
    assert_accessible(page, "the catalog in French")
    page.get_by_role("link", name=re.compile(PYFUND_FR)).first.click()
    expect(page.get_by_role("heading", name="Résultats d'apprentissage")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("heures")
    assert_accessible(page, "a catalog credential in French")
    switch_language(page, "English")
    expect(page.get_by_role("heading", name="Learning outcomes")).to_be_visible()
    assert_accessible(page, "a catalog credential in English")
    # remembered: the catalog itself now opens in English, whatever the browser says
    page.goto("/c/lakeshore")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page, "the catalog in English")
    switch_language(page, "Français")

    page.goto("/verify")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifier un titre de compétences")
    assert_accessible(page, "/verify in French")
    switch_language(page, "English")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify a credential")
    context.close()
