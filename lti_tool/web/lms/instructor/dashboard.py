"""The course dashboard (``/course``) and ``course_overview()`` for the LTI landing page."""

from __future__ import annotations

from typing import Any

from flask import g, render_template
from flask.typing import ResponseReturnValue

from lti_tool.domain.labels import ROLE as ROLE_LABELS
from lti_tool.domain.tracking import AwardStatus
from lti_tool.errors import ToolError
from lti_tool.services import tracking
from lti_tool.web.lms.instructor.course import (
    KIND_LABELS,
    STAFF,
    bp,
    course_url,
    current_course,
    offered_credentials,
    offered_skills,
    pending_notices,
)
from lti_tool.web.lms.instructor.learners import roster, roster_notice


@bp.app_context_processor
def _course_overview() -> dict[str, Any]:
    """``course_overview()`` for the LTI landing page (lti/instructor_home.html)."""

    def course_overview() -> dict[str, Any] | None:
        current = g.get("current_launch")
        if current is None or not current.launch.app_roles & set(STAFF):
            return None
        try:
            course = current_course()
            offered = offered_credentials(course)
        except ToolError:
            return None
        session = course.session
        learners = len(roster(session, course.context.id))
        awards = tracking.awards_in_context(session, course.context)
        return {"course": course, "offered": offered, "learners": learners,
                "skills": len(offered_skills(offered)),
                "awards": sum(1 for a in awards if a.status != AwardStatus.REVOKED.value),
                "flagged": sum(1 for a in awards if a.status == AwardStatus.FLAGGED.value),
                "kind_label": KIND_LABELS.get(course.context.kind, course.context.kind),
                "roster_notice": roster_notice(course),
                "url": course_url}

    return {"course_overview": course_overview}


@bp.get("/course")
def home() -> ResponseReturnValue:
    course = current_course()
    return render_template("lti/instructor_home.html", current=course.current,
                           role_label=ROLE_LABELS[course.current.launch.role],
                           notices=pending_notices())

