"""One Person across platforms. Accounts on the same platform with the same ``sub`` are the
same account already; across platforms an account is linked to another Person only on a
verified institutional identifier (``lis_person_sourcedid`` or email, as the issuer's
``link_identities_by`` setting says), and only after an administrator confirms the
proposal. Confirming moves the account (and the demonstrations recorded through it) to the
Person; undoing moves them back. Awards are never moved: an account whose person already
holds credentials is refused. Both are audited."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from lti_tool.errors import Conflict, NotFound
from lti_tool.models import Award, Demonstration, Issuer, LearnerAccount, LinkProposal
from lti_tool.models.base import utcnow
from lti_tool.services import audit

BASES = ("none", "email", "sourcedid")


def link_basis(issuer: Issuer) -> str:
    basis = (issuer.settings or {}).get("link_identities_by", "none")
    return basis if basis in BASES else "none"


def propose_links(session: Session, account: LearnerAccount, issuer: Issuer,
                  platform_ids: list[int]) -> list[LinkProposal]:
    """Propose linking ``account`` to Persons of other accounts (on the issuer's other
    platforms) that share its verified identifier. Idempotent. Reads only the issuer's
    columns (its id and settings), so a read-only instance will do."""
    basis = link_basis(issuer)
    if basis == "none":
        return []
    column: ColumnElement[str]
    if basis == "email":
        value = (account.email or "").strip().lower()
        column = func.lower(LearnerAccount.email)
    else:
        value = (account.lis_person_sourcedid or "").strip()
        column = LearnerAccount.lis_person_sourcedid.expression
    if not value:
        return []
    others = session.scalars(select(LearnerAccount).where(
        column == value, LearnerAccount.id != account.id,
        LearnerAccount.person_id != account.person_id,
        LearnerAccount.platform_id.in_(platform_ids),
        LearnerAccount.platform_id != account.platform_id))
    created = []
    for other in others:
        exists = session.scalars(select(LinkProposal.id).where(
            LinkProposal.account_id == account.id,
            LinkProposal.target_person_id == other.person_id)).first()
        if exists is None:
            proposal = LinkProposal(issuer_id=issuer.id, account_id=account.id,
                                    target_person_id=other.person_id, basis=basis)
            session.add(proposal)
            created.append(proposal)
    session.flush()
    return created


def _move(session: Session, account: LearnerAccount, to_person: int) -> None:
    for demo in session.scalars(select(Demonstration).where(
            Demonstration.account_id == account.id)):
        demo.person_id = to_person
    account.person_id = to_person


def confirm(session: Session, issuer_id: int, proposal_id: int, *, by: str) -> LinkProposal:
    """Link the account to the proposed Person. Raises NotFound, Conflict."""
    proposal = session.get(LinkProposal, proposal_id)
    if proposal is None or proposal.issuer_id != issuer_id:
        raise NotFound("No such link proposal.")
    if proposal.status != "proposed":
        raise Conflict(f"This proposal is already {proposal.status}.", code="link_decided")
    account = session.get(LearnerAccount, proposal.account_id)
    assert account is not None
    target_alive = session.scalars(select(LearnerAccount.id).where(
        LearnerAccount.person_id == proposal.target_person_id).limit(1)).first()
    if target_alive is None or account.person_id == proposal.target_person_id:
        # E.g. the reverse proposal of a link that was just confirmed: its person is gone.
        raise Conflict("This proposal is out of date: the accounts were already linked.",
                       code="link_out_of_date")
    if session.scalars(select(Award.id).where(Award.person_id == account.person_id)).first():
        # Awards pin the Person they were issued to; merging would re-issue them.
        raise Conflict("This account's person already holds credentials; link the other "
                       "account to it instead.", code="link_has_awards")
    proposal.previous_person_id = account.person_id
    _move(session, account, proposal.target_person_id)
    proposal.status = "confirmed"
    proposal.decided_by = by
    proposal.decided_at = utcnow()
    for twin in session.scalars(select(LinkProposal).where(
            LinkProposal.status == "proposed", LinkProposal.id != proposal.id,
            LinkProposal.target_person_id == proposal.previous_person_id)):
        twin.status = "dismissed"  # the reverse direction of the link just made
        twin.decided_by = by
        twin.decided_at = utcnow()
    session.flush()
    audit.record(session, "identity.linked", subject_type="learner_account",
                 subject_id=account.id, detail={"by": by, "to_person": proposal.target_person_id,
                                                "basis": proposal.basis})
    return proposal


def undo(session: Session, issuer_id: int, proposal_id: int, *, by: str) -> LinkProposal:
    """Undo a confirmed link (or dismiss a proposal). Raises NotFound."""
    proposal = session.get(LinkProposal, proposal_id)
    if proposal is None or proposal.issuer_id != issuer_id:
        raise NotFound("No such link proposal.")
    account = session.get(LearnerAccount, proposal.account_id)
    assert account is not None
    if proposal.status == "confirmed" and proposal.previous_person_id is not None:
        _move(session, account, proposal.previous_person_id)
    proposal.status = "undone" if proposal.status == "confirmed" else "dismissed"
    proposal.decided_by = by
    proposal.decided_at = utcnow()
    session.flush()
    audit.record(session, "identity.unlinked", subject_type="learner_account",
                 subject_id=account.id, detail={"by": by, "status": proposal.status})
    return proposal


def proposals(session: Session, issuer_id: int, status: str = "proposed") -> list[LinkProposal]:
    return list(session.scalars(select(LinkProposal).where(
        LinkProposal.issuer_id == issuer_id, LinkProposal.status == status)
        .order_by(LinkProposal.created_at, LinkProposal.id)))
