"""Pathway use cases: the catalog object (create, edit drafts, new versions, lifecycle and
rubric review through the same machinery as credential versions), learners' progress, and
the program credentials the award engine awards when a pathway is completed.

Catalog functions take the Session and an ``Actor`` like ``services.catalog`` and raise
its errors: ValidationFailed (422, field messages), Forbidden (403), NotFound (404, also
for another issuer's pathways), Conflict (409: stale version, refused transition, a
version still open). Nothing commits: callers own the transaction.

Program credentials (``award_programs``): after the engine creates an award, every
published pathway of that issuer which has the awarded credential as a step and a
MicroCred credential as its target is evaluated against the person's standing, active
awards (``domain.pathways.evaluate``); a completed one awards the target with route
``stacked`` and the stacked awards as evidence, in a SAVEPOINT so the partial unique index
on standing awards decides races (same as ``services.tracking``), and its signed
credential is made before the transaction commits (``award_credentials``). A program award
may itself complete another pathway (the loop is bounded: pathways cannot form a cycle).
Revoking an award that a program award rests on flags the program award for review.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.catalog import Action, LifecycleState, Scope
from lti_tool.domain.catalog_schemas import first_errors
from lti_tool.domain.occupations import PathwayRef
from lti_tool.domain.pathways import (
    STACKED_ROUTE,
    CredentialFacts,
    Holding,
    PathwayInputSchema,
    PathwayProgress,
    PathwaySpec,
    evaluate,
    normalise,
    problems,
    spec_of,
)
from lti_tool.domain.tracking import AwardStatus, Outcome
from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import (
    Award,
    Context,
    CredentialSkill,
    CredentialVersion,
    Demonstration,
    MicroCredential,
    Pathway,
    PathwayReview,
    PathwayStepLink,
    PathwayVersion,
    Person,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, award_credentials
from lti_tool.services.catalog import (
    OPEN_STATES,
    Actor,
    Page,
    _check_fresh,
    _like,
    _paginate,
    apply_review,
    apply_transition,
)

PUBLISHED = LifecycleState.PUBLISHED.value
#: Program awards made in one pass at most (pathways chain: a program completes another).
MAX_CHAIN = 10


def _load(data: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = PathwayInputSchema().load(data)
    except ValidationError as exc:
        raise ValidationFailed(first_errors(exc.messages)) from None
    return normalise(result)


# -- catalog facts ------------------------------------------
def catalog_facts(session: Session, issuer_id: int,
                  codes: Iterable[str] | None = None) -> dict[str, CredentialFacts]:
    """Per credential code of the issuer (all, or these): its current published version,
    every version ever published, title and notional hours. Two queries."""
    query = select(MicroCredential.id, MicroCredential.code).where(
        MicroCredential.issuer_id == issuer_id)
    if codes is not None:
        wanted = list(dict.fromkeys(codes))
        if not wanted:
            return {}
        query = query.where(MicroCredential.code.in_(wanted))
    ids = {cid: code for cid, code in session.execute(query)}
    if not ids:
        return {}
    rows = session.execute(
        select(CredentialVersion.credential_id, CredentialVersion.version,
               CredentialVersion.state, CredentialVersion.title,
               CredentialVersion.notional_hours, CredentialVersion.published_at)
        .where(CredentialVersion.credential_id.in_(list(ids)))
        .order_by(CredentialVersion.version))
    info: dict[int, dict[str, Any]] = {cid: {"published": None, "issued": set(), "title": code,
                                             "hours": None} for cid, code in ids.items()}
    for cid, version, state, title, hours, published_at in rows:
        entry = info[cid]
        entry["title"] = title
        if entry["hours"] is None or state == PUBLISHED:
            entry["hours"] = hours
        if published_at is not None or state in (PUBLISHED, LifecycleState.RETIRED.value):
            entry["issued"].add(version)
        if state == PUBLISHED:
            entry["published"] = version
            entry["hours"] = hours
            entry["title_published"] = title
    return {ids[cid]: CredentialFacts(
        code=ids[cid], title=str(e.get("title_published") or e["title"]),
        published_version=e["published"], issued_versions=frozenset(e["issued"]),
        notional_hours=Decimal(str(e["hours"])) if e["hours"] is not None else None)
        for cid, e in info.items()}


def _credential_ids(session: Session, issuer_id: int, codes: Iterable[str]) -> dict[str, int]:
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    return {code: cid for cid, code in session.execute(
        select(MicroCredential.id, MicroCredential.code).where(
            MicroCredential.issuer_id == issuer_id, MicroCredential.code.in_(wanted)))}


def _other_stacks(session: Session, issuer_id: int,
                  pathway_id: int | None) -> list[tuple[str, str]]:
    """(step code → target code) edges of the issuer's other published pathways."""
    edges: list[tuple[str, str]] = []
    for version in _published(session, issuer_id):
        if version.pathway_id == pathway_id:
            continue
        spec = spec_of(version.snapshot or version.content)
        if spec.target_credential:
            edges += [(code, spec.target_credential) for code in spec.step_codes]
    return edges


def check(session: Session, issuer_id: int, content: Mapping[str, Any], *,
          publishing: bool = False, pathway_id: int | None = None) -> None:
    """Raises ValidationFailed with every problem of the content (see
    ``domain.pathways.problems``)."""
    spec = spec_of(content)
    codes = [*spec.step_codes, *([spec.target_credential] if spec.target_credential else [])]
    errors = problems(spec, catalog_facts(session, issuer_id, codes), publishing=publishing,
                      other_stacks=_other_stacks(session, issuer_id, pathway_id))
    if errors:
        raise ValidationFailed(errors)


def _apply(session: Session, version: PathwayVersion, content: dict[str, Any]) -> None:
    """Copy ``content`` to the version's columns and step links."""
    spec = spec_of(content)
    version.content = content
    version.title = spec.title
    version.description = spec.description
    version.translations = dict(content.get("translations") or {})
    issuer_id = version.pathway.issuer_id
    ids = _credential_ids(session, issuer_id, [*spec.step_codes,
                                               *([spec.target_credential]
                                                 if spec.target_credential else [])])
    version.target_credential_id = ids.get(spec.target_credential or "")
    wanted = {ids[c] for c in spec.step_codes if c in ids}
    version.step_links = [link for link in version.step_links if link.credential_id in wanted]
    have = {link.credential_id for link in version.step_links}
    for cid in sorted(wanted - have):
        version.step_links.append(PathwayStepLink(credential_id=cid))


# -- create, edit, versions ------------------------------------------
def create_pathway(session: Session, actor: Actor, data: Mapping[str, Any]) -> PathwayVersion:
    """A new pathway with its first draft. Raises ValidationFailed (incl. a code already
    used, unknown credentials, a rule no learner can meet, a cycle). Not idempotent."""
    actor.require(Scope.CATALOG_WRITE)
    content = _load(dict(data))
    if pathway_by_code(session, actor.issuer_id, content["code"]) is not None:
        raise ValidationFailed({"code": [f"{content['code']} is already used by another "
                                         "pathway"]})
    check(session, actor.issuer_id, content)
    pathway = Pathway(issuer_id=actor.issuer_id, code=content["code"])
    session.add(pathway)
    version = PathwayVersion(pathway=pathway, version=1, state=LifecycleState.DRAFT.value,
                             author_ref=actor.ref, author_name=actor.name[:300],
                             contributors=[actor.ref], title="", content={})
    session.add(version)
    session.flush()
    _apply(session, version, content)
    session.flush()
    audit.record(session, "pathway.created", subject_type="pathway_version",
                 subject_id=version.id, detail={"by": actor.ref, "code": pathway.code})
    return version


def pathway_by_code(session: Session, issuer_id: int, code: str) -> Pathway | None:
    return session.scalars(select(Pathway).where(Pathway.issuer_id == issuer_id,
                                                 Pathway.code == code)).first()


def get_version(session: Session, actor: Actor, version_id: int) -> PathwayVersion:
    actor.require(Scope.CATALOG_READ)
    return _own_version(session, actor, version_id)


def _own_version(session: Session, actor: Actor, version_id: int) -> PathwayVersion:
    version = session.get(PathwayVersion, version_id)
    if version is None or version.pathway.issuer_id != actor.issuer_id:
        raise NotFound("No such pathway version in this catalog.")
    return version


def get_pathway(session: Session, actor: Actor, pathway_id: int) -> Pathway:
    actor.require(Scope.CATALOG_READ)
    pathway = session.get(Pathway, pathway_id)
    if pathway is None or pathway.issuer_id != actor.issuer_id:
        raise NotFound("No such pathway in this catalog.")
    return pathway


def update_draft(session: Session, actor: Actor, version_id: int, data: Mapping[str, Any],
                 expected_row_version: int | None = None) -> PathwayVersion:
    """Replace a draft's fields. Raises Conflict (not a draft, or stale), ValidationFailed."""
    actor.require(Scope.CATALOG_WRITE)
    version = _own_version(session, actor, version_id)
    if version.state != LifecycleState.DRAFT.value:
        raise Conflict("Only a draft can be edited. A published version never changes: "
                       "start a new version to change it.", code="not_editable")
    _check_fresh(version.row_version, expected_row_version)
    content = _load(dict(data))
    if content["code"] != version.pathway.code:
        raise ValidationFailed({"code": ["cannot change once created"]})
    check(session, actor.issuer_id, content, pathway_id=version.pathway_id)
    _apply(session, version, content)
    if actor.ref not in (version.contributors or []):
        version.contributors = [*(version.contributors or []), actor.ref]
    version.row_version += 1
    version.updated_at = utcnow()
    session.flush()
    audit.record(session, "pathway.edited", subject_type="pathway_version",
                 subject_id=version.id, detail={"by": actor.ref})
    return version


def new_version(session: Session, actor: Actor, pathway_id: int) -> PathwayVersion:
    """Start the next draft from the latest version. Raises Conflict if a version is still
    open (draft, in review or approved)."""
    actor.require(Scope.CATALOG_WRITE)
    pathway = get_pathway(session, actor, pathway_id)
    open_version = next((v for v in pathway.versions if v.state in OPEN_STATES), None)
    if open_version is not None:
        still = open_version.state.replace("_", " ")
        raise Conflict(f"Version {open_version.version} is still {still}; finish or withdraw "
                       "it first.", code="version_open")
    latest = pathway.versions[-1]
    content = dict(latest.content)
    version = PathwayVersion(pathway=pathway, version=latest.version + 1,
                             state=LifecycleState.DRAFT.value, author_ref=actor.ref,
                             author_name=actor.name[:300], contributors=[actor.ref],
                             title=latest.title, content={})
    session.add(version)
    session.flush()
    _apply(session, version, content)
    session.flush()
    audit.record(session, "pathway.new_version", subject_type="pathway_version",
                 subject_id=version.id, detail={"by": actor.ref, "from": latest.version})
    return version


def build_snapshot(session: Session, version: PathwayVersion) -> dict[str, Any]:
    """The content frozen at publication, with each step's title, notional hours and the
    version current then, and the target's title."""
    content = dict(version.content)
    spec = spec_of(content)
    codes = [*spec.step_codes, *([spec.target_credential] if spec.target_credential else [])]
    facts = catalog_facts(session, version.pathway.issuer_id, codes)
    french = _french_titles(session, version.pathway.issuer_id, codes)
    groups = []
    for g in content.get("groups") or []:
        steps = []
        for s in g.get("steps") or []:
            f = facts.get(s["credential"])
            if french.get(s["credential"]):
                s = {**s, "title_fr": french[s["credential"]]}
            steps.append({**s, "title": f.title if f else s["credential"],
                          "notional_hours": str(f.notional_hours)
                          if f and f.notional_hours is not None else None,
                          "current_version": f.published_version if f else None})
        groups.append({**g, "steps": steps})
    target = dict(content.get("target") or {})
    if target.get("credential"):
        f = facts.get(target["credential"])
        target["title"] = f.title if f else target["credential"]
        if french.get(target["credential"]):
            target["title_fr"] = french[target["credential"]]
    return {**content, "groups": groups, "target": target, "version": version.version}


def _french_titles(session: Session, issuer_id: int, codes: Iterable[str]) -> dict[str, str]:
    """The French titles of the current published versions of these credentials."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    out: dict[str, str] = {}
    for code, content in session.execute(
            select(MicroCredential.code, CredentialVersion.content)
            .join(CredentialVersion, CredentialVersion.credential_id == MicroCredential.id)
            .where(MicroCredential.issuer_id == issuer_id, MicroCredential.code.in_(wanted),
                   CredentialVersion.state == PUBLISHED)):
        fr = ((content or {}).get("translations") or {}).get("fr") or {}
        if isinstance(fr, dict) and isinstance(fr.get("title"), str) and fr["title"]:
            out[code] = fr["title"]
    return out


def transition(session: Session, actor: Actor, version_id: int, action: Action,
               expected_row_version: int | None = None) -> PathwayVersion:
    """submit / withdraw / publish / retire. Submitting and publishing check the pathway
    against the catalog as it is now (every step and the target published, pinned
    versions that exist, no cycle with the issuer's other pathways): ValidationFailed with
    every problem. Publishing then awards the program credential to learners who already
    hold what it asks for. Raises Conflict (refused transition, stale)."""
    actor.require(Scope.CATALOG_WRITE)
    version = _own_version(session, actor, version_id)
    if action in (Action.SUBMIT, Action.PUBLISH) and \
            version.state in (LifecycleState.DRAFT.value, LifecycleState.APPROVED.value):
        check(session, actor.issuer_id, version.content, publishing=True,
              pathway_id=version.pathway_id)
    apply_transition(session, actor, version, action, expected_row_version,
                     siblings=version.pathway.versions,
                     snapshot=lambda v: build_snapshot(session, v),
                     event_prefix="pathway", subject_type="pathway_version")
    if action is Action.PUBLISH:
        award_programs_for_pathway(session, version)
    return version


def review(session: Session, actor: Actor, version_id: int, data: Mapping[str, Any],
           expected_row_version: int | None = None) -> PathwayReview:
    """A rubric review of a pathway version in review, with the credentials' rules
    (``services.catalog.apply_review``: separation of duties, every criterion scored,
    "not met" confirmed). Raises Forbidden, Conflict, ValidationFailed."""
    actor.require(Scope.REVIEW)
    version = _own_version(session, actor, version_id)
    row = apply_review(session, actor, version, data, expected_row_version,
                       make_row=PathwayReview, event_prefix="pathway",
                       subject_type="pathway_version")
    assert isinstance(row, PathwayReview)
    return row


def input_of(version: PathwayVersion) -> dict[str, Any]:
    """The version's fields in PathwayInputSchema's shape (forms, exports, the API)."""
    data = dict(version.content)
    data["code"] = version.pathway.code
    return data


def list_pathways(session: Session, actor: Actor, *, q: str = "", state: str = "",
                  page: int = 1, per_page: int = 50) -> Page:
    """Pathways with their latest version (filtered on that version)."""
    actor.require(Scope.CATALOG_READ)
    latest = (select(PathwayVersion.pathway_id, func.max(PathwayVersion.version).label("v"))
              .group_by(PathwayVersion.pathway_id).subquery())
    query = (select(PathwayVersion)
             .join(latest, (PathwayVersion.pathway_id == latest.c.pathway_id)
                   & (PathwayVersion.version == latest.c.v))
             .join(Pathway, Pathway.id == PathwayVersion.pathway_id)
             .where(Pathway.issuer_id == actor.issuer_id)
             .options(selectinload(PathwayVersion.pathway)))
    if q:
        pattern = _like(q.strip()[:100].lower())
        query = query.where(func.lower(PathwayVersion.title).like(pattern, escape="\\")
                            | func.lower(Pathway.code).like(pattern, escape="\\"))
    if state:
        query = query.where(PathwayVersion.state == state)
    return _paginate(session, query.order_by(PathwayVersion.title, PathwayVersion.id),
                     page, per_page)


# -- published pathways ---------------------------------------------------------------
def _published(session: Session, issuer_id: int) -> list[PathwayVersion]:
    return list(session.scalars(
        select(PathwayVersion).join(Pathway, Pathway.id == PathwayVersion.pathway_id)
        .where(Pathway.issuer_id == issuer_id, PathwayVersion.state == PUBLISHED)
        .options(selectinload(PathwayVersion.pathway)).order_by(PathwayVersion.title)))


@dataclass(frozen=True)
class PublishedPathway:
    """A published pathway as pages, the API and the engine read it: its frozen snapshot
    parsed (``spec``: titles, translations, groups, target …)."""

    version_id: int
    code: str
    version: int
    target_credential_id: int | None
    spec: PathwaySpec


#: Parsed snapshots of published versions, by (version id, publication time): a published
#: snapshot never changes, so every worker may keep its parse (bounded; cleared when full).
_SPECS: dict[tuple[int, str], PathwaySpec] = {}
_SPECS_MAX = 5000


def _with_specs(session: Session, rows: Sequence[Any]) -> list[PublishedPathway]:
    """``rows`` of (id, code, version, target id, published_at) → PublishedPathways,
    loading only the snapshots not parsed yet (one query)."""
    keys = {row[0]: (row[0], str(row[4])) for row in rows}
    missing = [vid for vid, key in keys.items() if key not in _SPECS]
    if missing:
        if len(_SPECS) + len(missing) > _SPECS_MAX:
            _SPECS.clear()
        for vid, snapshot, content in session.execute(
                select(PathwayVersion.id, PathwayVersion.snapshot, PathwayVersion.content)
                .where(PathwayVersion.id.in_(missing))):
            _SPECS[keys[vid]] = spec_of(snapshot or content)
    return [PublishedPathway(row[0], row[1], row[2], row[3], _SPECS[keys[row[0]]])
            for row in rows]


def _published_rows(issuer_id: int) -> Any:
    return (select(PathwayVersion.id, Pathway.code, PathwayVersion.version,
                   PathwayVersion.target_credential_id, PathwayVersion.published_at)
            .join(Pathway, Pathway.id == PathwayVersion.pathway_id)
            .where(Pathway.issuer_id == issuer_id, PathwayVersion.state == PUBLISHED))


def published_pathways(session: Session, issuer_id: int) -> list[PublishedPathway]:
    """The issuer's published pathways, by title."""
    rows = session.execute(_published_rows(issuer_id).order_by(PathwayVersion.title,
                                                               PathwayVersion.id)).all()
    return _with_specs(session, rows)


def published_pathway(session: Session, issuer_id: int, code: str) -> PublishedPathway | None:
    rows = session.execute(_published_rows(issuer_id).where(Pathway.code == code)).all()
    found = _with_specs(session, rows)
    return found[0] if found else None


def pathways_with_credential(session: Session, issuer_id: int,
                             credential_ids: Iterable[int]) -> list[PublishedPathway]:
    """Published pathways one of the credentials is a step or the target of."""
    ids = list(set(credential_ids))
    if not ids:
        return []
    step_of = select(PathwayStepLink.version_id).where(PathwayStepLink.credential_id.in_(ids))
    rows = session.execute(_published_rows(issuer_id).where(
        PathwayVersion.id.in_(step_of) | PathwayVersion.target_credential_id.in_(ids))
        .order_by(PathwayVersion.title, PathwayVersion.id)).all()
    return _with_specs(session, rows)


# -- a learner's progress ------------------------------------------
def holdings(session: Session, person_id: int, issuer_id: int
             ) -> tuple[dict[str, Holding], set[str]]:
    """The person's active awards of the issuer by credential code, and the codes of
    credentials under review (flagged). One query."""
    held, flagged, _standing = _standing_awards(session, person_id, issuer_id)
    return held, flagged


def _standing_awards(session: Session, person_id: int, issuer_id: int
                     ) -> tuple[dict[str, Holding], set[str], set[int]]:
    held: dict[str, Holding] = {}
    flagged: set[str] = set()
    standing: set[int] = set()
    for code, version, status, award_id, credential_id, public_id in session.execute(
            select(MicroCredential.code, CredentialVersion.version, Award.status, Award.id,
                   Award.credential_id, Award.public_id)
            .join(MicroCredential, MicroCredential.id == Award.credential_id)
            .join(CredentialVersion, CredentialVersion.id == Award.version_id)
            .where(Award.person_id == person_id, Award.issuer_id == issuer_id,
                   Award.status != AwardStatus.REVOKED.value)):
        standing.add(credential_id)
        if status == AwardStatus.ACTIVE.value:
            held[code] = Holding(version, f"{award_id}:{public_id}")
        else:
            flagged.add(code)
    return held, flagged, standing


def started_codes(session: Session, person_id: int, issuer_id: int) -> set[str]:
    """Credentials (current published versions) the person has a current pass toward."""
    superseded = select(Demonstration.supersedes_id).where(
        Demonstration.person_id == person_id, Demonstration.supersedes_id.is_not(None))
    passed = select(Demonstration.skill_id).where(
        Demonstration.person_id == person_id, Demonstration.outcome == Outcome.PASS.value,
        Demonstration.id.not_in(superseded))
    return set(session.scalars(
        select(MicroCredential.code).distinct()
        .join(CredentialVersion, CredentialVersion.credential_id == MicroCredential.id)
        .join(CredentialSkill, CredentialSkill.version_id == CredentialVersion.id)
        .where(MicroCredential.issuer_id == issuer_id, CredentialVersion.state == PUBLISHED,
               CredentialSkill.skill_id.in_(passed))))


@dataclass(frozen=True)
class LearnerPathway:
    pathway: PublishedPathway
    progress: PathwayProgress


def progress_for_person(session: Session, person_id: int, issuer_id: int, *,
                        credential_ids: Iterable[int] | None = None,
                        only_started: bool = False) -> list[LearnerPathway]:
    """The person's progress on the issuer's published pathways (those with one of
    ``credential_ids`` as a step or target; ``only_started``: those with a step earned or
    in progress). Three queries, then pure evaluation."""
    if credential_ids is not None:
        pathways = pathways_with_credential(session, issuer_id, credential_ids)
    else:
        pathways = published_pathways(session, issuer_id)
    if not pathways:
        return []
    held, flagged = holdings(session, person_id, issuer_id)
    started = started_codes(session, person_id, issuer_id) | flagged
    result = []
    for p in pathways:
        progress = evaluate(p.spec, held, started)
        if only_started and not progress.started and not progress.complete:
            continue
        result.append(LearnerPathway(p, progress))
    return result


# -- program credentials ------------------------------------------
def _candidates(session: Session, issuer_id: int, credential_ids: Iterable[int]
                ) -> list[PublishedPathway]:
    """Published pathways of the issuer with a MicroCred target and one of these
    credentials as a step. One query (and one more for snapshots not parsed yet)."""
    ids = list(set(credential_ids))
    if not ids:
        return []
    rows = session.execute(_published_rows(issuer_id).where(
        PathwayVersion.target_credential_id.is_not(None),
        PathwayVersion.id.in_(select(PathwayStepLink.version_id).where(
            PathwayStepLink.credential_id.in_(ids)))).order_by(PathwayVersion.id)).all()
    return _with_specs(session, rows)


def award_programs(session: Session, *, person_id: int, new_awards: Sequence[Award],
                   context: Context | None) -> list[Award]:
    """Award the target credential of every published pathway that the person's new
    awards complete (see the module docstring). The caller holds the person's row lock
    (``tracking._serialise_people``). Idempotent: a held target is skipped and a racing
    insert loses to the partial unique index."""
    created: list[Award] = []
    frontier = list(new_awards)
    for _ in range(MAX_CHAIN):
        by_issuer: dict[int, set[int]] = {}
        for award in frontier:
            by_issuer.setdefault(award.issuer_id, set()).add(award.credential_id)
        frontier = []
        for issuer_id, credential_ids in by_issuer.items():
            candidates = _candidates(session, issuer_id, credential_ids)
            if not candidates:
                continue
            frontier += _award_completed(session, person_id, issuer_id, candidates, context)
        if not frontier:
            break
        created += frontier
    return created


def _award_completed(session: Session, person_id: int, issuer_id: int,
                     candidates: Sequence[PublishedPathway],
                     context: Context | None) -> list[Award]:
    held, _flagged, standing = _standing_awards(session, person_id, issuer_id)
    created = []
    for pathway in candidates:
        if pathway.target_credential_id in standing:
            continue
        progress = evaluate(pathway.spec, held)
        if not progress.complete:
            continue
        made = _create_program_award(session, person_id, issuer_id, pathway, progress,
                                     context)
        if made is not None:
            award, version_number = made
            created.append(award)
            standing.add(award.credential_id)
            held[pathway.spec.target_credential or ""] = Holding(
                version_number, f"{award.id}:{award.public_id}")
    return created


def _create_program_award(session: Session, person_id: int, issuer_id: int,
                          pathway: PublishedPathway, progress: PathwayProgress,
                          context: Context | None) -> tuple[Award, int] | None:
    target_id = pathway.target_credential_id
    assert target_id is not None
    target = session.execute(
        select(CredentialVersion.id, CredentialVersion.version)
        .where(CredentialVersion.credential_id == target_id,
               CredentialVersion.state == PUBLISHED)
        .order_by(CredentialVersion.version.desc()).limit(1)).first()
    if target is None:
        # Retired since the pathway was published: nothing can be issued; say so.
        audit.record(session, "pathway.target_unpublished", subject_type="pathway_version",
                     subject_id=pathway.version_id, detail={"person": person_id})
        return None
    # Holding refs are "<award id>:<public id>" (``_standing_awards``).
    refs = sorted((int(ref.split(":")[0]), ref.split(":")[1]) for ref in progress.counted
                  if ref)
    stacked = [award_id for award_id, _ in refs]
    award = Award(public_id=secrets.token_urlsafe(16), issuer_id=issuer_id,
                  person_id=person_id, credential_id=target_id, version_id=target.id,
                  route=STACKED_ROUTE, context_id=context.id if context else None,
                  demonstration_ids=[],
                  extra={"pathway": {"code": pathway.code, "version": pathway.version,
                                     "title": pathway.spec.title},
                         "stacked_award_ids": stacked,
                         "stacked_public_ids": [public_id for _, public_id in refs]})
    try:
        with session.begin_nested():
            session.add(award)
            session.flush()
    except IntegrityError:
        return None  # another transaction awarded it first: the unique index decided
    audit.record(session, "award.created", context_id=award.context_id, subject_type="award",
                 subject_id=award.id,
                 detail={"person": person_id, "route": STACKED_ROUTE,
                         "version": target.id, "pathway": pathway.code, "stacked": stacked})
    award_credentials.note_new_award(session, award)
    return award, int(target.version)


def award_programs_for_pathway(session: Session, version: PathwayVersion) -> list[Award]:
    """After publication: award the target to everyone whose awards already complete the
    pathway. People are locked in id order like the engine does. Idempotent."""
    if version.target_credential_id is None:
        return []
    step_ids = [link.credential_id for link in version.step_links]
    people = sorted(set(session.scalars(select(Award.person_id).where(
        Award.credential_id.in_(step_ids), Award.status == AwardStatus.ACTIVE.value))))
    created: list[Award] = []
    for start in range(0, len(people), 500):
        batch = people[start:start + 500]
        session.execute(select(Person.id).where(Person.id.in_(batch)).order_by(Person.id)
                        .with_for_update(key_share=True))
        published = [p for p in pathways_with_credential(
            session, version.pathway.issuer_id, [version.target_credential_id])
            if p.version_id == version.id]
        for person_id in batch:
            made = _award_completed(session, person_id, version.pathway.issuer_id,
                                    published, None)
            if made:
                created += made
                created += award_programs(session, person_id=person_id, new_awards=made,
                                          context=None)
    return created


def flag_programs_resting_on(session: Session, award: Award, *, by_ref: str,
                             flagged: bool = False) -> list[Award]:
    """An award was revoked (or, ``flagged``, put under review): flag for review every
    standing program award of the same person that was awarded on it (an administrator
    keeps or revokes it). Idempotent."""
    result = []
    for program in session.scalars(select(Award).where(
            Award.person_id == award.person_id, Award.route == STACKED_ROUTE,
            Award.status == AwardStatus.ACTIVE.value)):
        if award.id not in ((program.extra or {}).get("stacked_award_ids") or []):
            continue
        program.status = AwardStatus.FLAGGED.value
        program.flagged_at = utcnow()
        program.flag_reason = (
            "A micro-credential this program credential was awarded on is under review: "
            f"{award.flag_reason}" if flagged else
            "A micro-credential this program credential was awarded on was revoked: "
            f"{award.revoked_reason}")[:2000]
        audit.record(session, "award.flagged", context_id=program.context_id,
                     subject_type="award", subject_id=program.id,
                     detail={"revoked_award": award.id, "by": by_ref})
        result.append(program)
    if result:
        session.flush()
    return result


def occupation_pathways(session: Session, issuer_id: int,
                        credential_ids: frozenset[int]) -> list[PathwayRef]:
    """The issuer's published pathways with one of these credentials as a step, as the
    occupations' design aid needs them (``domain.occupations.PathwayRef``: its public page
    address is site-relative). Two queries."""
    from lti_tool.models import Issuer

    found = pathways_with_credential(session, issuer_id, credential_ids)
    if not found:
        return []
    issuer = session.get(Issuer, issuer_id)
    slug = issuer.slug if issuer is not None else ""
    steps: dict[int, set[int]] = {}
    for version_id, credential_id in session.execute(
            select(PathwayStepLink.version_id, PathwayStepLink.credential_id).where(
                PathwayStepLink.version_id.in_([p.version_id for p in found]))):
        steps.setdefault(version_id, set()).add(credential_id)
    return [PathwayRef(id=p.version_id, title=p.spec.title,
                       url=f"/c/{slug}/pathways/{p.code}",
                       credential_ids=frozenset(steps.get(p.version_id, set())))
            for p in found]
