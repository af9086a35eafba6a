"""OIDC third-party initiated login (/lti/login): what a platform may send, what is refused
(with its own code, a readable message, a WARNING log line and no state stored), and the
redirect (or platform-storage page) that continues the login.

Spec: https://www.imsglobal.org/spec/security/v1p0/#step-1-third-party-initiated-login
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool.models import AuditEvent, Deployment
from tests.conftest import register_platform
from tests.support.attacks import assert_refused, launch_with, one_time_keys
from tests.support.lti import LAUNCH_URL, TOOL, Login, follow_cookie_check, login
from tests.support.platform import TestPlatform, query_of


def _params(platform: TestPlatform, **changes: str | None) -> dict[str, str]:
    params = {"iss": platform.issuer, "login_hint": "3", "target_link_uri": LAUNCH_URL,
              "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id,
              "lti_message_hint": "hint-1"}
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def start(client: FlaskClient, platform: TestPlatform, method: str = "GET",
          **changes: str | None) -> TestResponse:
    """The login as the platform starts it: its first answer (the cookie check, for a
    browser without our cookie yet, or the redirect to the platform)."""
    params = _params(platform, **changes)
    if method == "POST":
        return client.post("/lti/login", data=params)
    return client.get("/lti/login", query_string=params)


def start_and_check(client: FlaskClient, platform: TestPlatform, method: str = "GET",
                    **changes: str | None) -> TestResponse:
    """The login, through the cookie check when there is one: the redirect to the
    platform."""
    return follow_cookie_check(client, start(client, platform, method, **changes))


def _assert_login_refused(app: Flask, response: TestResponse, code: str,
                          caplog: pytest.LogCaptureFixture, words: str) -> None:
    assert_refused(response, code, caplog, words)
    assert not one_time_keys(app)  # no state, no nonce
    assert "mc_browser" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(("changes", "code", "words"), [
    ({"iss": None}, "missing_iss", "which platform"),
    ({"login_hint": None}, "missing_login_hint", "login_hint"),
    ({"target_link_uri": None}, "missing_target_link_uri", "target_link_uri"),
    ({"target_link_uri": "https://evil.test/lti/launch"}, "bad_target_link_uri",
     "another tool"),
    ({"target_link_uri": "http://tool.test.evil.test/lti/launch"}, "bad_target_link_uri",
     "another tool"),
    ({"iss": "https://unknown-lms.test"}, "unknown_platform", "not registered"),
    ({"client_id": "another-client"}, "unknown_platform", "client id another-client"),
    ({"lti_deployment_id": "999"}, "unknown_deployment", "Deployment 999"),
    ({"lti_deployment_id": None, "deployment_id": "999"}, "unknown_deployment",
     "Deployment 999"),
    ({"login_hint": "x" * 5000}, "param_too_long", "login_hint"),
], ids=["missing-iss", "missing-login_hint", "missing-target_link_uri", "foreign-target",
        "lookalike-host-target", "unknown-issuer", "unknown-client_id",
        "unknown-lti_deployment_id", "unknown-canvas-deployment_id", "param-too-long"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_logins_are_refused_and_store_nothing(app, client, platform, caplog, method,
                                                  changes, code, words):
    _assert_login_refused(app, start(client, platform, method, **changes), code, caplog, words)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_redirects_to_the_platform_with_a_bound_state_and_nonce(app, client, platform,
                                                                       method):
    first = start(client, platform, method)
    assert "mc_browser=" in first.headers["Set-Cookie"]
    response = follow_cookie_check(client, first)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(platform.auth_url + "?")
    query = query_of(location)
    assert {k: query[k] for k in ("scope", "response_type", "response_mode", "prompt",
                                  "client_id", "redirect_uri", "login_hint",
                                  "lti_message_hint")} == {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
        "prompt": "none", "client_id": platform.client_id, "redirect_uri": LAUNCH_URL,
        "login_hint": "3", "lti_message_hint": "hint-1"}
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["state"] != query["nonce"]
    keys = one_time_keys(app)
    assert len([k for k in keys if k.startswith("state:")]) == 1
    assert len([k for k in keys if k.startswith("nonce:")]) == 1
    started = Login(query["state"], query["nonce"], query)
    assert launch_with(client, platform, started).status_code == 303


def test_login_without_message_hint_sends_none(client, platform):
    query = query_of(start_and_check(client, platform,
                                     lti_message_hint=None).headers["Location"])
    assert "lti_message_hint" not in query


def test_each_login_gets_its_own_state_and_nonce_in_the_same_browser(client, platform):
    first = start_and_check(client, platform)
    second = start(client, platform)  # the cookie is known now: straight to the platform
    one, two = query_of(first.headers["Location"]), query_of(second.headers["Location"])
    assert one["state"] != two["state"] and one["nonce"] != two["nonce"]
    assert "mc_browser=" not in second.headers.get("Set-Cookie", "")  # cookie kept


def test_canvas_deployment_id_param_is_honoured(client, platform):
    started = login(client, platform, lti_deployment_id="", deployment_id="1")
    assert launch_with(client, platform, started).status_code == 303


def test_unknown_deployment_is_allowed_when_the_registration_accepts_new_ones(
        app, client, db, transport):
    canvas = TestPlatform(issuer="https://canvas.test", client_id="10000000000001",
                          deployment_id="42:abc")
    register_platform(db, canvas, transport, name="Canvas test", deployment_ids=(),
                      accept_new_deployments=True)
    started = login(client, canvas, lti_deployment_id="", deployment_id="42:abc")
    assert launch_with(client, canvas, started).status_code == 303
    deployment = db.scalars(select(Deployment).where(Deployment.deployment_id == "42:abc")
                            ).one()
    assert deployment.name == "accepted at first launch"
    assert db.scalars(select(AuditEvent).where(
        AuditEvent.action == "platform.deployment_accepted")).one()


def test_login_without_client_id_finds_the_only_registration(client, platform):
    started = login(client, platform, client_id="")
    assert started.query["client_id"] == platform.client_id
    assert launch_with(client, platform, started).status_code == 303


def test_login_without_client_id_is_refused_when_the_issuer_has_two_registrations(
        app, client, db, platform, transport, caplog):
    second = TestPlatform(client_id="second-client")
    register_platform(db, second, transport, name="Moodle, second tool registration")
    _assert_login_refused(app, start(client, platform, client_id=None), "unknown_platform",
                          caplog, "must send client_id")
    for registration in (platform, second):
        started = login(client, registration)
        assert started.query["client_id"] == registration.client_id
        assert launch_with(client, registration, started).status_code == 303


def _scripts(page: str) -> list[tuple[str, str]]:
    return re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)


def test_storage_target_login_returns_a_page_with_the_auth_url_as_json(app, client, platform):
    response = start(client, platform, lti_storage_target="post_message_forwarding")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    scripts = _scripts(page)
    data_blocks = [body for attrs, body in scripts if 'type="application/json"' in attrs]
    assert len(data_blocks) == 1
    data: dict[str, Any] = json.loads(data_blocks[0])
    assert data["auth_url"].startswith(platform.auth_url + "?")
    assert data["target"] == "post_message_forwarding"
    assert data["origin"] == "https://moodle.test"
    query = query_of(data["auth_url"])
    assert (query["state"], query["nonce"]) == (data["state"], data["nonce"])
    assert query["lti_message_hint"] == "hint-1"
    for attrs, body in scripts:  # no inline JavaScript: CSP inside the LMS frame
        assert 'type="application/json"' in attrs or ("src=" in attrs and not body.strip())
    started = Login(query["state"], query["nonce"], query)
    assert launch_with(client, platform, started).status_code == 303


def test_any_target_under_our_base_url_is_launchable(client, platform):
    """Placements may target a deeper tool URL; the launch must name the same one."""
    started = login(client, platform, target_link_uri=TOOL + "/app")
    assert launch_with(client, platform, started, target_link_uri=TOOL + "/app"
                       ).status_code == 303
