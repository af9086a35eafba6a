"""The issuer's PLAR settings and assessors (institution administrators): the policy text
and fee note learners read before they ask (English and French), the expected turnaround
(due dates), whether a second assessor confirms skills granted on credit-bearing
credentials, and who assesses which micro-credential."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from lti_tool.domain.plar import (
    MAX_FEE_NOTE,
    MAX_POLICY,
    MAX_TURNAROUND_DAYS,
    check_settings,
)
from lti_tool.domain.texts import translation
from lti_tool.models import LearnerAccount, MicroCredential
from lti_tool.services import plar as plar_service
from lti_tool.web.admin.staff import bp, error_summary, go, institution_admin_staff, render
from lti_tool.web.common.launch_session import check_csrf


def _actor(staff: Any) -> plar_service.PlarActor:
    launch = staff.current.launch
    record = staff.current.record or {}
    account_id = int(record.get("account_id") or 0)
    account = staff.session.get(LearnerAccount, account_id)
    return plar_service.PlarActor(account_id=account_id,
                                  person_id=account.person_id if account else 0,
                                  platform_id=launch.platform_id, sub=launch.sub,
                                  name=launch.display_name, launch_id=launch.launch_id)


def _labels(name: str) -> str:
    labels: dict[str, str] = {
        "policy": _("Policy"), "fee_note": _("Fee note"),
        "turnaround_days": _("Expected turnaround (days)"), "account": _("Person"),
        "credential": _("Micro-credential")}
    return labels.get(name, name)


@bp.route("/plar", methods=["GET", "POST"])
def plar_settings() -> ResponseReturnValue:
    staff = institution_admin_staff()
    session = staff.session
    settings = plar_service.settings_of(staff.issuer)
    form: dict[str, Any] = {
        "policy": settings.policy, "fee_note": settings.fee_note,
        "policy_fr": translation(settings.translations, "fr", "policy"),
        "fee_note_fr": translation(settings.translations, "fr", "fee_note"),
        "turnaround_days": str(settings.turnaround_days),
        "second_assessor_for_credit": settings.second_assessor_for_credit}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        form = {k: request.form.get(k, "") for k in ("policy", "fee_note", "policy_fr",
                                                    "fee_note_fr", "turnaround_days")}
        form["second_assessor_for_credit"] = request.form.get("second_assessor_for_credit")
        parsed, errors = check_settings(form)
        # The domain's messages, in the page's language.
        messages = {"policy": _("%(num)d characters at most", num=MAX_POLICY),
                    "fee_note": _("%(num)d characters at most", num=MAX_FEE_NOTE),
                    "turnaround_days": _("a whole number of days from 1 to %(num)d",
                                         num=MAX_TURNAROUND_DAYS)}
        errors = {name: [messages.get(name, m) for m in found]
                  for name, found in errors.items()}
        form["second_assessor_for_credit"] = parsed.second_assessor_for_credit
        if not errors:
            plar_service.save_settings(session, staff.issuer, parsed,
                                       actor_account_id=_actor(staff).account_id or None,
                                       launch_id=staff.current.launch.launch_id)
            session.commit()
            return go("admin.plar_settings", "settings_saved")
        status = 422
    return _page(staff, form, errors, status)


def _page(staff: Any, form: dict[str, Any], errors: dict[str, list[str]], status: int,
          assessor_form: dict[str, str] | None = None) -> ResponseReturnValue:
    session = staff.session
    platform_id = staff.current.launch.platform_id
    q = request.args.get("q", "").strip()[:100]
    query = select(LearnerAccount).where(LearnerAccount.platform_id == platform_id)
    if q:
        pattern = "%" + q.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(or_(func.lower(LearnerAccount.name).like(pattern),
                                func.lower(LearnerAccount.email).like(pattern)))
    accounts = list(session.scalars(query.order_by(LearnerAccount.name, LearnerAccount.id)
                                    .limit(200)))
    credentials = list(session.scalars(select(MicroCredential).where(
        MicroCredential.issuer_id == staff.issuer.id).order_by(MicroCredential.code)))
    titles = {c.id: (c.versions[-1].title if c.versions else c.code) for c in credentials}
    grants = plar_service.assessor_grants(session, staff.issuer.id)
    names = {(a.platform_id, a.sub): a.name or a.email or a.sub for a in session.scalars(
        select(LearnerAccount).where(LearnerAccount.sub.in_({g.sub for g in grants})))} \
        if grants else {}
    return render("admin/plar.html", status, form=form, errors=errors,
                  summary=error_summary(errors, _labels), accounts=accounts, q=q,
                  credentials=credentials, titles=titles, grants=grants, names=names,
                  assessor_form=assessor_form or {"account": "", "credential": ""},
                  active="plar")


@bp.post("/plar/assessors")
def plar_assessor_grant() -> ResponseReturnValue:
    staff = institution_admin_staff()
    check_csrf(staff.current)
    session = staff.session
    raw_account, raw_credential = request.form.get("account", ""), \
        request.form.get("credential", "")
    account = session.get(LearnerAccount, int(raw_account)) if raw_account.isdigit() else None
    credential = session.get(MicroCredential, int(raw_credential)) \
        if raw_credential.isdigit() else None
    errors: dict[str, list[str]] = {}
    if account is None or account.platform_id != staff.current.launch.platform_id:
        errors["account"] = [_("Choose a person from the list.")]
    if credential is None or credential.issuer_id != staff.issuer.id:
        errors["credential"] = [_("Choose a micro-credential.")]
    if errors or account is None or credential is None:
        settings = plar_service.settings_of(staff.issuer)
        form = {"policy": settings.policy, "fee_note": settings.fee_note,
                "policy_fr": translation(settings.translations, "fr", "policy"),
                "fee_note_fr": translation(settings.translations, "fr", "fee_note"),
                "turnaround_days": str(settings.turnaround_days),
                "second_assessor_for_credit": settings.second_assessor_for_credit}
        return _page(staff, form, errors, 422,
                     {"account": raw_account, "credential": raw_credential})
    plar_service.grant_assessor(session, issuer_id=staff.issuer.id, credential_id=credential.id,
                                account=account, by=_actor(staff))
    session.commit()
    return go("admin.plar_settings", "role_granted")


@bp.post("/plar/assessors/revoke")
def plar_assessor_revoke() -> ResponseReturnValue:
    staff = institution_admin_staff()
    check_csrf(staff.current)
    raw = request.form.get("grant", "")
    if raw.isdigit():
        plar_service.revoke_assessor(staff.session, issuer_id=staff.issuer.id,
                                     grant_id=int(raw), by=_actor(staff))
        staff.session.commit()
    return go("admin.plar_settings", "role_revoked")
