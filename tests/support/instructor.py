"""Helpers for the instructor pages' tests (/course): launch people into Moodle-shaped
courses through the real OIDC flow, publish a credential in the launch platform's issuer
through the catalog services, and read the grid.

Everything goes through the real services and pages, so a test's "learner on the roster of
a for-credit course" is exactly what a launch produces."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.lti import CLAIM_CUSTOM, CLAIM_ROLES, ROLE_MEMBERSHIP
from lti_tool.models import (
    AuditEvent,
    Award,
    CredentialVersion,
    Demonstration,
    EvidenceFile,
    Issuer,
    LearnerAccount,
    Offering,
)
from tests.support.admin import Page, Person
from tests.support.admin import make_issuer as make_platform_issuer
from tests.support.catalog import CatalogBuilder
from tests.support.lti import full_launch
from tests.support.platform import REMOVE, TestPlatform, query_of

INSTRUCTOR = ROLE_MEMBERSHIP + "Instructor"
LEARNER = ROLE_MEMBERSHIP + "Learner"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
INTRO = "instructor_claims_INTROPROG.json"      # context "2", Intro to Programming
CODETEACH = "instructor_claims_CODETEACH.json"  # context "3", Coding for Teachers


def launch_as(app: Flask, platform: TestPlatform, *, sub: str, name: str | None,
              roles: list[str], fixture: str = INTRO, kind: str | None = None,
              email: str | None = None) -> Person:
    """A real login + launch; ``name=None`` launches with no name and no email (Canvas's
    anonymous privacy level)."""
    client = app.test_client()
    overrides: dict[str, Any] = {"sub": sub, CLAIM_ROLES: roles}
    if name is None:
        overrides.update(name=REMOVE, given_name=REMOVE, family_name=REMOVE, email=REMOVE)
    else:
        given, _, family = name.partition(" ")
        overrides.update(name=name, given_name=given, family_name=family,
                         email=email if email is not None else f"{sub}@example.edu")
    custom = {"context_memberships_url": "http://127.0.0.1:8088/nrps"}
    if kind:
        custom["context_kind"] = kind
    overrides[CLAIM_CUSTOM] = custom
    response = full_launch(client, platform, fixture, **overrides)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return Person(client, query_of(response.headers["Location"])["lt"], sub)


@dataclass
class Published:
    version: CredentialVersion
    skill_ids: dict[str, int] = field(default_factory=dict)

    @property
    def credential_id(self) -> int:
        return self.version.credential_id

    @property
    def title(self) -> str:
        return self.version.title


def publish(db: Session, issuer: Issuer, code: str, required: tuple[str, ...],
            optional: tuple[str, ...] = (), optional_min: int = 0, title: str = "",
            routes: tuple[str, ...] = ("integrated", "stand_alone"),
            builder: CatalogBuilder | None = None) -> Published:
    """A published credential of ``issuer`` with skills of these codes (created if new)."""
    builder = builder or CatalogBuilder(db, issuer)
    from lti_tool.services import catalog

    for skill_code in (*required, *optional):
        if catalog.skill_by_code(db, issuer.id, skill_code) is None:
            builder.skills(skill_code)
    version = builder.credential(code, LifecycleState.PUBLISHED, required=required,
                                 optional=optional, optional_min=optional_min,
                                 allowed_routes=list(routes),
                                 title=title or f"Credential {code}")
    db.commit()
    ids = {link.skill.code: link.skill.id for link in version.skill_links}
    return Published(version, ids)


def issuer_for(db: Session, platform: TestPlatform, slug: str = "northern") -> Issuer:
    return make_platform_issuer(db, platform, slug)


def account_id(db: Session, platform_sub: str) -> int:
    db.expire_all()
    found = db.scalar(select(LearnerAccount.id).where(LearnerAccount.sub == platform_sub))
    assert found is not None, platform_sub
    return found


def counts(db: Session) -> dict[str, int]:
    """Row counts of every tracking table: equal before and after means nothing changed."""
    db.expire_all()
    return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0
            for m in (Demonstration, Award, Offering, EvidenceFile, AuditEvent)}


def offering_open(db: Session) -> list[Offering]:
    db.expire_all()
    return list(db.scalars(select(Offering).where(Offering.detached_at.is_(None))))


# -- reading the grid ---------------------------------------------------------------------------
CELL = re.compile(r'<td( class="(?P<cls>[a-z])")?><button name="c" value="(?P<value>[0-9.]+)"'
                  r'[^>]*aria-labelledby="(?P<labels>[^"]+)"[^>]*>(?P<inner>.*?)</button></td>')
STATUS_BY_CLASS = {"d": "demonstrated", "a": "attempted", None: "not_yet"}


@dataclass(frozen=True)
class GridCell:
    account_id: int
    skill_id: int
    status: str
    text: str
    name: str   # the accessible name, as aria-labelledby assembles it


def grid_cells(page: Page) -> dict[tuple[int, int], GridCell]:
    """Every cell of the grid page: its status, visible text and accessible name (the
    texts of the elements aria-labelledby points at, in order)."""
    html = page.html
    ids = dict(re.findall(r'id="([A-Za-z][A-Za-z0-9_]*)"[^>]*>([^<]*)<', html))
    result = {}
    for match in CELL.finditer(html):
        aid, sid = (int(x) for x in match.group("value").split("."))
        inner = unescape(re.sub(r"<[^>]+>", " ", match.group("inner")))
        inner = re.sub(r"\s+", " ", inner).strip()
        parts = []
        for ref in match.group("labels").split():
            parts.append(inner if ref.startswith("c") else unescape(ids.get(ref, "?")))
        result[(aid, sid)] = GridCell(aid, sid, STATUS_BY_CLASS[match.group("cls")], inner,
                                      " ".join(p for p in parts if p))
    return result


@dataclass
class Setup:
    """Intro to Programming (for credit) with Terry (instructor), Lena and Omar (learners)
    on its roster, and "Python Basics" (PY-VARS, PY-CTRL required) published in the
    platform's issuer."""

    issuer: Issuer
    cred: Published
    terry: Person
    lena: Person
    omar: Person
    lena_id: int
    omar_id: int

    def skill(self, code: str) -> int:
        return self.cred.skill_ids[code]


def intro_course(app: Flask, db: Session, platform: TestPlatform,
                 kind: str | None = "for-credit") -> Setup:
    issuer = issuer_for(db, platform)
    cred = publish(db, issuer, "PYB", ("PY-VARS", "PY-CTRL"), title="Python Basics")
    lena = launch_as(app, platform, sub="lena", name="Lena Learner", roles=[LEARNER],
                     kind=kind)
    omar = launch_as(app, platform, sub="omar", name="Omar Osei", roles=[LEARNER], kind=kind)
    terry = launch_as(app, platform, sub="terry", name="Terry Teacher", roles=[INSTRUCTOR],
                      kind=kind)
    return Setup(issuer, cred, terry, lena, omar, account_id(db, "lena"),
                 account_id(db, "omar"))


def attach(person: Person, credential_id: int) -> Any:
    page = person.page("/course/offerings")
    assert page.status == 200, page.text[:300]
    form = page.form("/course/offerings/attach", containing=str(credential_id))
    return person.submit(form)


def record(person: Person, account: int, skill: int, **fields: Any) -> Any:
    """Submit the cell page's real record form. The form preselects no outcome: a test
    that does not pass one records a pass (``outcome=""`` submits none)."""
    fields.setdefault("outcome", "pass")
    page = person.page("/course/cell", c=f"{account}.{skill}")
    assert page.status == 200, page.text[:300]
    form = page.form("/course/cell")
    data = form.data()
    files = fields.pop("files", None)
    for name, value in fields.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    payload: dict[str, Any] = {k: data.getlist(k) for k in data}
    if files:
        payload.update(files)
    return person.client.post(form.action, data=payload, content_type="multipart/form-data")


def csrf_of(app: Flask, person: Person) -> str:
    """The CSRF token of a person's launch (what every form of theirs carries)."""
    from lti_tool.lti.runtime import runtime
    from lti_tool.web.common.launch_session import csrf_for

    with app.test_request_context():
        return csrf_for(runtime().tokens.read(person.lt))


def post(person: Person, path: str, data: dict[str, Any] | None = None,
         csrf: str | None = None) -> Any:
    payload = {"lt": person.lt, **(data or {})}
    if csrf is not None:
        payload["csrf_token"] = csrf
    return person.client.post(path, data=payload)
