"""Browsers that block MicroCred's cookie inside the LMS frame, on platforms that offer no
platform storage: the login notices it (one redirect to itself, once per browser), offers
to continue in a new window where the cookie is first-party, and the launch made there is
accepted; a launch that cannot be tied to the browser that logged in is refused with the
same offer. (Canvas-style platform storage: test_platform_storage.py.)"""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lti_tool.models import LearnerAccount
from tests.support.attacks import claims_for, launch_with, one_time_keys
from tests.support.lti import LAUNCH_URL, Login, post_launch
from tests.support.platform import TestPlatform, query_of

PARAMS = {"login_hint": "3", "target_link_uri": LAUNCH_URL, "lti_message_hint": "hint-1"}


def _login(client: FlaskClient, platform: TestPlatform) -> TestResponse:
    return client.get("/lti/login", query_string={
        **PARAMS, "iss": platform.issuer, "client_id": platform.client_id,
        "lti_deployment_id": platform.deployment_id})


def _new_window_link(page: str) -> str:
    match = re.search(r'<a class="button primary" href="([^"]+)" target="_blank" '
                      r'rel="noopener">Open MicroCred in a new window', page)
    assert match, page
    return html.unescape(match.group(1))


def _launch_in(client: FlaskClient, platform: TestPlatform, auth_redirect: TestResponse
               ) -> TestResponse:
    query = query_of(auth_redirect.headers["Location"])
    started = Login(query["state"], query["nonce"], query)
    return launch_with(client, platform, started)


def test_a_browser_that_keeps_our_cookie_is_checked_once(client, platform):
    first = _login(client, platform)
    assert first.status_code == 302
    assert first.headers["Location"].startswith("/lti/login/check?state=")
    assert "mc_browser=" in first.headers["Set-Cookie"]
    passed = client.get(first.headers["Location"])
    assert passed.status_code == 302
    assert passed.headers["Location"].startswith(platform.auth_url + "?")
    assert _launch_in(client, platform, passed).status_code == 303
    # The cookie came with the next login: straight to the platform.
    second = _login(client, platform)
    assert second.headers["Location"].startswith(platform.auth_url + "?")


def test_a_frame_that_blocks_our_cookie_is_offered_a_new_window_where_the_launch_works(
        app, db, platform):
    frame = app.test_client(use_cookies=False)  # third-party cookies blocked
    first = _login(frame, platform)
    check = frame.get(first.headers["Location"])
    assert check.status_code == 200
    page = check.get_data(as_text=True)
    assert "<code>cookies_blocked</code>" in page
    assert "new window" in page
    link = _new_window_link(page)
    assert link.startswith("/lti/login/new-window?state=")
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 0

    window = app.test_client()  # a window of its own: our cookie is first-party there
    restarted = window.get(link)
    assert restarted.headers["Location"].startswith("/lti/login/check?state=")
    to_platform = window.get(restarted.headers["Location"])
    query = query_of(to_platform.headers["Location"])
    assert to_platform.headers["Location"].startswith(platform.auth_url + "?")
    # The same login: the platform gets the hints it sent; a new state and nonce.
    assert (query["login_hint"], query["lti_message_hint"]) == ("3", "hint-1")
    assert query["state"] != query_of(first.headers["Location"])["state"]
    assert _launch_in(window, platform, to_platform).status_code == 303
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 1


def test_a_new_window_that_refuses_our_cookie_too_asks_to_allow_cookies(app, platform):
    frame = app.test_client(use_cookies=False)
    link = _new_window_link(frame.get(_login(frame, platform).headers["Location"])
                            .get_data(as_text=True))
    window = app.test_client(use_cookies=False)  # cookies blocked everywhere
    check = window.get(window.get(link).headers["Location"])
    page = check.get_data(as_text=True)
    assert "Allow cookies for MicroCred" in page and "tool.test" in page
    assert "Open MicroCred in a new window" not in page


def test_an_unbound_launch_is_refused_with_a_page_offering_a_new_window(app, client, db,
                                                                         platform, caplog):
    frame_login = client.get(_login(client, platform).headers["Location"])
    query = query_of(frame_login.headers["Location"])
    started = Login(query["state"], query["nonce"], query)
    token = platform.sign(claims_for(platform, started))
    refused = post_launch(app.test_client(), token, started.state)  # no cookie
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "<code>launch_not_bound</code>" in page
    link = _new_window_link(page)
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 0
    # Nothing was consumed: the login itself goes on in the new window.
    assert any(k.startswith("state:") for k in one_time_keys(app))
    window = app.test_client()
    to_platform = window.get(window.get(link).headers["Location"])
    assert _launch_in(window, platform, to_platform).status_code == 303


@pytest.mark.parametrize("path", ["/lti/login/check", "/lti/login/new-window"])
def test_an_unknown_or_expired_login_is_refused(client, platform, caplog, path):
    response = client.get(path, query_string={"state": "not-a-state"})
    assert response.status_code == 400
    assert "<code>login_expired</code>" in response.get_data(as_text=True)
