"""The course of an instructor's launch and what every instructor page shares: who may
do what (staff read and record, managers decide), links that carry the launch token,
status messages kept server-side, the page template wrapper, the credentials and skills
offered in this course, and reading a size-limited request body."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_time
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.domain.labels import CELL, METHOD, ROLE, earning_rule, intl, label
from lti_tool.domain.lti import AppRole, ContextKind
from lti_tool.domain.tracking import COURSE_METHODS, AwardStatus, CellStatus, Outcome
from lti_tool.errors import Forbidden, NotFound, ToolError
from lti_tool.extensions import db_session, kv
from lti_tool.i18n import format_date
from lti_tool.models import Context, Issuer, Skill
from lti_tool.services import tracking
from lti_tool.services.tracking import Assessor, OfferedCredential
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web.common.catalog_access import issuer_for_launch
from lti_tool.web.common.launch_session import (
    CurrentLaunch,
    check_csrf,
    load_current_launch,
    require_roles,
)

bp = Blueprint("instructor", __name__)

STAFF = (AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR, AppRole.TEACHING_ASSISTANT)
MANAGERS = frozenset({AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR})
PER_PAGE_CHOICES = ("50", "100", "all")
DEFAULT_PER_PAGE = 50
MAX_BULK = 2000
MAX_REASON = 2000
MAX_IMPORT_BYTES = 2_000_000
NOTICE_TTL = 600
KIND_LABELS = {ContextKind.FOR_CREDIT.value: _l("For credit"),
               ContextKind.CONTINUING_ED.value: _l("Continuing education"),
               ContextKind.OTHER.value: _l("Other")}
ROUTE_NAMES = {"integrated": _l("integrated (for-credit)"),
               "stand_alone": _l("stand-alone (continuing education)")}
KIND_SOURCES = {"platform": _l("set by the learning platform"),
                "instructor": _l("set by an instructor"),
                "rule": _l("set by your institution's rule"), "default": _l("not set yet")}
OUTCOME_CHOICES = ((Outcome.PASS.value, _l("Demonstrated (pass)"),
                    _l("The learner showed the skill.")),
                   (Outcome.FAIL.value, _l("Not demonstrated yet (fail)"),
                    _l("An attempt that did not show the skill yet.")))
STATUS_ICONS = {CellStatus.DEMONSTRATED: "✓", CellStatus.ATTEMPTED: "✗",
                CellStatus.NOT_YET: "\u2013"}
STATUS_CLASS = {CellStatus.DEMONSTRATED: "d", CellStatus.ATTEMPTED: "a",
                CellStatus.NOT_YET: "n"}
AWARD_STATUS_LABELS = {AwardStatus.ACTIVE.value: _l("Active"),
                       AwardStatus.FLAGGED.value: _l("Flagged"),
                       AwardStatus.REVOKED.value: _l("Revoked")}
FIELD_LABELS = {"outcome": _l("Outcome"), "method": _l("Method"),
                "demonstrated_at": _l("Date demonstrated"),
                "evidence_url": _l("Evidence link"), "evidence_note": _l("Note"),
                "evidence_file": _l("Evidence file"), "reason": _l("Reason"),
                "learner": _l("Learners"), "skill": _l("Skill"), "kind": _l("Course kind"),
                "file": _l("CSV file")}


# -- the course of this launch ------------------------------------------------------------------
@dataclass
class Course:
    session: Session
    current: CurrentLaunch
    context: Context
    assessor: Assessor

    @property
    def can_manage(self) -> bool:
        return bool(self.current.launch.app_roles & MANAGERS)

    @property
    def issuer(self) -> Issuer | None:
        if "course_issuer" not in g:
            g.course_issuer = issuer_for_launch(self.session, self.current)
        issuer: Issuer | None = g.course_issuer
        return issuer

    @property
    def kind_locked(self) -> bool:
        return self.context.kind_source == "platform"


def current_course() -> Course:
    """The launch's course, for a staff member (instructor, administrator, TA); 403 else."""
    if "course" in g:
        existing: Course = g.course
        return existing
    current = require_roles(*STAFF)
    record = current.record or {}
    context_pk = record.get("context_pk")
    session = db_session()
    context = session.get(Context, context_pk) if context_pk else None
    if context is None:
        raise NotFound(_("Open MicroCred from inside a course to assess learners."),
                       code="no_course")
    launch = current.launch
    account_id = record.get("account_id")
    assessor = Assessor(ref=f"account:{account_id or launch.sub}",
                        name=launch.display_name or launch.email or _("Instructor"),
                        launch_id=launch.launch_id, account_id=account_id)
    course = Course(session, current, context, assessor)
    g.course = course
    return course


def manager_course() -> Course:
    course = current_course()
    if not course.can_manage:
        raise Forbidden(_("Only the course's instructors can do this; teaching assistants can "
                          "view it and record demonstrations."), code="not_course_instructor")
    return course


def posted_course(manager: bool = False) -> Course:
    """A POST: role first (403), then the launch's CSRF token (403); nothing changed yet."""
    course = manager_course() if manager else current_course()
    check_csrf(course.current)
    return course


def course_url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, lt=load_current_launch().token, **values)


def go(endpoint: str, messages: Sequence[str] = (), **values: Any) -> WerkzeugResponse:
    if messages:
        values["note"] = _save_notice(messages)
    return redirect(course_url(endpoint, **values), code=303)


def _notice_key(ref: str) -> str:
    launch_id = load_current_launch().launch.launch_id
    return "course-notice:" + hashlib.sha256(f"{launch_id}:{ref}".encode()).hexdigest()


def _save_notice(messages: Sequence[str]) -> str:
    ref = secrets.token_urlsafe(9)
    kv().set(_notice_key(ref), json.dumps(list(messages)[:50]), NOTICE_TTL)
    return ref


def pending_notices() -> list[str]:
    ref = request.args.get("note", "")
    if not ref or len(ref) > 20:
        return []
    raw = kv().get(_notice_key(ref))
    try:
        messages = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [m for m in messages if isinstance(m, str)]


def render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    course = current_course()
    context.setdefault("notices", pending_notices())
    return render_template(template, current=course.current, course=course,
                           role_label=ROLE[course.current.launch.role],
                           **context), status


@bp.after_request
def _no_store(response: WerkzeugResponse) -> WerkzeugResponse:
    if request.path.startswith("/course"):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _catalog_texts() -> dict[str, Any]:
    """``intl(obj, field)``: catalog texts in the reader's language (also on the LTI
    landing page, which shows the course overview)."""
    return {"intl": intl}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"course_url": course_url, "fmt_date": fmt_date, "fmt_dt": fmt_dt, "label": label,
            "METHOD_LABELS": METHOD, "CELL_LABELS": CELL,
            "STATUS_ICONS": STATUS_ICONS, "KIND_LABELS": KIND_LABELS,
            "KIND_SOURCES": KIND_SOURCES, "AWARD_STATUS_LABELS": AWARD_STATUS_LABELS,
            "CellStatus": CellStatus, "earning_rule": earning_rule,
            "COURSE_METHODS": COURSE_METHODS}


def fmt_date(value: datetime | date | None) -> str:
    """``6 décembre 2026`` / ``December 6, 2026`` (the reader's language)."""
    return format_date(value, "long") if value else "—"


def fmt_dt(value: datetime | None) -> str:
    """``6 décembre 2026, 14 h 05 UTC`` / ``December 6, 2026, 2:05 PM UTC``."""
    if not value:
        return "—"
    return _("%(date)s, %(time)s UTC", date=format_date(value, "long"),
             time=str(format_time(value, "short")))


def int_arg(raw: object) -> int | None:
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def error_summary(errors: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    return [(name, str(FIELD_LABELS.get(name, name.replace("_", " ").capitalize())), message)
            for name, messages in errors.items() for message in messages]


# -- offered credentials and their skills ------------------------------------------------------
def offered_credentials(course: Course) -> list[OfferedCredential]:
    if "course_offered" not in g:
        # One read per request; it loads the versions' skills with their links.
        g.course_offered = tracking.offered_credentials(course.session, course.context)
    offered: list[OfferedCredential] = g.course_offered
    return offered


def offered_skills(offered: Iterable[OfferedCredential]) -> list[Skill]:
    seen: dict[int, Skill] = {}
    for item in offered:
        for skill in item.skills:
            seen.setdefault(skill.id, skill)
    return list(seen.values())


def offered_skill(course: Course, skill_id: int | None) -> Skill:
    for skill in offered_skills(offered_credentials(course)):
        if skill.id == skill_id:
            return skill
    raise NotFound(_("That skill is not part of a credential offered in this course."),
                   code="skill_not_offered")


# A form with an evidence file is read up to this size, so a file over the 5 MB limit can be
# refused *on the form* (413, everything typed kept) instead of on a page of its own.
BODY_LIMIT = 20 * 1024 * 1024


def read_body_within(limit: int, too_large: type[ToolError]) -> None:
    """Before anything reads the request (the launch token ``lt`` may be in the form):
    allow this route's upload size, refuse a larger body with a clear 413, and parse the
    body within that limit. Nothing is stored before this passes."""
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise too_large()
    try:
        request.form  # noqa: B018 - parse now, inside the limit
    except RequestEntityTooLarge:
        raise too_large() from None


def form_values(names: Iterable[str]) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}

