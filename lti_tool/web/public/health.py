"""Unauthenticated endpoints: health, readiness, the tool's JWKS."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from lti_tool.extensions import db_session, kv
from lti_tool.services import keys as key_service

bp = Blueprint("public", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        db_session().execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready
        log.warning("readiness: database failed: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    try:
        store = kv()
        checks["store"] = "ok" if store.ping() else "unavailable"
        checks["store_kind"] = store.name
    except Exception as exc:
        log.warning("readiness: store failed: %s", type(exc).__name__)
        checks["store"] = "unavailable"
    ready = checks["database"] == "ok" and checks["store"] == "ok"
    return jsonify(status="ready" if ready else "unavailable", checks=checks), (
        200 if ready else 503)


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
