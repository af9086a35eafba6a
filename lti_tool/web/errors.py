"""Map ToolError (and HTTP errors) to a page inside the LMS frame, or JSON for the API.
Never put ``str(exc)`` or a stack trace in a response.

An outage of the database or Redis (``extensions.dependency_failure``) is a 503 with
``Retry-After`` and a page saying to try again shortly, not a 500: it is logged once, on
the request's own log line (``web._headers``), without a traceback, and a connection-level
failure opens the process's breaker so the next requests do not wait for it again. A rate
limit is a 429 with ``Retry-After``."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from lti_tool.errors import RateLimited, ServiceUnavailable, ToolError, ValidationFailed
from lti_tool.extensions import breaker, dependency_failure
from lti_tool.ratelimit import retry_after_seconds
from lti_tool.translate import gettext as _

log = logging.getLogger(__name__)


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def back_url() -> str:
    """Where "Back" on an error page goes: the page the request came from, when it is one
    of ours (same origin; the ``same-origin`` referrer policy gives it whole, with the
    launch token) and not the failing address itself. Empty otherwise."""
    referrer = request.referrer or ""
    if len(referrer) > 4000:
        return ""
    parts, ours = urlsplit(referrer), urlsplit(request.host_url)
    if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc) or \
            parts.scheme not in ("http", "https"):
        return ""
    if request.method == "GET" and parts.path == request.path and \
            parts.query == request.query_string.decode("latin-1"):
        return ""
    return referrer


def render_error(status: int, code: str, title: str, message: str,
                 fields: dict[str, list[str]] | None = None, *,
                 action: dict[str, Any] | None = None) -> tuple[Any, int]:
    """The error as JSON or as the error page. ``action``: a button on the page
    (``label``, ``url``, ``new_window``) offering the way out."""
    if wants_json():
        body: dict[str, object] = {"error": {"code": code, "title": str(title),
                                             "message": str(message),
                                             "request_id": g.get("request_id", "-")}}
        if fields:
            body["error"]["fields"] = fields  # type: ignore[index]
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, title=title,
                           message=message, fields=fields or {}, action=action,
                           request_id=g.get("request_id", "-"),
                           back=back_url() if status != 401 else ""), status


def _unavailable(exc: ServiceUnavailable) -> ResponseReturnValue:
    # Logged once, by the request's own log line: no "refused" line, no traceback.
    g.outage = {"dependency": exc.dependency, "error": exc.log_detail or "unavailable"}
    action = None
    if request.method == "GET":
        action = {"label": _("Try again"), "url": request.full_path.rstrip("?"),
                  "new_window": False}
    body, status = render_error(exc.status_code, exc.code, exc.title, exc.public_message,
                                action=action)
    return body, status, {"Retry-After": str(exc.retry_after)}


def unavailable_for(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for an exception from the database or Redis (None for anything else);
    a connection-level failure also opens this process's breaker."""
    failure = dependency_failure(exc)
    if failure is None:
        return None
    if failure.outage:
        breaker().trip(failure.dependency)
    message = None if failure.outage else _(
        "MicroCred is very busy right now, so nothing was saved. Please try again in a few "
        "seconds.")
    return ServiceUnavailable(failure.dependency, log_detail=failure.detail,
                              retry_after=current_app.config["RETRY_AFTER_SECONDS"],
                              public_message=message)


def register(app: Flask) -> None:
    @app.errorhandler(ToolError)
    def _tool_error(exc: ToolError) -> ResponseReturnValue:
        if isinstance(exc, ServiceUnavailable):
            return _unavailable(exc)
        level = logging.WARNING if exc.status_code < 500 else logging.ERROR
        log.log(level, "refused: %s %s", exc.code, exc.log_detail,
                extra={"event": "refused", "code": exc.code, "status": exc.status_code})
        fields = exc.errors if isinstance(exc, ValidationFailed) else None
        body, status = render_error(exc.status_code, exc.code, exc.title, exc.public_message,
                                    fields)
        if isinstance(exc, RateLimited):
            return body, status, {"Retry-After": str(exc.retry_after)}
        return body, status

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> ResponseReturnValue:
        return _tool_error(RateLimited(retry_after_seconds(exc)))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        messages = {
            404: _("That page does not exist."),
            405: _("That address does not accept this kind of request."),
            413: _("The request is too large."),
        }
        titles = {
            400: _("Bad request"), 403: _("Not allowed"), 404: _("Not found"),
            405: _("Method not allowed"), 413: _("Request too large"),
            429: _("Too many requests"), 500: _("Something went wrong"),
        }
        body, code = render_error(status, f"http_{status}", titles.get(status, exc.name),
                                  messages.get(status, _("The request could not be completed.")))
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return body, code, headers

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> ResponseReturnValue:
        # A concurrent save changed the row between our read and our UPDATE.
        log.warning("refused: stale_version (concurrent update)",
                    extra={"event": "refused", "code": "stale_version", "status": 409})
        return render_error(409, "stale_version", _("Conflict"),
                            _("Someone else saved this in the meantime. Reload to see their "
                              "changes, then apply yours again."))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        unavailable = unavailable_for(exc)
        if unavailable is not None:
            return _unavailable(unavailable)
        log.exception("unexpected error", extra={"event": "error", "status": 500})
        return render_error(500, "internal_error", _("Something went wrong"),
                            _("MicroCred hit an unexpected problem. The error was logged; "
                              "please try again, and quote the request id if it persists."))
