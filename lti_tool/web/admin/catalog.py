"""Catalog administration inside the LMS frame (``/admin``): the catalog list, skills
library, credential forms with field-level errors, the learner-facing preview, lifecycle
actions, version history and diffs, quality reviews on the issuer's rubric, the rubric
itself, API tokens, people & roles, import/export and the institution profile.

Thin: every change goes through ``services.catalog`` (and ``api_tokens``, ``catalog_io``)
with an ``Actor`` from ``catalog_access.catalog_actor``. Every link and form carries the
launch token ``lt``; every POST is checked for the launch's CSRF token, and edits carry the
``row_version`` they were read at, so a stale save is refused (and the user's input kept)
instead of silently overwriting someone else's work. Success redirects (303) with a
``done`` code naming a fixed message: no user text is ever reflected from the URL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.domain.catalog import (
    LENSES,
    RUBRIC_LEVELS,
    Action,
    AssessmentKind,
    CatalogRole,
    DeliveryMode,
    Grading,
    LifecycleState,
    ReviewDecision,
    Route,
    Scope,
    allowed_actions,
    label,
)
from lti_tool.domain.lti import ROLE_LABELS, AppRole, ContextKind
from lti_tool.errors import Conflict, Forbidden, NotFound, ToolError, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import (
    CatalogGrant,
    CredentialSkill,
    CredentialVersion,
    Issuer,
    LearnerAccount,
    LinkProposal,
    MicroCredential,
    Platform,
    Skill,
)
from lti_tool.services import api_tokens, identity, issuer_settings, tracking
from lti_tool.services import catalog as catalog_service
from lti_tool.services.catalog import Actor
from lti_tool.web.admin import forms
from lti_tool.web.common.catalog_access import catalog_actor, has_catalog_access, issuer_for_launch
from lti_tool.web.common.launch_session import CurrentLaunch, check_csrf, load_current_launch

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 20
LIFECYCLE_BUTTONS = (Action.SUBMIT, Action.WITHDRAW, Action.PUBLISH, Action.RETIRE)
ACTION_LABELS = {Action.SUBMIT: "Submit for review", Action.WITHDRAW: "Withdraw from review",
                 Action.PUBLISH: "Publish", Action.RETIRE: "Retire"}
ACTION_HINTS = {
    Action.SUBMIT: "A reviewer scores it on the rubric; it cannot be edited while in review.",
    Action.WITHDRAW: "Takes it back to draft so it can be edited.",
    Action.PUBLISH: "Learners, employers and registrars can then read it; this version "
                    "never changes again.",
    Action.RETIRE: "No new offerings; existing awards stay verifiable.",
}
NOTICES = {
    "issuer_created": "Your institution is set up. Its catalog is ready.",
    "issuer_saved": "The institution profile was saved.",
    "skill_created": "The skill was created.",
    "skill_saved": "The skill was saved.",
    "skill_deleted": "The skill was deleted.",
    "credential_created": "The draft micro-credential was created.",
    "draft_saved": "The draft was saved.",
    "new_version": "A new draft version was started. The published version is unchanged.",
    "new_version_saved": "Your changes were saved as a new draft version. The published "
                         "version is unchanged.",
    "submit": "Submitted for review.",
    "withdraw": "Withdrawn from review: it is a draft again.",
    "publish": "Published. This version will never change; edit it to start a new version.",
    "retire": "Retired. No new offerings; existing awards stay verifiable.",
    "review_approve": "Your review was recorded: approved. It can now be published.",
    "review_request_changes": "Your review was recorded: changes requested. The version is "
                              "a draft again.",
    "review_reject": "Your review was recorded: rejected.",
    "rubric_saved": "The rubric was saved. Past reviews keep the rubric they were scored on.",
    "token_revoked": "The API token was revoked. It no longer works.",
    "role_granted": "The role was granted.",
    "role_revoked": "The role was revoked.",
}
ROUTE_HINTS = {
    Route.INTEGRATED.value: "Earned inside a for-credit course.",
    Route.STAND_ALONE.value: "Earned in a continuing-education course shell.",
    Route.PLAR.value: "Earned through prior learning assessment and recognition.",
    Route.TRANSFER.value: "Recognised from another institution.",
}
STALE_FORM = ("This form is missing its version stamp. Reload the page and try again.")


@dataclass(frozen=True)
class Staff:
    """The launched catalog user of this request."""

    session: Session
    current: CurrentLaunch
    issuer: Issuer
    actor: Actor

    @property
    def is_institution_admin(self) -> bool:
        return AppRole.ADMINISTRATOR in self.current.launch.app_roles

    @property
    def can_write(self) -> bool:
        return self.actor.can(Scope.CATALOG_WRITE)

    @property
    def can_review(self) -> bool:
        return self.actor.can(Scope.REVIEW)


def _staff() -> Staff:
    current = load_current_launch()
    session = db_session()
    issuer = issuer_for_launch(session, current)
    actor = catalog_actor(session, current, issuer)
    assert issuer is not None  # catalog_actor refuses a launch without an issuer
    staff = Staff(session, current, issuer, actor)
    g.staff = staff
    return staff


def _writer() -> Staff:
    staff = _staff()
    staff.actor.require(Scope.CATALOG_WRITE)
    return staff


def _institution_admin(staff: Staff) -> None:
    if not staff.is_institution_admin:
        raise Forbidden("Only an institution administrator (from the learning platform) can "
                        "do this.", code="not_institution_admin")


def _admin_url(endpoint: str, **values: Any) -> str:
    current: CurrentLaunch = load_current_launch()
    return url_for(endpoint, lt=current.token, **values)


def _go(endpoint: str, done: str | None = None, **values: Any) -> WerkzeugResponse:
    if done:
        values["done"] = done
    return redirect(_admin_url(endpoint, **values), code=303)


def _render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    current = load_current_launch()
    context.setdefault("notice", NOTICES.get(request.args.get("done", "")))
    return render_template(template, current=current, staff=g.get("staff"),
                           role_label=ROLE_LABELS[current.launch.role], **context), status


def _posted_row_version() -> int:
    raw = request.form.get("row_version", "")
    if not raw.isdigit():
        raise ToolError(STALE_FORM, code="missing_row_version")
    return int(raw)


def _check_fresh(current_row_version: int, expected: int) -> None:
    if current_row_version != expected:
        raise Conflict("Someone else saved this in the meantime. Reload to see their changes, "
                       "then apply yours again.", code="stale_version")


def _int_arg(name: str, default: int = 1) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 7 else default


def _summary(errors: dict[str, list[str]], labeller: Any) -> list[tuple[str, str, str]]:
    """(field name, label, message) for the error summary, in the form's order."""
    return [(name, labeller(name), message) for name, messages in errors.items()
            for message in messages]


@bp.after_request
def _no_store(response: WerkzeugResponse) -> WerkzeugResponse:
    # Pages carry the launch token, CSRF tokens and (once) API token secrets.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"admin_url": _admin_url, "label": label, "fmt_dt": _fmt_dt, "fmt_num": _fmt_num,
            "LENSES": LENSES,
            "RUBRIC_LEVELS": RUBRIC_LEVELS, "LEVEL_LABELS": dict(RUBRIC_LEVELS),
            "state_label": label}


@bp.app_context_processor
def _catalog_link() -> dict[str, Any]:
    """``catalog_access()`` for the LTI landing pages: whether to show the catalog link."""

    def catalog_access() -> bool:
        current = g.get("current_launch")
        if current is None:
            return False
        try:
            return has_catalog_access(db_session(), current)
        except ToolError:
            return False

    return {"catalog_access": catalog_access}


def _fmt_dt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _fmt_num(value: Any) -> str:
    """3.00 → 3, 12.5 → 12.5 (hours and credits are stored as decimals)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    text = format(number.normalize(), "f")
    return text


# -- home and institution setup ------------------------------------------------------------
@bp.get("")
def home() -> ResponseReturnValue:
    current = load_current_launch()
    if issuer_for_launch(db_session(), current) is None:
        if AppRole.ADMINISTRATOR not in current.launch.app_roles:
            raise Forbidden("No institution catalog is set up for this platform yet. An "
                            "institution administrator can set it up.", code="no_issuer")
        return _render("admin/setup.html", form=forms.issuer_form(), errors={}, summary=[])
    staff = _staff()
    q = request.args.get("q", "").strip()[:100]
    state = request.args.get("state", "")
    if state not in {s.value for s in LifecycleState}:
        state = ""
    credit = request.args.get("credit", "")
    credit_bearing = {"yes": True, "no": False}.get(credit)
    page = catalog_service.list_credentials(staff.session, staff.actor, q=q, state=state,
                                            credit_bearing=credit_bearing,
                                            page=_int_arg("page"), per_page=PER_PAGE)
    waiting = staff.session.scalar(
        select(func.count(CredentialVersion.id)).join(MicroCredential)
        .where(MicroCredential.issuer_id == staff.issuer.id,
               CredentialVersion.state == LifecycleState.IN_REVIEW.value))
    return _render("admin/home.html", page=page, q=q, state=state, waiting=waiting or 0,
                   credit=credit if credit_bearing is not None else "",
                   states=list(LifecycleState))


@bp.post("/setup")
def setup() -> ResponseReturnValue:
    current = load_current_launch()
    check_csrf(current)
    if AppRole.ADMINISTRATOR not in current.launch.app_roles:
        raise Forbidden("Only an institution administrator can set up the catalog.",
                        code="not_institution_admin")
    session = db_session()
    if issuer_for_launch(session, current) is not None:
        return _go("admin.home")
    form = forms.issuer_form_from_post(request.form)
    record = current.record or {}
    try:
        catalog_service.create_issuer(
            session, forms.issuer_input(form), slug=form["slug"].lower(),
            platform_id=current.launch.platform_id,
            actor_ref=f"account:{record.get('account_id', current.launch.sub)}")
    except ValidationFailed as exc:
        session.rollback()
        errors = forms.issuer_errors(exc.errors)
        # The service checks the slug only once the profile is valid: report both at once.
        if "slug" not in errors and not forms.slug_ok(form["slug"]):
            errors["slug"] = ["Use 1-64 letters, digits or '-'."]
        return _render("admin/setup.html", 422, form=form, errors=errors,
                       summary=_summary(errors, forms.ISSUER_LABELS.get))
    except Conflict as exc:
        session.rollback()
        errors = {"slug": [exc.public_message]}
        return _render("admin/setup.html", 422, form=form, errors=errors,
                       summary=_summary(errors, forms.ISSUER_LABELS.get))
    session.commit()
    return _go("admin.home", "issuer_created")


@bp.route("/issuer", methods=["GET", "POST"])
def issuer_profile() -> ResponseReturnValue:
    staff = _staff()
    issuer = staff.issuer
    form = forms.issuer_form({"name": issuer.name, "url": issuer.url, "email": issuer.email,
                              "image_url": issuer.image_url, "description": issuer.description,
                              "languages": issuer.languages, "slug": issuer.slug})
    row_version = issuer.row_version
    if request.method == "POST":
        check_csrf(staff.current)
        staff.actor.require(Scope.CATALOG_WRITE)
        row_version = _posted_row_version()
        form = {**forms.issuer_form_from_post(request.form), "slug": issuer.slug}
        try:
            catalog_service.update_issuer(staff.session, staff.actor, forms.issuer_input(form),
                                          expected_row_version=row_version)
        except ValidationFailed as exc:
            staff.session.rollback()
            errors = forms.issuer_errors(exc.errors)
            return _render("admin/issuer.html", 422, form=form, errors=errors,
                           summary=_summary(errors, forms.ISSUER_LABELS.get),
                           row_version=row_version)
        except Conflict as exc:
            staff.session.rollback()
            return _render("admin/issuer.html", 409, form=form, errors={}, summary=[],
                           conflict=exc.public_message, row_version=row_version)
        staff.session.commit()
        return _go("admin.issuer_profile", "issuer_saved")
    return _render("admin/issuer.html", form=form, errors={}, summary=[],
                   row_version=row_version)


# -- skills --------------------------------------------------------------------------------
def _issuer_tags(session: Session, issuer_id: int) -> list[str]:
    tags: set[str] = set()
    for row in session.scalars(select(Skill.tags).where(Skill.issuer_id == issuer_id)):
        tags.update(row or [])
    return sorted(tags, key=str.lower)


def _skill_usage(session: Session, skill_id: int) -> list[tuple[int, str, int]]:
    """(credential id, title, version) of the versions that use this skill."""
    rows = session.execute(
        select(CredentialVersion.credential_id, CredentialVersion.title,
               CredentialVersion.version)
        .join(CredentialSkill, CredentialSkill.version_id == CredentialVersion.id)
        .where(CredentialSkill.skill_id == skill_id)
        .order_by(CredentialVersion.title, CredentialVersion.version)).all()
    return [(r[0], r[1], r[2]) for r in rows]


@bp.get("/skills")
def skills() -> ResponseReturnValue:
    staff = _staff()
    q = request.args.get("q", "").strip()[:100]
    tag = request.args.get("tag", "").strip()[:50]
    page = catalog_service.list_skills(staff.session, staff.actor, q=q, tag=tag,
                                       page=_int_arg("page"), per_page=PER_PAGE)
    return _render("admin/skills.html", page=page, q=q, tag=tag,
                   tags=_issuer_tags(staff.session, staff.issuer.id))


def _skill_form_page(status: int, *, form: dict[str, Any], skill: Skill | None,
                     errors: dict[str, list[str]] | None = None, conflict: str = "",
                     row_version: int | None = None) -> ResponseReturnValue:
    errors = errors or {}
    return _render("admin/skill_form.html", status, form=form, skill=skill, errors=errors,
                   summary=_summary(errors, forms.skill_error_label), conflict=conflict,
                   row_version=row_version,
                   alignment_types=[(t, t) for t in forms.ALIGNMENT_TYPES])


@bp.route("/skills/new", methods=["GET", "POST"])
def skill_new() -> ResponseReturnValue:
    staff = _writer()
    if request.method == "GET":
        return _skill_form_page(200, form=forms.skill_form(), skill=None)
    check_csrf(staff.current)
    form = forms.skill_form_from_post(request.form)
    try:
        skill = catalog_service.create_skill(staff.session, staff.actor, forms.skill_input(form))
    except ValidationFailed as exc:
        staff.session.rollback()
        return _skill_form_page(422, form=form, skill=None,
                                errors=forms.skill_errors(exc.errors))
    staff.session.commit()
    return _go("admin.skill_edit", "skill_created", skill_id=skill.id)


@bp.route("/skills/<int:skill_id>/edit", methods=["GET", "POST"])
def skill_edit(skill_id: int) -> ResponseReturnValue:
    staff = _staff()
    skill = catalog_service.get_skill(staff.session, staff.actor, skill_id)
    if request.method == "GET":
        return _skill_form_page(200, form=forms.skill_form(catalog_service.skill_as_dict(skill)),
                                skill=skill, row_version=skill.row_version)
    check_csrf(staff.current)
    staff.actor.require(Scope.CATALOG_WRITE)
    row_version = _posted_row_version()
    form = forms.skill_form_from_post(request.form)
    try:
        catalog_service.update_skill(staff.session, staff.actor, skill_id,
                                     forms.skill_input(form), expected_row_version=row_version)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _skill_form_page(422, form=form, skill=skill, row_version=row_version,
                                errors=forms.skill_errors(exc.errors))
    except Conflict as exc:
        staff.session.rollback()
        return _skill_form_page(409, form=form, skill=skill, row_version=row_version,
                                conflict=exc.public_message)
    staff.session.commit()
    return _go("admin.skill_edit", "skill_saved", skill_id=skill_id)


@bp.route("/skills/<int:skill_id>/delete", methods=["GET", "POST"])
def skill_delete(skill_id: int) -> ResponseReturnValue:
    staff = _writer()
    skill = catalog_service.get_skill(staff.session, staff.actor, skill_id)
    usage = _skill_usage(staff.session, skill_id)
    if request.method == "GET":
        return _render("admin/skill_delete.html", skill=skill, usage=usage, error="")
    check_csrf(staff.current)
    try:
        _check_fresh(skill.row_version, _posted_row_version())
        catalog_service.delete_skill(staff.session, staff.actor, skill_id)
    except Conflict as exc:
        staff.session.rollback()
        return _render("admin/skill_delete.html", 409, skill=skill, usage=usage,
                       error=exc.public_message)
    staff.session.commit()
    return _go("admin.skills", "skill_deleted")


# -- micro-credentials -----------------------------------------------------------------------
def _all_skills(session: Session, issuer_id: int) -> list[Skill]:
    return list(session.scalars(select(Skill).where(Skill.issuer_id == issuer_id)
                                .order_by(func.lower(Skill.name), Skill.code)))


def _credential_form_page(status: int, *, staff: Staff, form: dict[str, Any],
                          version: CredentialVersion | None,
                          errors: dict[str, list[str]] | None = None, conflict: str = "",
                          row_version: int | None = None,
                          creates_version: bool = False) -> ResponseReturnValue:
    errors = errors or {}
    return _render("admin/credential_form.html", status, form=form, version=version,
                   errors=errors, conflict=conflict, row_version=row_version,
                   summary=_summary(errors, lambda n: forms.CREDENTIAL_LABELS.get(n, "Form")),
                   skills=_all_skills(staff.session, staff.issuer.id),
                   creates_version=creates_version,
                   assessment_kinds=[(k.value, label(k.value)) for k in AssessmentKind],
                   gradings=[(k.value, label(k.value), "") for k in Grading],
                   delivery_modes=[(k.value, label(k.value), "") for k in DeliveryMode],
                   routes=[(k.value, label(k.value), ROUTE_HINTS.get(k.value, ""))
                           for k in Route])


@bp.route("/credentials/new", methods=["GET", "POST"])
def credential_new() -> ResponseReturnValue:
    staff = _writer()
    if request.method == "GET":
        return _credential_form_page(200, staff=staff, form=forms.credential_form(),
                                     version=None)
    check_csrf(staff.current)
    form = forms.credential_form_from_post(request.form)
    try:
        version = catalog_service.create_credential(staff.session, staff.actor,
                                                    forms.credential_input(form))
    except ValidationFailed as exc:
        staff.session.rollback()
        return _credential_form_page(422, staff=staff, form=form, version=None,
                                     errors=forms.credential_errors(exc.errors, form))
    staff.session.commit()
    return _go("admin.credential", "credential_created", credential_id=version.credential_id)


def _open_version(credential: MicroCredential) -> CredentialVersion | None:
    return next((v for v in credential.versions if v.state in catalog_service.OPEN_STATES),
                None)


def _edit_block(version: CredentialVersion) -> str:
    """Why this version cannot be edited through the form ('' if it can)."""
    state = LifecycleState(version.state)
    if state is LifecycleState.DRAFT:
        return ""
    if state is LifecycleState.IN_REVIEW:
        return ("This version is in review and cannot be edited. Withdraw it from review "
                "to make changes.")
    if state is LifecycleState.APPROVED:
        return ("This version is approved and waiting to be published. Publish it, then edit "
                "it to start a new version.")
    latest = version.credential.versions[-1]
    if latest.id != version.id:
        return (f"Version {version.version} is not the latest: edit version {latest.version} "
                "instead.")
    open_version = _open_version(version.credential)
    if open_version is not None:
        return (f"Version {open_version.version} is still {label(open_version.state).lower()}: "
                "change that version instead.")
    return ""


@bp.route("/versions/<int:version_id>/edit", methods=["GET", "POST"])
def version_edit(version_id: int) -> ResponseReturnValue:
    """Edit a draft; editing a published, retired or rejected version saves the changes as
    a new draft version (that version itself never changes)."""
    staff = _writer()
    version = catalog_service.get_version(staff.session, staff.actor, version_id)
    blocked = _edit_block(version)
    creates_version = version.state != LifecycleState.DRAFT.value
    if blocked:
        return _render("admin/edit_blocked.html", 409 if request.method == "POST" else 200,
                       version=version, reason=blocked)
    if request.method == "GET":
        return _credential_form_page(200, staff=staff,
                                     form=forms.credential_form(catalog_service.input_of(version)),
                                     version=version, row_version=version.row_version,
                                     creates_version=creates_version)
    check_csrf(staff.current)
    row_version = _posted_row_version()
    form = forms.credential_form_from_post(request.form)
    form["code"] = version.credential.code
    data = forms.credential_input(form)
    try:
        if creates_version:
            _check_fresh(version.row_version, row_version)
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
    return _go("admin.credential", "new_version_saved" if creates_version else "draft_saved",
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
    return _render(
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
    staff = _staff()
    return _credential_page(staff, credential_id, number=_int_arg("v", 0) or None)


@bp.post("/versions/<int:version_id>/transition")
def version_transition(version_id: int) -> ResponseReturnValue:
    staff = _staff()
    check_csrf(staff.current)
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        action = None
    if action not in LIFECYCLE_BUTTONS:
        raise ToolError("Unknown action.", code="unknown_action")
    assert action is not None
    version = catalog_service.get_version(staff.session, staff.actor, version_id)
    credential_id, number = version.credential_id, version.version
    try:
        catalog_service.transition(staff.session, staff.actor, version_id, action,
                                   expected_row_version=_posted_row_version())
    except Conflict as exc:
        staff.session.rollback()
        return _credential_page(staff, credential_id, number=number, error=exc.public_message,
                                status=409)
    staff.session.commit()
    return _go("admin.credential", action.value, credential_id=credential_id, v=number)


@bp.post("/credentials/<int:credential_id>/new-version")
def credential_new_version(credential_id: int) -> ResponseReturnValue:
    staff = _writer()
    check_csrf(staff.current)
    credential = catalog_service.get_credential(staff.session, staff.actor, credential_id)
    try:
        _check_fresh(credential.versions[-1].row_version, _posted_row_version())
        draft = catalog_service.new_version(staff.session, staff.actor, credential_id)
    except Conflict as exc:
        staff.session.rollback()
        return _credential_page(staff, credential_id, error=exc.public_message, status=409)
    staff.session.commit()
    return _go("admin.version_edit", "new_version", version_id=draft.id)


def _diff_value(field: str, value: Any, other: Any) -> list[tuple[str, bool]]:
    """A diff cell as lines of text, each flagged when the other side does not have it
    (so removed and added list items stand out); enumerations by their labels."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, bool):
        return [("Yes" if value else "No", False)]
    enums = ("assessment_kind", "grading", "delivery_modes", "allowed_routes")
    numbers = ("notional_hours", "credit_value")
    items = value if isinstance(value, list) else [value]
    others = other if isinstance(other, list) else [other]

    def show(item: Any) -> str:
        if field in enums:
            return label(str(item))
        return _fmt_num(item) if field in numbers else str(item)

    marked = isinstance(value, list)
    return [(show(item), marked and item not in others) for item in items]


@bp.get("/credentials/<int:credential_id>/diff")
def credential_diff(credential_id: int) -> ResponseReturnValue:
    staff = _staff()
    credential = catalog_service.get_credential(staff.session, staff.actor, credential_id)
    by_number = {v.version: v for v in credential.versions}
    latest = credential.versions[-1].version
    a = _int_arg("a", max(1, latest - 1))
    b = _int_arg("b", latest)
    if a not in by_number or b not in by_number:
        raise NotFound("No such version of this micro-credential.")
    older, newer = (by_number[a], by_number[b]) if a <= b else (by_number[b], by_number[a])
    changes = [] if a == b else catalog_service.version_diff(older, newer)
    rows = [(forms.CREDENTIAL_LABELS.get(c.field, c.field),
             _diff_value(c.field, c.before, c.after), _diff_value(c.field, c.after, c.before))
            for c in changes]
    return _render("admin/diff.html", credential=credential, versions=credential.versions,
                   older=older, newer=newer, rows=rows, same=a == b, latest=credential.versions[-1])


# -- reviews ---------------------------------------------------------------------------------
def _review_block(staff: Staff, version: CredentialVersion) -> str:
    actor = staff.actor
    if actor.ref in (version.contributors or []) or actor.ref == version.author_ref:
        return ("You wrote or edited this version, so someone else must review it. Approval "
                "is kept separate from authorship: ask a reviewer or another catalog "
                "administrator to review it.")
    if not staff.can_review:
        return ("Reviewing needs the reviewer role. An institution administrator can grant it "
                "on the People & roles page.")
    if version.state != LifecycleState.IN_REVIEW.value:
        return (f"This version is {label(version.state).lower()}. Only a version in review "
                "can be reviewed.")
    return ""


def _review_page(staff: Staff, version: CredentialVersion, status: int = 200, *,
                 posted: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
                 conflict: str = "", row_version: int | None = None) -> ResponseReturnValue:
    rubric = catalog_service.rubric_for(staff.session, staff.issuer.id)
    grouped: dict[str, list[tuple[int, Any]]] = {}
    for i, criterion in enumerate(rubric):
        grouped.setdefault(criterion.lens, []).append((i, criterion))
    errors = errors or {}
    titles = {f"level-{i}": c.title for i, c in enumerate(rubric)}
    titles.update({f"comment-{i}": f"Comment on {c.title}" for i, c in enumerate(rubric)})
    titles.update({"decision": "Decision", "comment": "Overall comment", "_form": "Review"})
    return _render("admin/review.html", status, version=version,
                   view=catalog_service.learner_view(version), grouped=grouped,
                   posted=posted or {}, errors=errors,
                   summary=_summary(errors, lambda n: titles.get(n, n)), conflict=conflict,
                   blocked=_review_block(staff, version),
                   row_version=version.row_version if row_version is None else row_version,
                   decisions=[d.value for d in ReviewDecision])


@bp.route("/versions/<int:version_id>/review", methods=["GET", "POST"])
def version_review(version_id: int) -> ResponseReturnValue:
    staff = _staff()
    version = catalog_service.get_version(staff.session, staff.actor, version_id)
    if request.method == "GET":
        return _review_page(staff, version)
    check_csrf(staff.current)
    blocked = _review_block(staff, version)
    if blocked and version.state == LifecycleState.IN_REVIEW.value:
        # Separation of duties (or no reviewer role): refused, whatever was posted.
        raise Forbidden(blocked, code="review_not_allowed")
    row_version = _posted_row_version()
    rubric = catalog_service.rubric_for(staff.session, staff.issuer.id)
    level_keys = {k for k, _ in RUBRIC_LEVELS}
    posted: dict[str, Any] = {"decision": request.form.get("decision", ""),
                              "comment": request.form.get("comment", "")}
    errors: dict[str, list[str]] = {}
    scores = []
    for i, criterion in enumerate(rubric):
        level = request.form.get(f"level-{i}", "")
        comment = request.form.get(f"comment-{i}", "")
        posted[f"level-{i}"], posted[f"comment-{i}"] = level, comment
        if level not in level_keys:
            errors[f"level-{i}"] = ["Choose a level for this criterion."]
        scores.append({"criterion": criterion.key, "level": level, "comment": comment})
    if posted["decision"] not in {d.value for d in ReviewDecision}:
        errors["decision"] = ["Choose approve, request changes or reject."]
    elif posted["decision"] != ReviewDecision.APPROVE.value and not posted["comment"].strip():
        errors["comment"] = ["Explain what must change (or why it is rejected)."]
    if errors:
        return _review_page(staff, version, 422, posted=posted, errors=errors,
                            row_version=row_version)
    try:
        catalog_service.review(staff.session, staff.actor, version_id,
                               {"decision": posted["decision"], "comment": posted["comment"],
                                "scores": scores}, expected_row_version=row_version)
    except ValidationFailed as exc:
        staff.session.rollback()
        mapped: dict[str, list[str]] = {}
        for key, messages in exc.errors.items():
            parts = key.split(".")
            if parts[0] == "scores" and len(parts) == 3 and parts[1].isdigit():
                name = f"{'level' if parts[2] == 'level' else 'comment'}-{parts[1]}"
            else:
                name = key if key in ("decision", "comment") else "_form"
            mapped.setdefault(name, []).extend(forms.friendly(name, m) for m in messages)
        return _review_page(staff, version, 422, posted=posted, errors=mapped,
                            row_version=row_version)
    except Conflict as exc:
        staff.session.rollback()
        version = catalog_service.get_version(staff.session, staff.actor, version_id)
        return _review_page(staff, version, 409, posted=posted, conflict=exc.public_message,
                            row_version=row_version)
    staff.session.commit()
    return _go("admin.credential", f"review_{posted['decision']}",
               credential_id=version.credential_id, v=version.version)


@bp.get("/reviews")
def review_queue() -> ResponseReturnValue:
    """Versions waiting for review, with whether this user may review each."""
    staff = _staff()
    versions = list(staff.session.scalars(
        select(CredentialVersion).join(MicroCredential)
        .where(MicroCredential.issuer_id == staff.issuer.id,
               CredentialVersion.state == LifecycleState.IN_REVIEW.value)
        .order_by(CredentialVersion.submitted_at, CredentialVersion.id)))
    rows = [(v, _review_block(staff, v)) for v in versions]
    return _render("admin/review_queue.html", rows=rows)


# -- rubric ----------------------------------------------------------------------------------
def _rubric_stamp(criteria: list[Any]) -> str:
    """The rubric's version stamp: rubric rows have no row_version, so a digest of their
    content detects a concurrent change just as well."""
    raw = json.dumps([[c.key, c.lens, c.title, c.description] for c in criteria])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@bp.route("/rubric", methods=["GET", "POST"])
def rubric() -> ResponseReturnValue:
    staff = _staff()
    criteria = catalog_service.rubric_for(staff.session, staff.issuer.id)
    stamp = _rubric_stamp(criteria)
    rows = forms.rubric_form(criteria)
    errors: dict[str, list[str]] = {}
    conflict = ""
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        staff.actor.require(Scope.CATALOG_WRITE)
        rows = forms.rubric_form_from_post(request.form)
        posted_stamp = request.form.get("row_version", "")
        if posted_stamp != stamp:
            conflict = ("Someone else changed the rubric in the meantime. Reload to see their "
                        "changes, then apply yours again.")
            status = 409
        else:
            new_criteria, errors = forms.rubric_criteria(rows)
            if not errors:
                try:
                    catalog_service.set_rubric(staff.session, staff.actor, new_criteria)
                except ValidationFailed as exc:
                    staff.session.rollback()
                    errors = {"_form": [m for ms in exc.errors.values() for m in ms]}
                else:
                    staff.session.commit()
                    return _go("admin.rubric", "rubric_saved")
            status = 422
        stamp = posted_stamp if status == 409 else stamp
    grouped: dict[str, list[Any]] = {}
    for c in criteria:
        grouped.setdefault(c.lens, []).append(c)
    return _render("admin/rubric.html", status, criteria=criteria, grouped=grouped, rows=rows,
                   errors=errors, summary=_summary(errors, forms.rubric_error_label),
                   conflict=conflict, row_version=stamp,
                   lenses=forms.lens_choices(r["lens"] for r in rows))


# -- API tokens ------------------------------------------------------------------------------
def _offered_scopes(staff: Staff) -> list[str]:
    """A token never gets more than its creator holds; an institution administrator may
    hand out every scope."""
    if staff.is_institution_admin:
        return [s.value for s in Scope]
    return [s.value for s in Scope if s in staff.actor.scopes]


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> ResponseReturnValue:
    staff = _writer()
    offered = _offered_scopes(staff)
    form: dict[str, Any] = {"name": "", "scopes": [Scope.CATALOG_READ.value]}
    errors: dict[str, list[str]] = {}
    created: tuple[Any, str] | None = None
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        form = {"name": request.form.get("name", "").strip(),
                "scopes": [s for s in request.form.getlist("scopes") if s]}
        refused = [s for s in form["scopes"] if s not in offered]
        if refused:
            errors["scopes"] = ["You cannot give a token a permission you do not hold: " +
                                ", ".join(refused[:5])]
        else:
            try:
                created = api_tokens.create_token(staff.session, staff.issuer.id, form["name"],
                                                  form["scopes"], created_by=staff.actor.ref)
            except ValidationFailed as exc:
                staff.session.rollback()
                errors = {k: [forms.friendly(k, m) for m in v] for k, v in exc.errors.items()}
        if errors:
            status = 422
        else:
            staff.session.commit()
            status = 201
            form = {"name": "", "scopes": [Scope.CATALOG_READ.value]}
    labels = {"name": "Name", "scopes": "Permissions"}
    token_rows = api_tokens.list_tokens(staff.session, staff.issuer.id)
    return _render("admin/tokens.html", status, tokens=token_rows,
                   offered=offered, form=form, errors=errors,
                   summary=_summary(errors, lambda n: labels.get(n, n)), created=created,
                   who=_people_names(staff.session, [t.created_by for t in token_rows]))


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int) -> ResponseReturnValue:
    staff = _writer()
    check_csrf(staff.current)
    api_tokens.revoke_token(staff.session, staff.issuer.id, str(token_id), by=staff.actor.ref)
    staff.session.commit()
    return _go("admin.tokens", "token_revoked")


# -- people and roles ------------------------------------------------------------------------
def _people_names(session: Session, refs: Any) -> dict[str, str]:
    """``account:<id>`` → the person's name, for 'created by' and 'granted by' columns."""
    ids = {int(ref.split(":", 1)[1]) for ref in refs
           if isinstance(ref, str) and ref.startswith("account:") and ref[8:].isdigit()}
    if not ids:
        return {}
    rows = session.execute(select(LearnerAccount.id, LearnerAccount.name, LearnerAccount.email)
                           .where(LearnerAccount.id.in_(ids))).all()
    return {f"account:{r[0]}": r[1] or r[2] or f"account {r[0]}" for r in rows}


@bp.route("/roles", methods=["GET", "POST"])
def roles() -> ResponseReturnValue:
    staff = _writer()
    session = staff.session
    platform_id = staff.current.launch.platform_id
    errors: dict[str, list[str]] = {}
    form = {"account": "", "role": CatalogRole.REVIEWER.value}
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        _institution_admin(staff)
        form = {"account": request.form.get("account", ""),
                "role": request.form.get("role", "")}
        account = session.get(LearnerAccount, int(form["account"])) \
            if form["account"].isdigit() else None
        if account is None or account.platform_id != platform_id:
            errors["account"] = ["Choose a person from the list."]
        if form["role"] not in {r.value for r in CatalogRole}:
            errors["role"] = ["Choose a role."]
        if not errors and account is not None:
            catalog_service.grant_role(session, staff.actor, account.platform_id, account.sub,
                                       CatalogRole(form["role"]))
            session.commit()
            return _go("admin.roles", "role_granted")
        status = 422
    q = request.args.get("q", "").strip()[:100]
    query = select(LearnerAccount).where(LearnerAccount.platform_id == platform_id)
    if q:
        pattern = "%" + q.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(or_(func.lower(LearnerAccount.name).like(pattern),
                                func.lower(LearnerAccount.email).like(pattern)))
    accounts = list(session.scalars(query.order_by(LearnerAccount.name, LearnerAccount.id)
                                    .limit(200)))
    grants = session.execute(
        select(CatalogGrant, LearnerAccount, Platform.name)
        .join(Platform, Platform.id == CatalogGrant.platform_id)
        .outerjoin(LearnerAccount, (LearnerAccount.platform_id == CatalogGrant.platform_id)
                   & (LearnerAccount.sub == CatalogGrant.sub))
        .where(CatalogGrant.issuer_id == staff.issuer.id)
        .order_by(CatalogGrant.created_at, CatalogGrant.id)).all()
    labels = {"account": "Person", "role": "Role"}
    return _render("admin/roles.html", status, accounts=accounts, grants=grants, q=q, form=form,
                   errors=errors, summary=_summary(errors, lambda n: labels.get(n, n)),
                   roles=[r.value for r in CatalogRole],
                   who=_people_names(session, [row[0].granted_by for row in grants]))


@bp.post("/roles/revoke")
def role_revoke() -> ResponseReturnValue:
    staff = _writer()
    check_csrf(staff.current)
    _institution_admin(staff)
    raw = request.form.get("grant", "")
    grant = staff.session.get(CatalogGrant, int(raw)) if raw.isdigit() else None
    if grant is None or grant.issuer_id != staff.issuer.id:
        # Already gone (revoked in another tab): revoking is idempotent.
        return _go("admin.roles", "role_revoked")
    catalog_service.revoke_role(staff.session, staff.actor, grant.platform_id, grant.sub,
                                CatalogRole(grant.role))
    staff.session.commit()
    return _go("admin.roles", "role_revoked")


# -- import / export -------------------------------------------------------------------------
@bp.get("/io")
def io_page() -> ResponseReturnValue:
    _staff()
    return _render("admin/io.html", report=None, kind="catalog", dry_run=True)


@bp.get("/io/catalog")
def export_catalog() -> ResponseReturnValue:
    from lti_tool.services import catalog_io

    staff = _staff()
    document = catalog_io.export_catalog(staff.session, staff.actor)
    response = make_response(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{staff.issuer.slug}-catalog.json"')
    return response


@bp.get("/io/skills")
def export_skills() -> ResponseReturnValue:
    from lti_tool.services import catalog_io

    staff = _staff()
    text = catalog_io.export_skills_csv(staff.session, staff.actor)
    response = make_response(text)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{staff.issuer.slug}-skills.csv"')
    return response


@bp.post("/io")
def import_upload() -> ResponseReturnValue:
    from lti_tool.services import catalog_io

    staff = _writer()
    check_csrf(staff.current)
    kind = request.form.get("kind", "catalog")
    dry_run = request.form.get("mode", "check") != "import"
    upload = request.files.get("file")
    error = ""
    report = None
    if kind not in ("catalog", "skills"):
        error = "Choose what the file holds: a catalog (JSON) or skills (CSV)."
    elif upload is None or not upload.filename:
        error = "Choose a file to upload."
    elif kind == "catalog":
        document, problems = catalog_io.parse_catalog_json(upload.read())
        if problems:
            report = catalog_io.ImportReport(ok=False, problems=problems, dry_run=dry_run)
        else:
            report = catalog_io.import_catalog(staff.session, staff.actor, document,
                                               dry_run=dry_run)
    else:
        report = catalog_io.import_skills_csv(staff.session, staff.actor, upload.read(),
                                              dry_run=dry_run)
    if report is not None and report.ok and not dry_run:
        staff.session.commit()
    else:
        staff.session.rollback()
    status = 422 if error or (report is not None and not report.ok) else 200
    return _render("admin/io.html", status, report=report, kind=kind, dry_run=dry_run,
                   error=error, filename=(upload.filename if upload else "") or "")


# -- tracking settings and identity links (institution administrators) ----------------------
NOTICES.update({
    "settings_saved": "The settings were saved.",
    "link_confirmed": "The accounts are linked: they are one person now, and their "
                      "demonstrated skills count together.",
    "link_dismissed": "The proposal was dismissed. The accounts stay apart.",
    "link_undone": "The link was undone. The account and its records are separate again.",
})
KIND_LABELS = {"for-credit": "For-credit course", "continuing-ed": "Continuing education",
               "other": "Other"}
KIND_OPTIONS = [("", "Choose a kind…")] + [(k.value, KIND_LABELS.get(k.value, k.value))
                                           for k in ContextKind]
BLANK_RULES = 3
SETTINGS_LABELS = {"link_identities_by": "Match accounts by",
                   "gradebook_signal": "Grade book", "context_kind_rules": "Course kinds"}


def _admin_staff() -> Staff:
    staff = _staff()
    _institution_admin(staff)
    return staff


def _settings_label(name: str) -> str:
    if name.startswith(("rule_prefix_", "rule_kind_")):
        number = int(name.rsplit("_", 1)[1]) + 1
        what = "label starts with" if name.startswith("rule_prefix_") else "kind"
        return f"Rule {number}: {what}"
    return SETTINGS_LABELS.get(name, name)


def _settings_form(current: issuer_settings.IssuerSettings) -> dict[str, Any]:
    rules = [list(pair) for pair in current.context_kind_rules]
    return {"link_identities_by": current.link_identities_by,
            "gradebook_signal": current.gradebook_signal,
            "rules": rules + [["", ""] for _ in range(BLANK_RULES)]}


def _posted_settings() -> dict[str, Any]:
    rows: list[list[str]] = []
    index = 0
    while f"rule_prefix_{index}" in request.form and index < 200:
        rows.append([request.form.get(f"rule_prefix_{index}", "")[:200],
                     request.form.get(f"rule_kind_{index}", "")[:30]])
        index += 1
    return {"link_identities_by": request.form.get("link_identities_by", ""),
            "gradebook_signal": request.form.get("gradebook_signal") == "1",
            "rules": rows}


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> ResponseReturnValue:
    staff = _admin_staff()
    issuer = staff.issuer
    form = _settings_form(issuer_settings.read(issuer))
    row_version = issuer.row_version
    if request.method == "POST":
        check_csrf(staff.current)
        row_version = _posted_row_version()
        form = _posted_settings()
        try:
            issuer_settings.update(
                staff.session, issuer,
                {"link_identities_by": form["link_identities_by"],
                 "gradebook_signal": form["gradebook_signal"],
                 "context_kind_rules": [tuple(r) for r in form["rules"]]},
                by=staff.actor.ref, expected_row_version=row_version)
        except ValidationFailed as exc:
            staff.session.rollback()
            return _render("admin/settings.html", 422, form=form, errors=exc.errors,
                           summary=_summary(exc.errors, _settings_label),
                           row_version=row_version, kinds=KIND_OPTIONS)
        except Conflict as exc:
            staff.session.rollback()
            return _render("admin/settings.html", 409, form=form, errors={}, summary=[],
                           conflict=exc.public_message, row_version=row_version,
                           kinds=KIND_OPTIONS)
        staff.session.commit()
        return _go("admin.settings", "settings_saved")
    return _render("admin/settings.html", form=form, errors={}, summary=[],
                   row_version=row_version, kinds=KIND_OPTIONS)


@dataclass(frozen=True)
class LinkRow:
    """One identity-link proposal as the administrator reads it."""

    proposal: LinkProposal
    account: LearnerAccount
    account_platform: str
    target_accounts: list[tuple[LearnerAccount, str]]   # (account, platform name)
    stale: bool                                          # nothing left to link to


def _link_rows(session: Session, proposals: list[LinkProposal]) -> list[LinkRow]:
    if not proposals:
        return []
    account_ids = {p.account_id for p in proposals}
    person_ids = {p.target_person_id for p in proposals}
    rows = session.execute(
        select(LearnerAccount, Platform.name).join(Platform,
                                                   Platform.id == LearnerAccount.platform_id)
        .where(or_(LearnerAccount.id.in_(account_ids),
                   LearnerAccount.person_id.in_(person_ids)))
        .order_by(LearnerAccount.id)).all()
    by_id = {a.id: (a, name) for a, name in rows}
    by_person: dict[int, list[tuple[LearnerAccount, str]]] = {}
    for account, name in rows:
        by_person.setdefault(account.person_id, []).append((account, name))
    result = []
    for proposal in proposals:
        account, platform_name = by_id[proposal.account_id]
        targets = [(a, n) for a, n in by_person.get(proposal.target_person_id, [])
                   if a.id != account.id]
        stale = proposal.status == "proposed" and (
            not targets or account.person_id == proposal.target_person_id)
        result.append(LinkRow(proposal, account, platform_name, targets, stale))
    return result


def _identity_page(staff: Staff, status: int = 200, problem: str = "") -> ResponseReturnValue:
    session = staff.session
    proposed = _link_rows(session, identity.proposals(session, staff.issuer.id, "proposed"))
    confirmed = _link_rows(session, identity.proposals(session, staff.issuer.id, "confirmed"))
    return _render("admin/identity.html", status, proposed=proposed, confirmed=confirmed,
                   problem=problem, basis=issuer_settings.read(staff.issuer).link_identities_by,
                   who_by=_people_names(session, [r.proposal.decided_by for r in confirmed]))


@bp.get("/identity")
def identity_links() -> ResponseReturnValue:
    return _identity_page(_admin_staff())


def _proposal(staff: Staff, proposal_id: int) -> LinkProposal:
    proposal = staff.session.get(LinkProposal, proposal_id)
    if proposal is None or proposal.issuer_id != staff.issuer.id:
        raise NotFound("No such link proposal.")
    return proposal


@bp.post("/identity/<int:proposal_id>/confirm")
def identity_confirm(proposal_id: int) -> ResponseReturnValue:
    staff = _admin_staff()
    check_csrf(staff.current)
    proposal = _proposal(staff, proposal_id)
    row = _link_rows(staff.session, [proposal])[0]
    if row.stale:
        # The other direction was confirmed (or the target's accounts moved): linking now
        # would move this account to an empty person.
        return _identity_page(staff, 409, "This proposal is out of date: the accounts are "
                                          "already linked or the other account moved. "
                                          "Dismiss it.")
    try:
        identity.confirm(staff.session, staff.issuer.id, proposal_id, by=staff.actor.ref)
    except Conflict as exc:
        staff.session.rollback()
        return _identity_page(staff, 409, exc.public_message)
    # Demonstrations made on either platform now count together: award what they satisfy.
    tracking.evaluate_awards_for_person(staff.session, proposal.target_person_id)
    staff.session.commit()
    return _go("admin.identity_links", "link_confirmed")


@bp.post("/identity/<int:proposal_id>/dismiss")
def identity_dismiss(proposal_id: int) -> ResponseReturnValue:
    staff = _admin_staff()
    check_csrf(staff.current)
    proposal = _proposal(staff, proposal_id)
    if proposal.status == "proposed":
        identity.undo(staff.session, staff.issuer.id, proposal_id, by=staff.actor.ref)
        staff.session.commit()
    return _go("admin.identity_links", "link_dismissed")


@bp.post("/identity/<int:proposal_id>/undo")
def identity_undo(proposal_id: int) -> ResponseReturnValue:
    staff = _admin_staff()
    check_csrf(staff.current)
    proposal = _proposal(staff, proposal_id)
    if proposal.status == "confirmed":
        identity.undo(staff.session, staff.issuer.id, proposal_id, by=staff.actor.ref)
        staff.session.commit()
    return _go("admin.identity_links", "link_undone")
