"""Evidence files for staff: always downloaded as an attachment, never rendered."""

from __future__ import annotations

import io

from flask import send_file
from flask.typing import ResponseReturnValue

from lti_tool.errors import Forbidden
from lti_tool.extensions import db_session
from lti_tool.services import evidence as evidence_service
from lti_tool.web.common.launch_session import load_current_launch
from lti_tool.web.lms.instructor.course import STAFF, bp


@bp.get("/course/evidence/<int:file_id>")
def evidence_file(file_id: int) -> ResponseReturnValue:
    """Download an evidence file: staff of a course where the learner is on the roster
    (or the learner themself). Always an attachment, never rendered by the browser."""
    current = load_current_launch()
    record = current.record or {}
    staff = bool(current.launch.app_roles & set(STAFF))
    if not staff:
        raise Forbidden()
    row = evidence_service.file_for_reader(
        db_session(), file_id, person_id=record.get("person_id"),
        staff_context_id=record.get("context_pk") if staff else None)
    response = send_file(io.BytesIO(row.data), as_attachment=True, download_name=row.filename,
                         mimetype=evidence_service.served_content_type(row.content_type),
                         max_age=0, etag=False, conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


