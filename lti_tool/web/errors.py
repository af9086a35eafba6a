"""Map ToolError (and HTTP errors) to a page inside the LMS frame, or JSON for the API.
Never put ``str(exc)`` or a stack trace in a response."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from lti_tool.errors import ToolError, ValidationFailed

log = logging.getLogger(__name__)


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def render_error(status: int, code: str, title: str, message: str,
                 fields: dict[str, list[str]] | None = None) -> tuple[Any, int]:
    if wants_json():
        body: dict[str, object] = {"error": {"code": code, "title": title, "message": message,
                                             "request_id": g.get("request_id", "-")}}
        if fields:
            body["error"]["fields"] = fields  # type: ignore[index]
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, title=title,
                           message=message, fields=fields or {},
                           request_id=g.get("request_id", "-")), status


def register(app: Flask) -> None:
    @app.errorhandler(ToolError)
    def _tool_error(exc: ToolError) -> ResponseReturnValue:
        level = logging.WARNING if exc.status_code < 500 else logging.ERROR
        log.log(level, "refused: %s %s", exc.code, exc.log_detail,
                extra={"event": "refused", "code": exc.code, "status": exc.status_code})
        fields = exc.errors if isinstance(exc, ValidationFailed) else None
        return render_error(exc.status_code, exc.code, exc.title, exc.public_message, fields)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        messages = {
            404: "That page does not exist.",
            405: "That address does not accept this kind of request.",
            413: "The request is too large.",
        }
        body, code = render_error(status, f"http_{status}", exc.name,
                                  messages.get(status, "The request could not be completed."))
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return body, code, headers

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> ResponseReturnValue:
        # A concurrent save changed the row between our read and our UPDATE.
        log.warning("refused: stale_version (concurrent update)",
                    extra={"event": "refused", "code": "stale_version", "status": 409})
        return render_error(409, "stale_version", "Conflict",
                            "Someone else saved this in the meantime. Reload to see their "
                            "changes, then apply yours again.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unexpected error", extra={"event": "error", "status": 500})
        return render_error(500, "internal_error", "Something went wrong",
                            "MicroCred hit an unexpected problem. The error was logged; "
                            "please try again, and quote the request id if it persists.")
