"""Micro-credentials: the draft form, editing a version, the credential page with its
learner-facing preview and version history, lifecycle actions (submit, withdraw, publish,
retire), new versions and version diffs."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from lti_tool.domain.catalog import (
    Action,
    AssessmentKind,
    DeliveryMode,
    Grading,
    LifecycleState,
    Route,
    allowed_actions,
    display_label,
    routes_available,
)
from lti_tool.errors import Conflict, NotFound, ToolError, ValidationFailed
from lti_tool.models import CredentialVersion, MicroCredential, Skill
from lti_tool.services import catalog as catalog_service
from lti_tool.web.admin import forms
from lti_tool.web.admin.staff import (
    Staff,
    bp,
    check_fresh,
    current_staff,
    error_summary,
    fmt_num,
    go,
    int_arg,
    posted_row_version,
    render,
    writer_staff,
)
from lti_tool.web.common.launch_session import check_csrf

LIFECYCLE_BUTTONS = (Action.SUBMIT, Action.WITHDRAW, Action.PUBLISH, Action.RETIRE)
# Irreversible: the page asks for confirmation before doing them.
CONFIRMED_ACTIONS = (Action.PUBLISH, Action.RETIRE)
ACTION_LABELS = {Action.SUBMIT: _l("Submit for review"),
                 Action.WITHDRAW: _l("Withdraw from review"),
                 Action.PUBLISH: _l("Publish"), Action.RETIRE: _l("Retire")}
ACTION_HINTS = {
    Action.SUBMIT: _l("A reviewer scores it on the rubric; it cannot be edited while in "
                      "review."),
    Action.WITHDRAW: _l("Takes it back to draft so it can be edited."),
    Action.PUBLISH: _l("Learners, employers and registrars can then read it; this version "
                       "never changes again."),
    Action.RETIRE: _l("No new offerings; existing awards stay verifiable."),
}
ROUTE_HINTS = {
    Route.INTEGRATED.value: _l("Earned inside a for-credit course."),
    Route.STAND_ALONE.value: _l("Earned in a continuing-education course shell."),
    Route.PLAR.value: _l("Earned through prior learning assessment and recognition."),
    Route.TRANSFER.value: _l("Recognised from another institution."),
}


def _has_skills(session: Session, issuer_id: int) -> bool:
    return session.scalars(select(Skill.id).where(Skill.issuer_id == issuer_id)
                           .limit(1)).first() is not None


def route_choices(chosen: list[str]) -> list[tuple[str, str, str]]:
    """The routes the form offers: those MicroCred can award now
    (``domain.catalog.routes_available``), plus any a stored version already names, so
    editing never drops one silently."""
    available = set(routes_available())
    return [(k.value, display_label(k.value), str(ROUTE_HINTS.get(k.value, ""))) for k in Route
            if k.value in available or k.value in chosen]


def _credential_form_page(status: int, *, staff: Staff, form: dict[str, Any],
                          version: CredentialVersion | None,
                          errors: dict[str, list[str]] | None = None, conflict: str = "",
                          row_version: int | None = None, creates_version: bool = False,
                          picker: tuple[str, int] = ("", 1),
                          picker_used: bool = False) -> ResponseReturnValue:
    """The credential form. Its skills are the chosen ones plus one page of a search of
    the catalog (natural order of codes, chosen ones left out), never the whole library:
    a catalog holds thousands of skills."""
    errors = errors or {}
    query, page = picker
    chosen = [*form["required_skills"], *form["optional_skills"]]
    by_code = {s.code: s for s in catalog_service.skills_by_code(staff.session, staff.actor,
                                                                 chosen)}
    results = catalog_service.list_skills(staff.session, staff.actor, q=query, page=page,
                                          per_page=forms.PICKER_PER_PAGE, exclude=chosen)
    if results.page > results.pages:
        results = catalog_service.list_skills(staff.session, staff.actor, q=query,
                                              page=results.pages,
                                              per_page=forms.PICKER_PER_PAGE, exclude=chosen)
    return render("admin/credential_form.html", status, form=form, version=version,
                  errors=errors, conflict=conflict, row_version=row_version,
                  summary=error_summary(errors, forms.credential_error_label),
                  has_skills=bool(chosen) or _has_skills(staff.session, staff.issuer.id),
                  chosen_skills=by_code, skill_results=results, skill_q=query,
                  picker_used=picker_used,
                  creates_version=creates_version,
                  assessment_kinds=[(k.value, display_label(k.value)) for k in AssessmentKind],
                  gradings=[(k.value, display_label(k.value), "") for k in Grading],
                  delivery_modes=[(k.value, display_label(k.value), "") for k in DeliveryMode],
                  routes=route_choices(form["allowed_routes"]))


def _picker_page(staff: Staff, form: dict[str, Any], version: CredentialVersion | None, *,
                 row_version: int | None = None,
                 creates_version: bool = False) -> ResponseReturnValue | None:
    """A press of the skill picker's Search, Add or page buttons: the form again with what
    was typed (and the ticked skills added), nothing saved. None when the form was saved."""
    action, query, page = forms.picker_request(request.form)
    if not action:
        return None
    if action == "add":
        form = forms.add_picked(form, request.form)
    if action == "search":
        page = 1
    return _credential_form_page(200, staff=staff, form=form, version=version,
                                 row_version=row_version, creates_version=creates_version,
                                 picker=(query, page), picker_used=True)


@bp.route("/credentials/new", methods=["GET", "POST"])
def credential_new() -> ResponseReturnValue:
    staff = writer_staff()
    if request.method == "GET":
        return _credential_form_page(200, staff=staff, form=forms.credential_form(),
                                     version=None)
    check_csrf(staff.current)
    form = forms.credential_form_from_post(request.form)
    picked = _picker_page(staff, form, None)
    if picked is not None:
        return picked
    try:
        version = catalog_service.create_credential(staff.session, staff.actor,
                                                    forms.credential_input(form))
    except ValidationFailed as exc:
        staff.session.rollback()
        return _credential_form_page(422, staff=staff, form=form, version=None,
                                     errors=forms.credential_errors(exc.errors, form))
    staff.session.commit()
    return go("admin.credential", "credential_created", credential_id=version.credential_id)


def _open_version(credential: MicroCredential) -> CredentialVersion | None:
    return next((v for v in credential.versions if v.state in catalog_service.OPEN_STATES),
                None)


def _edit_block(version: CredentialVersion) -> str:
    """Why this version cannot be edited through the form ('' if it can)."""
    state = LifecycleState(version.state)
    if state is LifecycleState.DRAFT:
        return ""
    if state is LifecycleState.IN_REVIEW:
        return _("This version is in review and cannot be edited. Withdraw it from review "
                 "to make changes.")
    if state is LifecycleState.APPROVED:
        return _("This version is approved and waiting to be published. Publish it, then "
                 "edit it to start a new version.")
    latest = version.credential.versions[-1]
    if latest.id != version.id:
        return _("Version %(number)s is not the latest: edit version %(latest)s instead.",
                 number=version.version, latest=latest.version)
    open_version = _open_version(version.credential)
    if open_version is not None:
        return _("Version %(number)s is still %(state)s: change that version instead.",
                 number=open_version.version,
                 state=display_label(open_version.state).lower())
    return ""


@bp.route("/versions/<int:version_id>/edit", methods=["GET", "POST"])
def version_edit(version_id: int) -> ResponseReturnValue:
    """Edit a draft; editing a published, retired or rejected version saves the changes as
    a new draft version (that version itself never changes)."""
    staff = writer_staff()
    version = catalog_service.get_version(staff.session, staff.actor, version_id)
    blocked = _edit_block(version)
    creates_version = version.state != LifecycleState.DRAFT.value
    if blocked:
        return render("admin/edit_blocked.html", 409 if request.method == "POST" else 200,
                      version=version, reason=blocked)
    if request.method == "GET":
        return _credential_form_page(200, staff=staff,
                                     form=forms.credential_form(catalog_service.input_of(version)),
                                     version=version, row_version=version.row_version,
                                     creates_version=creates_version)
    check_csrf(staff.current)
    row_version = posted_row_version()
    form = forms.credential_form_from_post(request.form)
    form["code"] = version.credential.code
    picked = _picker_page(staff, form, version, row_version=row_version,
                          creates_version=creates_version)
    if picked is not None:
        return picked
    data = forms.credential_input(form)
    try:
        if creates_version:
            check_fresh(version.row_version, row_version)
            draft = catalog_service.new_version(staff.session, staff.actor,
                                                version.credential_id)
            catalog_service.update_draft(staff.session, staff.actor, draft.id, data,
                                         expected_row_version=draft.row_version)
        else:
            catalog_service.update_draft(staff.session, staff.actor, version_id, data,
                                         expected_row_version=row_version)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _credential_form_page(422, staff=staff, form=form, version=version,
                                     errors=forms.credential_errors(exc.errors, form),
                                     row_version=row_version, creates_version=creates_version)
    except Conflict as exc:
        staff.session.rollback()
        return _credential_form_page(409, staff=staff, form=form, version=version,
                                     conflict=exc.public_message, row_version=row_version,
                                     creates_version=creates_version)
    staff.session.commit()
    return go("admin.credential", "new_version_saved" if creates_version else "draft_saved",
              credential_id=version.credential_id)


def _credential_page(staff: Staff, credential_id: int, *, number: int | None = None,
                     error: str = "", status: int = 200) -> ResponseReturnValue:
    credential = catalog_service.get_credential(staff.session, staff.actor, credential_id)
    versions = list(credential.versions)
    version = next((v for v in versions if v.version == number), versions[-1])
    actor = staff.actor
    state = LifecycleState(version.state)
    actions = [a for a in allowed_actions(state) if a in LIFECYCLE_BUTTONS] \
        if staff.can_write else []
    is_contributor = actor.ref in (version.contributors or []) or actor.ref == version.author_ref
    open_version = _open_version(credential)
    reviews = [(v, r) for v in versions for r in v.reviews]
    reviews.sort(key=lambda pair: (pair[1].created_at, pair[1].id), reverse=True)
    return render(
        "admin/credential.html", status, credential=credential, versions=versions,
        version=version, view=catalog_service.learner_view(version), actions=actions,
        action_labels=ACTION_LABELS, action_hints=ACTION_HINTS, error=error,
        can_edit=staff.can_write and not _edit_block(version),
        can_review=staff.can_review and state is LifecycleState.IN_REVIEW and not is_contributor,
        is_contributor=is_contributor,
        can_new_version=staff.can_write and open_version is None,
        latest=versions[-1], reviews=reviews, public_url=_public_url(staff, version))


def _public_url(staff: Staff, version: CredentialVersion) -> str:
    if version.state != LifecycleState.PUBLISHED.value:
        return ""
    try:
        return url_for("public_catalog.credential", issuer_slug=staff.issuer.slug,
                       code=version.credential.code)
    except BuildError:  # the public pages are not installed in this build
        return ""


@bp.get("/credentials/<int:credential_id>")
def credential(credential_id: int) -> ResponseReturnValue:
    staff = current_staff()
    return _credential_page(staff, credential_id, number=int_arg("v", 0) or None)


@bp.post("/versions/<int:version_id>/transition")
def version_transition(version_id: int) -> ResponseReturnValue:
    staff = current_staff()
    check_csrf(staff.current)
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        action = None
    if action not in LIFECYCLE_BUTTONS:
        raise ToolError(_("Unknown action."), code="unknown_action")
    assert action is not None
    version = catalog_service.get_version(staff.session, staff.actor, version_id)
    credential_id, number = version.credential_id, version.version
    possible = action in allowed_actions(LifecycleState(version.state)) and \
        posted_row_version() == version.row_version
    if action in CONFIRMED_ACTIONS and possible and request.form.get("confirm") != "1":
        # Publishing (and retiring) cannot be undone: say what happens and ask first.
        published = catalog_service.published_version(staff.session, staff.issuer.id,
                                                      version.credential.code)
        return render("admin/confirm_transition.html", version=version, action=action.value,
                      action_label=ACTION_LABELS[action], row_version=posted_row_version(),
                      replaces=published if published is not None and
                      published.id != version.id else None)
    try:
        catalog_service.transition(staff.session, staff.actor, version_id, action,
                                   expected_row_version=posted_row_version())
    except Conflict as exc:
        staff.session.rollback()
        return _credential_page(staff, credential_id, number=number, error=exc.public_message,
                                status=409)
    staff.session.commit()
    return go("admin.credential", action.value, credential_id=credential_id, v=number)


@bp.post("/credentials/<int:credential_id>/new-version")
def credential_new_version(credential_id: int) -> ResponseReturnValue:
    staff = writer_staff()
    check_csrf(staff.current)
    credential = catalog_service.get_credential(staff.session, staff.actor, credential_id)
    try:
        check_fresh(credential.versions[-1].row_version, posted_row_version())
        draft = catalog_service.new_version(staff.session, staff.actor, credential_id)
    except Conflict as exc:
        staff.session.rollback()
        return _credential_page(staff, credential_id, error=exc.public_message, status=409)
    staff.session.commit()
    return go("admin.version_edit", "new_version", version_id=draft.id)


def _diff_value(field: str, value: Any, other: Any) -> list[tuple[str, bool]]:
    """A diff cell as lines of text, each flagged when the other side does not have it
    (so removed and added list items stand out); enumerations by their labels."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, bool):
        return [(_("Yes") if value else _("No"), False)]
    enums = ("assessment_kind", "grading", "delivery_modes", "allowed_routes")
    numbers = ("notional_hours", "credit_value")
    items = value if isinstance(value, list) else [value]
    others = other if isinstance(other, list) else [other]

    def show(item: Any) -> str:
        if field in enums:
            return display_label(str(item))
        return fmt_num(item) if field in numbers else str(item)

    marked = isinstance(value, list)
    return [(show(item), marked and item not in others) for item in items]


def _content_lang(field: str, value: Any) -> str:
    """The language of a diff row's values: the catalog's texts are English ("en") or, for
    the French fields ("fr-title"), French; "" for values shown in the page's language
    (names of choices, numbers, yes/no, codes)."""
    if field.startswith("fr-"):
        return "fr-CA"
    if field in _LOCALIZED_FIELDS or isinstance(value, bool | int | float):
        return ""
    return "en"


_LOCALIZED_FIELDS = frozenset({"assessment_kind", "grading", "delivery_modes", "allowed_routes",
                               "notional_hours", "credit_value", "credit_bearing",
                               "expiry_months", "optional_min", "code", "languages",
                               "required_skills", "optional_skills", "image_url"})


@bp.get("/credentials/<int:credential_id>/diff")
def credential_diff(credential_id: int) -> ResponseReturnValue:
    staff = current_staff()
    credential = catalog_service.get_credential(staff.session, staff.actor, credential_id)
    by_number = {v.version: v for v in credential.versions}
    latest = credential.versions[-1].version
    a = int_arg("a", max(1, latest - 1))
    b = int_arg("b", latest)
    if a not in by_number or b not in by_number:
        raise NotFound(_("No such version of this micro-credential."))
    older, newer = (by_number[a], by_number[b]) if a <= b else (by_number[b], by_number[a])
    changes = [] if a == b else catalog_service.version_diff(older, newer)
    rows = [(forms.credential_error_label(c.field),
             _diff_value(c.field, c.before, c.after), _diff_value(c.field, c.after, c.before),
             _content_lang(c.field, c.before if c.before not in (None, "", []) else c.after))
            for c in changes]
    return render("admin/diff.html", credential=credential, versions=credential.versions,
                  older=older, newer=newer, rows=rows, same=a == b, latest=credential.versions[-1])
