"""Builders for award-engine tests: platforms, courses and people made by the real launch
services (``record_launch`` + ``note_launch``, exactly what a launch does), an issuer with a
published catalog, and offerings attached through ``services.tracking``.

Nothing is written behind the services' back, so a test's "learner in a for-credit course"
is what a Moodle launch would have produced."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.lti import ROLE_MEMBERSHIP, LaunchContext, map_roles
from lti_tool.models import (
    AuditEvent,
    Award,
    Context,
    CredentialVersion,
    Demonstration,
    Issuer,
    LearnerAccount,
    Offering,
    Platform,
    Skill,
)
from lti_tool.models.base import utcnow
from lti_tool.services import catalog as catalog_service
from lti_tool.services import tracking
from lti_tool.services.launches import record_launch
from lti_tool.services.platforms import PlatformInput, add_platform
from lti_tool.services.roster import note_launch
from tests.support.catalog import CatalogBuilder

LEARNER_ROLES = (ROLE_MEMBERSHIP + "Learner",)
INSTRUCTOR_ROLES = (ROLE_MEMBERSHIP + "Instructor",)
_seq = itertools.count(1)


@dataclass
class Lms:
    """One registered platform (a Moodle or a Canvas) with one deployment."""

    platform: Platform
    deployment_pk: int

    @classmethod
    def register(cls, db: Session, issuer_url: str | None = None,
                 client_id: str | None = None) -> Lms:
        n = next(_seq)
        platform = add_platform(db, PlatformInput(
            name=f"LMS {n}", issuer=issuer_url or f"https://lms{n}.test",
            client_id=client_id or f"client-{n}", preset="moodle", deployment_ids=("1",)),
            allow_http=True)
        db.flush()
        return cls(platform, platform.deployments[0].id)

    def launch(self, db: Session, *, sub: str, context_id: str, title: str = "",
               roles: tuple[str, ...] = LEARNER_ROLES, kind: str | None = None,
               email: str = "", sourcedid: str = "", name: str = "",
               locale: str = "") -> tuple[
                   LearnerAccount, Context]:
        """A launch as ``complete_launch`` records it (account, person, context, roster,
        identity proposals)."""
        launch = LaunchContext(
            launch_id=uuid.uuid4().hex, message_type="LtiResourceLinkRequest",
            platform_id=self.platform.id, deployment_pk=self.deployment_pk,
            issuer=self.platform.issuer, client_id=self.platform.client_id,
            deployment_id="1", sub=sub, roles=roles, app_roles=map_roles(roles),
            name=name or f"Learner {sub}", email=email, lis_person_sourcedid=sourcedid,
            context_id=context_id, context_title=title or f"Course {context_id}",
            resource_link_id=f"link-{context_id}",
            custom={"context_kind": kind} if kind else {}, locale=locale)
        record = record_launch(db, launch)
        note_launch(db, launch, account_id=record.account_id, context_pk=record.context_pk)
        db.flush()
        account = db.get(LearnerAccount, record.account_id)
        context = db.get(Context, record.context_pk)
        assert account is not None and context is not None
        db.refresh(account)
        db.refresh(context)
        return account, context


@dataclass
class Campus:
    """An issuer mapped to one LMS, a catalog builder, and helpers to offer credentials."""

    db: Session
    lms: Lms
    issuer: Issuer
    catalog: CatalogBuilder
    skills: dict[str, Skill] = field(default_factory=dict)

    @classmethod
    def create(cls, db: Session, *, link_identities_by: str = "none") -> Campus:
        lms = Lms.register(db)
        slug = f"campus-{next(_seq)}"
        issuer = catalog_service.create_issuer(
            db, {"name": f"College {slug}", "url": f"https://{slug}.example.edu",
                 "email": f"registrar@{slug}.example.edu"}, slug=slug,
            platform_id=lms.platform.id)
        issuer.settings = {"link_identities_by": link_identities_by}
        db.flush()
        return cls(db, lms, issuer, CatalogBuilder(db, issuer))

    def add_lms(self) -> Lms:
        other = Lms.register(self.db)
        catalog_service.map_platform(self.db, self.issuer.id, other.platform.id)
        self.db.flush()
        return other

    def skill(self, code: str) -> Skill:
        if code not in self.skills:
            self.skills[code] = self.catalog.skills(code)[0]
        return self.skills[code]

    def credential(self, code: str, *, required: tuple[str, ...] = (),
                   optional: tuple[str, ...] = (), optional_min: int = 0,
                   routes: tuple[str, ...] = ("integrated", "stand_alone"),
                   state: LifecycleState = LifecycleState.PUBLISHED) -> CredentialVersion:
        for c in (*required, *optional):
            self.skill(c)
        return self.catalog.credential(code, state, required=required, optional=optional,
                                       optional_min=optional_min,
                                       allowed_routes=list(routes))

    def course(self, context_id: str, kind: str | None, lms: Lms | None = None) -> Context:
        """A course shell, its kind told by the platform (custom parameter)."""
        _instructor, context = (lms or self.lms).launch(
            self.db, sub=f"teacher-{context_id}", context_id=context_id, roles=INSTRUCTOR_ROLES,
            kind=kind)
        return context

    def learner(self, sub: str, context: Context, lms: Lms | None = None,
                **kwargs: Any) -> LearnerAccount:
        account, _ = (lms or self.lms).launch(self.db, sub=sub,
                                              context_id=context.lti_context_id, **kwargs)
        return account

    def offer(self, context: Context, version: CredentialVersion) -> Offering:
        return tracking.attach_offering(self.db, issuer_id=self.issuer.id, context=context,
                                        credential_id=version.credential_id, by=TEACHER)


TEACHER = tracking.Assessor(ref="account:teacher", name="Tess Teacher", launch_id="launch-t")


def record(db: Session, context: Context, account: LearnerAccount, skill: Skill,
           outcome: str = "pass", *, ago_minutes: int = 5, method: str = "observation",
           **kwargs: Any) -> tracking.RecordResult:
    kwargs.setdefault("assessor", TEACHER)
    return tracking.record_demonstration(
        db, context=context, account=account, skill=skill, outcome=outcome, method=method,
        demonstrated_at=utcnow() - timedelta(minutes=ago_minutes), **kwargs)


def count(db: Session, model: type[Any], *where: Any) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def tracking_counts(db: Session) -> dict[str, int]:
    """Row counts of the tracking tables: equal before and after means nothing was added."""
    return {m.__tablename__: count(db, m) for m in (Demonstration, Award, Offering, AuditEvent)}

