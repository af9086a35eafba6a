"""The assessors' side of PLAR: the queue (filters, due dates), one request with its
narratives, evidence and messages, and per skill: schedule an assessment, decide with a
method and a rationale, confirm as a second assessor; ask the learner for more evidence.

Who: a launched person assigned as assessor of the request's credential (any LTI role);
never on their own request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.plar import SCHEDULED_METHODS, PlarState
from lti_tool.errors import Forbidden, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import MicroCredential, PlarRequest
from lti_tool.models.base import utcnow
from lti_tool.services import plar as plar_service
from lti_tool.web.common.launch_session import CurrentLaunch, check_csrf, load_current_launch
from lti_tool.web.lms.plar.common import (
    actor_of,
    bp,
    issuer_of,
    render,
    summary,
    version_title,
)

NOTICES = {
    "started": "started", "more_evidence": "more_evidence", "scheduled": "scheduled",
    "decided": "decided", "confirmed": "confirmed",
}


def _assessor() -> tuple[CurrentLaunch, plar_service.PlarActor, int, set[int]]:
    current = load_current_launch()
    actor = actor_of(current)
    issuer = issuer_of(current)
    credentials = plar_service.assessed_credentials(db_session(), issuer.id,
                                                    actor.platform_id, actor.sub)
    if not credentials:
        raise Forbidden(_("PLAR requests are assessed by the assessors an institution "
                          "administrator assigns to each micro-credential."),
                        code="not_plar_assessor")
    return current, actor, issuer.id, credentials


@bp.get("/queue")
def queue() -> ResponseReturnValue:
    current, actor, issuer_id, credentials = _assessor()
    session = db_session()
    state = request.args.get("state", "open")
    if state not in {"open", "all", *(s.value for s in PlarState)}:
        state = "open"
    raw_credential = request.args.get("credential", "")
    credential_id = int(raw_credential) if raw_credential.isdigit() and \
        int(raw_credential) in credentials else None
    filters = plar_service.QueueFilters(state=state, credential_id=credential_id,
                                        overdue=request.args.get("overdue") == "1",
                                        mine=request.args.get("mine") == "1")
    rows = plar_service.queue(session, actor, issuer_id, filters)
    options = list(session.scalars(select(MicroCredential).where(
        MicroCredential.id.in_(credentials)).order_by(MicroCredential.code)))
    titles = {c.id: version_title(plar_service.published_of(session, c) or c.versions[-1])
              for c in options if c.versions}
    versions = plar_service.versions_of(session, {r.request.version_id for r in rows})
    return render("plar/queue.html", current, rows=rows, filters=filters, versions=versions,
                  credentials=options, titles=titles, now=utcnow(),
                  limited=len(rows) >= plar_service.QUEUE_LIMIT,
                  limit=plar_service.QUEUE_LIMIT)


def _load(request_id: int) -> tuple[CurrentLaunch, plar_service.PlarActor, PlarRequest]:
    current, actor, issuer_id, _credentials = _assessor()
    found = plar_service.assessor_request(db_session(), actor, issuer_id, request_id)
    return current, actor, found


def _render(current: CurrentLaunch, actor: plar_service.PlarActor, found: PlarRequest,
            errors: dict[str, list[str]] | None = None, status: int = 200,
            **context: Any) -> ResponseReturnValue:
    session = db_session()
    errors = errors or {}
    version = plar_service.versions_of(session, [found.version_id]).get(found.version_id)
    return render("plar/assess.html", current, status, req=found, version=version,
                  actor=actor, statuses=plar_service.statuses_of(session, found),
                  already=plar_service.demonstrated_already(
                      session, found.person_id, [s.skill_id for s in found.skills]),
                  second=plar_service.second_assessor_needed(session, found),
                  errors=errors, summary=summary(errors), done=request.args.get("done", ""),
                  scheduled_methods=[m.value for m in SCHEDULED_METHODS],
                  form=context.pop("form", {}), form_skill=context.pop("form_skill", None),
                  now=utcnow(), **context)


@bp.get("/assess/<int:request_id>")
def assess(request_id: int) -> ResponseReturnValue:
    current, actor, found = _load(request_id)
    return _render(current, actor, found)


def _done(current: CurrentLaunch, found: PlarRequest, done: str,
          anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("plar.assess", request_id=found.id, lt=current.token, done=done)
                    + anchor, code=303)


@bp.post("/assess/<int:request_id>/start")
def start(request_id: int) -> ResponseReturnValue:
    current, actor, found = _load(request_id)
    check_csrf(current)
    plar_service.start_assessment(db_session(), found, actor)
    db_session().commit()
    return _done(current, found, "started")


@bp.post("/assess/<int:request_id>/more-evidence")
def more_evidence(request_id: int) -> ResponseReturnValue:
    current, actor, found = _load(request_id)
    check_csrf(current)
    session = db_session()
    message = request.form.get("message", "")
    try:
        plar_service.request_more_evidence(session, found, actor, message)
    except ValidationFailed as exc:
        session.rollback()
        current, actor, found = _load(request_id)
        return _render(current, actor, found, exc.errors, 422, form={"message": message})
    session.commit()
    return _done(current, found, "more_evidence")


def _skill_id() -> int:
    raw = request.form.get("skill", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


def _parse_local(date_text: str, time_text: str) -> datetime | None:
    """A date and time typed in the form, taken as UTC (the page says so)."""
    try:
        return datetime.strptime(f"{date_text.strip()} {time_text.strip()}",
                                 "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def _skill_form(request_id: int, kind: str, fields: tuple[str, ...],
                act: Callable[[Session, Any, Any, int, dict[str, str]], object],
                notice: str) -> ResponseReturnValue:
    """One skill's form (``kind``: schedule or decide): ``act`` applies it; a refusal shows
    the request again with what was typed and the errors, changing nothing."""
    current, actor, found = _load(request_id)
    check_csrf(current)
    session = db_session()
    skill_id = _skill_id()
    form = {k: request.form.get(k, "") for k in fields}
    try:
        act(session, found, actor, skill_id, form)
    except ValidationFailed as exc:
        session.rollback()
        current, actor, found = _load(request_id)
        return _render(current, actor, found, exc.errors, 422, form=form,
                       form_skill=(kind, skill_id))
    session.commit()
    return _done(current, found, notice, f"#skill-{skill_id}")


@bp.post("/assess/<int:request_id>/schedule")
def schedule(request_id: int) -> ResponseReturnValue:
    return _skill_form(request_id, "schedule", ("method", "date", "time", "place"),
                       lambda session, found, actor, skill_id, form: plar_service.schedule(
                           session, found, actor, skill_id=skill_id, method=form["method"],
                           at=_parse_local(form["date"], form["time"]),
                           place=form["place"]),
                       "scheduled")


@bp.post("/assess/<int:request_id>/decide")
def decide(request_id: int) -> ResponseReturnValue:
    return _skill_form(request_id, "decide", ("decision", "method", "rationale"),
                       lambda session, found, actor, skill_id, form: plar_service.decide_skill(
                           session, found, actor, skill_id=skill_id,
                           decision=form["decision"], method=form["method"],
                           rationale=form["rationale"]),
                       "decided")


@bp.post("/assess/<int:request_id>/confirm")
def confirm(request_id: int) -> ResponseReturnValue:
    current, actor, found = _load(request_id)
    check_csrf(current)
    skill_id = _skill_id()
    plar_service.confirm_skill(db_session(), found, actor, skill_id=skill_id)
    db_session().commit()
    return _done(current, found, "confirmed", f"#skill-{skill_id}")
