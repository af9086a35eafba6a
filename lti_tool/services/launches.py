"""What a validated launch changes: the user's account (and Person), the course context and
the resource link are upserted, and the launch is audited. Takes a plain ``LaunchContext``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.domain.lti import LaunchContext, context_kind_from_launch
from lti_tool.models import Context, LearnerAccount, Person, ResourceLink
from lti_tool.models.base import utcnow
from lti_tool.services import audit


@dataclass(frozen=True)
class LaunchRecord:
    account_id: int
    person_id: int
    context_pk: int | None
    resource_link_pk: int | None
    context_kind: str


def _clip(value: str, size: int) -> str:
    return value[:size]


def _upsert_account(session: Session, launch: LaunchContext) -> LearnerAccount:
    account = session.scalars(select(LearnerAccount).where(
        LearnerAccount.platform_id == launch.platform_id, LearnerAccount.sub == launch.sub,
    )).first()
    now = utcnow()
    if account is None:
        person = Person(display_name=_clip(launch.display_name, 300))
        account = LearnerAccount(platform_id=launch.platform_id, sub=launch.sub,
                                 person=person, roles_seen=[], first_seen_at=now)
        session.add(account)
    # Platforms may withhold name/email (Canvas privacy levels): keep what we knew.
    if launch.name:
        account.name = _clip(launch.name, 300)
    if launch.given_name:
        account.given_name = _clip(launch.given_name, 200)
    if launch.family_name:
        account.family_name = _clip(launch.family_name, 200)
    if launch.email:
        account.email = _clip(launch.email, 320)
    if launch.lis_person_sourcedid:
        account.lis_person_sourcedid = _clip(launch.lis_person_sourcedid, 255)
    seen = set(account.roles_seen or [])
    if not set(launch.roles) <= seen:
        account.roles_seen = sorted(seen | set(launch.roles))[:50]
    account.last_launch_at = now
    return account


def _upsert_context(session: Session, launch: LaunchContext) -> Context | None:
    if not launch.context_id:
        return None
    context = session.scalars(select(Context).where(
        Context.deployment_id == launch.deployment_pk,
        Context.lti_context_id == launch.context_id,
    )).first()
    if context is None:
        context = Context(deployment_id=launch.deployment_pk,
                          lti_context_id=_clip(launch.context_id, 255))
        session.add(context)
    if launch.context_title:
        context.title = _clip(launch.context_title, 500)
    if launch.context_label:
        context.label = _clip(launch.context_label, 255)
    if launch.context_types:
        context.context_types = list(launch.context_types)
    if launch.nrps_url:
        context.nrps_url = _clip(launch.nrps_url, 1000)
    kind = context_kind_from_launch(launch)
    if kind is not None and (context.kind != kind.value or context.kind_source != "platform"):
        context.kind = kind.value
        context.kind_source = "platform"
    context.updated_at = utcnow()
    return context


def _upsert_link(session: Session, context: Context, launch: LaunchContext) -> ResourceLink:
    link = session.scalars(select(ResourceLink).where(
        ResourceLink.context_id == context.id,
        ResourceLink.lti_resource_link_id == launch.resource_link_id,
    )).first()
    if link is None:
        link = ResourceLink(context_id=context.id,
                            lti_resource_link_id=_clip(launch.resource_link_id, 255))
        session.add(link)
    if launch.resource_link_title:
        link.title = _clip(launch.resource_link_title, 500)
    if launch.resource_link_description:
        link.description = launch.resource_link_description[:4000]
    return link


def record_launch(session: Session, launch: LaunchContext, *, request_id: str = "") -> LaunchRecord:
    """Upsert account, person, context and resource link; audit the launch.

    Idempotent per launch data; safe under concurrent first launches of the same user
    (a lost insert race is retried once against the winner's row). Commits nothing: the
    caller owns the transaction.
    """
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                account = _upsert_account(session, launch)
                context = _upsert_context(session, launch)
                session.flush()
                link = None
                if context is not None and launch.resource_link_id:
                    link = _upsert_link(session, context, launch)
                    session.flush()
                audit.record(
                    session, "lti.launch", actor_account_id=account.id,
                    platform_id=launch.platform_id,
                    context_id=context.id if context else None,
                    subject_type="resource_link" if link else "",
                    subject_id=link.id if link else "",
                    launch_id=launch.launch_id, request_id=request_id,
                    detail={"message_type": launch.message_type, "role": launch.role.value},
                )
                session.flush()
            return LaunchRecord(account.id, account.person_id,
                                context.id if context else None, link.id if link else None,
                                context.kind if context else "other")
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
