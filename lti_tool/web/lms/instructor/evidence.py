"""Evidence files for staff: always downloaded as an attachment, never rendered. Staff see
the evidence recorded in their course, and in the learner's other courses only when the
issuer's ``evidence_visibility`` is "institution" (``evidence_shared``)."""

from __future__ import annotations

import io

from flask import send_file
from flask.typing import ResponseReturnValue

from lti_tool.errors import Forbidden
from lti_tool.extensions import db_session
from lti_tool.services import evidence as evidence_service
from lti_tool.services import issuer_settings
from lti_tool.web.common.launch_session import load_current_launch
from lti_tool.web.lms.instructor.course import STAFF, Course, bp, current_course


def evidence_shared(course: Course) -> bool:
    """Whether this course's staff see evidence recorded in the learner's other courses."""
    issuer = course.issuer
    return issuer is not None and issuer_settings.read(issuer).evidence_across_courses


@bp.get("/course/evidence/<int:file_id>")
def evidence_file(file_id: int) -> ResponseReturnValue:
    """Download an evidence file: staff of a course where the learner is on the roster
    (or the learner themself). Always an attachment, never rendered by the browser."""
    current = load_current_launch()
    record = current.record or {}
    staff = bool(current.launch.app_roles & set(STAFF))
    if not staff:
        raise Forbidden()
    course = current_course()
    row = evidence_service.file_for_reader(
        db_session(), file_id, person_id=record.get("person_id"),
        staff_context_id=course.context.id, across_courses=evidence_shared(course))
    response = send_file(io.BytesIO(row.data), as_attachment=True, download_name=row.filename,
                         mimetype=evidence_service.served_content_type(row.content_type),
                         max_age=0, etag=False, conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


