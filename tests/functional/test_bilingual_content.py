"""Bilingual catalog content (issue 10) through the admin forms: skills, micro-credentials
and the issuer profile edited in English and French side by side, French errors next to
the French field, the French texts kept by the snapshot at publication, and a missing
French text shown in English, marked, on the public pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import Action
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
from tests.support.catalog import review_data

FRENCH_CREDENTIAL = {
    "fr-title": "Notions fondamentales de Python",
    "fr-short_description": "Écrire, tester et déboguer de petits programmes Python.",
    "fr-learning_outcomes": "Écrire des programmes avec des variables\nUtiliser des "
                            "structures de contrôle\nÉcrire et appeler des fonctions",
    "fr-assessment_method": "Chaque compétence est démontrée dans une courte tâche.",
    "fr-credit_system": "Heures-crédits collégiales de l'Ontario",
    "fr-target_occupations": "Développeuse ou développeur débutant",
}


@pytest.fixture()
def avery(app, platform, db):
    issuer = make_issuer(db, platform)
    issuer.languages = ["en", "fr"]
    db.commit()
    return launch(app, platform, sub="admin-1", name="Avery Admin",
                  roles=[INSTITUTION_ADMIN, INSTRUCTOR])


def _add_skill(avery, **fields):
    form = avery.page("/admin/skills/new").form("/admin/skills/new")
    response = avery.submit(form, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return response


def test_a_skill_is_written_in_both_languages_side_by_side(avery, db):
    page = avery.page("/admin/skills/new")
    # Each French field sits beside its English one, marked as French for screen readers
    # and spell checkers, with its own label.
    assert re.search(r'<input type="text" id="f-fr-name" name="fr-name" value="" '
                     r'lang="fr-CA"', page.html)
    assert re.search(r'<textarea id="f-fr-criteria" name="fr-criteria" rows="4" '
                     r'lang="fr-CA"', page.html)
    assert '<label for="f-fr-name"><span class="visually-hidden">Name, </span>' \
           '<span lang="fr-CA">Français</span>' in page.html
    response = _add_skill(avery, code="PY-FUNC", name="Functions",
                          description="Define and call functions.",
                          **{"fr-name": "Fonctions",
                             "fr-description": "Définir et appeler des fonctions.",
                             "fr-criteria": ""})
    skill = db.scalars(select(Skill).where(Skill.code == "PY-FUNC")).one()
    assert (skill.name, skill.description) == ("Functions", "Define and call functions.")
    assert skill.translations == {"fr": {"name": "Fonctions",
                                         "description": "Définir et appeler des fonctions."}}
    edit = Page(avery.client.get(response.headers["Location"])).form("/edit")
    assert edit.value("fr-name") == "Fonctions"
    # Emptying the French name removes it (English stays the fallback).
    assert avery.submit(edit, **{"fr-name": ""}).status_code == 303
    db.expire_all()
    assert db.get(Skill, skill.id).translations == {
        "fr": {"description": "Définir et appeler des fonctions."}}


def test_a_french_error_shows_next_to_the_french_field_and_saves_nothing(avery, db):
    form = avery.page("/admin/skills/new").form("/admin/skills/new")
    page = Page(avery.submit(form, code="LONG", name="Long", **{"fr-name": "N" * 201}))
    assert page.status == 422
    assert page.is_invalid("fr-name") and not page.is_invalid("name")
    assert page.field_error("fr-name") == "Error: Too long: use at most 200 characters."
    assert page.summary_links() == ["f-fr-name"]
    assert "Name (French): Too long" in page.text
    assert db.scalars(select(Skill).where(Skill.code == "LONG")).first() is None


def test_a_credential_keeps_both_languages_through_review_and_publication(avery, db, app,
                                                                          platform):
    _add_skill(avery, code="PY-VAR", name="Variables and types",
               **{"fr-name": "Variables et types"})
    new = avery.page("/admin/credentials/new")
    assert 'id="f-fr-title" name="fr-title"' in new.html
    form = new.form("/admin/credentials/new")
    response = avery.submit(form, **credential_fields(**FRENCH_CREDENTIAL))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    version = db.scalars(select(CredentialVersion)).one()
    french = version.content["translations"]["fr"]
    assert french["title"] == "Notions fondamentales de Python"
    assert french["learning_outcomes"] == ["Écrire des programmes avec des variables",
                                           "Utiliser des structures de contrôle",
                                           "Écrire et appeler des fonctions"]
    assert french["target_occupations"] == ["Développeuse ou développeur débutant"]
    assert "long_description" not in french  # left empty: falls back to English

    # The edit form shows them again; a missing French text is pointed out (the issuer
    # publishes in French).
    edit = avery.page(f"/admin/versions/{version.id}/edit")
    assert edit.form("/edit").value("fr-title") == "Notions fondamentales de Python"
    assert 'id="f-long_description-missing"' in edit.html
    assert 'id="f-title-missing"' not in edit.html

    # Published: the snapshot freezes both languages, with the earning rule in French.
    issuer = db.scalars(select(Issuer)).one()
    author = catalog_service.Actor("account:x", "X", issuer.id,
                                   frozenset(catalog_service.ROLE_SCOPES[
                                       catalog_service.CatalogRole.CATALOG_ADMIN]))
    reviewer = catalog_service.Actor("account:y", "Y", issuer.id,
                                     frozenset(catalog_service.ROLE_SCOPES[
                                         catalog_service.CatalogRole.REVIEWER]))
    catalog_service.transition(db, author, version.id, Action.SUBMIT)
    catalog_service.review(db, reviewer, version.id, review_data(db, issuer.id))
    catalog_service.transition(db, author, version.id, Action.PUBLISH)
    db.commit()
    snapshot_fr = version.snapshot["translations"]["fr"]
    assert snapshot_fr["title"] == "Notions fondamentales de Python"
    assert snapshot_fr["earning_rule"] == "Pour l'obtenir : démontrer Variables et types."
    assert version.snapshot["skills"][0]["translations"] == {
        "fr": {"name": "Variables et types"}}

    client = app.test_client()
    french_page = client.get("/c/northern/PY-FUND?lang=fr").get_data(as_text=True)
    assert '<h1 id="credential-title">Notions fondamentales de Python</h1>' in french_page
    assert "Écrire et appeler des fonctions" in french_page
    assert "Pour l&#39;obtenir : démontrer Variables et types." in french_page
    # The long description has no French text: English, marked, never blank.
    assert ('<p class="prose"><span lang="en">Line one.\nLine two.</span> '
            '<span class="lang-fallback" lang="fr">(en anglais)</span></p>') in french_page
    english_page = client.get("/c/northern/PY-FUND?lang=en").get_data(as_text=True)
    assert '<h1 id="credential-title">Python Programming Fundamentals</h1>' in english_page
    assert "(en anglais)" not in english_page and "lang-fallback" not in english_page
    # The JSON description carries both languages.
    data = client.get("/c/northern/PY-FUND", headers={"Accept": "application/json"}).get_json()
    assert data["title"] == "Python Programming Fundamentals"
    assert data["translations"]["fr"]["title"] == "Notions fondamentales de Python"


def test_the_issuer_profile_is_edited_in_both_languages(avery, db, app):
    page = avery.page("/admin/issuer")
    form = page.form("/admin/issuer")
    response = avery.submit(form, **{"fr-name": "Collège du Nord",
                                     "fr-description": "Un collège public."})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    issuer = db.scalars(select(Issuer)).one()
    db.refresh(issuer)
    assert issuer.name == "Northern College"
    assert issuer.translations == {"fr": {"name": "Collège du Nord",
                                          "description": "Un collège public."}}
    listing = app.test_client().get("/c/northern?lang=fr").get_data(as_text=True)
    assert "Collège du Nord" in listing and "Un collège public." in listing


def test_missing_french_texts_are_listed_for_authors_and_reviewers(avery, db):
    _add_skill(avery, code="PY-VAR", name="Variables and types",
               **{"fr-name": "Variables et types"})
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    assert avery.submit(form, **credential_fields(**{
        "fr-title": "Notions fondamentales de Python"})).status_code == 303
    version = db.scalars(select(CredentialVersion)).one()
    page = avery.page(f"/admin/credentials/{version.credential_id}")
    check = page.html[page.html.index('id="french-check-title"'):]
    check = check[:check.index("</ul>")]
    assert "texts have no French version" in check
    assert "<li>Short description</li>" in check and "<li>Learning outcomes</li>" in check
    assert "<li>Title</li>" not in check  # it has its French text
    assert "<li>Skill PY-VAR: description</li>" not in check  # no English one either
    # The French reading: French title, the rest in English, marked.
    assert '<article class="preview" lang="fr-CA"' in page.html
    assert "Notions fondamentales de Python" in page.html
    assert ('<span lang="en">Write, test and debug small Python programs.</span> '
            '<span class="lang-fallback">(en anglais)</span>') in page.html


def test_a_french_learner_reads_the_catalog_texts_in_french_inside_the_course(app, db,
                                                                             platform):
    from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION
    from tests.support.learning import (
        INTROPROG,
        context_of,
        launch,
        offer,
        python_catalog,
    )
    from tests.support.learning import make_issuer as make_school

    issuer = make_school(db, platform)
    catalog_, version = python_catalog(db, issuer)
    variables = catalog_.skills["PY-VAR"]
    variables.translations = {"fr": {"name": "Variables et types de données"}}
    db.commit()
    launch(app, platform, "instructor_claims_INTROPROG.json",
           custom={"context_kind": "for-credit"})
    offer(db, issuer, context_of(db, platform, "2"), version)
    french = {CLAIM_LAUNCH_PRESENTATION: {"document_target": "iframe", "locale": "fr-CA"}}
    page = launch(app, platform, INTROPROG, sub="4", name="Sam Student",
                  email="student4@example.com", **french).page()
    assert page.status == 200 and '<html lang="fr-CA"' in page.html
    # A skill with its French name; the credential's title has none: English, marked.
    assert "Variables et types de données" in page.html
    assert ('<span lang="en">Python Programming Fundamentals</span> '
            '<span class="lang-fallback" lang="fr">(en anglais)</span>') in page.html
    english = launch(app, platform, INTROPROG, sub="4", name="Sam Student",
                     email="student4@example.com").page()
    assert "Variables et types de données" not in english.html
    assert "(en anglais)" not in english.html


def test_the_sandbox_demo_catalog_reads_in_both_languages(client):
    assert client.get("/sandbox").status_code == 200  # seeds Lakeshore College
    french = client.get("/c/lakeshore?lang=fr").get_data(as_text=True)
    assert "Collège d&#39;arts appliqués et de technologie Lakeshore" in french
    assert "Notions fondamentales de programmation Python" in french
    assert "(en anglais)" not in french
    page = client.get("/c/lakeshore/PYFUND?lang=fr").get_data(as_text=True)
    assert "Suivre et partager du code avec un système de gestion de versions." in page
    assert "Notions de gestion de versions" in page  # a skill's French name
    english = client.get("/c/lakeshore/PYFUND?lang=en").get_data(as_text=True)
    assert "Track and share code with a version control system." in english
    assert "Version control basics" in english


def test_a_credential_page_marks_what_has_no_french_text(app, db, client):
    from tests.support.issuing import earn

    earned = earn(db, email="lea@example.edu", locale="fr-CA", translations={"fr": {
        "title": "Programmation de base", "learning_outcomes": ["Écrire une boucle."]}})
    db.commit()
    page = client.get(f"/credentials/{earned.award.public_id}?lang=fr").get_data(as_text=True)
    assert '<h1 id="credential-title">Programmation de base</h1>' in page
    assert "<li>Écrire une boucle.</li>" in page
    # The short description has no French text: English, marked, never blank.
    assert (f'<p class="lead"><span lang="en">What {earned.version.credential.code} '
            'certifies.</span> <span class="lang-fallback" lang="fr">(en anglais)</span>'
            '</p>') in page
    english = client.get(f"/credentials/{earned.award.public_id}?lang=en").get_data(
        as_text=True)
    assert f'<h1 id="credential-title">{earned.version.title}</h1>' in english
    assert "lang-fallback" not in english
