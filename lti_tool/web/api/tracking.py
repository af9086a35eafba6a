"""REST API for automation, under /api/v1: record demonstrations (autograders), import them
in bulk from CSV, and read awards (the course reads and offerings are in ``courses``, on
this blueprint).

- ``POST /api/v1/demonstrations`` (scope demonstrations:write): one demonstration through
  ``services.tracking.record_demonstration``, the same award engine as the instructor's grid;
  201 with the demonstration and any award it completed (committed with its signed
  credential).
- ``POST /api/v1/demonstrations/import`` (scope demonstrations:write): CSV, validated whole
  and applied all-or-nothing (``services.demonstration_import``); ``?dry_run=1`` applies
  nothing.

Both take an ``Idempotency-Key`` (``common.idempotent_write``): the answer is stored in the
database in the same transaction as the demonstrations, so an autograder that retries
after a timeout, or after MicroCred crashed, records nothing twice and gets the first
answer.
- ``GET /api/v1/awards`` and ``GET /api/v1/awards/<id or public_id>`` (scope awards:read).

Authentication, scopes, JSON errors, ETags and pagination are the catalog API's own
(``web.api.common``): this blueprint runs the same before/after-request hooks. A course is named by
our offering id or by the platform's context id (plus its issuer, client_id and
deployment_id only when two platforms share it); a course, offering or award of another
institution is 404, exactly like one that does not exist.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from lti_tool.domain.catalog import Scope
from lti_tool.domain.catalog_schemas import first_errors
from lti_tool.errors import NotFound, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import (
    Award,
    Context,
    Demonstration,
    LearnerAccount,
    MicroCredential,
    Skill,
)
from lti_tool.services import courses, demonstration_import, tracking
from lti_tool.services.catalog import Page
from lti_tool.services.roster import learner_label, learner_names
from lti_tool.services.tracking import Assessor
from lti_tool.web.api import common as api
from lti_tool.web.api import tracking_schemas as T

log = logging.getLogger(__name__)
bp = Blueprint("api_tracking", __name__, url_prefix="/api/v1")
# The catalog API's token authentication (scope from @needs) and response headers.
bp.before_request(api.authenticate)
bp.after_request(api.api_headers)

# -- request helpers --------------------------------------------------------------------------
def load_body(schema: Schema, data: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(first_errors(exc.messages)) from None
    return result


def assessor() -> Assessor:
    who = api.actor()
    return Assessor(ref=who.ref, name=who.name)


def resolve_course(session: Session, issuer_id: int, values: Mapping[str, Any]) -> Context:
    """The course named by ``offering_id`` or by the platform's context id (with its
    issuer, client id and deployment id when needed to tell two platforms apart), if it
    belongs to the token's issuer; NotFound otherwise (another institution's course
    included), Conflict when the context id alone is ambiguous."""
    if values.get("offering_id") is not None:
        offering = courses.get_offering(session, issuer_id, values["offering_id"])
        return offering.context
    ref = values.get("context") or values
    return courses.find_course(session, issuer_id, context_id=ref["context_id"],
                               issuer=ref.get("issuer", ""), client_id=ref.get("client_id", ""),
                               deployment_id=ref.get("deployment_id", ""))


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


def demonstration_out(demo: Demonstration, name: str,
                      schema: Schema | None = None, **extra: Any) -> dict[str, Any]:
    """A demonstration as the API shows it; ``name``: the learner's, as
    ``services.roster.learner_names`` gives it; ``extra`` fields for ``schema`` (default
    ``DemonstrationSchema``)."""
    data = {
        "id": demo.id, "person_id": demo.person_id, "account_id": demo.account_id,
        "learner_name": name,
        "skill_code": demo.skill.code, "skill_name": demo.skill.name,
        "outcome": demo.outcome, "method": demo.method, "evidence_url": demo.evidence_url,
        "note": demo.evidence_note, "demonstrated_at": demo.demonstrated_at,
        "recorded_at": demo.recorded_at, "route": demo.route, "context_id": demo.context_id,
        "context_title": demo.context.title if demo.context else "",
        "assessor_name": demo.assessor_name, **extra,
    }
    result: dict[str, Any] = (schema or T.DemonstrationSchema()).dump(data)
    return result


# -- demonstrations ---------------------------------------------------------------------------
def _learner_account(session: Session, context: Context,
                     learner: Mapping[str, str]) -> LearnerAccount:
    kind, value = next((k, v) for k, v in learner.items() if v)
    by = {"platform_user_id": "sub", "email": "email", "institutional_id": "sourcedid"}[kind]
    resolved = demonstration_import.find_learner(session, context, by, value)
    if isinstance(resolved, str):
        raise ValidationFailed({f"learner.{kind}": [resolved]},
                               _("The learner is not on the course's roster."))
    account = session.get(LearnerAccount, resolved[0])
    assert account is not None  # just read from the roster
    return account


def _skill(session: Session, context: Context, issuer_id: int, code: str) -> Skill:
    skills = demonstration_import.offered_skills(session, context, issuer_id).get(code, [])
    if len(skills) != 1:
        raise ValidationFailed({"skill_code": [_("is not a skill of a micro-credential "
                                                 "offered in this course")]})
    return skills[0]


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


@bp.post("/demonstrations")
@api.needs(Scope.DEMONSTRATIONS_WRITE)
def record_demonstration() -> ResponseReturnValue:
    body = api.json_object()
    values = load_body(T.DemonstrationInputSchema(), body)

    def record() -> Response:
        session = db_session()
        issuer_id = api.actor().issuer_id
        context = resolve_course(session, issuer_id, values)
        account = _learner_account(session, context, values["learner"])
        skill = _skill(session, context, issuer_id, values["skill_code"])
        result = tracking.record_demonstration(
            session, context=context, account=account, skill=skill,
            outcome=values["outcome"], method=values["method"], assessor=assessor(),
            evidence_url=values["evidence_url"], evidence_note=values["note"],
            demonstrated_at=_utc(values.get("demonstrated_at")))
        name = account.person.display_name.strip() or learner_label(account)
        out = {"demonstration": demonstration_out(result.demonstration, name),
               "awards": awards_out(session, result.new_awards)}
        return api.respond(out, 201)

    return api.idempotent_write(values, record)


@bp.post("/demonstrations/import")
@api.needs(Scope.DEMONSTRATIONS_WRITE)
def import_demonstrations() -> ResponseReturnValue:
    args = api.load_query(T.CourseQuerySchema())
    # A 10,000-row file can exceed the default body limit: allow this endpoint's own
    # (the service reports a larger file as a problem rather than a bare 413).
    request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"] or 0,
                                     demonstration_import.MAX_BYTES + 64 * 1024)
    if not api.media_type_ok(api.CSV_TYPES):
        raise api.UnsupportedMediaType(_("Send the demonstrations as CSV with "
                                         "'Content-Type: text/csv'."))
    session = db_session()
    raw = request.get_data(cache=True)

    def run_import() -> Response:
        context = resolve_course(session, api.actor().issuer_id, args)
        report = demonstration_import.import_demonstrations_csv(
            session, context=context, text=raw, assessor=assessor(), dry_run=args["dry_run"],
            issuer_id=api.actor().issuer_id)
        return api.import_response(report)

    request_print = {"query": {k: str(v) for k, v in args.items()},
                     "csv_sha256": hashlib.sha256(raw).hexdigest()}
    return api.idempotent_write(request_print, run_import)


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
        raise NotFound(_("No such award in this token's institution."))
    return api.respond(awards_out(session, [award])[0])
