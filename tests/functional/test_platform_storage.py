"""Canvas-style OIDC platform storage (lti_storage_target) when MicroCred's cookie is
blocked, and the deployment named at login matching the launch."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import func, select

from lti_tool.models import LearnerAccount
from lti_tool.services.platforms import add_deployment
from tests.support.lti import LAUNCH_URL, follow_cookie_check, post_launch
from tests.support.platform import query_of


def _storage_login(client, platform):
    response = client.get("/lti/login", query_string={
        "iss": platform.issuer, "login_hint": "3", "target_link_uri": LAUNCH_URL,
        "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id,
        "lti_storage_target": "post_message_forwarding"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>" not in page  # data only; the behaviour is in a static file
    data = json.loads(html.unescape(re.search(
        r'<script type="application/json" id="platform-storage-data">(.*?)</script>', page,
        re.S).group(1)))
    query = query_of(data["auth_url"])
    return data, query["state"], query["nonce"]


def _token(platform, nonce):
    return platform.sign(platform.claims(nonce=nonce, target_link_uri=LAUNCH_URL))


def test_login_stores_a_binding_secret_in_platform_storage(client, platform):
    data, _state, _nonce = _storage_login(client, platform)
    assert data["target"] == "post_message_forwarding"
    assert data["origin"] == "https://moodle.test"
    assert len(data["binding_secret"]) >= 32 and data["binding_key"].startswith("microcred-")
    assert data["binding_secret"] not in data["auth_url"]  # never sent to the platform


def test_cookie_blocked_launch_is_checked_through_platform_storage(app, client, platform, db):
    data, state, nonce = _storage_login(client, platform)
    id_token = _token(platform, nonce)
    blocked = app.test_client()  # a browser whose MicroCred cookie was blocked in the frame
    first = post_launch(blocked, id_token, state)
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert 'name="lti_storage_proof"' in page and "platform-storage-check.js" in page
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 0
    # The page read the secret back from the platform and posts again: accepted once.
    second = blocked.post("/lti/launch", data={"id_token": id_token, "state": state,
                                               "lti_storage_proof": data["binding_secret"]})
    assert second.status_code == 303
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 1


def test_wrong_platform_storage_secret_is_refused(app, client, platform, db):
    _data, state, nonce = _storage_login(client, platform)
    blocked = app.test_client()
    response = blocked.post("/lti/launch", data={
        "id_token": _token(platform, nonce), "state": state,
        "lti_storage_proof": "attacker-guess"}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "storage_proof_invalid"
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 0


def test_with_our_cookie_no_platform_storage_check_is_needed(client, platform):
    _data, state, nonce = _storage_login(client, platform)
    assert post_launch(client, _token(platform, nonce), state).status_code == 303


def test_launch_for_another_deployment_than_the_login_named_is_refused(client, platform, db):
    from lti_tool.services.platforms import find_platform

    row = find_platform(db, platform.issuer, platform.client_id)
    add_deployment(db, row.id, "2")
    db.commit()
    response = follow_cookie_check(client, client.get("/lti/login", query_string={
        "iss": platform.issuer, "login_hint": "3", "target_link_uri": LAUNCH_URL,
        "client_id": platform.client_id, "lti_deployment_id": "1"}))
    query = query_of(response.headers["Location"])
    body = platform.claims(nonce=query["nonce"], target_link_uri=LAUNCH_URL)
    body["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = "2"
    refused = client.post("/lti/launch", data={"id_token": platform.sign(body),
                                               "state": query["state"]},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "deployment_mismatch"
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 0
