"""REST API for automation, under /api/v1: record demonstrations (autograders), import them
in bulk from CSV, and read awards.

- ``POST /api/v1/demonstrations`` (scope demonstrations:write): one demonstration through
  ``services.tracking.record_demonstration``, the same award engine as the instructor's grid;
  201 with the demonstration and any award it completed. An ``Idempotency-Key`` header
  makes retries safe: the first response is kept (Redis, 24 hours) and replayed for the
  same key and body, so an autograder that retries after a timeout records nothing twice.
- ``POST /api/v1/demonstrations/import`` (scope demonstrations:write): CSV, validated whole
  and applied all-or-nothing (``services.demonstration_import``); ``?dry_run=1`` applies
  nothing.
- ``GET /api/v1/awards`` and ``GET /api/v1/awards/<id or public_id>`` (scope awards:read).

Authentication, scopes, JSON errors, ETags and pagination are the catalog API's own
(``web.api.common``): this blueprint runs the same before/after-request hooks. A course is named by
our offering id or by the platform's ids (issuer, client_id, deployment_id, context_id); a
course, offering or award of another institution is 404, exactly like one that does not
exist.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from lti_tool.domain.catalog import Scope
from lti_tool.domain.catalog_schemas import first_errors
from lti_tool.errors import Conflict, NotFound, ToolError, ValidationFailed
from lti_tool.extensions import db_session, kv
from lti_tool.models import (
    Award,
    Context,
    Demonstration,
    Deployment,
    LearnerAccount,
    MicroCredential,
    Offering,
    Platform,
    Skill,
)
from lti_tool.services import demonstration_import, tracking
from lti_tool.services.catalog import Page, issuer_for_platform
from lti_tool.services.roster import learner_label, learner_names
from lti_tool.services.tracking import Assessor
from lti_tool.web.api import common as api
from lti_tool.web.api import tracking_schemas as T
from lti_tool.web.common.awarding import issue_awards_now
from lti_tool.web.errors import render_error

log = logging.getLogger(__name__)
bp = Blueprint("api_tracking", __name__, url_prefix="/api/v1")
# The catalog API's token authentication (scope from @needs) and response headers.
bp.before_request(api.authenticate)
bp.after_request(api.api_headers)

IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_PENDING_TTL = 120
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}\Z")  # visible ASCII, as Stripe's


class DatabaseBusy(ToolError):
    status_code = 503
    code = "busy"
    title = "Busy: retry shortly"
    public_message = ("Another change to the same records was being saved at that moment; "
                      "nothing was recorded. Retry in a moment.")


@bp.errorhandler(OperationalError)
def _database_busy(exc: OperationalError) -> ResponseReturnValue:
    """SQLite allows one writer at a time and refuses a second concurrent one outright
    ("database is locked"), even in the token's last-use stamp: that is a 503 to retry, not
    a 500 (PostgreSQL waits for row locks instead). Any other database error is a 500."""
    if "database is locked" in str(exc.orig):
        log.warning("refused: busy (sqlite: database is locked)",
                    extra={"event": "refused", "code": DatabaseBusy.code, "status": 503})
        body, status = render_error(503, DatabaseBusy.code, DatabaseBusy.title,
                                    DatabaseBusy.public_message)
        return body, status, {"Retry-After": "1"}
    log.exception("unexpected error", extra={"event": "error", "status": 500})
    return render_error(500, "internal_error", "Something went wrong",
                        "MicroCred hit an unexpected problem. The error was logged; please "
                        "try again, and quote the request id if it persists.")


# -- request helpers --------------------------------------------------------------------------
def _load(schema: Schema, data: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(first_errors(exc.messages)) from None
    return result


def assessor() -> Assessor:
    who = api.actor()
    return Assessor(ref=who.ref, name=who.name)


def resolve_course(session: Session, issuer_id: int, values: Mapping[str, Any]) -> Context:
    """The course named by ``offering_id`` or by the platform's four ids, if it belongs to
    the token's issuer; NotFound otherwise (another institution's course included)."""
    if values.get("offering_id") is not None:
        offering = session.get(Offering, values["offering_id"])
        if offering is None or offering.issuer_id != issuer_id:
            raise NotFound("No such offering in this token's institution.")
        return offering.context
    ref = values.get("context") or values
    context = session.scalars(
        select(Context).join(Deployment, Deployment.id == Context.deployment_id)
        .join(Platform, Platform.id == Deployment.platform_id)
        .where(Platform.issuer == ref["issuer"], Platform.client_id == ref["client_id"],
               Deployment.deployment_id == ref["deployment_id"],
               Context.lti_context_id == ref["context_id"])).first()
    if context is not None:
        serving = issuer_for_platform(session, context.deployment.platform_id,
                                      context.deployment_id)
        if serving is not None and serving.id == issuer_id:
            return context
    raise NotFound("No such course for this token's institution (it must have been "
                   "launched from the platform at least once).")


# -- serialisation ----------------------------------------------------------------------------
def awards_out(session: Session, awards: list[Award]) -> list[dict[str, Any]]:
    """Awards as the API shows them; the page's demonstrations are read in one query."""
    demo_ids = sorted({i for a in awards for i in (a.demonstration_ids or [])})
    demos: dict[int, dict[str, Any]] = {}
    for start in range(0, len(demo_ids), 500):
        for did, code, outcome, at in session.execute(
                select(Demonstration.id, Skill.code, Demonstration.outcome,
                       Demonstration.demonstrated_at)
                .join(Skill, Skill.id == Demonstration.skill_id)
                .where(Demonstration.id.in_(demo_ids[start:start + 500]))):
            demos[did] = {"id": did, "skill_code": code, "outcome": outcome,
                          "demonstrated_at": at}
    names = learner_names(session, (a.person_id for a in awards))
    result = []
    for award in awards:
        version = award.version
        data = {
            "id": award.id, "public_id": award.public_id, "credential_id": award.credential_id,
            "credential_code": award.credential.code, "credential_title": version.title,
            "version": version.version, "version_id": version.id, "person_id": award.person_id,
            "learner_name": names.get(award.person_id, ""),
            "route": award.route, "context_id": award.context_id,
            "context_title": award.context.title if award.context else "",
            "awarded_at": award.awarded_at, "status": award.status,
            "flagged_at": award.flagged_at, "flag_reason": award.flag_reason or "",
            "revoked_at": award.revoked_at, "revoked_reason": award.revoked_reason or "",
            "demonstrations": [demos[i] for i in (award.demonstration_ids or []) if i in demos],
        }
        result.append(T.AwardSchema().dump(data))
    return result


def demonstration_out(demo: Demonstration, account: LearnerAccount) -> dict[str, Any]:
    data = {
        "id": demo.id, "person_id": demo.person_id, "account_id": demo.account_id,
        "learner_name": account.person.display_name.strip() or learner_label(account),
        "skill_code": demo.skill.code, "skill_name": demo.skill.name,
        "outcome": demo.outcome, "method": demo.method, "evidence_url": demo.evidence_url,
        "note": demo.evidence_note, "demonstrated_at": demo.demonstrated_at,
        "recorded_at": demo.recorded_at, "route": demo.route, "context_id": demo.context_id,
        "context_title": demo.context.title if demo.context else "",
        "assessor_name": demo.assessor_name,
    }
    result: dict[str, Any] = T.DemonstrationSchema().dump(data)
    return result


# -- idempotency ------------------------------------------------------------------------------
class IdempotencyInProgress(Conflict):
    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is still running"
    public_message = "A request with this Idempotency-Key is still running: retry shortly."


def _replay(stored: str, fingerprint: str) -> Response:
    saved = json.loads(stored)
    if saved.get("state") == "pending":
        raise IdempotencyInProgress()
    if saved.get("fingerprint") != fingerprint:
        raise ValidationFailed(
            {"Idempotency-Key": ["was already used for a different request; use a new key "
                                 "for each new demonstration"]},
            "This Idempotency-Key was already used with another request body.")
    response = current_app.response_class(saved["body"], status=saved["status"],
                                          mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(body: dict[str, Any], run: Callable[[], Response]) -> Response:
    """Run ``run`` once per (token, Idempotency-Key): a retry with the same key and body
    gets the first (successful) response again, without running it; the same key with a
    different body is 422; while the first is still running, 409. Only successful responses
    are kept, so a refused request can be corrected and retried with the same key."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    if not _IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed({"Idempotency-Key": ["use 1-255 visible ASCII characters, "
                                                    "e.g. a UUID"]})
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, default=str)
                                 .encode()).hexdigest()
    slot = (f"idem:demonstrations:{api.actor().ref}:"
            f"{hashlib.sha256(key.encode()).hexdigest()}")
    store = kv()
    stored = store.get(slot)
    if stored is not None:
        return _replay(stored, fingerprint)
    pending = json.dumps({"state": "pending", "fingerprint": fingerprint})
    if not store.set(slot, pending, IDEMPOTENCY_PENDING_TTL, only_if_absent=True):
        return _replay(store.get(slot) or pending, fingerprint)
    try:
        response = run()
    except BaseException:
        store.delete(slot)
        raise
    if 200 <= response.status_code < 300:
        store.set(slot, json.dumps({"state": "done", "fingerprint": fingerprint,
                                    "status": response.status_code,
                                    "body": response.get_data(as_text=True)}),
                  IDEMPOTENCY_TTL)
    else:
        store.delete(slot)
    return response


# -- demonstrations ---------------------------------------------------------------------------
def _learner_account(session: Session, context: Context,
                     learner: Mapping[str, str]) -> LearnerAccount:
    kind, value = next((k, v) for k, v in learner.items() if v)
    by = {"platform_user_id": "sub", "email": "email", "institutional_id": "sourcedid"}[kind]
    resolved = demonstration_import.find_learner(session, context, by, value)
    if isinstance(resolved, str):
        raise ValidationFailed({f"learner.{kind}": [resolved]},
                               "The learner is not on the course's roster.")
    account = session.get(LearnerAccount, resolved[0])
    assert account is not None  # just read from the roster
    return account


def _skill(session: Session, context: Context, issuer_id: int, code: str) -> Skill:
    skills = demonstration_import.offered_skills(session, context, issuer_id).get(code, [])
    if len(skills) != 1:
        raise ValidationFailed({"skill_code": ["is not a skill of a micro-credential "
                                               "offered in this course"]})
    return skills[0]


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


@bp.post("/demonstrations")
@api.needs(Scope.DEMONSTRATIONS_WRITE)
def record_demonstration() -> ResponseReturnValue:
    body = api.json_object()
    values = _load(T.DemonstrationInputSchema(), body)

    def run() -> Response:
        session = db_session()
        issuer_id = api.actor().issuer_id
        context = resolve_course(session, issuer_id, values)
        account = _learner_account(session, context, values["learner"])
        skill = _skill(session, context, issuer_id, values["skill_code"])
        result = api.write(lambda: tracking.record_demonstration(
            session, context=context, account=account, skill=skill,
            outcome=values["outcome"], method=values["method"], assessor=assessor(),
            evidence_url=values["evidence_url"], evidence_note=values["note"],
            demonstrated_at=_utc(values.get("demonstrated_at"))))
        issue_awards_now(session, result.new_awards)
        out = {"demonstration": demonstration_out(result.demonstration, account),
               "awards": awards_out(session, result.new_awards)}
        return api.respond(out, 201)

    return idempotent(values, run)


@bp.post("/demonstrations/import")
@api.needs(Scope.DEMONSTRATIONS_WRITE)
def import_demonstrations() -> ResponseReturnValue:
    args = api.load_query(T.CourseQuerySchema())
    # A 10,000-row file can exceed the default body limit: allow this endpoint's own
    # (the service reports a larger file as a problem rather than a bare 413).
    request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"] or 0,
                                     demonstration_import.MAX_BYTES + 64 * 1024)
    if not api.media_type_ok(api.CSV_TYPES):
        raise api.UnsupportedMediaType("Send the demonstrations as CSV with "
                                       "'Content-Type: text/csv'.")
    session = db_session()
    context = resolve_course(session, api.actor().issuer_id, args)
    raw = request.get_data(cache=True)
    report = api.write(lambda: demonstration_import.import_demonstrations_csv(
        session, context=context, text=raw, assessor=assessor(), dry_run=args["dry_run"],
        issuer_id=api.actor().issuer_id))
    issue_awards_now(session, [a["id"] for a in report.awards if a["id"] and report.applied])
    return api.import_response(report)


# -- awards -----------------------------------------------------------------------------------
def _award_query(issuer_id: int) -> Any:
    return (select(Award).where(Award.issuer_id == issuer_id)
            .options(selectinload(Award.version), selectinload(Award.credential),
                     selectinload(Award.context)))


@bp.get("/awards")
@api.needs(Scope.AWARDS_READ)
def list_awards() -> ResponseReturnValue:
    args = api.load_query(T.AwardListQuerySchema())
    session = db_session()
    query = _award_query(api.actor().issuer_id)
    if args["credential"]:
        query = query.join(MicroCredential, MicroCredential.id == Award.credential_id).where(
            MicroCredential.code == args["credential"])
    if args.get("person_id") is not None:
        query = query.where(Award.person_id == args["person_id"])
    if args["status"]:
        query = query.where(Award.status == args["status"])
    if args.get("since") is not None:
        query = query.where(Award.awarded_at >= args["since"])
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.order_by(Award.id).limit(args["per_page"])
                                 .offset((args["page"] - 1) * args["per_page"])))
    page = Page(items, int(total or 0), args["page"], args["per_page"])
    shown = {k: (v.isoformat() if k == "since" else v) for k, v in args.items()}
    return api.respond_page(page, awards_out(session, items), "api_tracking.list_awards",
                            shown)


@bp.get("/awards/<string:award_id>")
@api.needs(Scope.AWARDS_READ)
def get_award(award_id: str) -> ResponseReturnValue:
    session = db_session()
    issuer_id = api.actor().issuer_id
    award = None
    if award_id.isascii() and award_id.isdigit() and int(award_id) <= api.MAX_ID:
        award = session.scalars(_award_query(issuer_id).where(
            Award.id == int(award_id))).first()
    if award is None and len(award_id) <= 40:
        award = session.scalars(_award_query(issuer_id).where(
            Award.public_id == award_id)).first()
    if award is None:
        raise NotFound("No such award in this token's institution.")
    return api.respond(awards_out(session, [award])[0])
