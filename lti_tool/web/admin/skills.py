"""The skills library: list, create, edit, and delete a skill no credential uses."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Scope
from lti_tool.errors import Conflict, ValidationFailed
from lti_tool.models import CredentialSkill, CredentialVersion, Skill
from lti_tool.services import catalog as catalog_service
from lti_tool.web.admin import forms
from lti_tool.web.admin.staff import (
    PER_PAGE,
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
from lti_tool.web.common.launch_session import check_csrf


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
    staff = current_staff()
    q = request.args.get("q", "").strip()[:100]
    tag = request.args.get("tag", "").strip()[:50]
    page = catalog_service.list_skills(staff.session, staff.actor, q=q, tag=tag,
                                       page=int_arg("page"), per_page=PER_PAGE)
    return render("admin/skills.html", page=page, q=q, tag=tag,
                  tags=_issuer_tags(staff.session, staff.issuer.id))


def _skill_form_page(status: int, *, form: dict[str, Any], skill: Skill | None,
                     errors: dict[str, list[str]] | None = None, conflict: str = "",
                     row_version: int | None = None) -> ResponseReturnValue:
    errors = errors or {}
    return render("admin/skill_form.html", status, form=form, skill=skill, errors=errors,
                  summary=error_summary(errors, forms.skill_error_label), conflict=conflict,
                  row_version=row_version,
                  # Open Badges target types are codes, shown as such; "Other" is a word
                  alignment_types=[(t, _("Other") if t == "Other" else t)
                                   for t in forms.ALIGNMENT_TYPES])


@bp.route("/skills/new", methods=["GET", "POST"])
def skill_new() -> ResponseReturnValue:
    staff = writer_staff()
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
    return go("admin.skill_edit", "skill_created", skill_id=skill.id)


@bp.route("/skills/<int:skill_id>/edit", methods=["GET", "POST"])
def skill_edit(skill_id: int) -> ResponseReturnValue:
    staff = current_staff()
    skill = catalog_service.get_skill(staff.session, staff.actor, skill_id)
    if request.method == "GET":
        return _skill_form_page(200, form=forms.skill_form(catalog_service.skill_as_dict(skill)),
                                skill=skill, row_version=skill.row_version)
    check_csrf(staff.current)
    staff.actor.require(Scope.CATALOG_WRITE)
    row_version = posted_row_version()
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
    return go("admin.skill_edit", "skill_saved", skill_id=skill_id)


@bp.route("/skills/<int:skill_id>/delete", methods=["GET", "POST"])
def skill_delete(skill_id: int) -> ResponseReturnValue:
    staff = writer_staff()
    skill = catalog_service.get_skill(staff.session, staff.actor, skill_id)
    usage = _skill_usage(staff.session, skill_id)
    if request.method == "GET":
        return render("admin/skill_delete.html", skill=skill, usage=usage, error="")
    check_csrf(staff.current)
    try:
        check_fresh(skill.row_version, posted_row_version())
        catalog_service.delete_skill(staff.session, staff.actor, skill_id)
    except Conflict as exc:
        staff.session.rollback()
        return render("admin/skill_delete.html", 409, skill=skill, usage=usage,
                      error=exc.public_message)
    staff.session.commit()
    return go("admin.skills", "skill_deleted")
