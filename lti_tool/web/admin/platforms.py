"""Learning platforms (institution administrators): the registrations and deployments that
serve this institution, and those linked to no institution yet; adding one with the Moodle
and Canvas presets and the values to paste into the platform; linking a platform or one of
its deployments to this institution or to a new one; deactivating (and reactivating).

An administrator sees only their institution's platforms and the unlinked ones: another
institution's registration is 404, like one that does not exist
(``services.platforms.visible_platform``). Every change is a CSRF-checked POST, audited."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import Deployment, Issuer
from lti_tool.services import audit
from lti_tool.services import catalog as catalog_service
from lti_tool.services import platforms as platform_service
from lti_tool.web.admin.staff import (
    Staff,
    bp,
    error_summary,
    go,
    institution_admin_staff,
    render,
)
from lti_tool.web.common.launch_session import check_csrf

PRESETS = {
    "moodle": ("Moodle", _l("The site's address, e.g. https://moodle.college.ca: MicroCred "
                            "derives Moodle's login, token and keyset URLs from it.")),
    "canvas": (_l("Canvas (Instructure-hosted)"), _l("Every hosted Canvas has the issuer "
                                                     "https://canvas.instructure.com.")),
    "": (_l("Another platform"), _l("Give its issuer and its three endpoints.")),
}
FIELDS = ("preset", "name", "issuer", "client_id", "deployment_id", "auth_login_url",
          "auth_token_url", "jwks_url", "link", "new_name", "new_url", "new_email",
          "new_slug")
LABELS = {"preset": _l("Platform"), "name": _l("Name"), "issuer": _l("Issuer"),
          "client_id": _l("Client ID"), "deployment_id": _l("Deployment ID"),
          "auth_login_url": _l("Login (authorization) URL"), "auth_token_url": _l("Token URL"),
          "jwks_url": _l("Keyset URL"), "link": _l("Institution"),
          "new_name": _l("New institution's name"), "new_url": _l("Its website"),
          "new_email": _l("Its contact email"), "new_slug": _l("Its short name"),
          "deployment_ids": _l("Deployment ID")}


def tool_values() -> dict[str, str]:
    """What an administrator pastes into the platform: MicroCred's own URLs."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    code = current_app.config["REGISTRATION_ACCESS_CODE"]
    return {"tool_url": base + "/lti/launch", "login_url": base + "/lti/login",
            "redirect_url": base + "/lti/launch", "jwks_url": base + "/.well-known/jwks.json",
            "deep_link_url": base + "/lti/launch",
            "registration_url": base + "/lti/register" + ("?code=…" if code else ""),
            "canvas_config_url": base + "/lti/config/canvas.json"}


def _issuers(staff: Staff) -> dict[int, Issuer]:
    return {i.id: i for i in staff.session.scalars(select(Issuer))}


def _page(staff: Staff, status: int = 200, *, form: dict[str, str] | None = None,
          errors: dict[str, list[str]] | None = None,
          link_errors: dict[int, dict[str, list[str]]] | None = None,
          link_form: dict[str, str] | None = None) -> ResponseReturnValue:
    """The page; ``errors`` belong to the add form, ``link_errors`` to one platform's link
    form (by platform id, shown there with what was typed)."""
    mine, unlinked = platform_service.platforms_of(staff.session, staff.issuer.id)
    errors = errors or {}
    return render("admin/platforms.html", status, mine=mine, unlinked=unlinked,
                  issuers=_issuers(staff), values=tool_values(), presets=PRESETS,
                  form=form or {"preset": "moodle", "link": "this"}, errors=errors,
                  summary=error_summary(errors, lambda n: LABELS.get(n, n)),
                  link_errors=link_errors or {}, link_form=link_form or {})


@bp.get("/platforms")
def platforms() -> ResponseReturnValue:
    return _page(institution_admin_staff())


def _link_target(staff: Staff, form: dict[str, str]) -> tuple[int | None, dict[str, Any]]:
    """(existing issuer id, or None with a new institution's profile). Raises
    ValidationFailed for the new institution's fields (new_*)."""
    if form.get("link") != "new":
        return staff.issuer.id, {}
    data = {"name": form["new_name"], "url": form["new_url"], "email": form["new_email"]}
    try:
        catalog_service.check_new_issuer(staff.session, data, slug=form["new_slug"])
    except ValidationFailed as exc:
        raise ValidationFailed({("new_" + k if k in ("name", "url", "email", "slug") else k): v
                                for k, v in exc.errors.items()}) from None
    return None, data


def _apply_link(staff: Staff, target: tuple[int | None, dict[str, Any]], slug: str,
                platform_id: int, deployment_pk: int | None = None) -> Issuer:
    issuer_id, new = target
    if issuer_id is None:
        issuer = catalog_service.create_issuer(staff.session, new, slug=slug,
                                               actor_ref=staff.actor.ref)
    else:
        found = staff.session.get(Issuer, issuer_id)
        if found is None:
            raise NotFound(_("No such institution."))
        issuer = found
    catalog_service.map_platform(staff.session, issuer.id, platform_id, deployment_pk)
    audit.record(staff.session, "platform.linked", platform_id=platform_id,
                 subject_type="deployment" if deployment_pk else "platform",
                 subject_id=deployment_pk or platform_id,
                 detail={"by": staff.actor.ref, "issuer": issuer.slug})
    return issuer


@bp.post("/platforms")
def platform_add() -> ResponseReturnValue:
    """Register a platform by hand (with a preset), linked to this or a new institution."""
    staff = institution_admin_staff()
    check_csrf(staff.current)
    form = {name: (request.form.get(name) or "").strip()[:1000] for name in FIELDS}
    errors: dict[str, list[str]] = {}
    target: tuple[int | None, dict[str, Any]] = (staff.issuer.id, {})
    try:
        target = _link_target(staff, form)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if form["preset"] not in PRESETS:
        errors["preset"] = [_("choose Moodle, Canvas or another platform")]
    if not form["deployment_id"]:
        errors["deployment_id"] = [_("give the deployment id the platform shows for MicroCred")]
    if errors:
        # Report the platform's own problems too, in the same answer.
        try:
            platform_service.add_platform(staff.session, _platform_input(form),
                                          allow_http=current_app.config["ALLOW_HTTP_ISSUERS"])
        except ValidationFailed as exc:
            errors = {**{k.replace("deployment_ids", "deployment_id"): v
                         for k, v in exc.errors.items()}, **errors}
        except Conflict:
            pass
        staff.session.rollback()
        return _page(staff, 422, form=form, errors=errors)
    try:
        platform = platform_service.add_platform(
            staff.session, _platform_input(form),
            allow_http=current_app.config["ALLOW_HTTP_ISSUERS"])
        _apply_link(staff, target, form["new_slug"], platform.id)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _page(staff, 422, form=form, errors=dict(exc.errors))
    except Conflict as exc:
        staff.session.rollback()
        return _page(staff, 409, form=form, errors={"client_id": [exc.public_message]})
    audit.record(staff.session, "platform.registered", platform_id=platform.id,
                 subject_type="platform", subject_id=platform.id,
                 detail={"via": "admin", "by": staff.actor.ref,
                         "product_family": platform.product_family})
    staff.session.commit()
    return go("admin.platforms", "platform_added")


def _platform_input(form: dict[str, str]) -> platform_service.PlatformInput:
    preset = form["preset"]
    title = PRESETS.get(preset, ("LMS", ""))[0]
    default_name = f"{title} at {form['issuer']}" if form["issuer"] else \
        f"{title} (client {form['client_id']})" if form["client_id"] else ""
    return platform_service.PlatformInput(
        name=(form["name"] or default_name)[:200],
        issuer=form["issuer"].rstrip("/"), client_id=form["client_id"], preset=preset,
        auth_login_url=form["auth_login_url"], auth_token_url=form["auth_token_url"],
        jwks_url=form["jwks_url"],
        deployment_ids=(form["deployment_id"],) if form["deployment_id"] else (),
        registered_via="admin")


def _posted_id(name: str) -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _managed(staff: Staff, platform_id: int) -> platform_service.PlatformRow:
    return platform_service.visible_platform(staff.session, staff.issuer.id, platform_id)


def _deployment(row: platform_service.PlatformRow, deployment_pk: int | None) -> Deployment:
    for dep in row.platform.deployments:
        if dep.id == deployment_pk:
            return dep
    raise NotFound(_("No such deployment of this platform."))


@bp.post("/platforms/<int:platform_id>/link")
def platform_link(platform_id: int) -> ResponseReturnValue:
    """Link the platform (or one deployment: ``deployment``) to this or a new institution."""
    staff = institution_admin_staff()
    check_csrf(staff.current)
    row = _managed(staff, platform_id)
    deployment_pk = _posted_id("deployment") if request.form.get("deployment") else None
    if request.form.get("deployment"):
        _deployment(row, deployment_pk)
    form = {name: (request.form.get(name) or "").strip()[:1000] for name in FIELDS}
    try:
        target = _link_target(staff, form)
        _apply_link(staff, target, form["new_slug"], platform_id, deployment_pk)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _page(staff, 422, link_errors={platform_id: dict(exc.errors)}, link_form=form)
    staff.session.commit()
    return go("admin.platforms", "platform_linked")


@bp.post("/platforms/<int:platform_id>/active")
def platform_active(platform_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate the platform, or one of its deployments."""
    staff = institution_admin_staff()
    check_csrf(staff.current)
    row = _managed(staff, platform_id)
    active = request.form.get("active") == "1"
    deployment = _deployment(row, _posted_id("deployment")) \
        if request.form.get("deployment") else None
    own = staff.current.launch.platform_id == platform_id and deployment is None
    if own and not active:
        return _page(staff, 409, errors={"_form": [
            _("You launched from this platform: deactivating it would lock you out. Deactivate "
              "it from another platform, or ask MicroCred's operator (microcred platforms).")]})
    platform_service.set_active(staff.session, row.platform, active, by=staff.actor.ref,
                                deployment=deployment)
    staff.session.commit()
    return go("admin.platforms", "platform_activated" if active else "platform_deactivated")
