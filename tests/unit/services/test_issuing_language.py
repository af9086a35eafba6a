"""Which language a credential is issued in (issue 10): the learner's, as their latest
launch's locale says, when the version has a French text; what the credential then says in
that language; that it stays valid against the 1EdTech schemas and our verifier; and that
the other language is named as an edition of the same achievement (OB 3.0 ``related``)."""

from __future__ import annotations

import pytest

from lti_tool.badges import schemas
from lti_tool.models import LearnerAccount
from lti_tool.services import issuing
from lti_tool.services.catalog import learner_view
from tests.support.issuing import BASE, earn, refuse_network, vault_of

FRENCH = {"fr": {"title": "Programmation de base",
                 "short_description": "Écrire de petits programmes.",
                 "learning_outcomes": ["Écrire une boucle.", "Appeler une fonction."],
                 "assessment_method": "Tâches observées en laboratoire.",
                 "field_of_study": "Informatique"}}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch)


def issue(app, db, award):
    return issuing.issue_for_award(db, award, vault=vault_of(app), base_url=BASE)


def test_a_french_speaking_learner_gets_the_credential_in_french(app, db):
    earned = earn(db, email="amelie@example.edu", locale="fr-CA", translations=FRENCH,
                  notional_hours="37.5", delivery_modes=["asynchronous"])
    record = issue(app, db, earned.award)
    credential = record.json
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "fr-CA"
    assert credential["name"] == achievement["name"] == "Programmation de base"
    assert credential["description"] == achievement["description"] == \
        "Écrire de petits programmes."
    assert achievement["fieldOfStudy"] == "Informatique"
    narrative = achievement["criteria"]["narrative"]
    assert narrative.startswith("Résultats d'apprentissage :\n\n1. Écrire une boucle.\n"
                                "2. Appeler une fonction.")
    assert "Évaluation : Tâches observées en laboratoire." in narrative
    assert "Heures d'apprentissage théoriques : 37,5." in narrative
    assert "Mode de prestation : En ligne, asynchrone." in narrative
    # The skills have no French texts: the earning rule falls back to their English names.
    assert "Règle d'obtention : Pour l'obtenir : démontrer" in narrative
    assert achievement["resultDescription"][0]["name"] == "Réussite ou échec"
    assert achievement["image"]["caption"].startswith("Badge : Programmation de base, émis par")
    assert achievement["image"]["id"].endswith(".svg?lang=fr")
    assert credential["credentialSubject"]["source"]["description"].startswith(
        "Obtenue par la voie « Dans un cours crédité » dans le cours")
    assert credential["evidence"][0]["narrative"].startswith("Compétence : ")
    assert achievement["related"] == [{
        "id": f"{achievement['id']}?lang=en", "type": ["Related"], "inLanguage": "en",
        "version": achievement["version"]}]
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL) == []
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL_PLAIN) == []
    report = issuing.verify_record(db, record, base_url=BASE)
    assert report.result == "valid", report.reason
    assert issuing.verify_record(db, record, base_url=BASE, form="jwt").result == "valid"


def test_an_english_speaking_learner_gets_english_with_the_french_edition_named(app, db):
    earned = earn(db, email="lena@example.edu", locale="en-US", translations=FRENCH)
    achievement = issue(app, db, earned.award).json["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "en"
    assert achievement["name"] == earned.version.title
    assert achievement["related"] == [{
        "id": f"{achievement['id']}?lang=fr", "type": ["Related"], "inLanguage": "fr-CA",
        "version": achievement["version"]}]


def test_french_is_never_claimed_for_a_credential_without_french_texts(app, db):
    earned = earn(db, email="marc@example.edu", locale="fr_CA")
    achievement = issue(app, db, earned.award).json["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "en"
    assert achievement["name"] == earned.version.title
    assert "related" not in achievement


def test_the_latest_launch_decides_and_the_issuers_language_is_the_default(app, db):
    earned = earn(db, email="sam@example.edu", locale="fr", translations=FRENCH)
    account = db.get(LearnerAccount, earned.learner.id)
    assert account is not None and account.language == "fr"
    assert issuing.choose_language(db, earned.award, learner_view(earned.award.version),
                                   earned.campus.issuer) == "fr"
    # A launch without a locale keeps the remembered language.
    earned.campus.learner(earned.learner.sub, earned.course)
    db.refresh(account)
    assert account.language == "fr"
    earned.campus.learner(earned.learner.sub, earned.course, locale="en-CA")
    db.refresh(account)
    assert account.language == "en"
    # Nobody said: the issuer's first publishing language.
    account.language = ""
    earned.campus.issuer.languages = ["fr", "en"]
    db.flush()
    assert issuing.choose_language(db, earned.award, learner_view(earned.award.version),
                                   earned.campus.issuer) == "fr"
    earned.campus.issuer.languages = ["en", "fr"]
    assert issuing.choose_language(db, earned.award, learner_view(earned.award.version),
                                   earned.campus.issuer) == "en"


def test_the_badge_picture_speaks_the_credentials_language(app, db):
    earned = earn(db, email="amelie2@example.edu", locale="fr-CA", translations=FRENCH)
    record = issue(app, db, earned.award)
    svg = issuing.badge_svg(record)
    assert 'lang="fr-CA"' in svg and "MICROCERTIFICATION" in svg
    assert "<title id=\"badge-title\">Programmation de base</title>" in svg
    english = issue(app, db, earn(db, email="x@example.edu", locale="en").award)
    assert "MICRO-CREDENTIAL" in issuing.badge_svg(english)

