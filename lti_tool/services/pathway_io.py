"""Pathways in the catalog's JSON import and export (``services.catalog_io``), issue 12.

Exported beside the credentials::

    "pathways": [{"code", "created_at", "versions": [
        {"version", "state", "content" (PathwayInputSchema's fields but ``code``),
         "snapshot", "author_name", "author_ref", "contributors", the timestamps,
         "reviews": [... as for credentials]}]}]

On import every version's content is validated like the form and the API validate it
(fields, then the pathway rules against the catalog *and* the file's credentials: known
steps, rules that can be met, no cycle). A pathway that is not in the catalog is created
with its versions as they are in the file; for one that is, versions identical to the
catalog's change nothing, a draft takes the file's content, versions numbered after the
catalog's latest are added (a published one retires the catalog's published version), and
anything that would rewrite a reviewed or published version is a problem. Problems use
``catalog_io``'s locations (``pathways[0].versions[1].content.groups[0].minimum``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.pathways import (
    CredentialFacts,
    PathwayInputSchema,
    normalise,
    problems,
    spec_of,
)
from lti_tool.models import Pathway, PathwayReview, PathwayVersion
from lti_tool.models.base import utcnow
from lti_tool.services import pathways as service

PATHWAY_KEYS = frozenset({"code", "created_at", "versions"})
TIMESTAMPS = ("created_at", "updated_at", "submitted_at", "approved_at", "published_at",
              "retired_at")
VERSION_KEYS = frozenset({"version", "state", "content", "snapshot", "author_name",
                          "author_ref", "contributors", "reviews", *TIMESTAMPS})
MAX_PATHWAYS = 1000
MAX_VERSIONS = 100
STATES = {s.value for s in LifecycleState}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_pathways(session: Session, issuer_id: int) -> list[dict[str, Any]]:
    result = []
    for pathway in session.scalars(
            select(Pathway).where(Pathway.issuer_id == issuer_id).order_by(Pathway.code)
            .options(selectinload(Pathway.versions).selectinload(PathwayVersion.reviews))):
        versions = []
        for v in pathway.versions:
            content = {k: val for k, val in v.content.items() if k != "code"}
            item: dict[str, Any] = {
                "version": v.version, "state": v.state, "content": content,
                "snapshot": v.snapshot, "author_name": v.author_name,
                "author_ref": v.author_ref, "contributors": list(v.contributors or [])}
            for name in TIMESTAMPS:
                item[name] = _iso(getattr(v, name))
            item["reviews"] = [{"reviewer_name": r.reviewer_name,
                                "reviewer_ref": r.reviewer_ref, "decision": r.decision,
                                "comment": r.comment, "scores": list(r.scores or []),
                                "rubric": list(r.rubric or []),
                                "confirmed_not_met": list(r.confirmed_not_met or []),
                                "created_at": _iso(r.created_at)} for r in v.reviews]
            versions.append(item)
        result.append({"code": pathway.code, "created_at": _iso(pathway.created_at),
                       "versions": versions})
    return result


@dataclass
class PlannedVersion:
    number: int
    state: str
    content: dict[str, Any]
    raw: dict[str, Any]
    timestamps: dict[str, datetime | None]
    reviews: list[dict[str, Any]]


@dataclass
class PlannedPathway:
    code: str
    created_at: datetime | None
    existing: Pathway | None
    versions: list[PlannedVersion] = field(default_factory=list)   # new pathway: all
    add: list[PlannedVersion] = field(default_factory=list)
    update: list[tuple[PathwayVersion, PlannedVersion]] = field(default_factory=list)


def _comparable(content: Mapping[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, default=str)


def _doc_facts(doc_credentials: Any) -> dict[str, CredentialFacts]:
    """What validation needs to know about the file's credentials (it may bring the steps)."""
    facts: dict[str, CredentialFacts] = {}
    if not isinstance(doc_credentials, list):
        return facts
    for item in doc_credentials:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        published, issued, title, hours = None, set(), item["code"], None
        for v in item.get("versions") or []:
            if not isinstance(v, dict) or not isinstance(v.get("version"), int):
                continue
            raw_content = v.get("content")
            content: dict[str, Any] = raw_content if isinstance(raw_content, dict) else {}
            title = str(content.get("title") or title)
            with contextlib.suppress(ArithmeticError):
                hours = Decimal(str(content.get("notional_hours")))
            if v.get("state") in (LifecycleState.PUBLISHED.value,
                                  LifecycleState.RETIRED.value):
                issued.add(v["version"])
            if v.get("state") == LifecycleState.PUBLISHED.value:
                published = v["version"]
        facts[item["code"]] = CredentialFacts(item["code"], title, published,
                                              frozenset(issued), hours)
    return facts


def validate(session: Session, issuer_id: int, raw: Any, doc_credentials: Any,
             add: Callable[[str, str, str], None],
             add_errors: Callable[[str, Mapping[str, list[str]]], None],
             timestamp: Callable[[Any, str, str], datetime | None],
             reviews: Callable[[Any, str], list[dict[str, Any]]]) -> list[PlannedPathway]:
    """The file's pathways planned against the catalog; every problem reported through
    ``add``/``add_errors`` (catalog_io's problem list)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_PATHWAYS:
        add("pathways", "", f"must be a list of at most {MAX_PATHWAYS} pathways")
        return []
    facts = {**service.catalog_facts(session, issuer_id), **_doc_facts(doc_credentials)}
    codes = [p.get("code") for p in raw if isinstance(p, dict)]
    existing = {p.code: p for p in session.scalars(
        select(Pathway).where(Pathway.issuer_id == issuer_id,
                              Pathway.code.in_([c for c in codes if isinstance(c, str)]))
        .options(selectinload(Pathway.versions)))} if codes else {}
    planned: list[PlannedPathway] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"pathways[{i}]"
        if not isinstance(item, dict):
            add(where, "", "must be an object")
            continue
        for key in sorted(set(item) - PATHWAY_KEYS, key=str):
            add(f"{where}.{key}", str(key), "unknown field")
        code = item.get("code")
        if not isinstance(code, str) or not code:
            add(f"{where}.code", "code", "is required")
            continue
        if code in seen:
            add(f"{where}.code", "code", f"{code} is in the file twice")
            continue
        seen.add(code)
        plan = PlannedPathway(code, timestamp(item.get("created_at"), where, "created_at"),
                              existing.get(code))
        versions = item.get("versions")
        if not isinstance(versions, list) or not 1 <= len(versions) <= MAX_VERSIONS:
            add(f"{where}.versions", "versions", f"must hold 1-{MAX_VERSIONS} versions")
            continue
        numbers = []
        for j, v in enumerate(versions):
            vw = f"{where}.versions[{j}]"
            found = _validate_version(v, code, vw, facts, add, add_errors, timestamp, reviews)
            if found is not None:
                plan.versions.append(found)
                numbers.append(found.number)
        if numbers != list(range(1, len(numbers) + 1)) and len(numbers) == len(versions):
            add(f"{where}.versions", "versions", "must be numbered 1, 2, 3 … in order")
            continue
        if plan.existing is not None:
            _merge(plan, where, add)
        planned.append(plan)
    return planned


def _validate_version(v: Any, code: str, where: str, facts: Mapping[str, CredentialFacts],
                      add: Callable[[str, str, str], None],
                      add_errors: Callable[[str, Mapping[str, list[str]]], None],
                      timestamp: Callable[[Any, str, str], datetime | None],
                      reviews: Callable[[Any, str], list[dict[str, Any]]]
                      ) -> PlannedVersion | None:
    from marshmallow import ValidationError

    from lti_tool.domain.catalog_schemas import first_errors

    if not isinstance(v, dict):
        add(where, "", "must be an object")
        return None
    for key in sorted(set(v) - VERSION_KEYS, key=str):
        add(f"{where}.{key}", str(key), "unknown field")
    number, state = v.get("version"), v.get("state")
    ok = True
    if type(number) is not int or number < 1:
        add(f"{where}.version", "version", "must be a whole number from 1")
        ok = False
    if state not in STATES:
        add(f"{where}.state", "state", "must be one of " + ", ".join(sorted(STATES)))
        ok = False
    content = v.get("content")
    if not isinstance(content, dict):
        add(f"{where}.content", "content", "must be an object")
        return None
    try:
        loaded = normalise(PathwayInputSchema().load({**content, "code": code}))
    except ValidationError as exc:
        add_errors(f"{where}.content", first_errors(exc.messages))
        return None
    found = problems(spec_of(loaded), facts)
    if found:
        add_errors(f"{where}.content", found)
        return None
    stamps = {name: timestamp(v.get(name), where, name) for name in TIMESTAMPS}
    found_reviews = reviews(v.get("reviews"), where)
    if not ok:
        return None
    assert isinstance(number, int)
    return PlannedVersion(number, str(state), loaded, v, stamps, found_reviews)


def _merge(plan: PlannedPathway, where: str, add: Callable[[str, str, str], None]) -> None:
    existing = plan.existing
    assert existing is not None
    current = {v.version: v for v in existing.versions}
    latest = max(current)
    for planned in plan.versions:
        have = current.get(planned.number)
        if have is None:
            if planned.number > latest:
                plan.add.append(planned)
            continue
        if _comparable(have.content) == _comparable(planned.content) and \
                have.state == planned.state:
            continue
        if have.state == LifecycleState.DRAFT.value and planned.state == have.state:
            plan.update.append((have, planned))
        else:
            add(f"{where}.versions[{planned.number - 1}]", "content",
                f"version {planned.number} of {plan.code} is {have.state.replace('_', ' ')} "
                "in the catalog and differs from the file: a reviewed or published version "
                "never changes (add a new version instead)")
    plan.versions = []


def apply(session: Session, issuer_id: int, plans: Iterable[PlannedPathway],
          counts: dict[str, int], changes: list[dict[str, str]], *, dry_run: bool) -> None:
    """Count (and, unless ``dry_run``, make) the planned changes."""
    now = utcnow()
    for plan in plans:
        if plan.existing is None:
            counts["pathways_created"] += 1
            changes.append({"kind": "pathway", "code": plan.code, "change": "create",
                            "detail": ", ".join(f"version {v.number} ({v.state})"
                                                for v in plan.versions)})
        elif plan.add or plan.update:
            counts["pathways_updated"] += 1
            for version, _incoming in plan.update:
                changes.append({"kind": "pathway", "code": plan.code, "change": "update",
                                "detail": f"draft version {version.version}"})
            if plan.add:
                changes.append({"kind": "pathway", "code": plan.code,
                                "change": "add_version",
                                "detail": ", ".join(f"version {v.number} ({v.state})"
                                                    for v in plan.add)})
        else:
            counts["pathways_unchanged"] += 1
        if dry_run:
            continue
        pathway = plan.existing
        new_versions = plan.versions
        if pathway is None:
            pathway = Pathway(issuer_id=issuer_id, code=plan.code,
                              created_at=plan.created_at or now)
            session.add(pathway)
            session.flush()
        else:
            new_versions = plan.add
            for version, incoming in plan.update:
                service._apply(session, version, incoming.content)
                version.row_version += 1
                version.updated_at = now
            if any(v.state == LifecycleState.PUBLISHED.value for v in plan.add):
                for old in pathway.versions:
                    if old.state == LifecycleState.PUBLISHED.value:
                        old.state = LifecycleState.RETIRED.value
                        old.retired_at = now
                        old.row_version += 1
        for planned in new_versions:
            raw = planned.raw
            version = PathwayVersion(
                pathway=pathway, version=planned.number, state=planned.state, title="",
                content={}, author_ref=str(raw.get("author_ref") or "import")[:100],
                author_name=str(raw.get("author_name") or "")[:300],
                contributors=[str(c)[:100] for c in raw.get("contributors") or []
                              if isinstance(c, str)][:50],
                snapshot=raw.get("snapshot") if isinstance(raw.get("snapshot"), dict)
                else None,
                **{k: (v or now) if k in ("created_at", "updated_at") else v
                   for k, v in planned.timestamps.items()})
            session.add(version)
            session.flush()
            service._apply(session, version, planned.content)
            if version.snapshot is None and planned.state in (
                    LifecycleState.PUBLISHED.value, LifecycleState.RETIRED.value):
                version.snapshot = service.build_snapshot(session, version)
            for r in planned.reviews:
                version.reviews.append(PathwayReview(**r))
            session.flush()
