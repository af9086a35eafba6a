"""The learner's side of PLAR: their requests, a new request (policy, fee note and
turnaround shown before submitting; a narrative per skill; files, links and credentials
held as evidence), each request's state, decisions and rationale, answering a request for
more evidence, and withdrawing. A learner only ever sees their own requests."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lti_tool.domain.lti import AppRole
from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.i18n import current_locale
from lti_tool.models import Context, PlarRequest
from lti_tool.services import evidence as evidence_service
from lti_tool.services import notifications
from lti_tool.services import plar as plar_service
from lti_tool.web.common.launch_session import CurrentLaunch, check_csrf, require_roles
from lti_tool.web.lms.instructor.course import BODY_LIMIT, read_body_within
from lti_tool.web.lms.plar.common import (
    actor_of,
    bp,
    file_response,
    issuer_of,
    localized_settings,
    render,
    summary,
)

MAX_LINK_ROWS = 3


def _learner() -> CurrentLaunch:
    return require_roles(AppRole.LEARNER)


def _context(current: CurrentLaunch) -> Context | None:
    pk = (current.record or {}).get("context_pk")
    return db_session().get(Context, pk) if pk is not None else None


def _notices(person_id: int) -> list[Any]:
    return notifications.unseen_for(db_session(), person_id,
                                    subject_type=plar_service.SUBJECT)


@bp.get("")
def home() -> ResponseReturnValue:
    """My PLAR requests and the credentials I may ask recognition for from here."""
    current = _learner()
    session = db_session()
    issuer = issuer_of(current)
    learner = actor_of(current)
    requests = plar_service.learner_requests(session, learner.person_id, issuer.id)
    versions = plar_service.versions_of(session, [r.version_id for r in requests])
    return render("plar/home.html", current, issuer=issuer, requests=requests,
                  versions=versions, notices=_notices(learner.person_id),
                  requestable=plar_service.requestable_credentials(session, issuer.id,
                                                                   _context(current)),
                  settings=localized_settings(issuer))


def _form_values(item: plar_service.Requestable) -> dict[str, Any]:
    return {
        "chosen": [s.id for s in item.skills if request.form.get(f"skill_{s.id}") == "1"],
        "narratives": {s.id: request.form.get(f"narrative_{s.id}", "") for s in item.skills},
        "links": [(request.form.get(f"link_url_{i}", ""),
                   request.form.get(f"link_title_{i}", "")) for i in range(MAX_LINK_ROWS)],
        "award_ids": [int(v) for v in request.form.getlist("award_ids") if v.isdigit()],
        "credential_url": request.form.get("credential_url", ""),
    }


def _evidence_input(values: dict[str, Any]) -> plar_service.EvidenceInput:
    files = [(f.filename or "evidence", f.read(evidence_service.MAX_EVIDENCE_BYTES + 1))
             for f in request.files.getlist("files") if f and f.filename]
    return plar_service.EvidenceInput(
        links=[(u, t) for u, t in values["links"] if u.strip()], files=files,
        award_ids=values["award_ids"],
        credential_urls=[values["credential_url"]] if values["credential_url"].strip() else [])


@bp.route("/new/<code>", methods=["GET", "POST"])
def new(code: str) -> ResponseReturnValue:
    """The request form for one credential: policy, fee note and turnaround first."""
    if request.method == "POST":
        read_body_within(BODY_LIMIT, evidence_service.EvidenceTooLarge)
    current = _learner()
    session = db_session()
    issuer = issuer_of(current)
    learner = actor_of(current)
    context = _context(current)
    item = plar_service.requestable(session, issuer.id, context, code[:64])
    held = plar_service.held_awards(session, learner.person_id)
    existing = plar_service.open_request_for(session, learner.person_id, item.credential.id)
    from lti_tool.services import tracking

    holds = tracking.holds_credential(session, learner.person_id, item.credential.id)
    already = plar_service.demonstrated_already(session, learner.person_id,
                                                [s.id for s in item.skills])
    errors: dict[str, list[str]] = {}
    # Skills already demonstrated (in a course, or recognised before) are not asked again.
    values: dict[str, Any] = {"chosen": [s.id for s in item.skills if s.id not in already],
                              "narratives": {},
                              "links": [("", "")] * MAX_LINK_ROWS, "award_ids": [],
                              "credential_url": ""}
    status = 200
    if request.method == "POST":
        check_csrf(current)
        if context is None:
            raise NotFound(_("Open MicroCred from a course to ask for recognition."))
        values = _form_values(item)
        narratives = {sid: values["narratives"].get(sid, "") for sid in values["chosen"]}
        try:
            created = plar_service.submit(
                session, issuer=issuer, context=context, learner=learner, code=code,
                narratives=narratives, given=_evidence_input(values),
                locale=current_locale())
        except ValidationFailed as exc:
            session.rollback()
            errors = exc.errors
            if request.files.getlist("files") and any(f.filename for f in
                                                       request.files.getlist("files")):
                errors.setdefault("files", []).append(
                    _("choose the files again: files are not kept when the form has a "
                      "problem"))
            status = 422
        except evidence_service.EvidenceTooLarge:
            session.rollback()
            errors = {"files": [_("a file is larger than 5 MB: upload a smaller one or give "
                                  "a link to it")]}
            status = 413
        else:
            session.commit()
            return redirect(url_for("plar.detail", request_id=created.id, lt=current.token,
                                    done="submitted"), code=303)
    return render("plar/new.html", current, status, issuer=issuer, item=item, held=held,
                  existing=existing, values=values, errors=errors, summary=summary(errors),
                  already=already, holds=holds,
                  settings=localized_settings(issuer), link_rows=MAX_LINK_ROWS)


@bp.get("/requests/<int:request_id>")
def detail(request_id: int) -> ResponseReturnValue:
    current = _learner()
    session = db_session()
    learner = actor_of(current)
    found = plar_service.learner_request(session, learner.person_id, request_id)
    # Seeing the request is seeing its notices.
    notices = [n for n in _notices(learner.person_id) if n.subject_id == found.id]
    if notices:
        notifications.mark_seen(session, learner.person_id, [n.id for n in notices])
        session.commit()
    return _render_detail(current, found, {}, 200, notices=notices)


def _render_detail(current: CurrentLaunch, found: PlarRequest, errors: dict[str, list[str]],
                   status: int, **context: Any) -> ResponseReturnValue:
    session = db_session()
    learner = actor_of(current)
    version = plar_service.versions_of(session, [found.version_id]).get(found.version_id)
    return render("plar/detail.html", current, status, req=found, version=version,
                  statuses=plar_service.statuses_of(session, found), errors=errors,
                  summary=summary(errors), held=plar_service.held_awards(session,
                                                                         learner.person_id),
                  done=request.args.get("done", ""), link_rows=MAX_LINK_ROWS,
                  form=context.pop("form", {}), **context)


@bp.post("/requests/<int:request_id>/answer")
def answer(request_id: int) -> ResponseReturnValue:
    read_body_within(BODY_LIMIT, evidence_service.EvidenceTooLarge)
    current = _learner()
    check_csrf(current)
    session = db_session()
    learner = actor_of(current)
    found = plar_service.learner_request(session, learner.person_id, request_id)
    values = {"links": [(request.form.get(f"link_url_{i}", ""),
                         request.form.get(f"link_title_{i}", ""))
                        for i in range(MAX_LINK_ROWS)],
              "award_ids": [int(v) for v in request.form.getlist("award_ids")
                            if v.isdigit()],
              "credential_url": request.form.get("credential_url", "")}
    message = request.form.get("message", "")
    try:
        plar_service.add_learner_evidence(session, found, learner, message=message,
                                          given=_evidence_input(values))
    except ValidationFailed as exc:
        session.rollback()
        found = plar_service.learner_request(session, learner.person_id, request_id)
        return _render_detail(current, found, exc.errors, 422,
                              form={"message": message, **values})
    except evidence_service.EvidenceTooLarge:
        session.rollback()
        found = plar_service.learner_request(session, learner.person_id, request_id)
        return _render_detail(current, found, {"files": [_("a file is larger than 5 MB")]},
                              413, form={"message": message, **values})
    session.commit()
    return redirect(url_for("plar.detail", request_id=found.id, lt=current.token,
                            done="answered") + "#status", code=303)


@bp.post("/requests/<int:request_id>/withdraw")
def withdraw(request_id: int) -> ResponseReturnValue:
    current = _learner()
    check_csrf(current)
    session = db_session()
    learner = actor_of(current)
    found = plar_service.learner_request(session, learner.person_id, request_id)
    if request.form.get("confirm") != "1":
        return _render_detail(current, found, {"confirm": [
            _("tick the box to confirm that you withdraw this request")]}, 422)
    try:
        plar_service.withdraw(session, found, learner, request.form.get("reason", ""))
    except Conflict:
        session.rollback()
        raise
    session.commit()
    return redirect(url_for("plar.detail", request_id=found.id, lt=current.token,
                            done="withdrawn"), code=303)


@bp.get("/files/<int:file_id>")
def evidence_file(file_id: int) -> ResponseReturnValue:
    """A PLAR evidence file: for the learner who gave it, or an assessor of its request."""
    from lti_tool.web.common.launch_session import load_current_launch

    current = load_current_launch()
    session = db_session()
    actor = actor_of(current)
    issuer = issuer_of(current)
    stored = plar_service.evidence_file_for(session, file_id=file_id,
                                            person_id=actor.person_id, assessor=actor,
                                            issuer_id=issuer.id)
    return file_response(stored)


@bp.get("/start/<issuer_slug>/<code>")
def start_from_public_page(issuer_slug: str, code: str) -> ResponseReturnValue:
    """From a credential's public page: a learner signed in through a launch (its token or
    cookie) goes on to the request form; anyone else reads how to sign in first. Nothing is
    revealed about who is signed in beyond what that person launched as."""
    from lti_tool.errors import LaunchSessionError
    from lti_tool.web.common.launch_session import load_current_launch

    reason = "no_launch"
    current = None
    try:
        current = load_current_launch()
    except LaunchSessionError:
        current = None
    if current is not None:
        issuer = _issuer_or_none(current)
        if AppRole.LEARNER not in current.launch.app_roles:
            reason = "not_learner"
        elif issuer is None or issuer.slug != issuer_slug[:64]:
            reason = "other_issuer"
        else:
            return redirect(url_for("plar.new", code=code[:64], lt=current.token), code=303)
    from flask import render_template

    return render_template("plar/start.html", reason=reason, issuer_slug=issuer_slug[:64],
                           code=code[:64]), 200


def _issuer_or_none(current: CurrentLaunch) -> Any:
    from lti_tool.web.common.catalog_access import issuer_for_launch

    return issuer_for_launch(db_session(), current)


@bp.get("/calendar/<int:request_id>/<int:skill_id>.ics")
def calendar(request_id: int, skill_id: int) -> ResponseReturnValue:
    """A scheduled assessment as an iCalendar file, for the learner whose request it is or
    an assessor of its credential (anyone else: 404)."""
    from flask import Response

    from lti_tool.domain.plar import calendar_event
    from lti_tool.errors import Forbidden
    from lti_tool.models.base import utcnow
    from lti_tool.web.common.launch_session import load_current_launch
    from lti_tool.web.lms.plar.common import METHOD_LABELS

    current = load_current_launch()
    session = db_session()
    actor = actor_of(current)
    try:
        found = plar_service.learner_request(session, actor.person_id, request_id)
    except NotFound:
        try:
            found = plar_service.assessor_request(session, actor, issuer_of(current).id,
                                                  request_id)
        except Forbidden:
            raise NotFound(_("No such PLAR request among yours.")) from None
    row = next((s for s in found.skills if s.skill_id == skill_id), None)
    if row is None or row.scheduled_at is None:
        raise NotFound(_("Nothing is scheduled for this skill."))
    version = plar_service.versions_of(session, [found.version_id]).get(found.version_id)
    title = version.title if version else found.credential.code
    method = str(METHOD_LABELS.get(row.method, row.method))
    body = calendar_event(
        uid=f"plar-{found.id}-{row.skill_id}-{int(row.scheduled_at.timestamp())}@"
            f"{request.host.split(':')[0] or 'microcred'}",
        start=row.scheduled_at, minutes=60, stamp=utcnow(),
        summary=_("%(method)s: %(skill)s", method=method, skill=row.skill.name),
        location=row.scheduled_place,
        description=_("Prior learning assessment for “%(title)s”. Learner: %(learner)s.",
                      title=title, learner=found.learner_name or _("Learner")))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="plar-assessment-{found.id}-{row.skill_id}.ics"'
    return response
