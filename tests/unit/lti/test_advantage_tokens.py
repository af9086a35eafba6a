"""Access tokens for the LTI Advantage services: the client-credentials grant with a JWT
assertion signed by the tool key (checked by the fake platform against the keyset the tool
publishes), cached per (platform, scopes) in Redis until shortly before expiry, renewed when
the platform stops accepting it, and clear errors when the platform refuses or is down."""

from __future__ import annotations

import time

import pytest
import redis as redis_lib
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lti_tool.errors import UpstreamError
from lti_tool.lti.advantage import ServiceClient, TokenCache, service_client
from lti_tool.models import Platform
from lti_tool.services.http_client import PlatformRefused
from lti_tool.services.platforms import find_platform
from tests.conftest import REDIS_URL
from tests.support.advantage import AGS_ALL, NRPS_SCOPE, PlatformServices
from tests.support.platform import FakeTransport, TestPlatform

TOKEN_URL = "https://moodle.test/mod/lti/token.php"


@pytest.fixture()
def row(db: Session, platform: TestPlatform) -> Platform:
    found = find_platform(db, platform.issuer, platform.client_id)
    assert found is not None
    return found


def make_client(app: Flask, db: Session, row: Platform) -> ServiceClient:
    rt = app.extensions["lti"]
    return service_client(db, row, vault=rt.vault, http=rt.http, store=app.extensions["kv"])


def start(client: FlaskClient, transport: FakeTransport, platform: TestPlatform,
          **kwargs: object) -> PlatformServices:
    return PlatformServices.start(client, transport, token_url=TOKEN_URL,
                                  client_id=platform.client_id, **kwargs)  # type: ignore[arg-type]


def test_the_assertion_is_signed_with_the_published_key(app, db, client, transport, platform,
                                                        row):
    services = start(client, transport, platform)
    assert make_client(app, db, row).access_token([NRPS_SCOPE]) == "token-1"
    [claims] = services.assertions   # verified against /.well-known/jwks.json
    assert claims["iss"] == claims["sub"] == platform.client_id
    assert claims["aud"] == TOKEN_URL
    assert claims["jti"] and claims["exp"] > time.time() and claims["exp"] - claims["iat"] <= 70
    assert services.scopes_asked == [NRPS_SCOPE]


def test_the_platforms_declared_audience_is_used(app, db, client, transport, platform, row):
    row.auth_audience = "https://moodle.test/oauth2/audience"
    db.commit()
    services = start(client, transport, platform, audience="https://moodle.test/oauth2/audience")
    make_client(app, db, row).access_token([NRPS_SCOPE])
    assert services.assertions[0]["aud"] == "https://moodle.test/oauth2/audience"


def test_tokens_are_cached_per_platform_and_scopes(app, db, client, transport, platform, row,
                                                   redis_prefix):
    services = start(client, transport, platform)
    first = make_client(app, db, row)
    assert first.access_token([NRPS_SCOPE]) == "token-1"
    assert first.access_token([NRPS_SCOPE]) == "token-1"
    # Another worker (a new client over the same Redis) reuses it.
    assert make_client(app, db, row).access_token([NRPS_SCOPE]) == "token-1"
    # Other scopes, another token; the order of scopes does not matter.
    assert first.access_token(AGS_ALL) == "token-2"
    assert first.access_token(list(reversed(AGS_ALL))) == "token-2"
    assert services.issued == ["token-1", "token-2"]
    ttl = redis_lib.Redis.from_url(REDIS_URL).ttl(
        redis_prefix + TokenCache.key(row.id, [NRPS_SCOPE]))
    assert 3500 <= ttl <= 3540          # expires_in 3600, given up a minute early


@pytest.mark.parametrize(("expires_in", "low", "high"), [(100, 45, 50), (None, 230, 240)])
def test_short_or_unknown_lifetimes(app, db, client, transport, platform, row, redis_prefix,
                                    expires_in, low, high):
    start(client, transport, platform, expires_in=expires_in)
    make_client(app, db, row).access_token([NRPS_SCOPE])
    ttl = redis_lib.Redis.from_url(REDIS_URL).ttl(
        redis_prefix + TokenCache.key(row.id, [NRPS_SCOPE]))
    assert low <= ttl <= high


def test_a_token_the_platform_no_longer_accepts_is_replaced_once(app, db, client, transport,
                                                                 platform, row):
    services = start(client, transport, platform)
    url = "https://moodle.test/mod/lti/services.php/CourseSection/2/bindings/1/memberships"

    def memberships(request):
        if services.bearer(request) == "token-1":
            return 401, {"error": "invalid_token"}
        return 200, {"members": []}

    transport.add("GET", url, memberships)
    sc = make_client(app, db, row)
    sc.access_token([NRPS_SCOPE])                      # cached: token-1
    response = sc.call(url, [NRPS_SCOPE], what="the course roster", accept="application/json")
    assert response.body == {"members": []}
    assert services.issued == ["token-1", "token-2"]


def test_a_token_refused_twice_is_an_error(app, db, client, transport, platform, row):
    start(client, transport, platform)
    url = "https://moodle.test/nrps"
    transport.add("GET", url, lambda _r: (401, {}))
    with pytest.raises(PlatformRefused, match=r"refused MicroCred access to the course roster"):
        make_client(app, db, row).call(url, [NRPS_SCOPE], what="the course roster",
                                       accept="application/json")


def test_a_refused_token_request_says_what_to_check(app, db, client, transport, platform, row):
    start(client, transport, platform, token_status=400, token_error="invalid_client")
    with pytest.raises(PlatformRefused) as caught:
        make_client(app, db, row).access_token([NRPS_SCOPE])
    message = caught.value.public_message
    assert "moodle.test refused" in message and "(invalid_client)" in message
    assert "keyset" in message and caught.value.status_code == 502
    # Nothing was cached: the next call asks again.
    with pytest.raises(PlatformRefused):
        make_client(app, db, row).access_token([NRPS_SCOPE])


def test_an_unreachable_token_endpoint(app, db, client, transport, platform, row):
    client.get("/.well-known/jwks.json")
    with pytest.raises(UpstreamError, match=r"moodle\.test could not be reached for an access"):
        make_client(app, db, row).access_token([NRPS_SCOPE])


@pytest.mark.parametrize("body", [{"token_type": "Bearer"}, {"access_token": ""}, ["x"]])
def test_a_token_response_without_a_token(app, db, client, transport, platform, row, body):
    client.get("/.well-known/jwks.json")
    transport.add("POST", TOKEN_URL, lambda _r: (200, body))
    with pytest.raises(UpstreamError, match="did not issue an access token"):
        make_client(app, db, row).access_token([NRPS_SCOPE])


def test_a_token_endpoint_that_fails(app, db, client, transport, platform, row):
    client.get("/.well-known/jwks.json")
    transport.add("POST", TOKEN_URL, lambda _r: (503, b"busy"))
    with pytest.raises(UpstreamError, match="HTTP 503") as caught:
        make_client(app, db, row).access_token([NRPS_SCOPE])
    assert not isinstance(caught.value, PlatformRefused)   # worth retrying
