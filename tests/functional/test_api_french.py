"""The API's error messages follow ``Accept-Language``: the machine-readable ``code`` (and
the field names) never change, the human ``title`` and ``message`` (and the messages MicroCred
writes for fields) are in Canadian French for ``fr-CA`` and in English otherwise."""

from __future__ import annotations

import pytest

from tests.support.api import Api, make_issuer, make_token, skill_body

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture()
def api(client, db):
    return Api(client, make_token(db, make_issuer(db)))


def _error(response) -> dict:
    body = response.get_json()
    assert body is not None, response.data
    return body["error"]


def _both(send) -> tuple[dict, dict, int]:
    french, english = send(FRENCH), send(ENGLISH)
    assert french.status_code == english.status_code
    fr, en = _error(french), _error(english)
    assert fr["code"] == en["code"]
    assert set(fr.get("fields", {})) == set(en.get("fields", {}))
    return fr, en, french.status_code


def test_an_unknown_token_is_explained_in_the_language_asked(client, db) -> None:
    make_issuer(db)
    fr, en, status = _both(lambda h: client.get(
        "/api/v1/skills", headers={"Authorization": "Bearer mc_nope_nope", **h}))
    assert status == 401 and fr["code"] == "invalid_token"
    assert fr["title"] == "Jeton d'API non valide"
    assert fr["message"] == ("Ce jeton d'API n'est pas valide\u00a0: il est inconnu, mal formé "
                             "ou révoqué.")
    assert en["message"] == "This API token is not valid: it is unknown, malformed or revoked."


def test_a_missing_scheme_and_a_missing_token(client, db) -> None:
    make_issuer(db)
    fr, en, status = _both(lambda h: client.get("/api/v1/skills",
                                                headers={"Authorization": "Basic x", **h}))
    assert status == 401 and fr["code"] == "invalid_token"
    assert "Utilisez le schéma Bearer" in fr["message"]
    assert en["message"].startswith("Use the Bearer scheme")
    fr, en, status = _both(lambda h: client.get("/api/v1/skills", headers=h))
    assert status == 401 and fr["code"] == "unauthorized"
    assert fr["title"] == "Authentification requise"
    assert en["title"] == "Authentication required"


def test_not_found_conflict_and_field_messages_in_french(api) -> None:
    fr, en, status = _both(lambda h: api.get("/api/v1/skills/999999", headers=h))
    assert status == 404 and fr["code"] == "not_found"
    assert fr["message"] == "Cette compétence n'existe pas dans ce catalogue."
    assert en["message"] == "No such skill in this catalog."

    api.create_skill("dup")
    fr, en, status = _both(lambda h: api.post("/api/v1/skills", json=skill_body("dup"),
                                              headers=h))
    assert status == 422 and fr["code"] == "validation_failed"
    assert fr["fields"]["code"] == ["dup est déjà utilisé par une autre compétence"]
    assert en["fields"]["code"] == ["dup is already used by another skill"]

    skill = api.create_skill("used")
    api.create_credential("cred", ["used"])
    fr, en, status = _both(lambda h: api.delete(f"/api/v1/skills/{skill['id']}", headers=h))
    assert status == 409 and fr["code"] == "skill_in_use"
    assert fr["message"] == ("Cette compétence fait partie d'une microcertification et ne peut "
                             "pas être supprimée.")


def test_bad_bodies_and_media_types_in_french(api) -> None:
    fr, en, status = _both(lambda h: api.post(
        "/api/v1/skills", data="{not json", headers={"Content-Type": "application/json", **h}))
    assert status == 422
    assert fr["message"] == "Le corps de la requête n'est pas du JSON valide."
    assert fr["fields"]["_body"] == ["n'est pas du JSON valide (UTF-8)"]
    fr, en, status = _both(lambda h: api.post(
        "/api/v1/skills", data="a,b", headers={"Content-Type": "text/csv", **h}))
    assert status == 415 and fr["code"] == "unsupported_media_type"
    assert en["title"] == "Unsupported media type"
    assert fr["title"] == "Type de média non pris en charge"
    assert "Content-Type: application/json" in fr["message"]


def test_a_refused_transition_in_french(api) -> None:
    api.create_skill("s1")
    credential = api.create_credential("c1", ["s1"])
    version_id = credential["id"]  # the new credential's version 1 (a draft)
    fr, en, status = _both(lambda h: api.post(
        f"/api/v1/versions/{version_id}/transitions", json={"action": "publish"},
        headers={"If-Match": "*", **h}))
    assert status == 409 and fr["code"] == "transition_refused"
    assert fr["message"] == ("Seule une version approuvée peut être publiée. Cette version est "
                             "à l'état «\u00a0brouillon\u00a0».")
    assert en["message"] == "Only an approved version can be published. This version is draft."
