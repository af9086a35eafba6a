"""What a validated launch changes: the user's account (and Person), the course context and
the resource link are upserted, and the launch is audited. Takes a plain ``LaunchContext``.

Almost every launch is a returning user in a known course, so that case is one ``SELECT``
(account, course, resource link and roster entry) and the audit ``INSERT``, on PostgreSQL
one statement in autocommit (``_record_returning``), instead of a savepoint, several
SELECTs and unit-of-work flushes; anything missing falls back to the ORM upsert, which
creates rows and survives concurrent first launches.

Rows are written only when the launch brings something they do not hold yet (a new name,
title, role, AGS endpoint…): a class launching at once reads its course's row and writes
nothing to it, so launches never queue behind each other on that row's lock, and the
database writes no WAL for them. ``last_launch_at`` is kept to ``LAST_LAUNCH_RESOLUTION``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    String,
    Table,
    and_,
    bindparam,
    insert,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from lti_tool.domain.lti import AppRole, LaunchContext, context_kind_from_launch
from lti_tool.domain.texts import short_lang
from lti_tool.models import (
    AuditEvent,
    Context,
    LearnerAccount,
    Person,
    ResourceLink,
    RosterEntry,
)
from lti_tool.models.base import autocommit_connection, utcnow
from lti_tool.services import audit

_ACCOUNTS = cast(Table, LearnerAccount.__table__)
_CONTEXTS = cast(Table, Context.__table__)
_LINKS = cast(Table, ResourceLink.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)
_ROSTER = cast(Table, RosterEntry.__table__)
#: ``learner_accounts.last_launch_at`` is rewritten only when it is older than this.
LAST_LAUNCH_RESOLUTION = timedelta(minutes=15)


@dataclass(frozen=True)
class LaunchRecord:
    account_id: int
    person_id: int
    context_pk: int | None
    resource_link_pk: int | None
    context_kind: str
    # The learner's roster entry in the course as read with the launch: (status, source),
    # ("", "") when there is none; None when not read (``roster.note_launch`` reads it).
    roster: tuple[str, str] | None = field(default=None, compare=False)


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
    if context.id is not None and session.is_modified(context):
        context.updated_at = utcnow()  # only when the launch changed it (no hot-row write)
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


# -- returning user, known course: read, compare, write only what changed --------------------
# The values written are exactly those the ORM upsert above would leave; the statements are
# Core (no identity map, no unit of work), so any copy of these rows already loaded in the
# session is expired afterwards. The reads are built once.

_ACCOUNT_FIELDS = ("name", "given_name", "family_name", "email", "lis_person_sourcedid",
                   "language")
_ACCOUNT_READ = select(
    _ACCOUNTS.c.id, _ACCOUNTS.c.person_id, _ACCOUNTS.c.roles_seen, _ACCOUNTS.c.last_launch_at,
    *(_ACCOUNTS.c[f] for f in _ACCOUNT_FIELDS),
).where(_ACCOUNTS.c.platform_id == bindparam("k_platform_id"),
        _ACCOUNTS.c.sub == bindparam("k_sub"))


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


def _stale(stored: datetime | None, now: datetime) -> bool:
    if stored is None:
        return True
    if stored.tzinfo is None and now.tzinfo is not None:
        stored = stored.replace(tzinfo=now.tzinfo)
    return now - stored >= LAST_LAUNCH_RESOLUTION


@lru_cache(maxsize=8)
def _returning_read(course: bool, link: bool, roster: bool) -> Select[Any]:
    """One statement: the account by natural key [, its course's launch-kept columns
    [, the resource link's] [, the account's roster entry in the course]]. No row: the
    account is new."""
    columns: list[Any] = [
        _ACCOUNTS.c.id, _ACCOUNTS.c.person_id, _ACCOUNTS.c.roles_seen,
        _ACCOUNTS.c.last_launch_at, *(_ACCOUNTS.c[f] for f in _ACCOUNT_FIELDS)]
    joined: Any = _ACCOUNTS
    if course:
        columns += [_CONTEXTS.c.id.label("context_id"),
                    *(_CONTEXTS.c[c].label(f"c_{c}") for c in _CONTEXT_COLUMNS)]
        joined = joined.outerjoin(_CONTEXTS, and_(
            _CONTEXTS.c.deployment_id == bindparam("k_deployment_id"),
            _CONTEXTS.c.lti_context_id == bindparam("k_lti_context_id")))
        if link:
            columns += [_LINKS.c.id.label("link_id"), _LINKS.c.title.label("link_title"),
                        _LINKS.c.description.label("link_description")]
            joined = joined.outerjoin(_LINKS, and_(
                _LINKS.c.context_id == _CONTEXTS.c.id,
                _LINKS.c.lti_resource_link_id == bindparam("k_lti_resource_link_id")))
        if roster:
            columns += [_ROSTER.c.status.label("roster_status"),
                        _ROSTER.c.source.label("roster_source")]
            joined = joined.outerjoin(_ROSTER, and_(_ROSTER.c.context_id == _CONTEXTS.c.id,
                                                    _ROSTER.c.account_id == _ACCOUNTS.c.id))
    return select(*columns).select_from(joined).where(
        _ACCOUNTS.c.platform_id == bindparam("k_platform_id"),
        _ACCOUNTS.c.sub == bindparam("k_sub"))


def _touch_account(session: Session, row: Any, launch: LaunchContext, now: datetime) -> None:
    """Update the known account (read as ``row``) where the launch changes it."""
    values = _account_values(launch, now)
    changes = {k: v for k, v in values.items()
               if k != "last_launch_at" and getattr(row, k) != v}
    seen = set(row.roles_seen or [])
    if not set(launch.roles) <= seen:  # a role this account was not seen with yet
        changes["roles_seen"] = sorted(seen | set(launch.roles))[:50]
    if changes or _stale(row.last_launch_at, now):
        changes["last_launch_at"] = now
        session.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.id == row.id).values(changes))


def _context_values(launch: LaunchContext, ags: dict[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
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
    if ags is not None:
        values["ags"] = ags
    return values


_CONTEXT_COLUMNS = ("title", "label", "context_types", "nrps_url", "kind", "kind_source", "ags")


def _link_values(launch: LaunchContext) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if launch.resource_link_title:
        values["title"] = _clip(launch.resource_link_title, 500)
    if launch.resource_link_description:
        values["description"] = launch.resource_link_description[:4000]
    return values


def _touch_context(session: Session, row: Any, launch: LaunchContext, now: datetime,
                   ags: dict[str, Any] | None) -> str:
    """Update the known context (and its link), read as ``row``, where the launch changes
    them. Returns the course's kind."""
    changes = {k: v for k, v in _context_values(launch, ags).items()
               if getattr(row, f"c_{k}") != v}
    kind: str = changes.get("kind", row.c_kind)
    if changes:
        changes["updated_at"] = now
        session.execute(update(_CONTEXTS).where(_CONTEXTS.c.id == row.context_id)
                        .values(changes))
    if launch.resource_link_id and row.link_id is not None:
        stored = {"title": row.link_title, "description": row.link_description}
        link_changes = {k: v for k, v in _link_values(launch).items() if stored[k] != v}
        if link_changes:  # rare: the platform renamed the link
            session.execute(update(_LINKS).where(_LINKS.c.id == row.link_id)
                            .values(link_changes))
    return kind


_AUDIT_INSERT = insert(_AUDIT)
_AUDIT_COLUMNS = ("at", "action", "actor_account_id", "platform_id", "context_id",
                  "subject_type", "subject_id", "launch_id", "request_id", "detail")


@lru_cache(maxsize=8)
def _returning_read_audited(course: bool, link: bool, roster: bool) -> Select[Any]:
    """PostgreSQL: ``_returning_read`` and the launch's audit INSERT in one statement (a
    data-modifying CTE), the row written only where the account [, course [, link]] are
    known, with the values ``_record_returning`` would give it. The answer is the read's row
    and ``audit_id`` (NULL when nothing was inserted)."""
    read = _returning_read(course, link, roster).cte("launch_row")
    known = []
    if course:
        known.append(read.c.context_id.is_not(None))
    if link:
        known.append(read.c.link_id.is_not(None))
    row = select(
        bindparam("a_at", type_=_AUDIT.c.at.type), literal("lti.launch"), read.c.id,
        bindparam("k_platform_id"), read.c.context_id if course else null(),
        literal("resource_link" if link else ""),
        read.c.link_id.cast(String) if link else literal(""),
        bindparam("a_launch_id", type_=String), bindparam("a_request_id", type_=String),
        bindparam("a_detail", type_=_AUDIT.c.detail.type),
    ).where(*known)
    audited = insert(_AUDIT).from_select(_AUDIT_COLUMNS, row).returning(_AUDIT.c.id) \
        .cte("audited")
    return select(read, audited.c.id.label("audit_id")).select_from(
        read.outerjoin(audited, true()))


def _audit_values(launch: LaunchContext, request_id: str) -> dict[str, Any]:
    """What the launch's ``lti.launch`` audit row says of the launch itself (the same on
    every path that writes it: the one statement, the INSERT, the upsert's audit.record)."""
    return {"launch_id": launch.launch_id, "request_id": request_id,
            "detail": {"message_type": launch.message_type, "role": launch.role.value}}


def _expire_loaded(session: Session, model: type[Any], pk: int | None) -> None:
    if pk is not None:
        loaded = session.identity_map.get(identity_key(model, pk))
        if loaded is not None:
            session.expire(loaded)


def _record_returning(session: Session, launch: LaunchContext, request_id: str,
                      ags: dict[str, Any] | None) -> LaunchRecord | None:
    """The returning-user path: one SELECT (account, course, link, roster entry), the
    audit INSERT, and UPDATEs only of what the launch changes. None (having changed
    nothing) when the account, context or resource link is new.

    On PostgreSQL the SELECT and the INSERT are one statement, run outside a transaction
    when the session has none open (``autocommit_connection``): a launch that changes
    nothing stored costs one round trip. The rare UPDATEs then run in the session's
    transaction, committed by the caller; the audit row is already written, as it is
    whenever the launch got this far (the id_token is spent)."""
    course = bool(launch.context_id)
    link = course and bool(launch.resource_link_id)
    roster = course and AppRole.LEARNER in launch.app_roles
    params: dict[str, Any] = {"k_platform_id": launch.platform_id, "k_sub": launch.sub}
    if course:
        params.update(k_deployment_id=launch.deployment_pk, k_lti_context_id=launch.context_id)
    if link:
        params["k_lti_resource_link_id"] = launch.resource_link_id
    # Core statements, without the ORM's per-statement machinery; anything pending is
    # flushed first, as autoflush would.
    if session.new or session.dirty or session.deleted:
        session.flush()
    audited = session.get_bind().dialect.name == "postgresql"
    if audited:  # the read and the audit INSERT in one statement
        params.update({f"a_{k}": v for k, v in _audit_values(launch, request_id).items()},
                      a_at=utcnow())
        with autocommit_connection(session) as conn:
            row = conn.execute(_returning_read_audited(course, link, roster), params).first()
        if row is None or row.audit_id is None:
            return None
    else:
        row = session.connection().execute(_returning_read(course, link, roster),
                                           params).first()
        if row is None or (course and row.context_id is None) or (link and row.link_id is None):
            return None
    now = utcnow()
    _touch_account(session, row, launch, now)
    context_pk: int | None = None
    kind = "other"
    link_pk: int | None = None
    if course:
        kind = _touch_context(session, row, launch, now, ags)
        context_pk = row.context_id
        link_pk = row.link_id if link else None
    if not audited:
        # The same row audit.record() writes, as one INSERT without a unit-of-work flush.
        session.connection().execute(_AUDIT_INSERT, dict(
            _audit_values(launch, request_id), at=utcnow(), action="lti.launch",
            actor_account_id=row.id, platform_id=launch.platform_id, context_id=context_pk,
            subject_type="resource_link" if link_pk is not None else "",
            subject_id=str(link_pk) if link_pk is not None else ""))
    _expire_loaded(session, LearnerAccount, row.id)
    _expire_loaded(session, Context, context_pk)
    _expire_loaded(session, ResourceLink, link_pk)
    roster_state = (row.roster_status or "", row.roster_source or "") if roster else None
    return LaunchRecord(row.id, row.person_id, context_pk, link_pk, kind,
                        roster=roster_state)


def record_launch(session: Session, launch: LaunchContext, *, request_id: str = "",
                  ags: dict[str, Any] | None = None) -> LaunchRecord:
    """Upsert account, person, context and resource link; keep the course's AGS endpoint
    (``ags``: ``AgsEndpoint.as_json()`` of the launch's claim; None keeps what the course
    has); audit the launch.

    Idempotent per launch data; safe under concurrent first launches of the same user
    (a lost insert race is retried once against the winner's row). Commits nothing: the
    caller owns the transaction.
    """
    record = _record_returning(session, launch, request_id, ags)
    if record is not None:
        return record
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                account = _upsert_account(session, launch)
                context = _upsert_context(session, launch)
                if context is not None and ags is not None and context.ags != ags:
                    context.ags = ags
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
                    subject_id=link.id if link else "", **_audit_values(launch, request_id),
                )
                session.flush()
            return LaunchRecord(account.id, account.person_id,
                                context.id if context else None, link.id if link else None,
                                context.kind if context else "other")
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
