"""What a validated launch changes: the user's account (and Person), the course context and
the resource link are upserted, and the launch is audited. Takes a plain ``LaunchContext``.

Almost every launch is a returning user in a known course, so that case is three statements
(``UPDATE … RETURNING`` of the account, of the context with its resource link looked up in
the same statement, and the audit ``INSERT``) instead of a savepoint, three SELECTs and
unit-of-work flushes; anything missing falls back to the ORM upsert, which creates rows and
survives concurrent first launches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import BindParameter, Table, Update, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from lti_tool.domain.lti import LaunchContext, context_kind_from_launch
from lti_tool.domain.texts import short_lang
from lti_tool.models import AuditEvent, Context, LearnerAccount, Person, ResourceLink
from lti_tool.models.base import utcnow
from lti_tool.services import audit

_ACCOUNTS = cast(Table, LearnerAccount.__table__)
_CONTEXTS = cast(Table, Context.__table__)
_LINKS = cast(Table, ResourceLink.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)


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
    if launch.locale.strip():
        account.language = short_lang(launch.locale)
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


# -- returning user, known course: plain UPDATE … RETURNING -----------------------------------
# The values are exactly those the ORM upsert above would leave; the statements are Core
# (no identity map, no unit of work), so any copy of these rows already loaded in the
# session is expired afterwards. Each statement is built once per shape (which optional
# columns a platform sends: a handful of shapes) with bound parameters, so a launch neither
# rebuilds it nor recomputes its SQLAlchemy cache key.

def _param(table: Table, column: str, prefix: str = "v_") -> BindParameter[Any]:
    return bindparam(prefix + column, type_=table.c[column].type)


@lru_cache(maxsize=64)
def _account_update(columns: tuple[str, ...]) -> Update:
    return (update(_ACCOUNTS)
            .where(_ACCOUNTS.c.platform_id == _param(_ACCOUNTS, "platform_id", "k_"),
                   _ACCOUNTS.c.sub == _param(_ACCOUNTS, "sub", "k_"))
            .values({c: _param(_ACCOUNTS, c) for c in columns})
            .returning(_ACCOUNTS.c.id, _ACCOUNTS.c.person_id, _ACCOUNTS.c.roles_seen))


def _account_values(launch: LaunchContext, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"last_launch_at": now}
    if launch.name:
        values["name"] = _clip(launch.name, 300)
    if launch.given_name:
        values["given_name"] = _clip(launch.given_name, 200)
    if launch.family_name:
        values["family_name"] = _clip(launch.family_name, 200)
    if launch.email:
        values["email"] = _clip(launch.email, 320)
    if launch.lis_person_sourcedid:
        values["lis_person_sourcedid"] = _clip(launch.lis_person_sourcedid, 255)
    # The launch's language is remembered: credentials are issued in it (issuing).
    if launch.locale.strip():
        values["language"] = short_lang(launch.locale)
    return values


def _touch_account(session: Session, launch: LaunchContext,
                   now: datetime) -> tuple[int, int] | None:
    """(account id, person id) after updating a known account; None if it is new."""
    values = _account_values(launch, now)
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(k_platform_id=launch.platform_id, k_sub=launch.sub)
    row = session.execute(_account_update(tuple(values)), params).first()
    if row is None:
        return None
    seen = set(row.roles_seen or [])
    if not set(launch.roles) <= seen:  # rare: a role this account was not seen with yet
        session.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.id == row.id).values(
            roles_seen=sorted(seen | set(launch.roles))[:50]))
    return row.id, row.person_id


def _context_values(launch: LaunchContext, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"updated_at": now}
    if launch.context_title:
        values["title"] = _clip(launch.context_title, 500)
    if launch.context_label:
        values["label"] = _clip(launch.context_label, 255)
    if launch.context_types:
        values["context_types"] = list(launch.context_types)
    if launch.nrps_url:
        values["nrps_url"] = _clip(launch.nrps_url, 1000)
    kind = context_kind_from_launch(launch)
    if kind is not None:
        values["kind"] = kind.value
        values["kind_source"] = "platform"
    return values


@lru_cache(maxsize=64)
def _context_update(columns: tuple[str, ...], link: bool, link_title: bool,
                    link_description: bool) -> Update:
    """UPDATE contexts … RETURNING id, kind [, link_id, current_link_id].

    The link is read in the same statement, by subqueries in RETURNING that find the
    context by its natural key rather than by correlation with the updated row: SQLite's
    RETURNING is rendered without table names, where ``context_id = id`` would compare two
    columns of resource_links."""
    key = (_CONTEXTS.c.deployment_id == _param(_CONTEXTS, "deployment_id", "k_"),
           _CONTEXTS.c.lti_context_id == _param(_CONTEXTS, "lti_context_id", "k_"))
    returning: list[Any] = [_CONTEXTS.c.id, _CONTEXTS.c.kind]
    if link:
        context_pk = select(_CONTEXTS.c.id).where(*key).correlate(None).scalar_subquery()
        same_link = and_(_LINKS.c.context_id == context_pk,
                         _LINKS.c.lti_resource_link_id == _param(
                             _LINKS, "lti_resource_link_id", "k_"))
        current = [same_link]
        if link_title:
            current.append(_LINKS.c.title == _param(_LINKS, "title", "l_"))
        if link_description:
            current.append(_LINKS.c.description == _param(_LINKS, "description", "l_"))
        returning += [
            select(_LINKS.c.id).where(same_link).scalar_subquery().label("link_id"),
            select(_LINKS.c.id).where(*current).scalar_subquery().label("current_link_id"),
        ]
    return (update(_CONTEXTS).where(*key)
            .values({c: _param(_CONTEXTS, c) for c in columns})
            .returning(*returning))


def _link_values(launch: LaunchContext) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if launch.resource_link_title:
        values["title"] = _clip(launch.resource_link_title, 500)
    if launch.resource_link_description:
        values["description"] = launch.resource_link_description[:4000]
    return values


def _touch_context(session: Session, launch: LaunchContext,
                   now: datetime) -> tuple[int, str, int | None, bool] | None:
    """(context id, kind, resource link id or None, whether that link already holds the
    launch's title and description) after updating a known context; None if it is new."""
    values = _context_values(launch, now)
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(k_deployment_id=launch.deployment_pk, k_lti_context_id=launch.context_id)
    link = bool(launch.resource_link_id)
    link_values = _link_values(launch) if link else {}
    if link:
        params["k_lti_resource_link_id"] = launch.resource_link_id
        params.update({f"l_{k}": v for k, v in link_values.items()})
    statement = _context_update(tuple(values), link, "title" in link_values,
                                "description" in link_values)
    row = session.execute(statement, params).first()
    if row is None:
        return None
    if not link:
        return row.id, row.kind, None, True
    return row.id, row.kind, row.link_id, row.current_link_id is not None


_AUDIT_INSERT = insert(_AUDIT)


def _expire_loaded(session: Session, model: type[Any], pk: int | None) -> None:
    if pk is not None:
        loaded = session.identity_map.get(identity_key(model, pk))
        if loaded is not None:
            session.expire(loaded)


def _record_returning(session: Session, launch: LaunchContext,
                      request_id: str) -> LaunchRecord | None:
    """The returning-user path; None (having changed nothing that the ORM path would not
    change the same way) when the account, context or resource link is new."""
    now = utcnow()
    account = _touch_account(session, launch, now)
    if account is None:
        return None
    context_pk: int | None = None
    kind = "other"
    link_pk: int | None = None
    if launch.context_id:
        context = _touch_context(session, launch, now)
        if context is None:
            return None
        context_pk, kind, link_pk, link_current = context
        if launch.resource_link_id:
            if link_pk is None:
                return None
            if not link_current:  # rare: the platform renamed the link
                session.execute(update(_LINKS).where(_LINKS.c.id == link_pk)
                                .values(_link_values(launch)))
    # The same row audit.record() writes, as one INSERT without a unit-of-work flush.
    session.execute(_AUDIT_INSERT, dict(
        at=utcnow(), action="lti.launch", actor_account_id=account[0],
        platform_id=launch.platform_id, context_id=context_pk,
        subject_type="resource_link" if link_pk is not None else "",
        subject_id=str(link_pk) if link_pk is not None else "",
        launch_id=launch.launch_id, request_id=request_id,
        detail={"message_type": launch.message_type, "role": launch.role.value},
    ))
    _expire_loaded(session, LearnerAccount, account[0])
    _expire_loaded(session, Context, context_pk)
    _expire_loaded(session, ResourceLink, link_pk)
    return LaunchRecord(account[0], account[1], context_pk, link_pk, kind)


def record_launch(session: Session, launch: LaunchContext, *, request_id: str = "") -> LaunchRecord:
    """Upsert account, person, context and resource link; audit the launch.

    Idempotent per launch data; safe under concurrent first launches of the same user
    (a lost insert race is retried once against the winner's row). Commits nothing: the
    caller owns the transaction.
    """
    record = _record_returning(session, launch, request_id)
    if record is not None:
        return record
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
