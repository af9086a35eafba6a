"""Drive the real OIDC login → launch flow against the test client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.platform import TestPlatform, query_of

TOOL = "http://tool.test"
LAUNCH_URL = TOOL + "/lti/launch"


@dataclass
class Login:
    state: str
    nonce: str
    query: dict[str, str]


def login(client: FlaskClient, platform: TestPlatform, **params: str) -> Login:
    args = {"iss": platform.issuer, "login_hint": "3", "target_link_uri": LAUNCH_URL,
            "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id,
            "lti_message_hint": "hint-1"}
    args.update(params)
    response = follow_cookie_check(client, client.get("/lti/login", query_string=args))
    assert response.status_code == 302, response.get_data(as_text=True)
    query = query_of(response.headers["Location"])
    return Login(query["state"], query["nonce"], query)


def follow_cookie_check(client: FlaskClient, response: TestResponse) -> TestResponse:
    """A browser's first login (no MicroCred cookie yet) goes through the cookie check; a
    browser that keeps cookies passes it and is sent on to the platform."""
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/lti/login/check" in location:
        return client.get(location)
    return response


def post_launch(client: FlaskClient, id_token: str, state: str) -> TestResponse:
    return client.post("/lti/launch", data={"id_token": id_token, "state": state})


def full_launch(client: FlaskClient, platform: TestPlatform,
                fixture: str = "instructor_claims_INTROPROG.json",
                **overrides: Any) -> TestResponse:
    started = login(client, platform)
    body = platform.claims(fixture, nonce=started.nonce, target_link_uri=LAUNCH_URL, **overrides)
    return post_launch(client, platform.sign(body), started.state)


def follow(client: FlaskClient, response: TestResponse) -> TestResponse:
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"])
