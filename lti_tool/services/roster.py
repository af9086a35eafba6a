"""Course rosters. Learners seen in launches are always on the roster (the fallback when a
platform offers no Names and Role Provisioning Service)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.lti import AppRole, LaunchContext
from lti_tool.models import LearnerAccount, RosterEntry
from lti_tool.models.base import utcnow
from lti_tool.services import identity
from lti_tool.services.catalog import issuer_for_platform


def note_launch(session: Session, launch: LaunchContext, *, account_id: int,
                context_pk: int | None) -> None:
    """Keep the launching learner on the course roster, and propose identity links when
    the issuer links accounts across platforms. Idempotent."""
    if context_pk is None or AppRole.LEARNER not in launch.app_roles:
        return
    entry = session.scalars(select(RosterEntry).where(
        RosterEntry.context_id == context_pk, RosterEntry.account_id == account_id)).first()
    if entry is None:
        session.add(RosterEntry(context_id=context_pk, account_id=account_id, status="active",
                                source="launch", roles=list(launch.roles)))
    elif entry.status != "active" and entry.source == "launch":
        entry.status = "active"
        entry.updated_at = utcnow()
    issuer = issuer_for_platform(session, launch.platform_id, launch.deployment_pk)
    if issuer is not None and identity.link_basis(issuer) != "none":
        account = session.get(LearnerAccount, account_id)
        if account is not None:
            from lti_tool.models import IssuerPlatform

            platform_ids = list(session.scalars(select(IssuerPlatform.platform_id).where(
                IssuerPlatform.issuer_id == issuer.id)))
            identity.propose_links(session, account, issuer, platform_ids)
    session.flush()
