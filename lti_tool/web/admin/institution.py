"""The admin home (the catalog list), setting up the institution on first use, and the
institution (issuer) profile."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from lti_tool.domain.catalog import LifecycleState, Scope
from lti_tool.domain.lti import AppRole
from lti_tool.errors import Conflict, Forbidden, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import CredentialVersion, MicroCredential
from lti_tool.services import catalog as catalog_service
from lti_tool.web.admin import forms
from lti_tool.web.admin.staff import (
    PER_PAGE,
    bp,
    current_staff,
    error_summary,
    go,
    int_arg,
    posted_row_version,
    render,
)
from lti_tool.web.common.catalog_access import issuer_for_launch
from lti_tool.web.common.launch_session import check_csrf, load_current_launch


@bp.get("")
def home() -> ResponseReturnValue:
    current = load_current_launch()
    if issuer_for_launch(db_session(), current) is None:
        if AppRole.ADMINISTRATOR not in current.launch.app_roles:
            raise Forbidden(_("No institution catalog is set up for this platform yet. An "
                              "institution administrator can set it up."), code="no_issuer")
        return render("admin/setup.html", form=forms.issuer_form(), errors={}, summary=[])
    staff = current_staff()
    q = request.args.get("q", "").strip()[:100]
    state = request.args.get("state", "")
    if state not in {s.value for s in LifecycleState}:
        state = ""
    credit = request.args.get("credit", "")
    credit_bearing = {"yes": True, "no": False}.get(credit)
    page = catalog_service.list_credentials(staff.session, staff.actor, q=q, state=state,
                                            credit_bearing=credit_bearing,
                                            page=int_arg("page"), per_page=PER_PAGE)
    waiting = staff.session.scalar(
        select(func.count(CredentialVersion.id)).join(MicroCredential)
        .where(MicroCredential.issuer_id == staff.issuer.id,
               CredentialVersion.state == LifecycleState.IN_REVIEW.value))
    return render("admin/home.html", page=page, q=q, state=state, waiting=waiting or 0,
                  credit=credit if credit_bearing is not None else "",
                  states=list(LifecycleState))


@bp.post("/setup")
def setup() -> ResponseReturnValue:
    current = load_current_launch()
    check_csrf(current)
    if AppRole.ADMINISTRATOR not in current.launch.app_roles:
        raise Forbidden(_("Only an institution administrator can set up the catalog."),
                        code="not_institution_admin")
    session = db_session()
    if issuer_for_launch(session, current) is not None:
        return go("admin.home")
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
            errors["slug"] = [_("Use 1-64 letters, digits or '-'.")]
        return render("admin/setup.html", 422, form=form, errors=errors,
                      summary=error_summary(errors, forms.issuer_error_label))
    except Conflict as exc:
        session.rollback()
        errors = {"slug": [exc.public_message]}
        return render("admin/setup.html", 422, form=form, errors=errors,
                      summary=error_summary(errors, forms.issuer_error_label))
    session.commit()
    return go("admin.home", "issuer_created")


@bp.route("/issuer", methods=["GET", "POST"])
def issuer_profile() -> ResponseReturnValue:
    staff = current_staff()
    issuer = staff.issuer
    form = forms.issuer_form({"name": issuer.name, "url": issuer.url, "email": issuer.email,
                              "image_url": issuer.image_url, "description": issuer.description,
                              "languages": issuer.languages, "slug": issuer.slug,
                              "translations": issuer.translations or {}})
    row_version = issuer.row_version
    if request.method == "POST":
        check_csrf(staff.current)
        staff.actor.require(Scope.CATALOG_WRITE)
        row_version = posted_row_version()
        form = {**forms.issuer_form_from_post(request.form), "slug": issuer.slug}
        try:
            catalog_service.update_issuer(staff.session, staff.actor, forms.issuer_input(form),
                                          expected_row_version=row_version)
        except ValidationFailed as exc:
            staff.session.rollback()
            errors = forms.issuer_errors(exc.errors)
            return render("admin/issuer.html", 422, form=form, errors=errors,
                          summary=error_summary(errors, forms.issuer_error_label),
                          row_version=row_version)
        except Conflict as exc:
            staff.session.rollback()
            return render("admin/issuer.html", 409, form=form, errors={}, summary=[],
                          conflict=exc.public_message, row_version=row_version)
        staff.session.commit()
        return go("admin.issuer_profile", "issuer_saved")
    return render("admin/issuer.html", form=form, errors={}, summary=[],
                  row_version=row_version)
