"""Helpers for the learner-view, deep-linking and identity-link tests: real launches through
the HTTP flow (Moodle-shaped claims), a published "Python Programming Fundamentals" built
through the catalog services, offerings and demonstrations recorded through
``services.tracking`` (what the instructor's grid does)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.lti import CLAIM_CONTEXT, CLAIM_CUSTOM, CLAIM_ROLES, ROLE_MEMBERSHIP
from lti_tool.models import Context, CredentialVersion, Issuer, LearnerAccount, Skill
from lti_tool.models.base import utcnow
from lti_tool.services import catalog as catalog_service
from lti_tool.services import tracking
from lti_tool.services.platforms import find_platform
from tests.conftest import register_platform
from tests.support.admin import INSTITUTION_ADMIN, Page
from tests.support.catalog import CatalogBuilder, skill_data
from tests.support.lti import full_launch
from tests.support.platform import FakeTransport, TestPlatform, moodle_fixture, query_of

LEARNER = ROLE_MEMBERSHIP + "Learner"
INSTRUCTOR = ROLE_MEMBERSHIP + "Instructor"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"

INTROPROG = "learner_claims_INTROPROG.json"      # "Intro to Programming (for credit)"
CODETEACH = "learner_claims_CODETEACH.json"      # "Coding for Teachers (continuing ed)"
INTROPROG_TITLE = "Intro to Programming (for credit)"
CODETEACH_TITLE = "Coding for Teachers (continuing ed)"

SKILLS = {"PY-VAR": "Variables and types", "PY-FLOW": "Control flow",
          "PY-FUNC": "Functions", "PY-DEBUG": "Debugging", "PY-TEST": "Testing",
          "PY-REC": "Recursion"}
TEACHER = tracking.Assessor(ref="account:teacher", name="Terry Teacher", launch_id="l-1")


@dataclass
class Launched:
    """A launched user with their own client (cookies apart) and launch token."""

    client: FlaskClient
    lt: str
    sub: str
    response: TestResponse

    def get(self, path: str, **params: Any) -> TestResponse:
        return self.client.get(path, query_string={"lt": self.lt, **params})

    def page(self, path: str = "/app", **params: Any) -> Page:
        return Page(self.get(path, **params))

    def post(self, path: str, data: dict[str, Any]) -> TestResponse:
        return self.client.post(path, data={"lt": self.lt, **data})


def launch(app: Flask, platform: TestPlatform, fixture: str = INTROPROG, *, sub: str | None = None,
           name: str | None = None, email: str | None = None, roles: list[str] | None = None,
           custom: dict[str, str] | None = None, context: dict[str, Any] | None = None,
           **claims: Any) -> Launched:
    """A full OIDC login + launch; the claims are the Moodle capture's unless overridden."""
    client = app.test_client()
    base = moodle_fixture(fixture)
    overrides: dict[str, Any] = dict(claims)
    if sub is not None:
        overrides["sub"] = sub
    if name is not None:
        given, _, family = name.partition(" ")
        overrides.update(name=name, given_name=given, family_name=family)
    if email is not None:
        overrides["email"] = email
    if roles is not None:
        overrides[CLAIM_ROLES] = roles
    if custom is not None:
        overrides[CLAIM_CUSTOM] = {**base.get(CLAIM_CUSTOM, {}), **custom}
    if context is not None:
        overrides[CLAIM_CONTEXT] = {**copy.deepcopy(base[CLAIM_CONTEXT]), **context}
    response = full_launch(client, platform, fixture, **overrides)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return Launched(client, query_of(response.headers["Location"])["lt"],
                    str(overrides.get("sub", base["sub"])), response)


def second_platform(db: Session, transport: FakeTransport, issuer: Issuer | None = None,
                    name: str = "Canvas test") -> TestPlatform:
    """Another LMS (its own issuer, client id and key), mapped to ``issuer`` if given."""
    other = TestPlatform(issuer="https://canvas.test", client_id="10000000000042",
                         deployment_id="7:abc", key_name="platform-b")
    row = register_platform(db, other, transport, name=name)
    if issuer is not None:
        catalog_service.map_platform(db, issuer.id, row.id)
        db.commit()
    return other


def make_issuer(db: Session, platform: TestPlatform, slug: str = "northern",
                **settings: Any) -> Issuer:
    row = find_platform(db, platform.issuer, platform.client_id)
    assert row is not None
    issuer = catalog_service.create_issuer(
        db, {"name": "Northern College", "url": "https://northern.example.edu",
             "email": "registrar@northern.example.edu"}, slug=slug, platform_id=row.id)
    if settings:
        issuer.settings = dict(settings)
    db.commit()
    return issuer


@dataclass
class Catalog:
    issuer: Issuer
    builder: CatalogBuilder
    skills: dict[str, Skill]

    def publish(self, code: str, title: str, required: tuple[str, ...],
                optional: tuple[str, ...] = (), optional_min: int = 0,
                routes: tuple[str, ...] = ("integrated", "stand_alone"),
                state: LifecycleState = LifecycleState.PUBLISHED) -> CredentialVersion:
        version = self.builder.credential(code, state, required=required, optional=optional,
                                          optional_min=optional_min, title=title,
                                          allowed_routes=list(routes))
        self.builder.db.commit()
        return version


def python_catalog(db: Session, issuer: Issuer) -> tuple[Catalog, CredentialVersion]:
    """Six skills and "Python Programming Fundamentals": four required skills and one of
    Testing or Recursion (so 5 in all)."""
    builder = CatalogBuilder(db, issuer)
    skills = {code: catalog_service.create_skill(db, builder.author, skill_data(code, name=name))
              for code, name in SKILLS.items()}
    found = Catalog(issuer, builder, skills)
    version = found.publish("PY-FUND", "Python Programming Fundamentals",
                            required=("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG"),
                            optional=("PY-TEST", "PY-REC"), optional_min=1)
    return found, version


def context_of(db: Session, platform: TestPlatform, lti_context_id: str) -> Context:
    row = find_platform(db, platform.issuer, platform.client_id)
    assert row is not None
    db.expire_all()
    return db.scalars(select(Context).join(Context.deployment).where(
        Context.lti_context_id == lti_context_id,
        Context.deployment.has(platform_id=row.id))).one()


def account_of(db: Session, platform: TestPlatform, sub: str) -> LearnerAccount:
    row = find_platform(db, platform.issuer, platform.client_id)
    assert row is not None
    db.expire_all()
    return db.scalars(select(LearnerAccount).where(LearnerAccount.platform_id == row.id,
                                                   LearnerAccount.sub == sub)).one()


def offer(db: Session, issuer: Issuer, context: Context,
          version: CredentialVersion) -> None:
    tracking.attach_offering(db, issuer_id=issuer.id, context=context,
                             credential_id=version.credential_id, by=TEACHER)
    db.commit()


def demonstrate(db: Session, context: Context, account: LearnerAccount, skill: Skill,
                outcome: str = "pass", *, days_ago: int = 1, **kwargs: Any
                ) -> tracking.RecordResult:
    kwargs.setdefault("assessor", TEACHER)
    kwargs.setdefault("method", "in_course_assignment")
    result = tracking.record_demonstration(
        db, context=context, account=account, skill=skill, outcome=outcome,
        demonstrated_at=utcnow() - timedelta(days=days_ago), **kwargs)
    db.commit()
    return result


def admin(app: Flask, platform: TestPlatform, sub: str = "admin-1",
          name: str = "Avery Admin") -> Launched:
    return launch(app, platform, "instructor_claims_INTROPROG.json", sub=sub, name=name,
                  email=f"{sub}@example.edu", roles=[INSTITUTION_ADMIN, INSTRUCTOR])


def skill_block(page: Any, name: str) -> str:
    """The HTML of one skill's card on a learner's page (its <li>)."""
    import re

    html = page if isinstance(page, str) else page.html
    match = re.search(r'<li class="skill-status">\s*<details[^>]*>\s*<summary>[^\n]*?'
                      r'<span class="skill-title"[^>]*>' + re.escape(name) + r'</span>.*?</li>\s*'
                      r'(?=<li class="skill-status">|</ul>)', html, re.S)
    assert match, f"no skill card for {name}"
    return match.group(0)
