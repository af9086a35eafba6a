"""REST API for student information systems: the registrar's record (blueprint
``api_tracking``, scope ``records:read``).

- ``GET /api/v1/records/awards``: every award of the institution, across courses,
  platforms and routes, with the route, credit, notional hours, bilingual transcript
  notation and the student numbers the learning platforms sent. Filters: awarded
  ``from``/``to`` (a term: dates, ``to`` inclusive), ``changed_since`` (awarded, revoked or
  flagged after an RFC 3339 time: a SIS polls with the time of its last run), ``person_id``;
  paged by id (``page``, ``per_page``; RFC 8288 ``Link`` headers), so a page never shifts
  while a SIS reads it.

The rows are ``services.registrar``'s, exactly what the registrar's CSV export holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from lti_tool.domain.catalog import Scope
from lti_tool.errors import ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import Award, Issuer
from lti_tool.services import registrar
from lti_tool.services.catalog import Page
from lti_tool.web.api import common as api
from lti_tool.web.api import records_schemas as R
from lti_tool.web.api.tracking import bp


@bp.get("/records/awards")
@api.needs(Scope.RECORDS_READ)
def record_awards() -> ResponseReturnValue:
    args = api.load_query(R.RecordQuerySchema())
    start, end = args.get("from"), args.get("to")
    if start is not None and end is not None and end < start:
        raise ValidationFailed({"to": ["is before from"]})
    session = db_session()
    issuer = session.get(Issuer, api.actor().issuer_id)
    assert issuer is not None
    query = registrar.awards_query(
        issuer,
        awarded_from=datetime(start.year, start.month, start.day, tzinfo=UTC)
        if start else None,
        awarded_to=datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
        if end else None,
        changed_since=args.get("changed_since"), person_id=args.get("person_id"))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.order_by(Award.id).limit(args["per_page"])
                                 .offset((args["page"] - 1) * args["per_page"])))
    page = Page(items, int(total or 0), args["page"], args["per_page"])
    shown = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in args.items()}
    return api.respond_page(page, [row.as_json() for row in registrar.rows_for(
        session, issuer, items)], "api_tracking.record_awards", shown)
