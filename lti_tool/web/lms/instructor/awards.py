"""Awards made in this course: the list (flagged first), revoking one with a reason, and
keeping a flagged one. Only managers decide; an award earned in another course is managed
there."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from lti_tool.domain.labels import intl
from lti_tool.domain.tracking import AwardStatus
from lti_tool.errors import Forbidden, NotFound, ValidationFailed
from lti_tool.i18n import sort_key
from lti_tool.models import Award, Context
from lti_tool.services import tracking
from lti_tool.services.roster import learner_names
from lti_tool.translate import gettext as _
from lti_tool.web.common.awarding import revoke_award_now
from lti_tool.web.lms.instructor.course import (
    MAX_REASON,
    Course,
    bp,
    current_course,
    error_summary,
    go,
    manager_course,
    posted_course,
    render,
)
from lti_tool.web.lms.instructor.learners import roster


@dataclass(frozen=True)
class AwardRow:
    award: Award
    learner: str
    where: str
    here: bool


def award_rows(course: Course) -> list[AwardRow]:
    session = course.session
    names = {lr.person_id: lr.name
             for lr in roster(session, course.context.id, active_only=False)}
    awards = tracking.awards_in_context(session, course.context)
    titles = dict(session.execute(select(Context.id, Context.title).where(
        Context.id.in_({a.context_id for a in awards if a.context_id}))).all()) if awards else {}
    # Someone no longer on this roster is named as everywhere else (learner_names).
    names.update(learner_names(session, {a.person_id for a in awards} - names.keys()))
    return [AwardRow(a, names[a.person_id],
                     titles.get(a.context_id, "") if a.context_id else "",
                     a.context_id == course.context.id) for a in awards]


@bp.get("/course/awards")
def awards() -> ResponseReturnValue:
    course = current_course()
    rows = award_rows(course)
    rows.sort(key=lambda r: (r.award.status != AwardStatus.FLAGGED.value, sort_key(r.learner)))
    return render("instructor/awards.html", rows=rows, active="awards")


def _award_here(course: Course, award_id: int) -> AwardRow:
    row = next((r for r in award_rows(course) if r.award.id == award_id), None)
    if row is None:
        raise NotFound(_("No such award in this course."))
    if not row.here:
        message = (_("This award was earned in %(course)s; it is managed there.",
                     course=row.where) if row.where
                   else _("This award was earned in another course; it is managed there."))
        raise Forbidden(message, code="award_of_other_course")
    return row


@bp.route("/course/awards/<int:award_id>/revoke", methods=["GET", "POST"])
def revoke(award_id: int) -> ResponseReturnValue:
    course = posted_course(manager=True) if request.method == "POST" else manager_course()
    row = _award_here(course, award_id)
    errors: dict[str, list[str]] = {}
    reason = ""
    if request.method == "POST":
        reason = request.form.get("reason", "")[:MAX_REASON]
        try:
            revoke_award_now(course.session, row.award, reason=reason, by=course.assessor)
        except ValidationFailed as exc:
            course.session.rollback()
            errors = exc.errors
        else:
            course.session.commit()
            return go("instructor.awards", [
                _("%(learner)s's %(credential)s was revoked. The record stays, marked as "
                  "revoked.", credential=intl(row.award.version, "title").text,
                  learner=row.learner)])
    return render("instructor/revoke.html", 422 if errors else 200, row=row, reason=reason,
                  errors=errors, summary=error_summary(errors), active="awards")


@bp.post("/course/awards/<int:award_id>/keep")
def keep(award_id: int) -> ResponseReturnValue:
    course = posted_course(manager=True)
    row = _award_here(course, award_id)
    tracking.clear_flag(course.session, row.award, by=course.assessor)
    course.session.commit()
    return go("instructor.awards",
              [_("%(learner)s's %(credential)s is kept; the flag is cleared.",
                 credential=intl(row.award.version, "title").text, learner=row.learner)])


