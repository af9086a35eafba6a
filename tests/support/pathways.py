"""Builders for pathway tests: pathway input and a pathway brought to any lifecycle state
through the real services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, LifecycleState
from lti_tool.models import PathwayVersion
from lti_tool.services import pathways
from tests.support.catalog import CatalogBuilder, review_data


def pathway_data(code: str = "PATH", *, core: tuple[str, ...] = ("A", "B"),
                 choose: tuple[str, ...] = (), choose_min: int = 0,
                 target: str | None = "PROG", order: tuple[tuple[str, str], ...] = (),
                 **overrides: Any) -> dict[str, Any]:
    groups: list[dict[str, Any]] = [
        {"key": "core", "title": "Core", "rule": "all",
         "steps": [{"credential": c, "articulation": {"credit_bearing": True,
                                                      "credits": "1.5"}} for c in core]}]
    if choose:
        groups.append({"key": "electives", "title": "Electives", "rule": "choose",
                       "minimum": choose_min,
                       "steps": [{"credential": c} for c in choose]})
    data: dict[str, Any] = {
        "code": code, "title": f"Pathway {code}", "description": f"How {code} stacks.",
        "target": {"credential": target,
                   "external": {"name": "Certificate program", "institution": "Test College",
                                "grants": "Two course exemptions."}},
        "articulation": {"credit_bearing": True, "credits": "3",
                         "courses": [{"code": "CERT-100", "title": "Foundations",
                                      "relation": "exempts"}],
                         "transfer_notes": "Registrar: apply exemptions on request."},
        "groups": groups, "order": [list(p) for p in order],
        "translations": {"fr": {"title": f"Cheminement {code}"}},
    }
    data.update(overrides)
    return data


def to_state(b: CatalogBuilder, version: PathwayVersion,
             state: LifecycleState) -> PathwayVersion:
    path = {
        LifecycleState.DRAFT: [], LifecycleState.IN_REVIEW: ["submit"],
        LifecycleState.APPROVED: ["submit", "approve"],
        LifecycleState.PUBLISHED: ["submit", "approve", "publish"],
        LifecycleState.RETIRED: ["submit", "approve", "publish", "retire"],
        LifecycleState.REJECTED: ["submit", "reject"],
    }[state]
    for step in path:
        if step in ("approve", "reject"):
            pathways.review(b.db, b.reviewer, version.id,
                            review_data(b.db, b.issuer.id, step))
        else:
            pathways.transition(b.db, b.author, version.id, Action(step))
    assert version.state == state.value
    return version


def published_pathway(db: Session, b: CatalogBuilder, **kwargs: Any) -> PathwayVersion:
    version = pathways.create_pathway(db, b.author, pathway_data(**kwargs))
    return to_state(b, version, LifecycleState.PUBLISHED)
