"""Public endpoints an operator or a platform relies on: health and readiness, the tool's
JWKS across key rotation, the Canvas developer-key JSON, error pages, request size limits
and the headers every response carries."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import create_app
from lti_tool.errors import ConfigurationError
from lti_tool.models import ToolKey
from lti_tool.models.base import utcnow
from lti_tool.services.keys import KeyVault, active_key, rotate_keys
from lti_tool.settings import load_settings

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _uint(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def jwks(client: FlaskClient) -> list[dict[str, str]]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    keys: list[dict[str, str]] = response.get_json()["keys"]
    return keys


# -- health and readiness ---------------------------------------------------------------------
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_database_and_store(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["store"] == "ok"
    assert body["checks"]["store_kind"] == "redis"


def test_readyz_is_503_when_redis_is_unreachable(tmp_path: Path):
    # Nothing listens on 6390: the store check must fail fast and say so.
    app = create_app({"ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'ready.sqlite3'}",
                      "REDIS_URL": "redis://127.0.0.1:6390/0",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["store"] == "unavailable"
        assert "6390" not in response.get_data(as_text=True)  # no connection details leak
        # Liveness does not depend on Redis: the process is up.
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        app.extensions["db_engine"].dispose()


# -- the tool's JWKS and its keys -----------------------------------------------------------
def test_jwks_publishes_public_rsa_keys_only(client, db):
    keys = jwks(client)
    assert len(keys) == 1
    [jwk] = keys
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    assert jwk["kid"]
    assert not PRIVATE_JWK_MEMBERS & set(jwk)
    assert _uint(jwk["n"]).bit_length() >= 2048
    # The JWKS is stable: a second fetch does not mint another key.
    assert jwks(client) == keys
    assert client.get("/.well-known/jwks.json").headers["Cache-Control"].startswith("public")


def test_published_key_verifies_what_the_tool_signs(app, client, db):
    [jwk] = jwks(client)
    key = db.scalars(select(ToolKey).where(ToolKey.kid == jwk["kid"])).one()
    private = app.extensions["lti"].vault.private_key(key)
    signature = private.sign(b"client assertion", padding.PKCS1v15(), hashes.SHA256())
    public = rsa.RSAPublicNumbers(_uint(jwk["e"]), _uint(jwk["n"])).public_key()
    public.verify(signature, b"client assertion", padding.PKCS1v15(), hashes.SHA256())


def test_rotation_publishes_new_and_previous_key_until_grace_ends(app, client, db):
    [first] = jwks(client)
    vault = app.extensions["lti"].vault
    new = rotate_keys(db, vault, grace_days=14)
    db.commit()

    kids = [k["kid"] for k in jwks(client)]
    assert kids == [new.kid, first["kid"]]  # newest first
    old = db.scalars(select(ToolKey).where(ToolKey.kid == first["kid"])).one()
    assert old.status == "retired"
    assert old.publish_until is not None
    assert old.publish_until > utcnow() + timedelta(days=13)
    assert active_key(db).kid == new.kid  # type: ignore[union-attr]

    old.publish_until = utcnow() - timedelta(seconds=1)
    db.commit()
    assert [k["kid"] for k in jwks(client)] == [new.kid]


def test_private_keys_are_encrypted_at_rest(app, client, db):
    [jwk] = jwks(client)
    key = db.scalars(select(ToolKey).where(ToolKey.kid == jwk["kid"])).one()
    stored = bytes(key.private_pem_encrypted)
    assert b"PRIVATE KEY" not in stored
    assert b"-----BEGIN" not in stored
    assert app.extensions["lti"].vault.private_pem(key).startswith("-----BEGIN PRIVATE KEY")

    other = KeyVault("a-different-secret")
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        other.private_key(key)
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        other.private_pem(key)


def test_key_vault_requires_a_secret():
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        KeyVault("")


# -- Canvas developer key JSON -------------------------------------------------------------------
def test_canvas_config_json(client):
    response = client.get("/lti/config/canvas.json")
    assert response.status_code == 200
    config = response.get_json()
    assert config["oidc_initiation_url"] == "http://tool.test/lti/login"
    assert config["target_link_uri"] == "http://tool.test/lti/launch"
    assert config["public_jwk_url"] == "http://tool.test/.well-known/jwks.json"
    [extension] = config["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["domain"] == "tool.test"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {"course_navigation", "link_selection"}
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    for placement in placements.values():
        assert placement["target_link_uri"] == "http://tool.test/lti/launch"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]


# -- errors -----------------------------------------------------------------------------------
def test_404_is_an_html_page_that_can_render_in_the_lms_frame(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "That page does not exist." in html
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert response.headers["X-Request-ID"] in html  # quotable to support
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_404_is_json_for_api_clients(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "http_404"
    assert error["message"] == "That page does not exist."
    assert error["request_id"] == response.headers["X-Request-ID"]


def test_request_body_over_the_limit_is_413(app, client, db):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b"id_token=" + b"a" * (limit + 1)
    response = client.post("/lti/launch", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "The request is too large." in response.get_data(as_text=True)
    just_under = client.post("/lti/launch", data={"id_token": "x.y.z", "state": "s"})
    assert just_under.status_code == 400  # a normal bad launch, not a size error


# -- headers on every response ----------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/.well-known/jwks.json"),
    ("GET", "/lti/config/canvas.json"), ("GET", "/no/such/page"),
    ("GET", "/static/css/app.css"), ("GET", "/lti/register"), ("POST", "/lti/launch"),
    ("GET", "/lti/launch"),
])
def test_every_response_carries_security_headers(client, db, method, path):
    response = client.open(path, method=method)
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", response.headers["X-Request-ID"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp
    assert directives["object-src"] == ["'none'"]
    response.close()


def test_hsts_is_sent_over_https_when_configured(app, client, monkeypatch):
    """Production sets a year; the header follows PUBLIC_BASE_URL, never plain http."""
    assert "Strict-Transport-Security" not in client.get("/healthz").headers  # test: 0
    monkeypatch.setitem(app.config, "HSTS_MAX_AGE_SECONDS", 31536000)
    assert "Strict-Transport-Security" not in client.get("/healthz").headers  # http base
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://tool.example.edu")
    for path in ("/healthz", "/no/such/page", "/lti/launch"):
        assert client.get(path).headers["Strict-Transport-Security"] == "max-age=31536000"


def test_production_sends_hsts_for_a_year():
    from tests.unit.test_settings import PRODUCTION

    assert load_settings(environ=PRODUCTION)["HSTS_MAX_AGE_SECONDS"] == 365 * 24 * 3600


def test_valid_incoming_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21.req_42"})
    assert response.headers["X-Request-ID"] == "lb-7f3a9c21.req_42"


@pytest.mark.parametrize("incoming", ["short", "has spaces in it", "<script>alert(1)</script>",
                                      "x" * 65, "abc\u00e9defgh"])
def test_invalid_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])


def test_request_ids_differ_between_requests(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz").headers["X-Request-ID"] != first
