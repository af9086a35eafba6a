"""Identity links (institution administrators): proposals to treat two accounts as one
person; confirm, dismiss, or undo a confirmed link."""

from __future__ import annotations

from dataclasses import dataclass

from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.errors import Conflict, NotFound
from lti_tool.models import LearnerAccount, LinkProposal, Platform
from lti_tool.services import identity, issuer_settings, tracking
from lti_tool.web.admin.staff import Staff, bp, go, institution_admin_staff, people_names, render
from lti_tool.web.common.launch_session import check_csrf


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
    return render("admin/identity.html", status, proposed=proposed, confirmed=confirmed,
                  problem=problem, basis=issuer_settings.read(staff.issuer).link_identities_by,
                  who_by=people_names(session, [r.proposal.decided_by for r in confirmed]))


@bp.get("/identity")
def identity_links() -> ResponseReturnValue:
    return _identity_page(institution_admin_staff())


def _proposal(staff: Staff, proposal_id: int) -> LinkProposal:
    proposal = staff.session.get(LinkProposal, proposal_id)
    if proposal is None or proposal.issuer_id != staff.issuer.id:
        raise NotFound(_("No such link proposal."))
    return proposal


@bp.post("/identity/<int:proposal_id>/confirm")
def identity_confirm(proposal_id: int) -> ResponseReturnValue:
    staff = institution_admin_staff()
    check_csrf(staff.current)
    proposal = _proposal(staff, proposal_id)
    row = _link_rows(staff.session, [proposal])[0]
    if row.stale:
        # The other direction was confirmed (or the target's accounts moved): linking now
        # would move this account to an empty person.
        return _identity_page(staff, 409, _("This proposal is out of date: the accounts are "
                                            "already linked or the other account moved. "
                                            "Dismiss it."))
    try:
        identity.confirm(staff.session, staff.issuer.id, proposal_id, by=staff.actor.ref)
    except Conflict as exc:
        staff.session.rollback()
        return _identity_page(staff, 409, exc.public_message)
    # Demonstrations made on either platform now count together: award what they satisfy.
    tracking.evaluate_awards_for_person(staff.session, proposal.target_person_id)
    staff.session.commit()
    return go("admin.identity_links", "link_confirmed")


@bp.post("/identity/<int:proposal_id>/dismiss")
def identity_dismiss(proposal_id: int) -> ResponseReturnValue:
    staff = institution_admin_staff()
    check_csrf(staff.current)
    proposal = _proposal(staff, proposal_id)
    if proposal.status == "proposed":
        identity.undo(staff.session, staff.issuer.id, proposal_id, by=staff.actor.ref)
        staff.session.commit()
    return go("admin.identity_links", "link_dismissed")


@bp.post("/identity/<int:proposal_id>/undo")
def identity_undo(proposal_id: int) -> ResponseReturnValue:
    staff = institution_admin_staff()
    check_csrf(staff.current)
    proposal = _proposal(staff, proposal_id)
    if proposal.status == "confirmed":
        identity.undo(staff.session, staff.issuer.id, proposal_id, by=staff.actor.ref)
        staff.session.commit()
    return go("admin.identity_links", "link_undone")
