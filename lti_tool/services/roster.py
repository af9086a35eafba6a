"""Course rosters. Learners seen in launches are always on the roster (the fallback when a
platform offers no Names and Role Provisioning Service); where the platform offers NRPS,
``refresh_roster`` / ``sync_roster`` make the roster follow the platform's member list."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.advantage import Member, Membership, MemberStatus
from lti_tool.domain.lti import AppRole, LaunchContext
from lti_tool.domain.tracking import learner_name, pseudonym
from lti_tool.models import (
    AuditEvent,
    Context,
    Deployment,
    LearnerAccount,
    Person,
    RosterEntry,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, identity
from lti_tool.services.catalog import issuer_for_platform


def note_launch(session: Session, launch: LaunchContext, *, account_id: int,
                context_pk: int | None, known: tuple[str, str] | None = None) -> None:
    """Keep the launching learner on the course roster, and propose identity links when
    the issuer links accounts across platforms. Idempotent. ``known``: the entry's (status,
    source) as the launch read it (``LaunchRecord.roster``; ("", "") for none), saving the
    read when the learner is already an active member."""
    if context_pk is None or AppRole.LEARNER not in launch.app_roles:
        return
    entry = None
    if known is None or known[0] != "active":  # else on the roster already, as read
        entry = session.scalars(select(RosterEntry).where(
            RosterEntry.context_id == context_pk,
            RosterEntry.account_id == account_id)).first()
        if entry is None:
            # Two launches of the same learner at once (a double click, two tabs) both find
            # no entry: the second INSERT loses to the unique (context, account) and keeps
            # the winner's row instead of failing the launch.
            try:
                with session.begin_nested():
                    session.add(RosterEntry(context_id=context_pk, account_id=account_id,
                                            status="active", source="launch",
                                            roles=list(launch.roles)))
                    session.flush()
            except IntegrityError:
                pass
        elif entry.status != "active" and entry.source == "launch":
            entry.status = "active"
            entry.updated_at = utcnow()
    issuer = issuer_for_platform(session, launch.platform_id, launch.deployment_pk,
                                 read_only=True)
    if issuer is not None and identity.link_basis(issuer) != "none":
        account = session.get(LearnerAccount, account_id)
        if account is not None:
            from lti_tool.models import IssuerPlatform

            platform_ids = list(session.scalars(select(IssuerPlatform.platform_id).where(
                IssuerPlatform.issuer_id == issuer.id)))
            identity.propose_links(session, account, issuer, platform_ids)
            session.flush()
    if entry is not None:
        session.flush()


# -- Names and Role Provisioning Services ---------------------------------------------------
# https://www.imsglobal.org/spec/lti-nrps/v2p0 . The roster of a course whose platform offers
# NRPS is the platform's list of learners: each sync adds new learners, follows status changes
# (Active / Inactive; Deleted leaves the roster) and, after a complete listing, marks learners
# the platform no longer lists as inactive. Their records are never touched.
_SUB_CHUNK = 500
ROSTER_STATUS_ACTIVE = "active"
ROSTER_STATUS_INACTIVE = "inactive"


@dataclass(frozen=True)
class RosterSyncReport:
    """What a roster refresh did. ``source`` is "nrps" (read from the platform) or
    "launches" (no NRPS: the roster is the learners seen in launches)."""

    source: str
    learners: int                 # active learners on the roster afterwards
    added: int = 0
    reactivated: int = 0
    inactivated: int = 0
    removed: int = 0
    complete: bool = True
    pages: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def learner_label(account: LearnerAccount) -> str:
    """How a learner is shown (``domain.tracking.learner_name``): their name, else their
    email, else a stable pseudonym ("Learner 4F2A") for platforms that send neither."""
    return learner_name(account.id, name=account.name, given=account.given_name,
                        family=account.family_name, email=account.email)


def learner_names(session: Session, person_ids: Iterable[int]) -> dict[int, str]:
    """Person id → how the person is shown: the person's display name, else the name of
    their first account that has one (``learner_name``), else the first account's
    pseudonym, as the assessment grid shows it. One query per 500 people."""
    ids = sorted(set(person_ids))
    names: dict[int, str] = {}
    fallback: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for pid, display in session.execute(
                select(Person.id, Person.display_name).where(Person.id.in_(chunk))):
            if display and display.strip():
                names[pid] = display.strip()
        for aid, pid, name, given, family, email in session.execute(
                select(LearnerAccount.id, LearnerAccount.person_id, LearnerAccount.name,
                       LearnerAccount.given_name, LearnerAccount.family_name,
                       LearnerAccount.email)
                .where(LearnerAccount.person_id.in_(chunk)).order_by(LearnerAccount.id)):
            if pid in names:
                continue
            shown = learner_name(aid, name=name, given=given, family=family, email=email)
            if shown != pseudonym(aid):
                names[pid] = shown
            else:
                fallback.setdefault(pid, shown)
    return {pid: names.get(pid) or fallback.get(pid, "") for pid in ids}


def _apply_member(account: LearnerAccount, member: Member) -> bool:
    """Copy what the platform sent, never overwriting with blanks. True when an identifier
    used for identity links (email, institutional id) changed."""
    linked = False
    for attr in ("name", "given_name", "family_name", "email", "lis_person_sourcedid"):
        value = getattr(member, attr)
        if value and getattr(account, attr) != value:
            setattr(account, attr, value)
            linked = linked or attr in ("email", "lis_person_sourcedid")
    if member.display_name and account.person is not None and not account.person.display_name:
        account.person.display_name = member.display_name[:300]
    return linked


def _new_account(platform_id: int, member: Member) -> LearnerAccount:
    account = LearnerAccount(platform_id=platform_id, sub=member.sub,
                             person=Person(display_name=member.display_name[:300]),
                             roles_seen=[])
    _apply_member(account, member)
    return account


def _upsert_accounts(session: Session, platform_id: int, members: list[Member]
                     ) -> tuple[dict[str, LearnerAccount], list[LearnerAccount]]:
    """Accounts by sub for ``members`` (created when new), and those whose identifiers are
    new or changed (for identity-link proposals)."""
    accounts: dict[str, LearnerAccount] = {}
    subs = [m.sub for m in members]
    for start in range(0, len(subs), _SUB_CHUNK):
        accounts.update((a.sub, a) for a in session.scalars(
            select(LearnerAccount).options(selectinload(LearnerAccount.person)).where(
                LearnerAccount.platform_id == platform_id,
                LearnerAccount.sub.in_(subs[start:start + _SUB_CHUNK]))))
    touched = [accounts[m.sub] for m in members
               if m.sub in accounts and _apply_member(accounts[m.sub], m)]
    new = [m for m in members if m.sub not in accounts]
    if not new:
        return accounts, touched
    try:
        with session.begin_nested():
            created = [_new_account(platform_id, m) for m in new]
            session.add_all(created)
            session.flush()
    except IntegrityError:
        # A launch created some of these accounts meanwhile: one at a time, reading the
        # winner's row when an insert loses.
        created = []
        for member in new:
            try:
                with session.begin_nested():
                    account = _new_account(platform_id, member)
                    session.add(account)
                    session.flush()
                created.append(account)
            except IntegrityError:
                existing = session.scalars(select(LearnerAccount).where(
                    LearnerAccount.platform_id == platform_id,
                    LearnerAccount.sub == member.sub)).one()
                _apply_member(existing, member)
                accounts[member.sub] = existing
    for account in created:
        accounts[account.sub] = account
    return accounts, touched + [a for a in created if a.email or a.lis_person_sourcedid]


def sync_roster(session: Session, context: Context, members: Iterable[Member], *,
                complete: bool = True, pages: int = 0) -> RosterSyncReport:
    """Make the course roster match an NRPS listing. Learners only (instructors and
    teaching assistants are not on the roster); accounts and Persons are created by
    (platform, sub) for learners never seen in a launch, and known accounts get the names
    the platform sends (a blank never overwrites a name). Members with status Inactive,
    and — when ``complete`` — roster learners missing from the listing, become inactive;
    Deleted members leave the roster. Demonstrations and awards are never touched.

    Idempotent; commits nothing."""
    deployment = session.get(Deployment, context.deployment_id)
    assert deployment is not None
    platform_id = deployment.platform_id
    by_sub: dict[str, Member] = {}
    for member in members:
        by_sub[member.sub] = member
    learners = [m for m in by_sub.values()
                if m.is_learner and m.status is not MemberStatus.DELETED]
    deleted = [sub for sub, m in by_sub.items() if m.status is MemberStatus.DELETED]
    accounts, touched = _upsert_accounts(session, platform_id, learners)
    entries = {e.account_id: e for e in session.scalars(
        select(RosterEntry).where(RosterEntry.context_id == context.id))}
    now = utcnow()
    added = reactivated = inactivated = removed = 0
    listed: set[int] = set()
    for member in learners:
        account = accounts[member.sub]
        listed.add(account.id)
        status = ROSTER_STATUS_ACTIVE if member.status is MemberStatus.ACTIVE \
            else ROSTER_STATUS_INACTIVE
        entry = entries.get(account.id)
        if entry is None:
            entry = RosterEntry(context_id=context.id, account_id=account.id, status=status,
                                source="nrps", roles=list(member.roles), updated_at=now)
            session.add(entry)
            entries[account.id] = entry
            added += 1
            continue
        if entry.status != status:
            reactivated += status == ROSTER_STATUS_ACTIVE
            inactivated += status == ROSTER_STATUS_INACTIVE
        if (entry.status, entry.source, list(entry.roles or [])) != (status, "nrps",
                                                                      list(member.roles)):
            entry.status, entry.source, entry.roles = status, "nrps", list(member.roles)
            entry.updated_at = now
    gone: set[int] = set()
    for start in range(0, len(deleted), _SUB_CHUNK):
        gone.update(session.scalars(select(LearnerAccount.id).where(
            LearnerAccount.platform_id == platform_id,
            LearnerAccount.sub.in_(deleted[start:start + _SUB_CHUNK]))))
    for account_id in gone - listed:
        entry = entries.pop(account_id, None)
        if entry is not None:
            session.delete(entry)
            removed += 1
    if complete:
        for account_id, entry in entries.items():
            if account_id not in listed and entry.status == ROSTER_STATUS_ACTIVE:
                entry.status = ROSTER_STATUS_INACTIVE
                entry.updated_at = now
                inactivated += 1
    session.flush()
    _propose_links(session, context, platform_id, touched)
    report = RosterSyncReport(
        source="nrps", added=added, reactivated=reactivated, inactivated=inactivated,
        removed=removed, complete=complete, pages=pages,
        learners=sum(1 for e in entries.values() if e.status == ROSTER_STATUS_ACTIVE))
    audit.record(session, "roster.synced", platform_id=platform_id, context_id=context.id,
                 subject_type="context", subject_id=context.id, detail=report.as_dict())
    session.flush()
    return report


def _propose_links(session: Session, context: Context, platform_id: int,
                   accounts: list[LearnerAccount]) -> None:
    if not accounts:
        return
    issuer = issuer_for_platform(session, platform_id, context.deployment_id)
    if issuer is None or identity.link_basis(issuer) == "none":
        return
    from lti_tool.models import IssuerPlatform

    platform_ids = list(session.scalars(select(IssuerPlatform.platform_id).where(
        IssuerPlatform.issuer_id == issuer.id)))
    for account in accounts:
        identity.propose_links(session, account, issuer, platform_ids)


def refresh_roster(session: Session, context: Context, *,
                   fetch_membership: Callable[[Context], Membership] | None = None
                   ) -> RosterSyncReport:
    """Refresh the course roster from the platform's NRPS when the course has an NRPS URL
    (stored at launch) and a fetcher is given; otherwise the roster stays the learners seen
    in launches (``note_launch`` keeps it) and this reports how many there are.

    Raises UpstreamError (PlatformRefused when retrying will not help) from the fetch, with
    nothing changed. Idempotent; commits nothing."""
    if not context.nrps_url or fetch_membership is None:
        learners = session.scalar(select(func.count()).select_from(RosterEntry).where(
            RosterEntry.context_id == context.id,
            RosterEntry.status == ROSTER_STATUS_ACTIVE)) or 0
        return RosterSyncReport(source="launches", learners=learners)
    membership = fetch_membership(context)
    return sync_roster(session, context, membership.members, complete=membership.complete,
                       pages=membership.pages)


def note_refresh(context: Context, *, report: RosterSyncReport | None = None,
                 code: str = "", message: str = "") -> None:
    """Keep the outcome of the course's latest roster refresh on the course
    (``Context.roster_status``), so its instructors can read why a refresh failed.
    ``report`` for a refresh that worked; ``code`` and ``message`` (a ToolError's, safe to
    show) for one that did not."""
    status: dict[str, Any] = {"at": utcnow().isoformat(), "ok": report is not None}
    if report is not None:
        status.update(source=report.source, learners=report.learners,
                      complete=report.complete)
    else:
        status.update(code=code[:50], message=message[:500])
    context.roster_status = status


def last_sync(session: Session, context_id: int) -> AuditEvent | None:
    """The latest NRPS sync of the course (its time and counts), if any."""
    return session.scalars(select(AuditEvent).where(
        AuditEvent.context_id == context_id, AuditEvent.action == "roster.synced")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()
