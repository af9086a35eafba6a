"""Unauthenticated endpoints: health, readiness (``lti_tool.health``), the tool's JWKS.

``/healthz`` touches nothing (no database, no Redis, no rate limit) so that it answers at
once even while other requests wait on a hung dependency; ``/readyz`` answers within
1.5 s whatever its checks do."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from lti_tool.extensions import db_session
from lti_tool.health import readiness
from lti_tool.services import keys as key_service

bp = Blueprint("public", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    ready, checks = readiness(current_app)
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.headers["Cache-Control"] = "no-store"
    return response, (200 if ready else 503)


@bp.get("/.well-known/jwks.json")
def jwks() -> ResponseReturnValue:
    session = db_session()
    keys = key_service.published_keys(session)
    if not keys:
        vault = current_app.extensions["lti"].vault
        key_service.ensure_active_key(session, vault)
        session.commit()
        keys = key_service.published_keys(session)
    response = jsonify(keys=[k.jwk for k in keys])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
