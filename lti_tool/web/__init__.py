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

from flask import Flask, g, request
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

    # Security headers every response gets unless its view set its own (a view's own CSP,
    # say); pages inside the LMS also are never cached.
    everywhere = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                  # Launch tokens travel in URLs: never leak them to other sites.
                  ("Referrer-Policy", "same-origin"))
    in_lms = (*everywhere, ("Cache-Control", "no-store"))
    config = app.config

    @app.after_request
    def _headers(response: ResponseReturnValue) -> ResponseReturnValue:
        headers = response.headers  # type: ignore[union-attr]
        headers["X-Request-ID"] = g.get("request_id", "-")
        present = {name.lower() for name, _value in headers.items()}
        for name, value in in_lms if request.path.startswith(("/app", "/lti/")) \
                else everywhere:
            if name.lower() not in present:
                headers.add(name, value)
        hsts = config["HSTS_MAX_AGE_SECONDS"]
        if hsts and config["PUBLIC_BASE_URL"].startswith("https://") and \
                "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", f"max-age={hsts}")
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
