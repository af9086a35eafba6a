"""What every /api/v1 blueprint shares: token authentication and scopes (``needs``), the
API's own errors (401, 415, 428) and headers, and the request and response helpers (JSON
bodies, query schemas, row_version preconditions, ETags, paging links).

Authentication is a per-issuer API token only (``Authorization: Bearer mc_...``); the launch
cookie is never read here, so CSRF does not apply. Each blueprint registers
``authenticate`` (before) and ``api_headers`` (after); a missing or bad token is 401 with
``WWW-Authenticate``, a missing scope 403 with ``error="insufficient_scope"``.

Writes that may be retried (``idempotent_write``) take an ``Idempotency-Key``: the answer
is stored in the database with the write itself (``services.idempotency``), so a retry
after any crash gets the first answer or runs once.

Reads carry a weak ETag (a hash of the body; single resources prefix it with their
``row_version``) and answer ``If-None-Match`` with 304. Writes to an existing resource take
the row_version they were based on (``If-Match: "<row_version>"`` or a ``row_version``
field); a stale one is 409, so a concurrent edit is refused rather than silently lost.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from marshmallow import Schema, ValidationError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from lti_tool.domain.catalog import (
    Scope,
)
from lti_tool.domain.catalog_schemas import first_errors
from lti_tool.errors import Conflict, ToolError, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import IdempotencyRecord
from lti_tool.models.base import utcnow
from lti_tool.services import api_tokens, catalog_io, idempotency
from lti_tool.services.catalog import Actor, Page

REALM = 'Bearer realm="MicroCred API"'
MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer cannot exist; keep them away from the DB
ID = f"int(max={MAX_ID})"
LAST_USED_GRANULARITY = timedelta(minutes=5)
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
# One entity tag, as we issue them (W/"<row_version>-<hash>") or as a client writes the
# row_version ("3"); werkzeug's parser is too lenient here (it reads '""' as a None tag).
_IF_MATCH = re.compile(r'^(?:W/)?"(\d{1,10})(?:-[0-9a-f]{1,64})?"\Z')

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def _l(text: str) -> str:
    """``lazy_gettext`` typed as the text it stands for: class attributes of the errors below,
    translated when the error is answered (in the language the request asks for)."""
    return cast(str, lazy_gettext(text))


# -- errors particular to the API ---------------------------------------------------------------
class Unauthorized(ToolError):
    status_code = 401
    code = "unauthorized"
    title = _l("Authentication required")
    public_message = _l("Send an API token: 'Authorization: Bearer mc_...'. Tokens are created "
                        "by a catalog administrator (admin pages or `microcred tokens create`).")


class InvalidToken(Unauthorized):
    code = "invalid_token"
    title = _l("Invalid API token")
    public_message = _l("This API token is not valid: it is unknown, malformed or revoked.")


class UnsupportedMediaType(ToolError):
    status_code = 415
    code = "unsupported_media_type"
    title = _l("Unsupported media type")


class PreconditionRequired(ToolError):
    status_code = 428
    code = "precondition_required"
    title = _l("Say which version you edited")
    public_message = _l("Send the row_version you read, as 'If-Match: \"<row_version>\"' or a "
                        "row_version field, so a concurrent change is not silently "
                        "overwritten.")


# -- authentication -------------------------------------------------------------------------------
def authenticate() -> None:
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    if not header.strip():
        g.api_challenge = REALM
        raise Unauthorized()
    scheme, _space, credentials = header.strip().partition(" ")
    g.api_challenge = f'{REALM}, error="invalid_token"'
    if scheme.lower() != "bearer" or not credentials.strip():
        raise InvalidToken(_("Use the Bearer scheme: 'Authorization: Bearer mc_...'."))
    session = db_session()
    token = api_tokens.authenticate(session, credentials.strip())
    if token is None:
        raise InvalidToken()
    g.api_actor = api_tokens.actor_for_token(token)
    g.api_token_id = token.id
    g.api_challenge = None
    _note_last_use(token)
    view = current_app.view_functions.get(request.endpoint or "")
    scope: Scope | None = getattr(view, "api_scope", None)
    if scope is not None and not g.api_actor.can(scope):
        g.api_missing_scope = scope.value
        g.api_actor.require(scope)  # raises Forbidden (403)


def needs(scope: Scope) -> Callable[[F], F]:
    """The scope a token must carry for this endpoint (checked before the view runs; the
    services check again)."""

    def mark(view: F) -> F:
        view.api_scope = scope  # type: ignore[attr-defined]
        return view

    return mark


def _note_last_use(token: Any) -> None:
    """``authenticate`` stamps last_used_at. Keep that bookkeeping out of the request's own
    transaction (a refused write must still apply nothing) and write it at most every few
    minutes, so reads do not become writes."""
    session = db_session()
    history = sa_inspect(token).attrs.last_used_at.history
    previous = history.deleted[0] if history.deleted else None
    if previous is not None and utcnow() - previous < LAST_USED_GRANULARITY:
        session.expire(token, ["last_used_at"])  # discard the pending stamp
        return
    session.commit()


def actor() -> Actor:
    result: Actor = g.api_actor
    return result


def api_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Authorization")
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = g.get("api_challenge") or REALM
    elif response.status_code == 403 and g.get("api_missing_scope"):
        response.headers["WWW-Authenticate"] = (
            f'{REALM}, error="insufficient_scope", scope="{g.api_missing_scope}"')
    return response


# -- request helpers ------------------------------------------------------------------------------
def media_type_ok(allowed: tuple[str, ...]) -> bool:
    mimetype = request.mimetype or ""
    return mimetype in allowed or (allowed == JSON_TYPES and mimetype.startswith("application/")
                                   and mimetype.endswith("+json"))


def json_body() -> Any:
    """The request body as JSON. 415 for another media type, 422 if it does not parse,
    413 (raised by Flask while reading) if it is larger than MAX_CONTENT_LENGTH."""
    if not media_type_ok(JSON_TYPES):
        raise UnsupportedMediaType(
            _("Send the body as JSON with 'Content-Type: application/json'."))
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw)
        # Lone surrogates parse but cannot be stored as text: refuse them here.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        raise ValidationFailed({"_body": [_("is not valid JSON (UTF-8)")]},
                               _("The request body is not valid JSON.")) from None
    return data


def json_object() -> dict[str, Any]:
    data = json_body()
    if not isinstance(data, dict):
        raise ValidationFailed({"_schema": [_("must be a JSON object")]})
    return data


def load_query(schema: Schema) -> dict[str, Any]:
    # An empty value (``?state=``) means "no filter", as a search form would send it.
    args = {k: v for k, v in request.args.to_dict(flat=True).items() if v != ""}
    try:
        result: dict[str, Any] = schema.load(args)
    except ValidationError as exc:
        raise ValidationFailed(first_errors(exc.messages),
                               _("Some query parameters are not valid.")) from None
    return result


def expected_row_version(body: dict[str, Any] | None, *, required: bool) -> int | None:
    """The row_version the client based its change on: ``If-Match`` or a ``row_version``
    field (removed from ``body``). ``If-Match: *`` means "whatever is there"."""
    from_body: int | None = None
    if body is not None and "row_version" in body:
        value = body.pop("row_version")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise ValidationFailed({"row_version": [_("must be the whole number you read in "
                                                      "row_version")]})
        from_body = value
    header = (request.headers.get("If-Match") or "").strip()
    if not header:
        if from_body is None and required:
            raise PreconditionRequired()
        return from_body
    if header == "*":
        return from_body
    match = _IF_MATCH.match(header)
    if match is None:
        raise ValidationFailed({"If-Match": [_('give one ETag of this resource, e.g. "3"')]})
    from_header = int(match.group(1))
    if from_body is not None and from_body != from_header:
        raise ValidationFailed({"row_version": [_("does not match the If-Match header")]})
    return from_header


def write(action: Callable[[], T]) -> T:
    """Run one state change and commit it once (with the signed credentials of any awards
    it made: ``jobs``' before-commit hook). A unique constraint hit by a concurrent
    request (the same code saved twice at once) is a 409, not a 500."""
    session = db_session()
    try:
        result = action()
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("This conflicts with a change saved at the same moment. Reload and "
                         "try again."), code="concurrent_change") from None
    return result


def idempotent_write(payload: Any, work: Callable[[], Response]) -> Response:
    """Run ``work`` (which changes things but does not commit) and commit once. With an
    ``Idempotency-Key`` the successful answer is stored in the same transaction, scoped by
    the token's issuer, the token and this endpoint: a retry with the same key and
    ``payload`` gets that answer back (``Idempotent-Replayed: true``) without running
    again, or runs once if the first never committed (services.idempotency). A failed
    answer (4xx) is not kept: nothing was changed and the key may be used again."""
    session = db_session()
    key = request.headers.get("Idempotency-Key")
    claimed: IdempotencyRecord | None = None
    if key is not None:
        scope = idempotency.Scope(actor().issuer_id, int(g.api_token_id),
                                  request.endpoint or request.path)
        found = idempotency.claim(session, scope, key, idempotency.fingerprint(payload))
        if isinstance(found, idempotency.StoredAnswer):
            session.rollback()
            return _replay(found)
        claimed = found

    def work_and_keep_answer() -> Response:
        response = work()
        if claimed is not None and 200 <= response.status_code < 300:
            idempotency.complete(session, claimed, response.status_code,
                                 response.get_data(as_text=True), dict(response.headers))
        return response

    response = write(work_and_keep_answer)
    if not 200 <= response.status_code < 300:
        session.rollback()  # a refused request (e.g. an invalid import) changes nothing
    return response


def _replay(answer: idempotency.StoredAnswer) -> Response:
    response = current_app.response_class(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


# -- response helpers -----------------------------------------------------------------------------
def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def respond(body: Any, status: int = 200, *, row_version: int | None = None,
            etag: str | None = None, headers: Mapping[str, str] | None = None) -> Response:
    """JSON with a weak ETag (a hash of the body, after the row_version for a single
    resource); a GET whose If-None-Match matches gets 304 and no body."""
    payload = current_app.json.dumps(body)
    body_digest = etag or digest(payload)
    tag = f"{row_version}-{body_digest}" if row_version is not None else body_digest
    if request.method in ("GET", "HEAD") and status == 200 and \
            request.if_none_match.contains_weak(tag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(payload + "\n", status=status,
                                              mimetype="application/json")
    response.set_etag(tag, weak=True)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def respond_page(page: Page, items: list[Any], endpoint: str,
                 args: Mapping[str, Any]) -> Response:
    body = {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total}
    kept: dict[str, Any] = {
        k: (str(v).lower() if isinstance(v, bool) else v) for k, v in args.items()
        if k != "page" and v not in ("", None) and not (k == "per_page" and v == 50)}
    links = []

    def link(number: int, rel: str) -> None:
        links.append(f'<{url_for(endpoint, **kept, page=number)}>; rel="{rel}"')

    if page.page < page.pages:
        link(page.page + 1, "next")
    if page.page > 1:
        link(min(page.page - 1, page.pages), "prev")
    link(1, "first")
    link(page.pages, "last")
    return respond(body, headers={"Link": ", ".join(links)})


def no_content() -> Response:
    return current_app.response_class(status=204)


def import_response(report: catalog_io.ImportReport) -> Response:
    """200 with the report; on any problem 422 (nothing applied) with one field message per
    problem location and the whole report beside the usual error."""
    if report.ok:
        return respond(report.as_dict())
    fields: dict[str, list[str]] = {}
    for problem in report.problems:
        fields.setdefault(problem["where"], []).append(problem["message"])
    count = len(report.problems)
    body = {"error": {"code": "import_invalid", "title": _("Nothing was imported"),
                      "message": ngettext("The import has %(num)d problem; nothing was "
                                          "changed. Fix it and import again.",
                                          "The import has %(num)d problems; nothing was "
                                          "changed. Fix them and import again.", count),
                      "request_id": g.get("request_id", "-"), "fields": fields},
            "report": report.as_dict()}
    return respond(body, 422)
