"""Factories for demonstration import and tracking-API tests: a course (context) of a
registered platform, mapped to an issuer, with published credentials offered in it and
learners on its roster.

Catalog rows go through the real catalog services; the course and learner accounts are
written as a launch (services.launches) would leave them, so that hundreds or thousands of
learners can be set up without signing hundreds of id_tokens (tests that need the real
launch path use tests.support.lti.full_launch)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState
from lti_tool.models import (
    Award,
    Context,
    CredentialVersion,
    Demonstration,
    Deployment,
    Issuer,
    LearnerAccount,
    Person,
    Platform,
    RosterEntry,
)
from lti_tool.services import catalog, tracking
from lti_tool.services.tracking import Assessor
from tests.support.catalog import CatalogBuilder
from tests.support.platform import TestPlatform

_seq = itertools.count(1)
INSTRUCTOR = Assessor(ref="account:999", name="Ivy Instructor", launch_id="launch-1")


@dataclass
class Learner:
    account_id: int
    person_id: int
    sub: str
    email: str
    sourcedid: str
    name: str


@dataclass
class Course:
    issuer: Issuer
    platform: Platform
    deployment: Deployment
    context: Context
    versions: dict[str, CredentialVersion] = field(default_factory=dict)
    offerings: dict[str, int] = field(default_factory=dict)  # credential code → offering id
    learners: list[Learner] = field(default_factory=list)
    builder: CatalogBuilder | None = None

    @property
    def offering_id(self) -> int:
        return next(iter(self.offerings.values()))

    @property
    def lti_ref(self) -> dict[str, str]:
        return {"issuer": self.platform.issuer, "client_id": self.platform.client_id,
                "deployment_id": self.deployment.deployment_id,
                "context_id": self.context.lti_context_id}


def platform_rows(db: Session, test_platform: TestPlatform) -> tuple[Platform, Deployment]:
    row = db.scalars(select(Platform).where(Platform.issuer == test_platform.issuer,
                                            Platform.client_id == test_platform.client_id)).one()
    deployment = db.scalars(select(Deployment).where(
        Deployment.platform_id == row.id,
        Deployment.deployment_id == test_platform.deployment_id)).one()
    return row, deployment


def make_course(db: Session, test_platform: TestPlatform, *, issuer: Issuer | None = None,
                kind: str = "for-credit", title: str = "Intro to Programming (for credit)",
                lti_context_id: str | None = None,
                credentials: Sequence[tuple[str, Sequence[str]]] = (
                    ("PYF", ("py.vars", "py.loops", "py.funcs")),),
                optional: dict[str, tuple[Sequence[str], int]] | None = None,
                map_platform: bool = True) -> Course:
    """A course of ``test_platform`` (registered by the ``platform`` fixture) offering
    published credentials (code, required skill codes) of ``issuer``."""
    platform, deployment = platform_rows(db, test_platform)
    builder = CatalogBuilder(db, issuer)
    if map_platform:
        catalog.map_platform(db, builder.issuer.id, platform.id)
    context = Context(deployment_id=deployment.id,
                      lti_context_id=lti_context_id or f"ctx-{next(_seq)}", title=title,
                      label=title[:20], kind=kind, kind_source="platform")
    db.add(context)
    db.flush()
    course = Course(builder.issuer, platform, deployment, context, builder=builder)
    existing = {s.code for s in catalog.list_skills(db, builder.author, per_page=100).items}
    for code, required in credentials:
        extra_optional, optional_min = (optional or {}).get(code, ((), 0))
        builder.skills(*[c for c in (*required, *extra_optional) if c not in existing])
        existing.update(required)
        existing.update(extra_optional)
        version = builder.credential(code, LifecycleState.PUBLISHED, required=tuple(required),
                                     optional=tuple(extra_optional), optional_min=optional_min)
        offering = tracking.attach_offering(db, issuer_id=builder.issuer.id, context=context,
                                            credential_id=version.credential_id, by=INSTRUCTOR)
        course.versions[code] = version
        course.offerings[code] = offering.id
    db.commit()
    return course


def add_learners(db: Session, course: Course, count: int, *, prefix: str = "s",
                 names: bool = True) -> list[Learner]:
    """``count`` learners on the course's roster (bulk inserts: thousands are cheap)."""
    start = len(course.learners)
    numbers = range(start + 1, start + count + 1)
    tag = f"{prefix}{course.context.id}"
    person_ids = list(db.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True),
                                 [{"display_name": f"Learner {tag}-{n}" if names else ""}
                                  for n in numbers]))
    rows = [{"platform_id": course.platform.id, "sub": f"{tag}-sub-{n}", "person_id": pid,
             "name": f"Learner {tag}-{n}" if names else "",
             "email": f"{tag}.{n}@students.example.edu",
             "lis_person_sourcedid": f"SIS-{tag}-{n:05d}", "roles_seen": []}
            for n, pid in zip(numbers, person_ids, strict=True)]
    account_ids = list(db.scalars(insert(LearnerAccount).returning(
        LearnerAccount.id, sort_by_parameter_order=True), rows))
    db.execute(insert(RosterEntry), [{"context_id": course.context.id, "account_id": aid,
                                      "status": "active", "source": "nrps", "roles": []}
                                     for aid in account_ids])
    db.commit()
    made = [Learner(aid, row["person_id"], row["sub"], row["email"],
                    row["lis_person_sourcedid"], row["name"])
            for aid, row in zip(account_ids, rows, strict=True)]
    course.learners.extend(made)
    return made


def demonstration_count(db: Session, **where: Any) -> int:
    query = select(func.count()).select_from(Demonstration)
    for name, value in where.items():
        query = query.where(getattr(Demonstration, name) == value)
    return int(db.scalar(query) or 0)


def awards_of(db: Session, person_id: int) -> list[Award]:
    return list(db.scalars(select(Award).where(Award.person_id == person_id)
                           .order_by(Award.id)))


def csv_text(rows: Sequence[Sequence[str]],
             header: Sequence[str] = ("learner", "skill_code", "outcome", "date",
                                      "evidence_url"),
             newline: str = "\r\n") -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
