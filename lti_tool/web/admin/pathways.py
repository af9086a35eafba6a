"""Pathways in the catalog administration (issue 12): the list, the form (groups with
their rules and steps, credit articulation, target, order, French texts), the pathway page
with its preview as learners and registrars will read it, lifecycle actions (submit,
withdraw, publish and retire, the last two confirmed), new versions, and the rubric review
(the credentials' review form and rules: ``reviews.parse_review_post``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool.domain.catalog import Action, LifecycleState, ReviewDecision, allowed_actions
from lti_tool.domain.pathways import spec_of
from lti_tool.errors import Conflict, Forbidden, ToolError, ValidationFailed
from lti_tool.models import CredentialVersion, MicroCredential, PathwayVersion
from lti_tool.services import pathways as service
from lti_tool.services import public_pathways
from lti_tool.services.catalog import OPEN_STATES
from lti_tool.services.pathways import PublishedPathway
from lti_tool.web.admin import pathway_forms as pf
from lti_tool.web.admin import reviews
from lti_tool.web.admin.staff import (
    PER_PAGE,
    Staff,
    admin_url,
    bp,
    check_fresh,
    current_staff,
    error_summary,
    go,
    int_arg,
    posted_row_version,
    render,
    writer_staff,
)
from lti_tool.web.common import pathway_views
from lti_tool.web.common.launch_session import check_csrf

LIFECYCLE_BUTTONS = (Action.SUBMIT, Action.WITHDRAW, Action.PUBLISH, Action.RETIRE)
CONFIRMED_ACTIONS = (Action.PUBLISH, Action.RETIRE)


def _action_labels() -> dict[Action, str]:
    return {Action.SUBMIT: _("Submit for review"), Action.WITHDRAW: _("Withdraw from review"),
            Action.PUBLISH: _("Publish"), Action.RETIRE: _("Retire")}


def _credential_choices(staff: Staff) -> list[tuple[str, str]]:
    """Every credential of the catalog (code, "code — title (state)") for the selects."""
    rows = staff.session.execute(
        select(MicroCredential.code, CredentialVersion.title, CredentialVersion.state)
        .join(CredentialVersion, CredentialVersion.credential_id == MicroCredential.id)
        .where(MicroCredential.issuer_id == staff.issuer.id)
        .order_by(MicroCredential.code, CredentialVersion.version)).all()
    latest: dict[str, tuple[str, str]] = {}
    for code, title, state in rows:
        if state == LifecycleState.PUBLISHED.value or code not in latest or \
                latest[code][1] != LifecycleState.PUBLISHED.value:
            latest[code] = (title, state)
    return [(code, f"{code} — {title}" + ("" if state == LifecycleState.PUBLISHED.value
                                          else f" ({_('not published')})"))
            for code, (title, state) in sorted(latest.items())]


def _form_page(status: int, *, staff: Staff, form: dict[str, Any],
               version: PathwayVersion | None, errors: dict[str, list[str]] | None = None,
               conflict: str = "", row_version: int | None = None) -> ResponseReturnValue:
    errors = errors or {}
    return render("admin/pathway_form.html", status, form=form, version=version,
                  errors=errors, conflict=conflict, row_version=row_version,
                  summary=error_summary(errors, pf.error_label),
                  credentials=_credential_choices(staff),
                  rules=[("all", _("All of the steps")),
                         ("choose", _("A number of the steps (k of n)")),
                         ("credits", _("At least a number of credits")),
                         ("hours", _("At least a number of hours"))],
                  relations=[("exempts", _("Exempts from the course")),
                             ("counts_toward", _("Counts toward the course"))])


@bp.get("/pathways")
def pathways_list() -> ResponseReturnValue:
    staff = current_staff()
    q = request.args.get("q", "").strip()[:100]
    page = service.list_pathways(staff.session, staff.actor, q=q, page=int_arg("page"),
                                 per_page=PER_PAGE)
    return render("admin/pathways.html", page=page, q=q)


@bp.route("/pathways/new", methods=["GET", "POST"])
def pathway_new() -> ResponseReturnValue:
    staff = writer_staff()
    if request.method == "GET":
        return _form_page(200, staff=staff, form=pf.pathway_form(), version=None)
    check_csrf(staff.current)
    form = pf.pathway_form_from_post(request.form)
    if pf.adding_rows(request.form):
        return _form_page(200, staff=staff, form=form, version=None)
    data, where = pf.pathway_input(form)
    try:
        version = service.create_pathway(staff.session, staff.actor, data)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _form_page(422, staff=staff, form=form, version=None,
                          errors=pf.pathway_errors(exc.errors, where))
    staff.session.commit()
    return go("admin.pathway_page", "pathway_created", pathway_id=version.pathway_id)


@bp.route("/pathway-versions/<int:version_id>/edit", methods=["GET", "POST"])
def pathway_edit(version_id: int) -> ResponseReturnValue:
    """Edit a draft; editing the published (or a retired, rejected) latest version saves
    the changes as a new draft version."""
    staff = writer_staff()
    version = service.get_version(staff.session, staff.actor, version_id)
    latest = version.pathway.versions[-1]
    open_version = next((v for v in version.pathway.versions if v.state in OPEN_STATES), None)
    creates_version = version.state != LifecycleState.DRAFT.value
    if creates_version and (open_version is not None or latest.id != version.id):
        raise Conflict(_("Version %(n)s is still open or newer: edit that one instead.",
                         n=(open_version or latest).version), code="not_editable")
    if request.method == "GET":
        return _form_page(200, staff=staff, form=pf.pathway_form(service.input_of(version)),
                          version=version, row_version=version.row_version)
    check_csrf(staff.current)
    row_version = posted_row_version()
    form = pf.pathway_form_from_post(request.form)
    form["code"] = version.pathway.code
    if pf.adding_rows(request.form):
        return _form_page(200, staff=staff, form=form, version=version,
                          row_version=row_version)
    data, where = pf.pathway_input(form)
    try:
        if creates_version:
            check_fresh(version.row_version, row_version)
            draft = service.new_version(staff.session, staff.actor, version.pathway_id)
            service.update_draft(staff.session, staff.actor, draft.id, data,
                                 expected_row_version=draft.row_version)
        else:
            service.update_draft(staff.session, staff.actor, version_id, data,
                                 expected_row_version=row_version)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _form_page(422, staff=staff, form=form, version=version,
                          errors=pf.pathway_errors(exc.errors, where), row_version=row_version)
    except Conflict as exc:
        staff.session.rollback()
        return _form_page(409, staff=staff, form=form, version=version,
                          conflict=exc.public_message, row_version=row_version)
    staff.session.commit()
    return go("admin.pathway_page", "draft_saved", pathway_id=version.pathway_id)


def preview_of(staff: Staff, version: PathwayVersion) -> dict[str, Any]:
    """The pathway as its public page will describe it (titles resolved now), with its
    flowchart (``flowchart``)."""
    snapshot = version.snapshot or service.build_snapshot(staff.session, version)
    pathway = PublishedPathway(version.id, version.pathway.code, version.version,
                               version.target_credential_id, spec_of(snapshot))
    data = public_pathways.pathway_json(staff.issuer, pathway,
                                        current_app.config["PUBLIC_BASE_URL"])
    data["flowchart"] = pathway_views.flowchart(
        staff.issuer, pathway, id_prefix="preview-flow",
        downloads=version.state == LifecycleState.PUBLISHED.value)
    return data


def _pathway_page(staff: Staff, pathway_id: int, *, number: int | None = None,
                  error: str = "", status: int = 200) -> ResponseReturnValue:
    pathway = service.get_pathway(staff.session, staff.actor, pathway_id)
    versions = list(pathway.versions)
    version = next((v for v in versions if v.version == number), versions[-1])
    state = LifecycleState(version.state)
    actions = [a for a in allowed_actions(state) if a in LIFECYCLE_BUTTONS] \
        if staff.can_write else []
    ref = staff.actor.ref
    is_contributor = ref in (version.contributors or []) or ref == version.author_ref
    open_version = next((v for v in versions if v.state in OPEN_STATES), None)
    editable = staff.can_write and (state is LifecycleState.DRAFT or (
        open_version is None and version.id == versions[-1].id))
    problems: dict[str, list[str]] = {}
    if state in (LifecycleState.DRAFT, LifecycleState.APPROVED):
        try:
            service.check(staff.session, staff.issuer.id, version.content, publishing=True,
                          pathway_id=pathway.id)
        except ValidationFailed as exc:
            problems = exc.errors
    reviews_list = [(v, r) for v in versions for r in v.reviews]
    reviews_list.sort(key=lambda pair: (pair[1].created_at, pair[1].id), reverse=True)
    return render("admin/pathway.html", status, pathway=pathway, versions=versions,
                  version=version, p=preview_of(staff, version), actions=actions,
                  action_labels=_action_labels(), error=error, can_edit=editable,
                  can_review=staff.can_review and state is LifecycleState.IN_REVIEW
                  and not is_contributor, is_contributor=is_contributor,
                  problems=[m for ms in problems.values() for m in ms],
                  reviews=reviews_list)


@bp.get("/pathways/<int:pathway_id>")
def pathway_page(pathway_id: int) -> ResponseReturnValue:
    staff = current_staff()
    return _pathway_page(staff, pathway_id, number=int_arg("v", 0) or None)


@bp.post("/pathway-versions/<int:version_id>/transition")
def pathway_transition(version_id: int) -> ResponseReturnValue:
    staff = current_staff()
    check_csrf(staff.current)
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        action = None
    if action not in LIFECYCLE_BUTTONS:
        raise ToolError(_("Unknown action."), code="unknown_action")
    assert action is not None
    version = service.get_version(staff.session, staff.actor, version_id)
    pathway_id, number = version.pathway_id, version.version
    possible = action in allowed_actions(LifecycleState(version.state)) and \
        posted_row_version() == version.row_version
    if action in CONFIRMED_ACTIONS and possible and request.form.get("confirm") != "1":
        return render("admin/pathway_confirm.html", version=version, action=action.value,
                      action_label=_action_labels()[action],
                      row_version=posted_row_version())
    try:
        service.transition(staff.session, staff.actor, version_id, action,
                           expected_row_version=posted_row_version())
    except ValidationFailed as exc:
        staff.session.rollback()
        return _pathway_page(staff, pathway_id, number=number, status=422,
                             error=" ".join(m for ms in exc.errors.values() for m in ms))
    except Conflict as exc:
        staff.session.rollback()
        return _pathway_page(staff, pathway_id, number=number, error=exc.public_message,
                             status=409)
    staff.session.commit()
    return go("admin.pathway_page", action.value, pathway_id=pathway_id, v=number)


@bp.post("/pathways/<int:pathway_id>/new-version")
def pathway_new_version(pathway_id: int) -> ResponseReturnValue:
    staff = writer_staff()
    check_csrf(staff.current)
    pathway = service.get_pathway(staff.session, staff.actor, pathway_id)
    try:
        check_fresh(pathway.versions[-1].row_version, posted_row_version())
        draft = service.new_version(staff.session, staff.actor, pathway_id)
    except Conflict as exc:
        staff.session.rollback()
        return _pathway_page(staff, pathway_id, error=exc.public_message, status=409)
    staff.session.commit()
    return go("admin.pathway_edit", "new_version", version_id=draft.id)


def _review_block(staff: Staff, version: PathwayVersion) -> str:
    ref = staff.actor.ref
    if ref in (version.contributors or []) or ref == version.author_ref:
        return str(_("You wrote or edited this version, so someone else must review it."))
    if not staff.can_review:
        return str(_("Reviewing needs the reviewer role. An institution administrator can "
                     "grant it on the People & roles page."))
    if version.state != LifecycleState.IN_REVIEW.value:
        return str(_("Only a version in review can be reviewed."))
    return ""


@bp.route("/pathway-versions/<int:version_id>/review", methods=["GET", "POST"])
def pathway_review(version_id: int) -> ResponseReturnValue:
    """The rubric review of a pathway version: the credentials' form and rules."""
    staff = current_staff()
    version = service.get_version(staff.session, staff.actor, version_id)
    blocked = _review_block(staff, version)

    def page(status: int = 200, **kwargs: Any) -> ResponseReturnValue:
        back = admin_url("admin.pathway_page", pathway_id=version.pathway_id,
                         v=version.version)
        return reviews.review_form_page(
            staff, status, template="admin/pathway_review.html", subject=version,
            blocked=blocked, extra={
                "p": preview_of(staff, version), "back_url": back,
                "back_text": _("Back to the pathway"),
                "form_action": url_for("admin.pathway_review", version_id=version.id),
                "reload_url": admin_url("admin.pathway_review", version_id=version.id)},
            **kwargs)

    if request.method == "GET":
        return page()
    check_csrf(staff.current)
    if blocked and version.state == LifecycleState.IN_REVIEW.value:
        raise Forbidden(blocked, code="review_not_allowed")
    row_version = posted_row_version()
    parsed = reviews.parse_review_post(staff)
    if parsed.errors:
        return page(422, posted=parsed.posted, errors=parsed.errors, row_version=row_version)
    if parsed.needs_confirmation:
        return page(200, posted=parsed.posted, row_version=row_version,
                    not_met=parsed.not_met)
    try:
        service.review(staff.session, staff.actor, version_id, parsed.data,
                       expected_row_version=row_version)
    except ValidationFailed as exc:
        staff.session.rollback()
        return page(422, posted=parsed.posted, row_version=row_version,
                    errors=reviews.map_review_errors(exc.errors))
    except Conflict as exc:
        staff.session.rollback()
        return page(409, posted=parsed.posted, conflict=exc.public_message,
                    row_version=row_version)
    staff.session.commit()
    decision = ReviewDecision(parsed.posted["decision"]).value
    return go("admin.pathway_page", f"review_{decision}", pathway_id=version.pathway_id,
              v=version.version)


def review_queue_rows(staff: Staff) -> list[tuple[PathwayVersion, str]]:
    """Pathway versions waiting for review, with why this user may not review each."""
    from lti_tool.models import Pathway

    versions = staff.session.scalars(
        select(PathwayVersion).join(Pathway, Pathway.id == PathwayVersion.pathway_id)
        .where(Pathway.issuer_id == staff.issuer.id,
               PathwayVersion.state == LifecycleState.IN_REVIEW.value)
        .order_by(PathwayVersion.submitted_at, PathwayVersion.id))
    return [(v, _review_block(staff, v)) for v in versions]
