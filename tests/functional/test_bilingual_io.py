"""Bilingual catalog content through import and export (issue 10): the JSON document carries
every French text (skills, versions, snapshots, the issuer profile) and round-trips; the
skills CSV has French columns, and accepts what spreadsheets in a French locale save
(semicolons, a byte-order mark, Windows-1252)."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Skill
from lti_tool.services import catalog
from lti_tool.services.catalog_io import (
    export_catalog,
    export_skills_csv,
    import_catalog,
    import_skills_csv,
)
from lti_tool.services.demo import seed_demo
from tests.support.catalog import CatalogBuilder, actor, catalog_counts, make_issuer, skill_data


def _skill(db: Session, issuer_id: int, code: str) -> Skill:
    return db.scalars(select(Skill).where(Skill.issuer_id == issuer_id,
                                          Skill.code == code)).one()


def test_the_json_export_carries_both_languages_and_round_trips(app: Flask,
                                                                db: Session) -> None:
    rt = app.extensions["lti"]
    issuer = seed_demo(db, rt.vault, rt.base_url).issuer
    author = actor(issuer)
    first = export_catalog(db, author)
    assert first["issuer"]["translations"]["fr"]["name"] == \
        "Collège d'arts appliqués et de technologie Lakeshore"
    skills = {s["code"]: s for s in first["skills"]}
    assert skills["PY-FUNC"]["translations"] == {"fr": {
        "name": "Fonctions",
        "description": "Décompose un problème en fonctions avec paramètres et valeurs de "
                       "retour.",
        "criteria": "Regroupe du code répété dans une fonction documentée avec paramètres "
                    "et valeur de retour, et l'appelle à deux endroits."}}
    pyfund = next(c for c in first["credentials"] if c["code"] == "PYFUND")
    published = pyfund["versions"][1]
    assert published["content"]["translations"]["fr"]["title"] == \
        "Notions fondamentales de programmation Python"
    assert published["snapshot"]["translations"]["fr"]["earning_rule"].startswith(
        "Pour l'obtenir : démontrer Variables et types de données, Structures de contrôle")
    sheets = next(c for c in first["credentials"] if c["code"] == "SHEETS")
    assert "translations" not in sheets["versions"][0]["content"]  # English only

    target = make_issuer(db, "college-francais")
    importer = actor(target, "account:importer", "Ivy Importer")
    report = import_catalog(db, importer, json.loads(json.dumps(first)))
    assert report.ok, report.problems
    db.expire_all()
    second = export_catalog(db, importer)
    for doc in (first, second):
        doc.pop("exported_at")
        doc.pop("issuer")
    assert json.loads(json.dumps(second)) == json.loads(json.dumps(first))
    assert _skill(db, target.id, "PY-FUNC").translations["fr"]["name"] == "Fonctions"


def test_an_unknown_language_or_a_too_long_french_text_is_refused_with_its_place(
        db: Session) -> None:
    b = CatalogBuilder(db)
    before = catalog_counts(db)
    doc = {"format": "microcred-catalog", "format_version": 1, "skills": [
        skill_data("S1", translations={"de": {"name": "Schleifen"}}),
        skill_data("S2", translations={"fr": {"name": "N" * 201}})]}
    report = import_catalog(db, b.author, doc)
    assert not report.ok
    places = {(p["where"], p["message"]) for p in report.problems}
    assert ("skills[0].translations.de", "Unknown field.") in places
    assert ("skills[1].translations.fr.name", "Length must be between 0 and 200.") in places
    assert catalog_counts(db) == before


def test_a_semicolon_csv_from_a_french_spreadsheet_imports_both_languages(
        db: Session) -> None:
    b = CatalogBuilder(db)
    # Excel in a French locale: semicolons, a byte-order mark, CRLF; a semicolon inside a
    # quoted cell stays text.
    payload = ("\ufeffcode;name;description;name_fr;description_fr;criteria_fr\r\n"
               "LOOP;Loops;Repeat steps.;Boucles;\"Répéter des étapes; au besoin.\";\r\n"
               "DBG;Debugging;;Débogage;;Trouve et corrige trois défauts.\r\n").encode()
    report = import_skills_csv(db, b.author, payload)
    assert report.ok, report.problems
    loop = _skill(db, b.issuer.id, "LOOP")
    assert (loop.name, loop.description) == ("Loops", "Repeat steps.")
    assert loop.translations == {"fr": {"name": "Boucles",
                                        "description": "Répéter des étapes; au besoin."}}
    assert _skill(db, b.issuer.id, "DBG").translations == {"fr": {
        "name": "Débogage", "criteria": "Trouve et corrige trois défauts."}}


def test_a_windows_1252_csv_is_read_with_its_accents(db: Session) -> None:
    b = CatalogBuilder(db)
    payload = "code;name;name_fr\r\nCARE;Client care;Soins à la clientèle\r\n".encode("cp1252")
    report = import_skills_csv(db, b.author, payload)
    assert report.ok, report.problems
    assert _skill(db, b.issuer.id, "CARE").translations == {
        "fr": {"name": "Soins à la clientèle"}}


def test_csv_french_columns_left_out_keep_the_french_texts(db: Session) -> None:
    b = CatalogBuilder(db)
    catalog.create_skill(db, b.author, skill_data("S1", translations={
        "fr": {"name": "Compétence S1", "criteria": "Critère en français."}}))
    report = import_skills_csv(db, b.author, "code,name,name_fr\nS1,Skill S1,\n")
    assert report.ok, report.problems
    # name_fr was given empty: removed; criteria_fr was not a column: kept.
    assert _skill(db, b.issuer.id, "S1").translations == {
        "fr": {"criteria": "Critère en français."}}
    bad = import_skills_csv(db, b.author, "code;name;name_fr\nS1;Skill S1;" + "N" * 201 + "\n")
    assert not bad.ok
    assert bad.problems == [{"where": "row 2", "field": "name_fr",
                             "message": "Length must be between 0 and 200."}]


def test_the_semicolon_export_opens_in_a_french_spreadsheet_and_imports_back(
        db: Session) -> None:
    b = CatalogBuilder(db)
    catalog.create_skill(db, b.author, skill_data("S1", description="Uses ; and , both.",
                                                  translations={"fr": {
                                                      "name": "Compétence un",
                                                      "description": "Décrit ; et , aussi."}}))
    exported = export_skills_csv(db, b.author, delimiter=";")
    assert exported.startswith("\ufeffcode;name;description;criteria;tags;")
    assert exported.splitlines()[0].endswith(";name_fr;description_fr;criteria_fr")
    assert '"Décrit ; et , aussi."' in exported
    target = CatalogBuilder(db, make_issuer(db, "autre-college"))
    report = import_skills_csv(db, target.author, exported.encode("utf-8"))
    assert report.ok, report.problems
    copy = _skill(db, target.issuer.id, "S1")
    assert copy.description == "Uses ; and , both."
    assert copy.translations == {"fr": {"name": "Compétence un",
                                        "description": "Décrit ; et , aussi."}}
    # The comma export has the same columns, French included.
    assert export_skills_csv(db, b.author).splitlines()[0].endswith(
        ",name_fr,description_fr,criteria_fr")


# -- the REST API -------------------------------------------------------------------------
def test_the_api_accepts_and_returns_both_languages(client, db) -> None:
    from tests.support.api import Api, credential_body, make_token, skill_body
    from tests.support.api import make_issuer as make_api_issuer

    issuer = make_api_issuer(db)
    api = Api(client, make_token(db, issuer))
    created = api.post("/api/v1/skills", json=skill_body(
        "LOOP", name="Loops", translations={"fr": {"name": "Boucles", "criteria": ""}}))
    assert created.status_code == 201, created.get_json()
    skill = created.get_json()
    assert skill["translations"] == {"fr": {"name": "Boucles"}}  # empty texts dropped
    assert api.get(f"/api/v1/skills/{skill['id']}").get_json()["translations"] == {
        "fr": {"name": "Boucles"}}

    refused = api.post("/api/v1/skills", json=skill_body(
        "LOOP2", name="Loops", translations={"de": {"name": "Schleifen"}}))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"translations.de": ["Unknown field."]}

    body = credential_body("PROG", ["LOOP"], translations={"fr": {
        "title": "Programmation", "learning_outcomes": ["Écrire une boucle."]}})
    made = api.post("/api/v1/credentials", json=body)
    assert made.status_code == 201, made.get_json()
    version = api.version(made.get_json()["id"])
    assert version["content"]["translations"] == {"fr": {
        "title": "Programmation", "learning_outcomes": ["Écrire une boucle."]}}
    assert version["skills"][0]["translations"] == {"fr": {"name": "Boucles"}}
    # What review checks: every text with English but no French, the skills' too.
    assert version["missing_translations"] == [
        "short_description", "assessment_method", "skills.LOOP.description",
        "skills.LOOP.criteria"]
    listed = api.get("/api/v1/credentials").get_json()["items"][0]
    assert listed["translations"] == {"fr": {"title": "Programmation"}}
    issuer_doc = api.get("/api/v1/issuer").get_json()
    assert issuer_doc["translations"] == {}

    semicolon = api.get("/api/v1/skills.csv?separator=semicolon")
    assert semicolon.status_code == 200
    assert semicolon.get_data(as_text=True).startswith("\ufeffcode;name;")
    assert api.get("/api/v1/skills.csv?separator=pipe").status_code == 422
