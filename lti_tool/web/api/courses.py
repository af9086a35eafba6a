"""REST API for the institution's courses, under /api/v1 (blueprint ``api_tracking``, with
the demonstration and award endpoints): what an autograder or a registrar's system needs to
find its way without MicroCred ids.

- ``GET /api/v1/courses`` (courses:read): the courses launched from the institution's
  platforms, with their offerings (the ids ``offering_id`` names); ``?context_id=`` finds a
  course by the platform's own id.
- ``GET /api/v1/courses/<id>`` and ``GET /api/v1/courses/<id>/roster`` (courses:read).
- ``GET /api/v1/demonstrations`` (courses:read): by course, offering, learner, and since a
  time; superseded records included and linked, paged.
- ``POST /api/v1/courses/<id>/offerings`` (offerings:write): offer a published
  micro-credential (idempotent: 201 when new, 200 when it was offered already);
  ``DELETE /api/v1/offerings/<id>``: detach it (idempotent; records and awards stay).

Another institution's course or offering is 404, exactly like one that does not exist
(``services.courses``)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState, Scope
from lti_tool.domain.lti import AppRole, map_roles
from lti_tool.domain.tracking import learner_name
from lti_tool.errors import NotFound
from lti_tool.extensions import db_session
from lti_tool.models import Context, CredentialVersion, MicroCredential, Offering
from lti_tool.services import courses, tracking
from lti_tool.services.roster import learner_names
from lti_tool.web.api import common as api
from lti_tool.web.api import tracking_schemas as T
from lti_tool.web.api.tracking import assessor, bp, demonstration_out
from lti_tool.web.api.tracking import load_body as load

MAX_ID = T.MAX_ID


def _current_versions(session: Session, credential_ids: set[int]) -> dict[int, Any]:
    """Credential id → its current published version (highest number), in one query."""
    if not credential_ids:
        return {}
    current: dict[int, CredentialVersion] = {}
    for version in session.scalars(
            select(CredentialVersion).where(
                CredentialVersion.credential_id.in_(credential_ids),
                CredentialVersion.state == LifecycleState.PUBLISHED.value)
            .order_by(CredentialVersion.credential_id, CredentialVersion.version.desc())):
        current.setdefault(version.credential_id, version)
    return current


def offerings_out(session: Session, offerings: list[Offering]) -> list[dict[str, Any]]:
    return [T.OfferingSchema().dump(data) for data in _offerings_data(session, offerings)]


def _offerings_data(session: Session, offerings: list[Offering]) -> list[dict[str, Any]]:
    current = _current_versions(session, {o.credential_id for o in offerings})
    result = []
    for offering in offerings:
        version = current.get(offering.credential_id)
        links = list(version.skill_links) if version is not None else []
        codes = [link.skill.code for link in links if link.requirement == "required"] + \
            [link.skill.code for link in links if link.requirement == "optional"]
        result.append({
            "id": offering.id, "course_id": offering.context_id,
            "credential_id": offering.credential_id,
            "credential_code": offering.credential.code,
            "credential_title": version.title if version is not None else "",
            "version": version.version if version is not None else None,
            "skill_codes": codes, "attached_at": offering.attached_at,
            "detached_at": offering.detached_at})
    return result


def courses_out(session: Session, items: list[Context]) -> list[dict[str, Any]]:
    sizes = courses.roster_sizes(session, [c.id for c in items])
    result = []
    for course in items:
        deployment = course.deployment
        platform = deployment.platform
        result.append(T.CourseSchema().dump({
            "id": course.id, "context_id": course.lti_context_id, "title": course.title,
            "label": course.label, "kind": course.kind,
            "platform": {"issuer": platform.issuer, "client_id": platform.client_id,
                         "deployment_id": deployment.deployment_id, "name": platform.name},
            "roster_size": sizes.get(course.id, 0),
            "offerings": _offerings_data(session, courses.offerings_of(session, course)),
            "created_at": course.created_at}))
    return result


def _issuer_id() -> int:
    issuer_id: int = api.actor().issuer_id
    return issuer_id


def _course(session: Session, course_id: int) -> Context:
    if course_id > MAX_ID:
        raise NotFound(_("No such course for this token's institution."))
    return courses.get_course(session, _issuer_id(), course_id)


@bp.get("/courses")
@api.needs(Scope.COURSES_READ)
def list_courses() -> ResponseReturnValue:
    args = api.load_query(T.CourseListQuerySchema())
    session = db_session()
    page = courses.list_courses(session, _issuer_id(), context_id=args["context_id"],
                                q=args["q"], page=args["page"], per_page=args["per_page"])
    return api.respond_page(page, courses_out(session, page.items),
                            "api_tracking.list_courses", args)


@bp.get("/courses/<int:course_id>")
@api.needs(Scope.COURSES_READ)
def get_course(course_id: int) -> ResponseReturnValue:
    session = db_session()
    return api.respond(courses_out(session, [_course(session, course_id)])[0])


@bp.get("/courses/<int:course_id>/roster")
@api.needs(Scope.COURSES_READ)
def course_roster(course_id: int) -> ResponseReturnValue:
    args = api.load_query(T.RosterQuerySchema())
    session = db_session()
    course = _course(session, course_id)
    page = courses.roster_page(session, course, status=args["status"], page=args["page"],
                               per_page=args["per_page"])
    items = []
    for member in page.items:
        account, entry = member.account, member.entry
        roles = list(entry.roles or [])
        items.append(T.RosterMemberSchema().dump({
            "account_id": account.id, "person_id": account.person_id,
            "name": learner_name(account.id, name=account.name, given=account.given_name,
                                 family=account.family_name, email=account.email),
            "email": account.email or "", "platform_user_id": account.sub,
            "institutional_id": account.lis_person_sourcedid or "",
            "learner": not roles or AppRole.LEARNER in map_roles(tuple(roles)),
            "roles": roles, "status": entry.status, "source": entry.source}))
    return api.respond_page(page, items, "api_tracking.course_roster",
                            {**args, "course_id": course_id})


@bp.post("/courses/<int:course_id>/offerings")
@api.needs(Scope.OFFERINGS_WRITE)
def attach_offering(course_id: int) -> ResponseReturnValue:
    values = load(T.OfferingInputSchema(), api.json_object())
    session = db_session()
    course = _course(session, course_id)
    credential = session.scalars(select(MicroCredential).where(
        MicroCredential.issuer_id == _issuer_id(),
        MicroCredential.code == values["credential_code"])).first()
    if credential is None:
        raise NotFound(_("No such micro-credential in this token's institution's catalog."))
    existing = session.scalars(select(Offering).where(
        Offering.context_id == course.id, Offering.credential_id == credential.id,
        Offering.detached_at.is_(None))).first()
    offering = api.write(lambda: tracking.attach_offering(
        session, issuer_id=_issuer_id(), context=course, credential_id=credential.id,
        by=assessor()))
    return api.respond(offerings_out(session, [offering])[0], 200 if existing else 201)


@bp.delete("/offerings/<int:offering_id>")
@api.needs(Scope.OFFERINGS_WRITE)
def detach_offering(offering_id: int) -> ResponseReturnValue:
    session = db_session()
    if offering_id > MAX_ID:
        raise NotFound(_("No such offering in this token's institution."))
    offering = courses.get_offering(session, _issuer_id(), offering_id)
    context = offering.context
    detached = api.write(lambda: tracking.detach_offering(
        session, context=context, offering_id=offering.id, by=assessor()))
    return api.respond(offerings_out(session, [detached])[0])


@bp.get("/demonstrations")
@api.needs(Scope.COURSES_READ)
def list_demonstrations() -> ResponseReturnValue:
    args = api.load_query(T.DemonstrationListQuerySchema())
    session = db_session()
    issuer_id = _issuer_id()
    course = _course(session, args["course_id"]) if args.get("course_id") else None
    offering = courses.get_offering(session, issuer_id, args["offering_id"]) \
        if args.get("offering_id") else None
    page = courses.demonstrations_page(
        session, issuer_id, course=course, offering=offering,
        person_id=args.get("person_id"), since=args.get("since"), page=args["page"],
        per_page=args["per_page"])
    corrected = courses.superseding(session, [d.id for d in page.items])
    names = learner_names(session, {d.person_id for d in page.items})
    items = [demonstration_out(demo, names.get(demo.person_id, ""),
                               T.DemonstrationItemSchema(), supersedes_id=demo.supersedes_id,
                               superseded_by=corrected.get(demo.id))
             for demo in page.items]
    shown = {k: (v.isoformat() if k == "since" else v) for k, v in args.items()}
    return api.respond_page(page, items, "api_tracking.list_demonstrations", shown)
