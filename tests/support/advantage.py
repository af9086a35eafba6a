"""A test platform's LTI Advantage services (OAuth token endpoint, NRPS, AGS) served through the
``FakeTransport`` mounted on the tool's HTTP session, shaped like Moodle 5.0.6's captured
messages (``services_nrps_ags.json``) and Canvas's documented ones.

The token endpoint checks the client assertion the way a platform does: signature against
the keyset the tool publishes at /.well-known/jwks.json, iss = sub = client_id, aud = the
token URL, a jti, an expiry."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import redis as redis_lib
import requests
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue, SimpleWorker

from tests.conftest import REDIS_URL
from tests.support.platform import FakeTransport, moodle_fixture

AGS_ALL = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MOODLE_SERVICES = "http://127.0.0.1:8088/mod/lti/services.php"
MOODLE_NRPS_URL = f"{MOODLE_SERVICES}/CourseSection/2/bindings/1/memberships"
MOODLE_LINEITEMS = f"{MOODLE_SERVICES}/2/lineitems?type_id=1"


def captured() -> dict[str, Any]:
    return copy.deepcopy(moodle_fixture("services_nrps_ags.json"))


def form_of(request: requests.PreparedRequest) -> dict[str, str]:
    body = request.body or ""
    text = body.decode() if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(text).items()}


def json_of(request: requests.PreparedRequest) -> Any:
    body = request.body or b""
    return json.loads(body.decode() if isinstance(body, bytes) else body)


def query(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url or "").query).items()}


@dataclass
class PlatformServices:
    """Token endpoint plus whatever NRPS/AGS routes a test adds."""

    transport: FakeTransport
    token_url: str
    client_id: str
    tool_jwks: dict[str, Any]
    expires_in: int | None = 3600
    token_status: int = 200
    token_error: str = ""
    audience: str = ""             # the platform's declared audience (default: token URL)
    issued: list[str] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    scopes_asked: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, client: FlaskClient, transport: FakeTransport, *, token_url: str,
              client_id: str, **kwargs: Any) -> PlatformServices:
        # The published keyset (this also creates the tool key on a fresh database).
        jwks = client.get("/.well-known/jwks.json").get_json()
        services = cls(transport, token_url, client_id, jwks, **kwargs)
        transport.add("POST", token_url, services._token)
        return services

    def _token(self, request: requests.PreparedRequest) -> tuple[int, Any]:
        form = form_of(request)
        assert form["grant_type"] == "client_credentials"
        assert form["client_assertion_type"] == \
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        header = jwt.get_unverified_header(form["client_assertion"])
        keys = {k["kid"]: k for k in self.tool_jwks["keys"]}
        key = jwt.PyJWK(keys[header["kid"]]).key
        claims = jwt.decode(form["client_assertion"], key, algorithms=["RS256"],
                            audience=self.audience or self.token_url, issuer=self.client_id,
                            options={"require": ["exp", "iat", "jti", "sub", "aud", "iss"]})
        self.assertions.append(claims)
        self.scopes_asked.append(form["scope"])
        if self.token_status != 200:
            return self.token_status, {"error": self.token_error or "invalid_client"}
        token = f"token-{len(self.issued) + 1}"
        self.issued.append(token)
        body: dict[str, Any] = {"access_token": token, "token_type": "Bearer",
                                "scope": form["scope"]}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return 200, body

    @staticmethod
    def bearer(request: requests.PreparedRequest) -> str:
        return str(request.headers.get("Authorization", "")).removeprefix("Bearer ")


def now() -> int:
    return int(time.time())


@contextmanager
def queued_jobs(app: Flask) -> Iterator[Queue]:
    """Jobs go to a real RQ queue in Redis (a queue of this test's own) instead of running
    inline; the queue, its jobs and registries are removed afterwards."""
    from lti_tool.jobs import JobSettings

    name = f"mc-test-{uuid.uuid4().hex}"
    saved = app.extensions["jobs"]
    app.extensions["jobs"] = JobSettings(inline=False, queue_name=name, redis_url=REDIS_URL)
    connection = redis_lib.Redis.from_url(REDIS_URL)
    try:
        yield Queue(name, connection=connection)
    finally:
        app.extensions["jobs"] = saved
        for key in connection.scan_iter(match=f"*{name}*", count=500):   # queue, jobs, registries
            connection.delete(key)


def run_worker(app: Flask, queue: Queue) -> bool:
    """A real RQ worker, in this process (SimpleWorker), until the queue is empty."""
    with app.app_context():
        worker = SimpleWorker([queue], connection=queue.connection)
        return bool(worker.work(burst=True))
