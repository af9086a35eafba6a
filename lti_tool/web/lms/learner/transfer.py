"""A learner asks, from inside their course, that a credential another institution issued
to them be recognised (``/me/transfer``): they upload it (JSON, VC-JWT, baked PNG or SVG) or
paste it or an Open Badges 2.0 assertion's address, see at once whether it verifies and
what it certifies, and follow each request (refused with the reason, waiting for the
registrar, accepted with what it recognised, declined with the registrar's note).

Only their own requests, always for the launched account's Person. Thin: everything goes
through ``services.transfer``.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool.domain.transfer import claims_from_dict
from lti_tool.errors import NotFound, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import Demonstration, LearnerAccount, Skill
from lti_tool.services import transfer
from lti_tool.web.admin.transfers import (
    allow_credential_upload,
    fetcher,
    read_submission,
    state_labels,
)
from lti_tool.web.common.catalog_access import issuer_for_launch
from lti_tool.web.common.launch_session import CurrentLaunch, check_csrf
from lti_tool.web.lms.learner.pages import _learner, _person_id, bp


def _page(current: CurrentLaunch, status: int = 200, *,
          errors: dict[str, list[str]] | None = None, shown: int | None = None
          ) -> ResponseReturnValue:
    session = db_session()
    issuer = issuer_for_launch(session, current)
    if issuer is None:
        raise NotFound(_("No institution catalog is set up for this platform yet."))
    requests = transfer.list_requests(session, issuer.id, person_id=_person_id(current))
    demonstration_ids = {d for r in requests for d in r.demonstration_ids}
    recognised: dict[int, str] = {
        demo_id: name for demo_id, name in session.execute(
            select(Demonstration.id, Skill.name).join(Skill, Skill.id == Demonstration.skill_id)
            .where(Demonstration.id.in_(demonstration_ids)))} if demonstration_ids else {}
    return render_template("learner/transfer.html", current=current, requests=requests,
                           claims_of=claims_from_dict, state_labels=state_labels(),
                           recognised=recognised, errors=errors or {}, shown=shown), status


@bp.get("/transfer")
def transfer_page() -> ResponseReturnValue:
    current = _learner()
    raw = request.args.get("shown", "")
    return _page(current, shown=int(raw) if raw.isdigit() and len(raw) < 10 else None)


@bp.post("/transfer")
def transfer_submit() -> ResponseReturnValue:
    allow_credential_upload()
    current = _learner()
    check_csrf(current)
    session = db_session()
    issuer = issuer_for_launch(session, current)
    record = current.record or {}
    account = session.get(LearnerAccount, record.get("account_id")) \
        if record.get("account_id") is not None else None
    if issuer is None or account is None:
        raise NotFound(_("MicroCred does not know who you are in this launch. Open it from "
                         "your course again."))
    try:
        data, filename = read_submission()
    except ValidationFailed as exc:
        return _page(current, 422, errors=exc.errors)
    # End the read transaction: no database connection is held while another
    # institution's servers are asked (up to external_credentials.TOTAL_FETCH_SECONDS).
    session.commit()
    submitted = transfer.submit(
        session, issuer_id=issuer.id, account=account, data=data,
        by=transfer.Submitter(f"account:{account.id}", account.name or current.launch.sub,
                              account_id=account.id, launch_id=current.launch.launch_id),
        base_url=current_app.config["PUBLIC_BASE_URL"], fetcher=fetcher(),
        context_id=record.get("context_pk"), filename=filename)
    session.commit()
    return redirect(url_for("learner.transfer_page", lt=current.token, shown=submitted.id)
                    + f"#request-{submitted.id}", code=303)
