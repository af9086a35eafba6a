"""Factories for catalog tests: issuers, actors, skills, credentials at any lifecycle state.

Everything goes through the real services (no rows written behind their back), so a test
that builds a "published version" gets exactly what an institution would have."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, LifecycleState, Scope
from lti_tool.models import (
    AuditEvent,
    CredentialSkill,
    CredentialVersion,
    Issuer,
    MicroCredential,
    Review,
    RubricCriterionRow,
    Skill,
)
from lti_tool.services import catalog
from lti_tool.services.catalog import Actor

ALL_SCOPES = frozenset(Scope)
_seq = itertools.count(1)


def make_issuer(db: Session, slug: str | None = None, **profile: Any) -> Issuer:
    slug = slug or f"college-{next(_seq)}"
    data = {"name": f"College {slug}", "url": f"https://{slug}.example",
            "email": f"registrar@{slug}.example", "description": "A test college.",
            "languages": ["en"], **profile}
    return catalog.create_issuer(db, data, slug=slug, actor_ref="test")


def actor(issuer: Issuer, ref: str = "account:1", name: str = "Ada Author",
          scopes: frozenset[Scope] = ALL_SCOPES) -> Actor:
    return Actor(ref=ref, name=name, issuer_id=issuer.id, scopes=scopes)


def skill_data(code: str, **overrides: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Skill {code}", "description": f"About {code}.",
            "criteria": f"Shows {code} in a practical task.",
            "alignments": [{"framework": "ESCO", "target_url":
                            f"http://data.europa.eu/esco/skill/{code.lower()}",
                            "target_code": code, "target_name": f"ESCO {code}",
                            "target_type": "ESCO"}],
            "tags": ["test"], **overrides}


def credential_data(code: str, required: tuple[str, ...] = ("S1", "S2"),
                    optional: tuple[str, ...] = (), optional_min: int = 0,
                    **overrides: Any) -> dict[str, Any]:
    return {"code": code, "title": f"Credential {code}",
            "short_description": f"What {code} certifies.",
            "long_description": "A longer description.\n\nWith two paragraphs.",
            "learning_outcomes": ["Explain the first thing.", "Do the second thing."],
            "assessment_kind": "pass_fail_demonstration",
            "assessment_method": "Observed practical tasks.", "notional_hours": "12",
            "credit_bearing": False, "delivery_modes": ["asynchronous"],
            "stand_alone_value": "Useful at work.", "target_occupations": ["Technician"],
            "field_of_study": "Testing", "level": "Introductory", "languages": ["en"],
            "required_skills": list(required), "optional_skills": list(optional),
            "optional_min": optional_min, "allowed_routes": ["integrated", "stand_alone"],
            "tags": ["test"], **overrides}


def review_data(db: Session, issuer_id: int, decision: str = "approve", comment: str = "",
                level: str = "met") -> dict[str, Any]:
    if decision != "approve" and not comment:
        comment = "Please rework the outcomes."
    return {"decision": decision, "comment": comment,
            "scores": [{"criterion": c.key, "level": level, "comment": f"on {c.key}"}
                       for c in catalog.rubric_for(db, issuer_id)]}


class CatalogBuilder:
    """An issuer with an author, an editor and two reviewers, and helpers to bring a
    credential version to any state."""

    def __init__(self, db: Session, issuer: Issuer | None = None) -> None:
        self.db = db
        self.issuer = issuer or make_issuer(db)
        self.author = actor(self.issuer, "account:author", "Ada Author")
        self.editor = actor(self.issuer, "account:editor", "Eddie Editor")
        self.reviewer = actor(self.issuer, "account:reviewer", "Rita Reviewer")
        self.reviewer2 = actor(self.issuer, "account:reviewer2", "Rob Reviewer")

    def skills(self, *codes: str) -> list[Skill]:
        return [catalog.create_skill(self.db, self.author, skill_data(c)) for c in codes]

    def draft(self, code: str = "CRED", **kwargs: Any) -> CredentialVersion:
        return catalog.create_credential(self.db, self.author, credential_data(code, **kwargs))

    def to_state(self, version: CredentialVersion, state: LifecycleState) -> CredentialVersion:
        """Move a fresh draft forward to ``state`` through the real transitions."""
        path = {
            LifecycleState.DRAFT: [],
            LifecycleState.IN_REVIEW: ["submit"],
            LifecycleState.APPROVED: ["submit", "approve"],
            LifecycleState.PUBLISHED: ["submit", "approve", "publish"],
            LifecycleState.RETIRED: ["submit", "approve", "publish", "retire"],
            LifecycleState.REJECTED: ["submit", "reject"],
        }[state]
        for step in path:
            if step in ("approve", "reject", "request_changes"):
                catalog.review(self.db, self.reviewer, version.id,
                               review_data(self.db, self.issuer.id, step))
            else:
                catalog.transition(self.db, self.author, version.id, Action(step))
        assert version.state == state.value
        return version

    def credential(self, code: str, state: LifecycleState, **kwargs: Any) -> CredentialVersion:
        return self.to_state(self.draft(code, **kwargs), state)


def catalog_counts(db: Session) -> dict[str, int]:
    """Row counts of every catalog table: equal before and after means nothing changed."""
    models = (Skill, MicroCredential, CredentialVersion, CredentialSkill, Review,
              RubricCriterionRow, AuditEvent)
    return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0
            for m in models}
