"""Forged and altered id_tokens, and the assertions every refused launch must meet: a 4xx
with the refusal's own code and a message a person can act on, a WARNING log carrying the
code, and nothing stored (no rows, no launch session, no consumed state or nonce)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, and_, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from lti_tool.models import (
    AuditEvent,
    Base,
    Context,
    Deployment,
    LearnerAccount,
    Person,
    ResourceLink,
)
from tests.support.lti import LAUNCH_URL, Login, post_launch
from tests.support.platform import REMOVE, TestPlatform, b64u, public_pem, sign_jwt

STORED_MODELS = (LearnerAccount, Person, Context, ResourceLink, AuditEvent, Deployment)


# -- forging ---------------------------------------------------------------------------------
def segments(id_token: str) -> list[str]:
    return id_token.split(".")


def decode_segment(segment: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def encode_segment(data: dict[str, Any]) -> str:
    return b64u(json.dumps(data).encode())


def tamper(id_token: str, **changes: Any) -> str:
    """Change claims after signing and keep the original signature."""
    header, payload, signature = segments(id_token)
    body = decode_segment(payload)
    body.update(changes)
    return f"{header}.{encode_segment(body)}.{signature}"


def with_header(platform: TestPlatform, body: dict[str, Any], header: dict[str, Any]) -> str:
    """Signed with the platform's real key (RS256) but carrying exactly ``header``."""
    return sign_jwt(body, platform.key, header)


def unsecured(body: dict[str, Any], kid: str) -> str:
    """An RFC 7515 Unsecured JWS: alg none and an empty signature."""
    return sign_jwt(body, None, {"alg": "none", "typ": "JWT", "kid": kid})


def hs256_with_public_key(platform: TestPlatform, body: dict[str, Any]) -> str:
    """The algorithm-confusion attack: HMAC-SHA256 keyed with the platform's PUBLIC key,
    which a naive verifier would accept if it let the token choose the algorithm."""
    signing_input = (f"{encode_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': platform.kid})}."
                     f"{encode_segment(body)}")
    mac = hmac.new(public_pem(platform.key).encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{b64u(mac.digest())}"


CLAIM_ALIASES = {
    name: "https://purl.imsglobal.org/spec/lti/claim/" + name
    for name in ("version", "message_type", "deployment_id", "target_link_uri", "roles",
                 "resource_link", "context")
} | {"deep_linking_settings":
     "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"}


def claims_for(platform: TestPlatform, started: Login,
               fixture: str = "instructor_claims_INTROPROG.json", **changes: Any
               ) -> dict[str, Any]:
    """The platform's claims for the login ``started`` (its nonce, our launch URL), then
    ``changes``: short LTI claim names allowed (``roles=``), REMOVE deletes a claim."""
    body = platform.claims(fixture, nonce=started.nonce, target_link_uri=LAUNCH_URL)
    for name, value in changes.items():
        key = CLAIM_ALIASES.get(name, name)
        if value is REMOVE:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def launch_with(client: FlaskClient, platform: TestPlatform, started: Login,
                fixture: str = "instructor_claims_INTROPROG.json", **changes: Any
                ) -> TestResponse:
    body = claims_for(platform, started, fixture, **changes)
    return post_launch(client, platform.sign(body), started.state)


# -- what a refusal must look like -------------------------------------------------------------
@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def refusal_of(response: TestResponse) -> Refusal:
    if response.is_json:
        error = response.get_json()["error"]
        return Refusal(response.status_code, error["code"], error["message"])
    page = response.get_data(as_text=True)
    code = re.search(r"<dt>Error code</dt><dd><code>([^<]*)</code>", page)
    lead = re.search(r'<p class="lead">(.*?)</p>', page, re.S)
    return Refusal(response.status_code, html.unescape(code.group(1)) if code else "",
                   html.unescape(lead.group(1)).strip() if lead else "")


def assert_refused(response: TestResponse, code: str, caplog: pytest.LogCaptureFixture,
                   message: str = "", status: int = 400) -> Refusal:
    """A 4xx page (or JSON) naming ``code`` with a readable message, and a WARNING log
    record carrying the same code."""
    got = refusal_of(response)
    assert (got.status, got.code) == (status, code), (got, response.get_data(as_text=True)[:300])
    assert 400 <= got.status < 500
    assert len(got.message.split()) >= 4, got  # a sentence, not a bare code
    assert "Traceback" not in got.message
    if message:
        assert message.lower() in got.message.lower(), got.message
    logged = [r for r in caplog.records if getattr(r, "code", None) == code]
    assert logged, f"no log record with code={code}"
    assert all(r.levelname == "WARNING" for r in logged)
    return got


# -- what was stored -------------------------------------------------------------------------
def kv_keys(app: Flask) -> set[str]:
    """Every key this test wrote to Redis, without the per-test prefix."""
    kv = app.extensions["kv"]
    return {k.decode()[len(kv.prefix):] for k in kv.client.scan_iter(match=kv.prefix + "*")}


def one_time_keys(app: Flask) -> set[str]:
    """Keys a launch may write: logins, nonces, used markers, launch sessions (not the
    JWKS cache, which a refused launch may legitimately fill, nor the registry cache's
    version token, which any request may start, nor the login rate limit's counters,
    which every login spends, refused or not)."""
    return {k for k in kv_keys(app)
            if not k.startswith(("jwks", "registry-version", "rl-login:"))}


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, int]
    keys: frozenset[str]


def snapshot(app: Flask, db: Session) -> Snapshot:
    db.expire_all()
    rows = {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0
            for m in STORED_MODELS}
    return Snapshot(rows, frozenset(one_time_keys(app)))


def assert_nothing_stored(app: Flask, db: Session, before: Snapshot) -> None:
    after = snapshot(app, db)
    assert after.rows == before.rows
    assert after.keys == before.keys, after.keys ^ before.keys
    assert not any(k.startswith("launch:") for k in after.keys - before.keys)


def launch_sessions(app: Flask) -> set[str]:
    return {k for k in kv_keys(app) if k.startswith("launch:")}


@contextmanager
def committed_rows_removed(engine: Engine) -> Iterator[None]:
    """For the few tests that must commit for real (threads need their own connections):
    every row added inside the block is deleted afterwards."""
    tables = Base.metadata.sorted_tables
    with engine.connect() as conn:
        before = {t.name: set(conn.execute(select(*t.primary_key.columns)).all())
                  for t in tables}
    try:
        yield
    finally:
        with engine.begin() as conn:
            for table in reversed(tables):
                pk = list(table.primary_key.columns)
                for row in conn.execute(select(*pk)).all():
                    if row not in before[table.name]:
                        conn.execute(delete(table).where(
                            and_(*(col == value for col, value in zip(pk, row, strict=True)))))
