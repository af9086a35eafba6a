"""Optional API token expiry: a token given an expiry works until then and is refused with
a clear 401 afterwards; an expiry must be a future moment within five years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lti_tool.errors import ValidationFailed
from lti_tool.models import ApiToken
from lti_tool.services import api_tokens
from tests.support.api import Api, make_issuer


@pytest.fixture()
def issuer(db):
    return make_issuer(db)


def _token(db, issuer, **kwargs) -> tuple[ApiToken, str]:
    row, plaintext = api_tokens.create_token(db, issuer.id, "sync", ("catalog:read",),
                                             created_by="test", **kwargs)
    db.commit()
    return row, plaintext


def test_a_token_works_until_its_expiry_and_is_refused_after(client, db, issuer):
    row, token = _token(db, issuer, expires_at=api_tokens.expiry_after(30))
    assert row.expires_at is not None
    assert row.expires_at - datetime.now(UTC) > timedelta(days=29)
    api = Api(client, token)
    assert api.get("/api/v1/skills").status_code == 200
    row.expires_at = datetime.now(UTC) - timedelta(minutes=1)  # time has passed
    db.commit()
    response = api.get("/api/v1/skills")
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "token_expired"
    assert f"{row.expires_at:%Y-%m-%d}" in error["message"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_without_expiry_does_not_expire(client, db, issuer):
    row, token = _token(db, issuer)
    assert row.expires_at is None
    assert Api(client, token).get("/api/v1/skills").status_code == 200


@pytest.mark.parametrize(("expires_at", "words"), [
    (datetime.now(UTC) - timedelta(days=1), "future"),
    (datetime.now(UTC) + timedelta(days=6 * 366), "days ahead"),
    (datetime(2030, 1, 1), "time zone"),
])
def test_an_expiry_must_be_a_future_moment_within_five_years(db, issuer, expires_at, words):
    with pytest.raises(ValidationFailed) as raised:
        _token(db, issuer, expires_at=expires_at)
    assert words in raised.value.errors["expires"][0]
    db.rollback()
    assert db.scalars(select(ApiToken)).first() is None


@pytest.mark.parametrize("days", [0, -3, 5 * 366 + 1])
def test_expiry_in_days_is_bounded(days):
    with pytest.raises(ValidationFailed):
        api_tokens.expiry_after(days)
