"""HTTP layer, one package per audience: ``lms`` (LTI launches and the pages inside the
LMS: ``lms.instructor``, ``lms.learner``), ``admin`` (catalog and institution
administration), ``api`` (``/api/v1``), ``public`` (no login: health, public catalog,
credential pages and ``/verify``, issuer documents); ``common`` is what they share, and
``errors`` the error pages. Here: registering the blueprints, request ids, security
headers."""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue

log = logging.getLogger("lti_tool.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors *; form-action *")


def register_web(app: Flask) -> None:
    from lti_tool.web import admin, api, errors, lms, public
    from lti_tool.web.common.request import Request

    app.request_class = Request  # a chunked body over the limit is 413, not truncated

    for blueprint in (*public.BLUEPRINTS, *lms.BLUEPRINTS, *admin.BLUEPRINTS,
                      *api.BLUEPRINTS):
        app.register_blueprint(blueprint)
    errors.register(app)

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        g.started = time.perf_counter()

    @app.after_request
    def _headers(response: ResponseReturnValue) -> ResponseReturnValue:
        response.headers["X-Request-ID"] = g.get("request_id", "-")  # type: ignore[union-attr]
        headers = response.headers  # type: ignore[union-attr]
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Launch tokens travel in URLs: never leak them to other sites.
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(("/app", "/lti/")):
            headers.setdefault("Cache-Control", "no-store")
        hsts = current_app.config["HSTS_MAX_AGE_SECONDS"]
        if hsts and current_app.config["PUBLIC_BASE_URL"].startswith("https://"):
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        _log_request(response.status_code)  # type: ignore[union-attr]
        return response


def note_action(action: str, **fields: object) -> None:
    """Say on the request's log line what it did (``action``: "lti.login", "lti.launch"),
    with a few fields (``platform_id``), instead of a line of its own."""
    g.log_action = {"action": action, **fields}


def _log_request(status: int) -> None:
    """One line per request; at WARNING, naming the dependency, when the database or Redis
    was unavailable (the only line such a request writes)."""
    started = g.get("started")
    outage = g.get("outage")
    level = logging.WARNING if outage else logging.INFO
    if started is None or not log.isEnabledFor(level):
        return
    extra = {"event": "request", "method": request.method,
             "path": request.path,  # never the query string: it holds tokens
             "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    action = g.get("log_action")  # what the request did (``note_action``)
    if action is not None:
        extra.update(action)
    if outage:
        extra.update(outage)
        log.log(level, "%s %s %s (%s unavailable: %s)", request.method, request.path, status,
                outage["dependency"], outage["error"], extra=extra)
        return
    log.log(level, "%s %s %s", request.method, request.path, status, extra=extra)
