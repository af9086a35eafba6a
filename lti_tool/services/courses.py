"""An issuer's courses as integrators read them (``/api/v1/courses``, ``/api/v1/demonstrations``):
the courses its platforms launched MicroCred from, each with its offerings, its roster, and
the demonstrations recorded in it, paged; and a course found by the platform's own context
id, so an autograder needs no MicroCred id.

Which courses are an issuer's: a course belongs to the issuer its deployment serves
(``IssuerPlatform``: a row for the deployment wins over the platform-wide one, exactly as
``services.catalog.issuer_for_platform``). Another institution's course is NotFound, like
one that does not exist. Read-only: nothing here writes; every function raises NotFound,
Conflict (an ambiguous context id) or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from lti_tool.errors import Conflict, NotFound
from lti_tool.models import (
    Context,
    CredentialSkill,
    CredentialVersion,
    Demonstration,
    Deployment,
    IssuerPlatform,
    LearnerAccount,
    Offering,
    Platform,
    RosterEntry,
)
from lti_tool.services.catalog import Page

MAX_PER_PAGE = 100
ROSTER_STATUSES = ("active", "inactive", "all")


def _served(issuer_id: int) -> Any:
    """SQL condition: the course's deployment serves this issuer (a deployment mapping,
    or the platform's mapping with no other issuer's mapping for the deployment)."""
    mapped = aliased(IssuerPlatform)
    other = aliased(IssuerPlatform)
    deployment_row = exists().where(mapped.issuer_id == issuer_id,
                                    mapped.deployment_pk == Deployment.id)
    platform_row = exists().where(mapped.issuer_id == issuer_id,
                                  mapped.platform_id == Deployment.platform_id,
                                  mapped.deployment_pk.is_(None))
    overridden = exists().where(other.deployment_pk == Deployment.id,
                                other.issuer_id != issuer_id)
    return or_(deployment_row, and_(platform_row, ~overridden))


def _courses(issuer_id: int) -> Select[Any]:
    return (select(Context).join(Deployment, Deployment.id == Context.deployment_id)
            .where(_served(issuer_id)))


def _page(session: Session, query: Select[Any], page: int, per_page: int) -> Page:
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, int(total or 0), page, per_page)


def list_courses(session: Session, issuer_id: int, *, context_id: str = "", q: str = "",
                 page: int = 1, per_page: int = 50) -> Page:
    """The issuer's courses, newest first; ``context_id``: the platform's id of the course
    (exact), ``q``: words of the title or label."""
    query = _courses(issuer_id).options(selectinload(Context.deployment)
                                        .selectinload(Deployment.platform))
    if context_id:
        query = query.where(Context.lti_context_id == context_id)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%")\
            .replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Context.title).like(pattern, escape="\\"),
                                func.lower(Context.label).like(pattern, escape="\\")))
    return _page(session, query.order_by(Context.id.desc()), page, per_page)


def get_course(session: Session, issuer_id: int, course_id: int) -> Context:
    """The issuer's course with this id. Raises NotFound (also for another issuer's)."""
    course: Context | None = session.scalars(
        _courses(issuer_id).where(Context.id == course_id)).first()
    if course is None:
        raise NotFound("No such course for this token's institution.")
    return course


def find_course(session: Session, issuer_id: int, *, context_id: str, issuer: str = "",
                client_id: str = "", deployment_id: str = "") -> Context:
    """The issuer's course the platform calls ``context_id``; the platform's issuer,
    client id and deployment id narrow it down and are needed only when two of the
    issuer's platforms use the same context id. Raises NotFound, Conflict (ambiguous)."""
    query = _courses(issuer_id).join(Platform, Platform.id == Deployment.platform_id).where(
        Context.lti_context_id == context_id)
    if issuer:
        query = query.where(Platform.issuer == issuer)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    if deployment_id:
        query = query.where(Deployment.deployment_id == deployment_id)
    found = list(session.scalars(query.limit(2)))
    if not found:
        raise NotFound("No such course for this token's institution (it must have been "
                       "launched from the platform at least once).")
    if len(found) > 1:
        raise Conflict("Several of this institution's platforms have a course with this "
                       "context id: give the platform's issuer, client_id and deployment_id "
                       "too.", code="ambiguous_course")
    course: Context = found[0]
    return course


def offerings_of(session: Session, course: Context, *,
                 include_detached: bool = False) -> list[Offering]:
    query = select(Offering).where(Offering.context_id == course.id) \
        .options(selectinload(Offering.credential)).order_by(Offering.id)
    if not include_detached:
        query = query.where(Offering.detached_at.is_(None))
    return list(session.scalars(query))


def get_offering(session: Session, issuer_id: int, offering_id: int) -> Offering:
    """Raises NotFound (also for another issuer's)."""
    offering = session.get(Offering, offering_id)
    if offering is None or offering.issuer_id != issuer_id:
        raise NotFound("No such offering in this token's institution.")
    return offering


@dataclass(frozen=True)
class RosterMember:
    entry: RosterEntry
    account: LearnerAccount


def roster_page(session: Session, course: Context, *, status: str = "active", page: int = 1,
                per_page: int = 50) -> Page:
    """The course's roster entries (learners as NRPS and launches recorded them), by
    account id; ``status`` active (default), inactive or all. Items are RosterMember."""
    query = (select(RosterEntry, LearnerAccount)
             .join(LearnerAccount, LearnerAccount.id == RosterEntry.account_id)
             .where(RosterEntry.context_id == course.id))
    if status != "all":
        query = query.where(RosterEntry.status == status)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.order_by(RosterEntry.account_id).limit(per_page)
                           .offset((page - 1) * per_page)).all()
    return Page([RosterMember(e, a) for e, a in rows], int(total or 0), page, per_page)


def demonstrations_page(session: Session, issuer_id: int, *, course: Context | None = None,
                        offering: Offering | None = None, person_id: int | None = None,
                        since: datetime | None = None, page: int = 1,
                        per_page: int = 50) -> Page:
    """Demonstrations recorded in the issuer's courses, in the order they were recorded
    (by id), superseded ones included; narrowed to a course, to an offering (its course and
    the skills of its credential's versions), to a learner (``person_id``), and to those
    recorded at or after ``since`` (for incremental reads)."""
    query = (select(Demonstration).join(Context, Context.id == Demonstration.context_id)
             .join(Deployment, Deployment.id == Context.deployment_id)
             .where(_served(issuer_id))
             .options(selectinload(Demonstration.skill), selectinload(Demonstration.context)))
    if offering is not None:
        skills = select(CredentialSkill.skill_id).join(
            CredentialVersion, CredentialVersion.id == CredentialSkill.version_id).where(
            CredentialVersion.credential_id == offering.credential_id)
        query = query.where(Demonstration.context_id == offering.context_id,
                            Demonstration.skill_id.in_(skills))
    if course is not None:
        query = query.where(Demonstration.context_id == course.id)
    if person_id is not None:
        query = query.where(Demonstration.person_id == person_id)
    if since is not None:
        query = query.where(Demonstration.recorded_at >= since)
    return _page(session, query.order_by(Demonstration.id), page, per_page)


def superseding(session: Session, demo_ids: Sequence[int]) -> dict[int, int]:
    """Demonstration id → the id of the record that corrected it (for those corrected)."""
    if not demo_ids:
        return {}
    return {old: new for new, old in session.execute(
        select(Demonstration.id, Demonstration.supersedes_id).where(
            Demonstration.supersedes_id.in_(list(demo_ids)))) if old is not None}


def roster_sizes(session: Session, course_ids: Sequence[int]) -> dict[int, int]:
    """Course id → active learners on its roster (one query)."""
    if not course_ids:
        return {}
    return {cid: n for cid, n in session.execute(
        select(RosterEntry.context_id, func.count()).where(
            RosterEntry.context_id.in_(list(course_ids)), RosterEntry.status == "active")
        .group_by(RosterEntry.context_id))}
