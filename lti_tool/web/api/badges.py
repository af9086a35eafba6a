"""REST API for issued credentials, under /api/v1:

- ``GET /api/v1/awards/<id or public_id>/credential`` (scope awards:read): the award's
  signed OpenBadgeCredential, by ``Accept``: ``application/ld+json`` (the default) or
  ``application/json`` → the JSON-LD credential with its ``eddsa-rdfc-2022`` proof;
  ``application/vc+jwt`` (or ``application/jwt``) → the VC-JWT; anything else 406. A
  credential not issued yet is issued now.
- ``POST /api/v1/awards/<id or public_id>/revoke`` (scope awards:revoke) with
  ``{"reason": "..."}``: revokes the award and flips its status-list bit (the signed status
  list is published again); without a reason 422. Idempotent.
- ``GET /api/v1/learners/<person_id>/clr`` (scope awards:read): a signed CLR 2.0
  ``ClrCredential`` of the learner's non-revoked credentials from the token's issuer; 404
  when there are none (or the learner has only another institution's awards).

Authentication, scopes, JSON errors and headers are the catalog API's own (``web.api.common``);
an award of another institution is 404, exactly like one that does not exist.
"""

from __future__ import annotations

import json
from typing import Any, cast

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.domain.catalog import Scope
from lti_tool.errors import NotFound, ToolError, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import Award
from lti_tool.services import issuing
from lti_tool.web.api import common as api
from lti_tool.web.api import tracking as api_tracking

bp = Blueprint("api_badges", __name__, url_prefix="/api/v1")
# The catalog API's token authentication (scope from @needs) and response headers.
bp.before_request(api.authenticate)
bp.after_request(api.api_headers)

JSON_LD = "application/ld+json"
JSON = "application/json"
VC_JWT = "application/vc+jwt"
CREDENTIAL_TYPES = (JSON_LD, JSON, VC_JWT, "application/jwt")
MAX_REASON = 2000


def _l(text: str) -> str:
    """``lazy_gettext`` typed as the text it stands for (see ``api.common._l``)."""
    return cast(str, lazy_gettext(text))


class NotAcceptable(ToolError):
    status_code = 406
    code = "not_acceptable"
    title = _l("Not acceptable")
    public_message = _l("Ask for the credential as application/ld+json, application/json or "
                        "application/vc+jwt.")


def _vault() -> Any:
    return current_app.extensions["lti"].vault


def _base_url() -> str:
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base


def _award(session: Session, award_id: str) -> Award:
    """The token's issuer's award by id or public_id; NotFound otherwise."""
    issuer_id = api.actor().issuer_id
    query = select(Award).where(Award.issuer_id == issuer_id)
    award = None
    if award_id.isascii() and award_id.isdigit() and int(award_id) <= api.MAX_ID:
        award = session.scalars(query.where(Award.id == int(award_id))).first()
    if award is None and len(award_id) <= 40:
        award = session.scalars(query.where(Award.public_id == award_id)).first()
    if award is None:
        raise NotFound(_("No such award in this token's institution."))
    return award


def _negotiate(offered: tuple[str, ...]) -> str:
    """The offered media type the client accepts best; the first one for ``*/*`` or no
    Accept header; 406 if none is acceptable."""
    if not request.headers.get("Accept", "").strip():
        return offered[0]
    best = request.accept_mimetypes.best_match(offered)
    if best is None:
        raise NotAcceptable()
    return best


def _body_response(body: str, media_type: str) -> Response:
    response = current_app.response_class(body, mimetype=media_type)
    response.vary.add("Accept")
    response.add_etag()
    return response.make_conditional(request)


def _record(session: Session, award: Award) -> Any:
    record = issuing.get_record(session, award)
    # not issued yet (e.g. awarded by a bulk import), or signed by a key revoked since
    if issuing.needs_issue(record):
        record = api.write(lambda: issuing.issue_for_award(
            session, award, vault=_vault(), base_url=_base_url()))
    return record


@bp.get("/awards/<string:award_id>/credential")
@api.needs(Scope.AWARDS_READ)
def award_credential(award_id: str) -> ResponseReturnValue:
    media_type = _negotiate(CREDENTIAL_TYPES)
    session = db_session()
    record = _record(session, _award(session, award_id))
    if media_type in (VC_JWT, "application/jwt"):
        return _body_response(record.jwt, media_type)
    return _body_response(json.dumps(record.json, ensure_ascii=False), media_type)


@bp.post("/awards/<string:award_id>/revoke")
@api.needs(Scope.AWARDS_REVOKE)
def revoke_award(award_id: str) -> ResponseReturnValue:
    body = api.json_object()
    reason = body.get("reason")
    unknown = sorted(set(body) - {"reason"})
    errors: dict[str, list[str]] = {}
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = ["say why the credential is revoked"]
    elif len(reason) > MAX_REASON:
        errors["reason"] = [f"{MAX_REASON} characters at most"]
    for name in unknown[:5]:
        errors[name] = ["unknown field"]
    if errors:
        raise ValidationFailed(errors)
    session = db_session()
    award = _award(session, award_id)
    record = api.write(lambda: issuing.revoke(
        session, award, reason=str(reason), by=api_tracking.assessor(), vault=_vault(),
        base_url=_base_url()))
    entry = record.json.get("credentialStatus", {})
    return api.respond({
        "award": api_tracking.awards_out(session, [award])[0],
        "credential": {"id": record.json["id"], "status": "revoked",
                       "status_list_credential": entry.get("statusListCredential"),
                       "status_list_index": record.status_list_index}})


@bp.get("/learners/<int(max=2147483647):person_id>/clr")
@api.needs(Scope.AWARDS_READ)
def learner_clr(person_id: int) -> ResponseReturnValue:
    media_type = _negotiate((JSON_LD, JSON))
    session = db_session()
    clr = api.write(lambda: issuing.build_clr(
        session, person_id, vault=_vault(), base_url=_base_url(),
        issuer_id=api.actor().issuer_id))
    response = current_app.response_class(json.dumps(clr, ensure_ascii=False),
                                          mimetype=media_type)
    response.vary.add("Accept")
    return response
