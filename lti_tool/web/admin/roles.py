"""People and catalog roles: grant and revoke a catalog role for a person of the
institution."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from lti_tool.domain.catalog import CatalogRole
from lti_tool.models import CatalogGrant, LearnerAccount, Platform
from lti_tool.services import catalog as catalog_service
from lti_tool.web.admin.staff import (
    bp,
    error_summary,
    go,
    people_names,
    render,
    require_institution_admin,
    writer_staff,
)
from lti_tool.web.common.launch_session import check_csrf


@bp.route("/roles", methods=["GET", "POST"])
def roles() -> ResponseReturnValue:
    staff = writer_staff()
    session = staff.session
    platform_id = staff.current.launch.platform_id
    errors: dict[str, list[str]] = {}
    form = {"account": "", "role": CatalogRole.REVIEWER.value}
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        require_institution_admin(staff)
        form = {"account": request.form.get("account", ""),
                "role": request.form.get("role", "")}
        account = session.get(LearnerAccount, int(form["account"])) \
            if form["account"].isdigit() else None
        if account is None or account.platform_id != platform_id:
            errors["account"] = [_("Choose a person from the list.")]
        if form["role"] not in {r.value for r in CatalogRole}:
            errors["role"] = [_("Choose a role.")]
        if not errors and account is not None:
            catalog_service.grant_role(session, staff.actor, account.platform_id, account.sub,
                                       CatalogRole(form["role"]))
            session.commit()
            return go("admin.roles", "role_granted")
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
    labels = {"account": _("Person"), "role": _("Role")}
    return render("admin/roles.html", status, accounts=accounts, grants=grants, q=q, form=form,
                  errors=errors, summary=error_summary(errors, lambda n: labels.get(n, n)),
                  roles=[r.value for r in CatalogRole],
                  who=people_names(session, [row[0].granted_by for row in grants]))


@bp.post("/roles/revoke")
def role_revoke() -> ResponseReturnValue:
    staff = writer_staff()
    check_csrf(staff.current)
    require_institution_admin(staff)
    raw = request.form.get("grant", "")
    grant = staff.session.get(CatalogGrant, int(raw)) if raw.isdigit() else None
    if grant is None or grant.issuer_id != staff.issuer.id:
        # Already gone (revoked in another tab): revoking is idempotent.
        return go("admin.roles", "role_revoked")
    catalog_service.revoke_role(staff.session, staff.actor, grant.platform_id, grant.sub,
                                CatalogRole(grant.role))
    staff.session.commit()
    return go("admin.roles", "role_revoked")
