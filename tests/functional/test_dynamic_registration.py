"""LTI Dynamic Registration driven end to end against in-test platforms: the real Moodle 5.0.6
exchange, an old Moodle (3.10-4.0 quirks) and Instructure-hosted Canvas, whose registration
has no deployment id until the first launch. https://www.imsglobal.org/spec/lti-dr/v1p0"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from lti_tool.models import AuditEvent, Deployment, Issuer, Platform
from tests.support.lti import follow, full_launch
from tests.support.platform import MOODLE, FakeTransport, TestPlatform

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
REGISTRATION_TOKEN = "reg-token-8f2c"
# The institution the administrator links the platform to (a new one, on an empty tool).
NEW_COLLEGE = {"institution": "new", "new_name": "Lakeshore College",
               "new_url": "https://www.lakeshore.example.edu",
               "new_email": "registrar@lakeshore.example.edu", "new_slug": "lakeshore"}

# -- the captured Moodle 5.0.6 platform -------------------------------------------------
MOODLE_ISSUER = "http://127.0.0.1:8088"
MOODLE_CONFIG_URL = MOODLE_ISSUER + "/mod/lti/openid-configuration.php"
MOODLE_REGISTRATION_URL = MOODLE_ISSUER + "/mod/lti/openid-registration.php"
MOODLE_CONFIG: dict[str, Any] = json.loads((MOODLE / "openid_configuration.json").read_text())
MOODLE_EXCHANGE: dict[str, Any] = json.loads(
    (MOODLE / "dynamic_registration_exchange.json").read_text())

# -- Moodle 3.10-4.0: trailing-space key, no authorization_endpoint, string messages -------
OLD_MOODLE_ISSUER = "https://oldmoodle.example.edu"
OLD_MOODLE_CONFIG_URL = OLD_MOODLE_ISSUER + "/mod/lti/openid-configuration.php"
OLD_MOODLE_REGISTRATION_URL = OLD_MOODLE_ISSUER + "/mod/lti/openid-registration.php"
OLD_MOODLE_CONFIG: dict[str, Any] = {
    "issuer": OLD_MOODLE_ISSUER,
    "token_endpoint": OLD_MOODLE_ISSUER + "/mod/lti/token.php",
    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
    "jwks_uri": OLD_MOODLE_ISSUER + "/mod/lti/certs.php",
    "registration_endpoint": OLD_MOODLE_REGISTRATION_URL,
    "scopes_supported": ["https://purl.imsglobal.org/spec/lti-ags/scope/score", "openid"],
    "response_types_supported": ["id_token"],
    "subject_types_supported": ["public", "pairwise"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
    PLATFORM_CONFIGURATION + " ": {
        "product_family_code": "moodle",
        "version": "3.11.4 (Build: 20211108)",
        "messages_supported": ["LtiResourceLink", "LtiDeepLinkingRequest"],
    },
}

# -- Instructure-hosted Canvas ------------------------------------------------------------
CANVAS_ISSUER = "https://canvas.instructure.com"
CANVAS_CONFIG_URL = "https://school.instructure.com/api/lti/security/openid-configuration"
CANVAS_REGISTRATION_URL = "https://school.instructure.com/api/lti/registrations"
CANVAS_AUTH_URL = "https://sso.canvaslms.com/api/lti/authorize_redirect"
CANVAS_TOKEN_URL = "https://sso.canvaslms.com/login/oauth2/token"
CANVAS_JWKS_URL = "https://sso.canvaslms.com/api/lti/security/jwks"
CANVAS_CLIENT_ID = "10000000000042"
CANVAS_CONFIG: dict[str, Any] = {
    "issuer": CANVAS_ISSUER,
    "authorization_endpoint": CANVAS_AUTH_URL,
    "registration_endpoint": CANVAS_REGISTRATION_URL,
    "jwks_uri": CANVAS_JWKS_URL,
    "token_endpoint": CANVAS_TOKEN_URL,
    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
    "scopes_supported": [
        "openid",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    ],
    "response_types_supported": ["id_token"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
    "subject_types_supported": ["public"],
    "authorization_server": "sso.canvaslms.com",
    PLATFORM_CONFIGURATION: {
        "product_family_code": "canvas",
        "version": "OpenSource",
        "messages_supported": [
            {"type": "LtiResourceLinkRequest",
             "placements": ["course_navigation", "assignment_selection"]},
            {"type": "LtiDeepLinkingRequest",
             "placements": ["link_selection", "editor_button"]},
        ],
        "variables": ["Canvas.course.id"],
    },
}


def canvas_registration_response(request: requests.PreparedRequest) -> tuple[int, Any]:
    """Canvas echoes the registration with a client id and no deployment id."""
    sent = json.loads(request.body or b"{}")
    answer = copy.deepcopy(sent)
    answer["client_id"] = CANVAS_CLIENT_ID
    answer[TOOL_CONFIGURATION]["https://canvas.instructure.com/lti/registration_config_url"] = (
        "https://school.instructure.com/api/lti/registrations/42/view")
    return 200, answer


# -- helpers ----------------------------------------------------------------------------------
def serve_moodle(transport: FakeTransport, registration: Any = None) -> None:
    transport.add("GET", MOODLE_CONFIG_URL, MOODLE_CONFIG)
    transport.add("POST", MOODLE_REGISTRATION_URL, registration or (
        lambda _req: (200, MOODLE_EXCHANGE["response"])))


def start(client: FlaskClient, config_url: str,
          token: str = REGISTRATION_TOKEN) -> tuple[TestResponse, str]:
    response = client.get("/lti/register", query_string={
        "openid_configuration": config_url, "registration_token": token})
    match = re.search(r'name="ticket" value="([^"]+)"', response.get_data(as_text=True))
    return response, match.group(1) if match else ""


def posts(transport: FakeTransport) -> list[requests.PreparedRequest]:
    return [r for r in transport.requests if r.method == "POST"]


def platform_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Platform)) or 0


def assert_error_page(response: TestResponse, status: int, code: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:2000]
    assert response.mimetype == "text/html"
    assert f"<code>{code}</code>" in html
    assert "Traceback" not in html
    return html


# -- the happy paths --------------------------------------------------------------------------
def test_moodle_registration_creates_platform_with_deployment(client, transport, db):
    serve_moodle(transport)

    confirm, ticket = start(client, MOODLE_CONFIG_URL)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert MOODLE_ISSUER in html
    assert "moodle" in html
    assert ticket
    assert posts(transport) == []  # nothing is registered before the administrator confirms

    done = client.post("/lti/register",
                       data={"ticket": ticket, "name": "College Moodle", **NEW_COLLEGE})
    page = done.get_data(as_text=True)
    assert done.status_code == 200, page[:2000]
    assert "College Moodle can now launch MicroCred" in page
    assert "PvsVMoA3kylQdkP" in page

    platform = db.scalars(select(Platform).where(Platform.issuer == MOODLE_ISSUER)).one()
    assert platform.client_id == "PvsVMoA3kylQdkP"
    assert platform.name == "College Moodle"
    assert platform.auth_login_url == MOODLE_ISSUER + "/mod/lti/auth.php"
    assert platform.auth_token_url == MOODLE_ISSUER + "/mod/lti/token.php"
    assert platform.jwks_url == MOODLE_ISSUER + "/mod/lti/certs.php"
    assert platform.product_family == "moodle"
    assert platform.registered_via == "dynamic"
    assert platform.accept_new_deployments is False
    assert [d.deployment_id for d in platform.deployments] == ["2"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "platform.registered")).one()
    assert event.platform_id == platform.id
    assert event.detail["via"] == "dynamic"


def test_moodle_registration_request_carries_token_and_tool_urls(client, transport):
    serve_moodle(transport)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    assert client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE}).status_code == 200

    [sent] = posts(transport)
    assert sent.url == MOODLE_REGISTRATION_URL
    assert sent.headers["Authorization"] == f"Bearer {REGISTRATION_TOKEN}"
    assert sent.headers["Content-Type"] == "application/json"
    body = json.loads(sent.body or b"{}")
    assert body["initiate_login_uri"] == "http://tool.test/lti/login"
    assert body["redirect_uris"] == ["http://tool.test/lti/launch"]
    assert body["jwks_uri"] == "http://tool.test/.well-known/jwks.json"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    tool = body[TOOL_CONFIGURATION]
    assert tool["domain"] == "tool.test"
    assert tool["target_link_uri"] == "http://tool.test/lti/launch"
    messages = {m["type"]: m for m in tool["messages"]}
    assert messages["LtiDeepLinkingRequest"]["target_link_uri"] == "http://tool.test/lti/launch"
    assert messages["LtiDeepLinkingRequest"]["placements"] == ["ContentArea"]
    assert "LtiResourceLinkRequest" in messages
    # Only scopes Moodle offers are requested (it offers all of ours).
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in body["scope"].split()


def test_moodle_registration_lets_its_deployment_launch(client, transport, db):
    serve_moodle(transport)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    assert client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE}).status_code == 200

    moodle = TestPlatform(issuer=MOODLE_ISSUER, client_id="PvsVMoA3kylQdkP", deployment_id="2")
    transport.add("GET", moodle.jwks_url, lambda _req: (200, moodle.jwks()))
    page = follow(client, full_launch(client, moodle))
    assert page.status_code == 200
    assert "Intro to Programming (for credit)" in page.get_data(as_text=True)


def test_old_moodle_quirks_are_tolerated(client, transport, db):
    transport.add("GET", OLD_MOODLE_CONFIG_URL, OLD_MOODLE_CONFIG)
    transport.add("POST", OLD_MOODLE_REGISTRATION_URL, lambda _req: (200, {
        "client_id": "old-client", TOOL_CONFIGURATION: {"deployment_id": 7}}))

    confirm, ticket = start(client, OLD_MOODLE_CONFIG_URL)
    assert confirm.status_code == 200, confirm.get_data(as_text=True)[:2000]
    assert OLD_MOODLE_ISSUER in confirm.get_data(as_text=True)
    done = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE})
    assert done.status_code == 200, done.get_data(as_text=True)[:2000]

    platform = db.scalars(select(Platform).where(Platform.issuer == OLD_MOODLE_ISSUER)).one()
    assert platform.auth_login_url == OLD_MOODLE_ISSUER + "/mod/lti/auth.php"
    assert platform.auth_token_url == OLD_MOODLE_ISSUER + "/mod/lti/token.php"
    assert platform.jwks_url == OLD_MOODLE_ISSUER + "/mod/lti/certs.php"
    assert platform.product_family == "moodle"
    assert [d.deployment_id for d in platform.deployments] == ["7"]
    body = json.loads(posts(transport)[0].body or b"{}")
    types = [m["type"] for m in body[TOOL_CONFIGURATION]["messages"]]
    assert types == ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]
    # Only the scopes the old Moodle offers are asked for.
    assert body["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def test_canvas_registration_accepts_deployment_at_first_launch(client, transport, db):
    transport.add("GET", CANVAS_CONFIG_URL, CANVAS_CONFIG)
    transport.add("POST", CANVAS_REGISTRATION_URL, canvas_registration_response)

    confirm, ticket = start(client, CANVAS_CONFIG_URL)
    assert confirm.status_code == 200, confirm.get_data(as_text=True)[:2000]
    assert CANVAS_ISSUER in confirm.get_data(as_text=True)
    done = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE})
    page = done.get_data(as_text=True)
    assert done.status_code == 200, page[:2000]
    assert "recorded at the first launch" in page

    platform = db.scalars(select(Platform).where(Platform.issuer == CANVAS_ISSUER)).one()
    assert platform.client_id == CANVAS_CLIENT_ID
    assert platform.auth_login_url == CANVAS_AUTH_URL
    assert platform.auth_token_url == CANVAS_TOKEN_URL
    assert platform.jwks_url == CANVAS_JWKS_URL
    assert platform.product_family == "canvas"
    assert platform.accept_new_deployments is True
    assert platform.deployments == []

    # What we asked Canvas for: its placements, public privacy, posted to the customer host.
    [sent] = posts(transport)
    assert sent.url == CANVAS_REGISTRATION_URL
    assert sent.headers["Authorization"] == f"Bearer {REGISTRATION_TOKEN}"
    body = json.loads(sent.body or b"{}")
    tool = body[TOOL_CONFIGURATION]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    placements = {m["type"]: m.get("placements") for m in tool["messages"]}
    assert placements == {"LtiResourceLinkRequest": ["course_navigation"],
                          "LtiDeepLinkingRequest": ["link_selection"]}
    # Canvas's openid_configuration URL is accessed with the registration token.
    config_gets = [r for r in transport.requests if r.url == CANVAS_CONFIG_URL]
    assert config_gets
    assert all(r.headers.get("Authorization") == f"Bearer {REGISTRATION_TOKEN}"
               for r in config_gets)

    # The first signed launch from a new deployment records it, once, with an audit event.
    canvas = TestPlatform(issuer=CANVAS_ISSUER, client_id=CANVAS_CLIENT_ID,
                          deployment_id="abc", key_name="canvas")
    transport.add("GET", CANVAS_JWKS_URL, lambda _req: (200, canvas.jwks()))
    page_after_launch = follow(client, full_launch(client, canvas))
    assert page_after_launch.status_code == 200
    assert "Intro to Programming (for credit)" in page_after_launch.get_data(as_text=True)
    deployment = db.scalars(select(Deployment).where(Deployment.platform_id == platform.id)).one()
    assert deployment.deployment_id == "abc"
    accepted = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "platform.deployment_accepted")).one()
    assert accepted.platform_id == platform.id
    assert accepted.detail["deployment_id"] == "abc"

    assert follow(client, full_launch(client, canvas)).status_code == 200
    assert db.scalar(select(func.count()).select_from(Deployment).where(
        Deployment.platform_id == platform.id)) == 1


def test_done_page_closes_the_platform_window_without_inline_script(client, transport):
    serve_moodle(transport)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    done = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE})
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert '<script src="/static/js/register-done.js"></script>' in html
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
    assert scripts and all(not body.strip() for body in scripts)
    assert "onload=" not in html and "javascript:" not in html
    assert "'unsafe-inline'" not in done.headers["Content-Security-Policy"].split(
        "script-src")[1].split(";")[0]

    script = client.get("/static/js/register-done.js")
    source = script.get_data(as_text=True)
    script.close()
    assert script.status_code == 200
    assert "postMessage" in source
    assert "org.imsglobal.lti.close" in source


# -- bad input: a clear page, nothing stored ----------------------------------------------------
def test_missing_openid_configuration_is_a_400_page(client, transport, db):
    response = client.get("/lti/register", query_string={"registration_token": "t"})
    html = assert_error_page(response, 400, "missing_openid_configuration")
    assert "openid_configuration" in html
    assert transport.requests == []
    assert platform_count(db) == 0


def test_http_openid_configuration_refused_without_allow_http(client, transport, db,
                                                              monkeypatch):
    monkeypatch.setitem(client.application.config, "ALLOW_HTTP_ISSUERS", False)
    serve_moodle(transport)
    response, ticket = start(client, MOODLE_CONFIG_URL)
    html = assert_error_page(response, 400, "bad_openid_configuration_url")
    assert "https" in html
    assert ticket == ""
    assert transport.requests == []  # not even fetched
    assert platform_count(db) == 0


def test_tampered_ticket_is_refused(client, transport, db):
    serve_moodle(transport)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    payload, rest = ticket.split(".", 1)
    # Point the ticket at another configuration URL, keeping the original signature.
    forged = URLSafeTimedSerializer("x").dump_payload(
        {"c": "https://collector.evil.example/conf", "t": "stolen"}).decode()
    tampered = forged + "." + rest
    assert payload != forged
    response = client.post("/lti/register", data={"ticket": tampered, **NEW_COLLEGE})
    assert_error_page(response, 400, "registration_ticket_invalid")
    assert posts(transport) == []
    assert platform_count(db) == 0


def test_ticket_signed_with_another_secret_is_refused(client, transport, db):
    serve_moodle(transport)
    foreign = URLSafeTimedSerializer("not-our-secret", salt="microcred-register").dumps(
        {"c": MOODLE_CONFIG_URL, "t": REGISTRATION_TOKEN})
    assert_error_page(client.post("/lti/register", data={"ticket": foreign}), 400,
                      "registration_ticket_invalid")
    assert_error_page(client.post("/lti/register", data={}), 400,
                      "registration_ticket_invalid")
    assert posts(transport) == []
    assert platform_count(db) == 0


def test_expired_ticket_is_refused(client, transport, db, monkeypatch):
    serve_moodle(transport)
    two_hours_ago = int(time.time()) - 2 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: two_hours_ago)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    monkeypatch.undo()
    response = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE})
    html = assert_error_page(response, 400, "registration_ticket_invalid")
    assert "expired" in html
    assert posts(transport) == []
    assert platform_count(db) == 0


@pytest.mark.parametrize("answer", [(500, {"error": "boom"}), (200, b"<html>Moodle</html>"),
                                    (404, b"Not found")])
def test_configuration_errors_are_a_502_page(client, transport, db, answer):
    transport.add("GET", MOODLE_CONFIG_URL, lambda _req: answer)
    response, ticket = start(client, MOODLE_CONFIG_URL)
    html = assert_error_page(response, 502, "upstream_error")
    assert "127.0.0.1:8088" in html
    assert ticket == ""
    assert posts(transport) == []
    assert platform_count(db) == 0


def test_unreachable_platform_is_a_502_page(client, transport, db):
    # No route: the transport raises a connection error, as for a host that is down.
    response, _ticket = start(client, MOODLE_CONFIG_URL)
    html = assert_error_page(response, 502, "upstream_error")
    assert "could not be reached" in html


@pytest.mark.parametrize("answer", [(500, {"error": "server_error"}), (200, b"not json"),
                                    (401, {"error": "invalid_token"})])
def test_registration_refused_by_platform_stores_nothing(client, transport, db, answer):
    serve_moodle(transport, registration=lambda _req: answer)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    response = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE})
    html = assert_error_page(response, 400, "registration_refused")
    assert "refused or did not answer" in html
    assert len(posts(transport)) == 1
    assert platform_count(db) == 0
    assert db.scalars(select(AuditEvent)).all() == []


def test_registration_response_without_client_id_stores_nothing(client, transport, db):
    serve_moodle(transport, registration=lambda _req: (200, {"client_name": "x"}))
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    response = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE})
    html = assert_error_page(response, 400, "bad_registration_response")
    assert "client_id" in html
    assert platform_count(db) == 0


def _moodle_token(scope: str, sub: str = "2") -> str:
    """A registration token shaped like Moodle's (RS256 JWT; its signature is Moodle's
    business: MicroCred only reads the scope as a hint)."""
    import base64

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return ".".join((part({"alg": "RS256", "kid": "k1"}),
                     part({"sub": sub, "scope": scope, "iat": 1, "exp": 2}), "c2ln"))


def test_moodle_update_of_a_known_registration_updates_it_in_place(client, transport, db):
    """Moodle's "Update" (a tool on the same host exists): Moodle keeps the client id, so
    the registration answers with one MicroCred knows; it is updated, never refused, and
    stays linked to its institution."""
    serve_moodle(transport)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    assert client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE}) \
        .status_code == 200
    first = db.scalars(select(Platform)).one()
    # Moodle 4.1+ answers a GET of the registration endpoint with the current registration.
    transport.add("GET", MOODLE_REGISTRATION_URL,
                  lambda _req: (200, MOODLE_EXCHANGE["response"]))
    confirm, ticket = start(client, MOODLE_CONFIG_URL, token=_moodle_token("reg-update"))
    html = confirm.get_data(as_text=True)
    assert "Update MicroCred's registration with your platform" in html
    assert "is updated in place" in html and "PvsVMoA3kylQdkP" in html
    assert re.search(r'value="keep" checked><label for="f-institution">Keep: Lakeshore '
                     r'College', html)
    before = len(posts(transport))
    done = client.post("/lti/register", data={"ticket": ticket, "institution": "keep"})
    page = done.get_data(as_text=True)
    assert done.status_code == 200, page[:2000]
    assert "MicroCred's registration is updated" in page and "Lakeshore College" in page
    assert len(posts(transport)) == before + 1
    db.expire_all()
    assert platform_count(db) == 1 and db.scalars(select(Platform)).one().id == first.id
    assert [d.deployment_id for d in first.deployments] == ["2"]
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "platform.registration_updated")).one()
    assert event.platform_id == first.id and event.detail["issuer"] == "lakeshore"


def test_a_known_registration_registered_again_is_an_update_even_unannounced(client,
                                                                             transport, db):
    """A platform that does not say it is updating (an older Moodle): the answer names a
    known (issuer, client id), so it is an update too, not a 409 after the platform
    already changed its side."""
    serve_moodle(transport)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    assert client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE}) \
        .status_code == 200
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    issuer_id = db.scalars(select(Issuer.id)).one()
    again = client.post("/lti/register", data={"ticket": ticket,
                                               "institution": str(issuer_id)})
    assert again.status_code == 200, again.get_data(as_text=True)[:2000]
    assert "MicroCred's registration is updated" in again.get_data(as_text=True)
    assert platform_count(db) == 1


def test_the_institution_is_required_and_checked_before_anything_is_posted(client, transport,
                                                                          db):
    serve_moodle(transport)
    _confirm, ticket = start(client, MOODLE_CONFIG_URL)
    missing = client.post("/lti/register", data={"ticket": ticket})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert "choose the institution this platform serves" in html
    bad = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE,
                                             "new_url": "not a url", "new_slug": "a b"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'value="Lakeshore College"' in html   # what was typed is kept
    assert 'id="f-new_url-error"' in html and 'id="f-new_slug-error"' in html
    assert posts(transport) == [], "nothing was sent to the platform"
    assert platform_count(db) == 0


def test_a_registration_links_to_an_existing_institution_and_its_launch_sees_the_catalog(
        client, transport, db):
    from lti_tool.services import catalog as catalog_service

    existing = catalog_service.create_issuer(
        db, {"name": "Northern College", "url": "https://northern.example.edu",
             "email": "mc@northern.example.edu"}, slug="northern")
    db.commit()
    serve_moodle(transport)
    confirm, ticket = start(client, MOODLE_CONFIG_URL)
    assert "Northern College" in confirm.get_data(as_text=True)
    done = client.post("/lti/register", data={"ticket": ticket,
                                              "institution": str(existing.id)})
    assert done.status_code == 200
    assert "for <strong>Northern College</strong>" in done.get_data(as_text=True)
    platform = db.scalars(select(Platform)).one()
    assert catalog_service.issuer_for_platform(db, platform.id, None).id == existing.id


def test_hostile_registration_endpoint_on_another_host_is_refused(client, transport, db):
    hostile = copy.deepcopy(OLD_MOODLE_CONFIG)
    hostile["authorization_endpoint"] = OLD_MOODLE_ISSUER + "/mod/lti/auth.php"
    hostile["registration_endpoint"] = "https://collector.evil.example/register"
    transport.add("GET", OLD_MOODLE_CONFIG_URL, hostile)
    transport.add("POST", "https://collector.evil.example/register",
                  lambda _req: (200, {"client_id": "evil"}))

    response, ticket = start(client, OLD_MOODLE_CONFIG_URL)
    html = assert_error_page(response, 400, "bad_openid_configuration")
    assert "registration endpoint" in html
    assert "collector.evil.example" not in html  # values from the document are not echoed
    assert ticket == ""
    assert posts(transport) == []
    assert platform_count(db) == 0


def test_configuration_turning_hostile_after_confirmation_is_refused(client, transport, db):
    transport.add("GET", OLD_MOODLE_CONFIG_URL, OLD_MOODLE_CONFIG)
    _confirm, ticket = start(client, OLD_MOODLE_CONFIG_URL)
    assert ticket
    hostile = copy.deepcopy(OLD_MOODLE_CONFIG)
    hostile["registration_endpoint"] = "https://collector.evil.example/register"
    transport.add("GET", OLD_MOODLE_CONFIG_URL, hostile)

    response = client.post("/lti/register", data={"ticket": ticket, **NEW_COLLEGE})
    assert_error_page(response, 400, "bad_openid_configuration")
    assert posts(transport) == []  # the token never leaves for the other host
    assert platform_count(db) == 0


def test_canvas_document_with_foreign_key_set_is_refused(client, transport, db):
    hostile = copy.deepcopy(CANVAS_CONFIG)
    hostile["jwks_uri"] = "https://keys.evil.example/jwks"
    transport.add("GET", CANVAS_CONFIG_URL, hostile)
    response, _ticket = start(client, CANVAS_CONFIG_URL)
    assert_error_page(response, 400, "bad_openid_configuration")
    assert posts(transport) == []
    assert platform_count(db) == 0


def test_registration_can_be_turned_off(client, transport, db, monkeypatch):
    monkeypatch.setitem(client.application.config, "DYNAMIC_REGISTRATION_ENABLED", False)
    serve_moodle(transport)
    response, _ticket = start(client, MOODLE_CONFIG_URL)
    assert_error_page(response, 400, "registration_disabled")
    assert transport.requests == []


# -- SSRF and access control on the registration page --------------------------------------
def test_registration_refuses_internal_addresses_outside_development(app, client, transport):
    """A visitor chooses the openid_configuration URL: in production the tool must not fetch
    loopback or private addresses with it."""
    served = {"hits": 0}

    def config(_request):
        served["hits"] += 1
        return 200, {}

    for url in ("https://localhost/mod/lti/openid-configuration.php",
                "https://127.0.0.1/config", "https://10.1.2.3/config",
                "https://169.254.169.254/latest/meta-data", "https://[::1]/config",
                "https://does-not-resolve.invalid/config"):
        transport.add("GET", url, config)
        app.config["ALLOW_HTTP_ISSUERS"] = False
        try:
            response = client.get("/lti/register", query_string={
                "openid_configuration": url, "registration_token": "t"},
                headers={"Accept": "application/json"})
        finally:
            app.config["ALLOW_HTTP_ISSUERS"] = True
        assert response.status_code == 400, url
        assert response.get_json()["error"]["code"] == "openid_configuration_not_public", url
    assert served["hits"] == 0


def test_registration_access_code_is_required_when_configured(app, client, transport):
    app.config["REGISTRATION_ACCESS_CODE"] = "s3cret-code"
    try:
        wrong = client.get("/lti/register", query_string={
            "openid_configuration": "https://moodle.example/x", "code": "nope"},
            headers={"Accept": "application/json"})
        missing = client.get("/lti/register", query_string={
            "openid_configuration": "https://moodle.example/x"},
            headers={"Accept": "application/json"})
    finally:
        app.config["REGISTRATION_ACCESS_CODE"] = ""
    for response in (wrong, missing):
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "registration_code_invalid"
    assert transport.requests == []


def test_registration_with_the_right_access_code_goes_ahead(app, client, transport):
    transport.add("GET", "https://moodle.example/config", lambda _r: (500, {}))
    app.config["REGISTRATION_ACCESS_CODE"] = "s3cret-code"
    try:
        response = client.get("/lti/register", query_string={
            "openid_configuration": "https://moodle.example/config", "code": "s3cret-code"},
            headers={"Accept": "application/json"})
    finally:
        app.config["REGISTRATION_ACCESS_CODE"] = ""
    assert response.get_json()["error"]["code"] != "registration_code_invalid"
    assert [r.url for r in transport.requests] == ["https://moodle.example/config"]
