"""The registrar's record pages: find a learner, their one record across courses,
platforms and routes (credit, hours, transcript notation), the CSV export of a term or date
range, the learner's CLR 2.0 record, and the transcript notation templates.

Needs the ``records:read`` scope (the registrar role, or the LMS institution
administrator); the notation templates also need ``transfer`` (the registrar's settings).
Thin: everything comes from ``services.registrar``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from lti_tool.domain.catalog import Scope
from lti_tool.domain.transfer import NOTATION_FIELDS
from lti_tool.errors import NotFound, ValidationFailed
from lti_tool.lti.runtime import runtime
from lti_tool.services import issuing, registrar, transfer
from lti_tool.web.admin.staff import NOTICES, Staff, bp, current_staff, error_summary, go, render
from lti_tool.web.common.launch_session import check_csrf

NOTICES.update({"notation_saved": _l("The transcript notation templates were saved.")})


def route_words() -> dict[str, str]:
    """The award routes in the page's language."""
    return {"integrated": _("In a for-credit course"),
            "stand_alone": _("Stand-alone (continuing education)"),
            "plar": _("Prior learning assessment (PLAR)"),
            "transfer": _("Transfer (recognised from another institution)")}


def records_staff() -> Staff:
    staff = current_staff()
    staff.actor.require(Scope.RECORDS_READ)
    return staff


def parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


def _range(errors: dict[str, list[str]]) -> tuple[datetime | None, datetime | None]:
    """[from, to] in the query as UTC datetimes (``to`` inclusive of its whole day)."""
    raw_from, raw_to = request.args.get("from", ""), request.args.get("to", "")
    start, end = parse_day(raw_from), parse_day(raw_to)
    if raw_from.strip() and start is None:
        errors["from"] = [_("Give a date as YYYY-MM-DD.")]
    if raw_to.strip() and end is None:
        errors["to"] = [_("Give a date as YYYY-MM-DD.")]
    if start and end and end < start:
        errors["to"] = [_("The end of the range is before its start.")]
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC) if start else None
    finish = (datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)) \
        if end else None
    return begin, finish


@bp.get("/records")
def records() -> ResponseReturnValue:
    staff = records_staff()
    errors: dict[str, list[str]] = {}
    begin, finish = _range(errors)
    q = request.args.get("q", "").strip()[:100]
    people = registrar.find_people(staff.session, staff.issuer, q) if q else []
    rows = [] if errors else registrar.awards(staff.session, staff.issuer,
                                              awarded_from=begin, awarded_to=finish,
                                              limit=registrar.MAX_PAGE)
    labels = {"from": _("From"), "to": _("To")}
    return render("admin/records.html", 422 if errors else 200, rows=rows, people=people,
                  q=q, errors=errors, summary=error_summary(errors, lambda n: labels.get(n, n)),
                  range_from=request.args.get("from", ""), range_to=request.args.get("to", ""),
                  active="records", full=len(rows) >= registrar.MAX_PAGE,
                  route_words=route_words())


@bp.get("/records/export.csv")
def records_export() -> ResponseReturnValue:
    staff = records_staff()
    errors: dict[str, list[str]] = {}
    begin, finish = _range(errors)
    if errors:
        return records()
    rows: list[registrar.AwardRow] = []
    after = 0
    while True:  # every award of the range, page by page
        page = registrar.awards(staff.session, staff.issuer, awarded_from=begin,
                                awarded_to=finish, after_id=after)
        rows += page
        if len(page) < registrar.MAX_PAGE:
            break
        after = page[-1].award_id
    body = registrar.csv_export(rows)
    name = "awards"
    if begin or finish:
        last = (finish - timedelta(days=1)).date().isoformat() if finish else "now"
        name += f"-{begin.date().isoformat() if begin else 'start'}-to-{last}"
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _person_rows(staff: Staff, person_id: int) -> list[registrar.AwardRow]:
    rows = registrar.awards(staff.session, staff.issuer, person_id=person_id)
    if not rows and not registrar.known_person(staff.session, staff.issuer, person_id):
        raise NotFound(_("No such learner in your institution's records."))
    return rows


@bp.get("/records/people/<int:person_id>")
def record_of(person_id: int) -> ResponseReturnValue:
    staff = records_staff()
    rows = _person_rows(staff, person_id)
    requests = transfer.list_requests(staff.session, staff.issuer.id, person_id=person_id)
    name, email, numbers = registrar.person_summary(staff.session, person_id)
    return render("admin/record.html", rows=rows, totals=registrar.totals(rows),
                  person_id=person_id, name=name, email=email, numbers=numbers,
                  requests=requests, active="records", route_words=route_words())


@bp.get("/records/people/<int:person_id>/clr.json")
def record_clr(person_id: int) -> ResponseReturnValue:
    """The learner's CLR 2.0 record of this issuer's credentials (signed)."""
    staff = records_staff()
    _person_rows(staff, person_id)
    clr = issuing.build_clr(staff.session, person_id, vault=runtime().vault,
                            base_url=current_app.config["PUBLIC_BASE_URL"],
                            issuer_id=staff.issuer.id)
    staff.session.commit()  # credentials issued on the way are kept
    response = Response(json.dumps(clr, ensure_ascii=False, indent=2),
                        mimetype="application/ld+json")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="learner-record-{person_id}.json"'
    return response


@bp.route("/records/notation", methods=["GET", "POST"])
def records_notation() -> ResponseReturnValue:
    staff = records_staff()
    staff.actor.require(Scope.TRANSFER)
    errors: dict[str, list[str]] = {}
    templates = registrar.notation_templates(staff.issuer)
    form: dict[str, Any] = {"notation_en": templates["en"], "notation_fr": templates["fr"]}
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        form = {k: request.form.get(k, "") for k in ("notation_en", "notation_fr")}
        try:
            registrar.set_notation_templates(
                staff.session, staff.issuer, {"en": form["notation_en"],
                                              "fr": form["notation_fr"]}, by=staff.actor.ref)
        except ValidationFailed as exc:
            staff.session.rollback()
            errors, status = exc.errors, 422
        else:
            staff.session.commit()
            return go("admin.records_notation", "notation_saved")
    labels = {"notation_en": _("Notation in English"), "notation_fr": _("Notation in French")}
    return render("admin/notation.html", status, form=form, errors=errors,
                  summary=error_summary(errors, lambda n: labels.get(n, n)),
                  fields=NOTATION_FIELDS, active="records")
