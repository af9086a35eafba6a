"""Skill tracking and the award engine.

- Offerings attach published catalog credentials to a course; detaching keeps records.
- Demonstrations are append-only; a correction supersedes an earlier record, with a reason.
- After every demonstration change the learner's rules for the credentials offered in that
  course are evaluated; a satisfied rule creates exactly one standing (not revoked) Award
  per (person, credential), inside a SAVEPOINT, so double submits, two workers and retries
  never create two (a partial unique index decides the race; the loser carries on).
- A revoked award stays revoked; the credential can be earned again, as a new award (and a
  new signed credential), once a pass recorded after the revocation completes the rule.
- A demonstration counts wherever it was made if the credential allows that route; the
  award records the route, the course and the demonstrations it rests on.
- When a supporting pass is superseded by a fail, the award is flagged (never silently
  removed); an instructor may revoke it with a reason. Course grades are never read.
- New awards may complete a published pathway: its program credential is awarded too
  (``services.pathways.award_programs``); revoking an award a program award rests on
  flags the program award for review.

Every function raises ToolError subclasses and commits nothing.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Integer, any_, bindparam, exists, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from lti_tool.domain.catalog import EarningRule, LifecycleState, Route, RuleProgress
from lti_tool.domain.lti import ContextKind, LaunchContext
from lti_tool.domain.pathways import STACKED_ROUTE
from lti_tool.domain.tracking import (
    COURSE_METHODS,
    WORKFLOW_ROUTES,
    AwardStatus,
    Cell,
    DemonstrationFact,
    Method,
    Outcome,
    award_route,
    complete_evidence_url,
    counting_passes,
    passes_after_revocation,
    route_for_kind,
    summarise_cell,
)
from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import (
    Award,
    Context,
    CredentialSkill,
    CredentialVersion,
    Demonstration,
    Issuer,
    LearnerAccount,
    MicroCredential,
    Offering,
    Person,
    Skill,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, award_credentials, gradebook, pathways
from lti_tool.services.catalog import issuer_for_platform, published_version
from lti_tool.services.launches import LaunchRecord
from lti_tool.translate import gettext as _


@dataclass(frozen=True)
class Assessor:
    """Who records: ``account:<id>`` (a launched instructor) or ``token:<id>`` (API)."""

    ref: str
    name: str
    launch_id: str = ""
    account_id: int | None = None


# -- offerings ------------------------------------------------------------------------------
def active_offerings(session: Session, context_id: int) -> list[Offering]:
    return list(session.scalars(select(Offering).where(
        Offering.context_id == context_id, Offering.detached_at.is_(None))
        .order_by(Offering.attached_at, Offering.id)))


def attach_offering(session: Session, *, issuer_id: int, context: Context, credential_id: int,
                    by: Assessor) -> Offering:
    """Attach a published credential of the issuer's catalog. Idempotent (re-attaching a
    detached offering reactivates it). Raises NotFound, Conflict (not published)."""
    credential = session.get(MicroCredential, credential_id)
    if credential is None or credential.issuer_id != issuer_id:
        raise NotFound(_("No such micro-credential in your institution's catalog."))
    if published_version(session, issuer_id, credential.code) is None:
        raise Conflict(_("Only a published micro-credential can be offered in a course."),
                       code="not_published")
    offering = session.scalars(select(Offering).where(
        Offering.context_id == context.id, Offering.credential_id == credential.id)).first()
    if offering is None:
        offering = Offering(context_id=context.id, credential_id=credential.id,
                            issuer_id=issuer_id, attached_by=by.ref)
        session.add(offering)
    elif offering.detached_at is not None:
        offering.detached_at = None
        offering.attached_by = by.ref
        offering.attached_at = utcnow()
    else:
        return offering
    session.flush()
    audit.record(session, "offering.attached", actor_account_id=by.account_id,
                 context_id=context.id, subject_type="offering", subject_id=offering.id,
                 launch_id=by.launch_id, detail={"credential": credential.code})
    return offering


def detach_offering(session: Session, *, context: Context, offering_id: int,
                    by: Assessor) -> Offering:
    """Detach; demonstrations and awards stay. Idempotent. Raises NotFound."""
    offering = session.get(Offering, offering_id)
    if offering is None or offering.context_id != context.id:
        raise NotFound(_("No such offering in this course."))
    if offering.detached_at is None:
        offering.detached_at = utcnow()
        audit.record(session, "offering.detached", actor_account_id=by.account_id,
                     context_id=context.id, subject_type="offering", subject_id=offering.id,
                     launch_id=by.launch_id)
        session.flush()
    return offering


def set_context_kind(session: Session, context: Context, kind: str, by: Assessor) -> None:
    """The instructor sets the kind when the platform has not told us."""
    parsed = ContextKind.parse(kind)
    if parsed is None:
        raise ValidationFailed({"kind": [_("must be for-credit, continuing-ed or other")]})
    if context.kind_source == "platform":
        raise Conflict(_("The learning platform sets this course's kind."), code="kind_locked")
    if context.kind != parsed.value:
        audit.record(session, "context.kind_set", actor_account_id=by.account_id,
                     context_id=context.id, subject_type="context", subject_id=context.id,
                     launch_id=by.launch_id, detail={"from": context.kind, "to": parsed.value})
        context.kind = parsed.value
        context.kind_source = "instructor"
        session.flush()


@dataclass(frozen=True)
class OfferedCredential:
    offering: Offering
    version: CredentialVersion
    rule: EarningRule
    skills: list[Skill]          # in the version's order
    allowed_routes: tuple[str, ...]


def offered_credentials(session: Session, context: Context) -> list[OfferedCredential]:
    """The active offerings with their current published version and rule."""
    # Four queries whatever the number of offerings and skills (offerings + credentials,
    # versions + skill links + skills), instead of three per offering and one per skill. The
    # current published version is the highest published one, as ``published_version``
    # gives (an offering's issuer is its credential's issuer: attach_offering checks it).
    offerings = list(session.scalars(select(Offering).where(
        Offering.context_id == context.id, Offering.detached_at.is_(None))
        .order_by(Offering.attached_at, Offering.id)
        .options(selectinload(Offering.credential))))
    if not offerings:
        return []
    current: dict[int, CredentialVersion] = {}
    for candidate in session.scalars(
            select(CredentialVersion).where(
                CredentialVersion.credential_id.in_({o.credential_id for o in offerings}),
                CredentialVersion.state == LifecycleState.PUBLISHED.value)
            .order_by(CredentialVersion.credential_id, CredentialVersion.version.desc())
            .options(selectinload(CredentialVersion.skill_links)
                     .joinedload(CredentialSkill.skill))):
        current.setdefault(candidate.credential_id, candidate)
    result = []
    for offering in offerings:
        version = current.get(offering.credential_id)
        if version is None:
            continue  # retired: no new awards from this offering
        result.append(_offered(offering, version))
    return result


def _offered(offering: Offering, version: CredentialVersion) -> OfferedCredential:
    links = list(version.skill_links)
    rule = EarningRule(
        tuple(link.skill.code for link in links if link.requirement == "required"),
        tuple(link.skill.code for link in links if link.requirement == "optional"),
        int(version.content.get("optional_min", 0)))
    return OfferedCredential(offering, version, rule, [link.skill for link in links],
                             tuple(version.content.get("allowed_routes", [])))


def credentials_to_evaluate(session: Session, context: Context,
                            credential: MicroCredential) -> list[OfferedCredential]:
    """The course's offered credentials plus ``credential`` even where this course does not
    offer it: a PLAR decision recorded in a PLAR shell awards the credential it assessed
    (its current published version). The extra entry's offering is a transient row (never
    added to the session) naming the course, the credential and its issuer."""
    offered = offered_credentials(session, context)
    if any(o.offering.credential_id == credential.id for o in offered):
        return offered
    version = published_version(session, credential.issuer_id, credential.code)
    if version is None:
        return offered
    transient = Offering(context_id=context.id, credential_id=credential.id,
                         issuer_id=credential.issuer_id)
    return [*offered, _offered(transient, version)]


# -- demonstrations ----------------------------------------------------------------------------
MAX_NOTE = 4000


def current_facts(session: Session, person_ids: Iterable[int],
                  skill_ids: Iterable[int]) -> dict[tuple[int, int], list[DemonstrationFact]]:
    """Current (not superseded) demonstrations by (person, skill), across every course."""
    persons, skills = list(set(person_ids)), list(set(skill_ids))
    facts: dict[tuple[int, int], list[DemonstrationFact]] = defaultdict(list)
    if not persons or not skills:
        return facts
    connection = _core_connection(session)
    dialect = connection.dialect.name
    params = {"persons": persons, "skills": skills}
    # Dict lookups, not Enum(value) calls: ~30x cheaper, and this loop runs per fact. The
    # facts are built by tuple.__new__ (what DemonstrationFact(...) does, without its
    # Python-level __new__): ~14,000 of them for a 600 x 40 grid.
    outcomes, routes = _OUTCOMES, _ROUTES
    new, fact_type = tuple.__new__, DemonstrationFact
    if len(persons) < NAMES_APART_FROM:
        # ``.all()``: one fetchall from the driver instead of a fetch per row.
        for (did, pid, sid, code, outcome, route, at, assessor, ctx_title, recorded) in \
                connection.execute(_current_facts_statement(dialect), params).all():
            facts[(pid, sid)].append(new(fact_type, (
                did, code, outcomes[outcome], routes[route], at, assessor or "",
                ctx_title or "", recorded)))
        return facts
    rows = connection.execute(_current_facts_statement(dialect, names_apart=True),
                              params).all()
    # The rows name their skill and course by id: the codes and titles come from the
    # few skills asked for and courses named.
    code_of = dict(connection.execute(_skill_codes_statement(dialect), params).all())
    named = list({row[7] for row in rows if row[7] is not None})
    title_of = dict(connection.execute(_context_titles_statement(dialect),
                                       {"contexts": named}).all()).get if named else {}.get
    for (did, pid, sid, outcome, route, at, assessor, ctx, recorded) in rows:
        facts[(pid, sid)].append(new(fact_type, (
            did, code_of[sid], outcomes[outcome], routes[route], at, assessor or "",
            title_of(ctx) or "", recorded)))
    return facts


def facts_by_person(facts: dict[tuple[int, int], list[DemonstrationFact]]
                    ) -> dict[int, dict[int, list[DemonstrationFact]]]:
    """``current_facts``' answer by person, then skill: a grid row (or export line) reads
    its learner's dict once instead of a (person, skill) key per cell."""
    by_person: dict[int, dict[int, list[DemonstrationFact]]] = {}
    for (pid, sid), cell_facts in facts.items():
        mine = by_person.get(pid)
        if mine is None:
            mine = by_person[pid] = {}
        mine[sid] = cell_facts
    return by_person


#: From this many people on, ``current_facts`` reads the skills' codes and the courses'
#: titles apart (two small queries over the skills asked for and the courses the rows
#: name) instead of joining every row to its skill and course: for a 600-learner grid
#: (14,000 rows) the joins made PostgreSQL sort and merge the rows and cost it about twice
#: the CPU of the three queries. For one learner (recording) the joins are cheaper than
#: more round trips.
NAMES_APART_FROM = 50


def id_in(column: Any, name: str, dialect_name: str) -> Any:
    """``column IN (<the ids bound as name>)``. On PostgreSQL one array parameter (``=
    ANY(:name)``, the plan PostgreSQL makes of an IN list anyway): an expanding IN of 600
    learners renders 600 placeholders that the driver parses again at every execution
    (psycopg caches no conversion of a query that long), ~10 ms of CPU per grid query.
    Elsewhere (SQLite) an expanding IN."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


@lru_cache(maxsize=8)
def _current_facts_statement(dialect_name: str, names_apart: bool = False) -> Any:
    """Built once per dialect and form: building and hashing the statement each call cost
    more than running it for one learner. ``names_apart``: no skill code, and the course's
    id where its title would be (``current_facts`` reads both apart)."""
    later = aliased(Demonstration)
    # NOT EXISTS, not LEFT JOIN … IS NULL: PostgreSQL then plans a real anti-join with a
    # sane row estimate; the outer-join form was estimated at one row and joined skills and
    # contexts by nested loops (~150 ms instead of ~15 ms for a 600 x 40 grid).
    statement: Any
    if names_apart:
        statement = select(Demonstration.id, Demonstration.person_id, Demonstration.skill_id,
                           Demonstration.outcome, Demonstration.route,
                           Demonstration.demonstrated_at, Demonstration.assessor_name,
                           Demonstration.context_id, Demonstration.recorded_at)
    else:
        statement = (select(Demonstration.id, Demonstration.person_id,
                            Demonstration.skill_id, Skill.code, Demonstration.outcome,
                            Demonstration.route, Demonstration.demonstrated_at,
                            Demonstration.assessor_name, Context.title,
                            Demonstration.recorded_at)
                     .join(Skill, Skill.id == Demonstration.skill_id)
                     .outerjoin(Context, Context.id == Demonstration.context_id))
    return statement.where(id_in(Demonstration.person_id, "persons", dialect_name),
                           id_in(Demonstration.skill_id, "skills", dialect_name),
                           ~exists().where(later.supersedes_id == Demonstration.id))


@lru_cache(maxsize=4)
def _skill_codes_statement(dialect_name: str) -> Any:
    return select(Skill.id, Skill.code).where(id_in(Skill.id, "skills", dialect_name))


@lru_cache(maxsize=4)
def _context_titles_statement(dialect_name: str) -> Any:
    return select(Context.id, Context.title).where(id_in(Context.id, "contexts", dialect_name))


_OUTCOMES = {o.value: o for o in Outcome}
_ROUTES: dict[str | None, Route | None] = {r.value: r for r in Route}
_ROUTES.update({None: None, "": None})  # no route (a course of kind "other")


def _core_connection(session: Session) -> Connection:
    """The session's connection (same transaction), for a large read of plain columns:
    Core result rows cost about a third less CPU than the ORM's for ~14,000 rows. The
    session's pending changes are flushed first, exactly as its autoflush would (and not
    inside a ``no_autoflush`` block)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


def _check_evidence_url(url: str) -> str:
    """The evidence link, completed with https:// when typed without a scheme; only
    http(s) is accepted."""
    url = complete_evidence_url(url)
    if not url:
        return ""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1000:
        raise ValidationFailed({"evidence_url": [_("must be an http(s) URL (%(max)s characters "
                                                   "at most)", max=1000)]})
    return url


def check_shared_fields(*, method: str, evidence_url: str,
                        evidence_note: str) -> dict[str, list[str]]:
    """The field errors of a demonstration's method and evidence (nothing else), so a form
    recording several at once can report them all before recording any. (A workflow's
    method, "plar" or "transfer", is refused by ``record_demonstration`` without its
    route.)"""
    errors: dict[str, list[str]] = {}
    try:
        Method(method)
    except ValueError:
        errors["method"] = [_("must be one of %(values)s",
                              values=", ".join(m.value for m in COURSE_METHODS))]
    if len(evidence_note) > MAX_NOTE:
        errors["evidence_note"] = [_("%(max)s characters at most", max=MAX_NOTE)]
    try:
        _check_evidence_url(evidence_url)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    return errors


@dataclass
class RecordResult:
    demonstration: Demonstration
    new_awards: list[Award] = field(default_factory=list)
    flagged_awards: list[Award] = field(default_factory=list)


def record_demonstration(
    session: Session, *, context: Context | None, account: LearnerAccount, skill: Skill,
    outcome: str, method: str, assessor: Assessor, evidence_url: str = "",
    evidence_note: str = "", evidence_file_id: int | None = None,
    demonstrated_at: datetime | None = None, supersedes_id: int | None = None,
    reason: str = "", offered: Sequence[OfferedCredential] | None = None,
    route: Route | None = None,
) -> RecordResult:
    """Append one demonstration (or a correction superseding one), then evaluate awards.
    ``offered``: the course's ``offered_credentials`` if the caller already read them in
    this transaction (saves reading them again). ``route``: the route of a pass assessed
    outside the course's teaching: ``Route.PLAR`` from a PLAR decision, ``Route.TRANSFER``
    from a transfer decision (each the only way to record its method, "plar" or
    "transfer"); by default the course kind's route. With ``context`` None (a transfer,
    recorded outside any course) nothing is evaluated here: the workflow awards through
    ``award_by_route``. Raises ValidationFailed (bad field), Conflict (already superseded),
    NotFound."""
    errors: dict[str, list[str]] = {}
    try:
        parsed_outcome = Outcome(outcome)
    except ValueError:
        errors["outcome"] = [_("must be pass or fail")]
    errors.update(check_shared_fields(method=method, evidence_url=evidence_url,
                                      evidence_note=evidence_note))
    parsed_method = Method(method) if "method" not in errors else Method.OBSERVATION
    evidence_url = complete_evidence_url(evidence_url)
    now = utcnow()
    at = demonstrated_at or now
    if at.tzinfo is None:
        errors["demonstrated_at"] = [_("needs a time zone")]
    elif at > now:
        errors["demonstrated_at"] = [_("cannot be in the future")]
    previous = None
    if supersedes_id is not None:
        previous = session.get(Demonstration, supersedes_id)
        if previous is None or previous.person_id != account.person_id or \
                previous.skill_id != skill.id:
            raise NotFound(_("The demonstration to correct does not exist for this learner and "
                           "skill."))
        if not reason.strip():
            errors["reason"] = [_("say why the earlier record is corrected")]
        if session.scalars(select(Demonstration.id).where(
                Demonstration.supersedes_id == supersedes_id)).first() is not None:
            raise Conflict(_("That record was already corrected; correct the latest one."),
                           code="already_superseded")
    workflow_route = route if route in WORKFLOW_ROUTES.values() else None
    if "method" not in errors and WORKFLOW_ROUTES.get(parsed_method) != workflow_route:
        errors["method"] = [
            _("a PLAR assessment or a transfer is recorded through its own request")
            if parsed_method in WORKFLOW_ROUTES else
            _("must be one of %(values)s", values=", ".join(m.value for m in COURSE_METHODS))]
    if errors:
        raise ValidationFailed(errors)
    if route is None:
        route = route_for_kind(context.kind) if context is not None else None
    context_id = context.id if context is not None else None
    demo = Demonstration(
        person_id=account.person_id, account_id=account.id, skill_id=skill.id,
        context_id=context_id, route=route.value if route else None,
        outcome=parsed_outcome.value, method=parsed_method.value, evidence_url=evidence_url,
        evidence_note=evidence_note.strip(), evidence_file_id=evidence_file_id,
        assessor_ref=assessor.ref, assessor_name=assessor.name[:300],
        demonstrated_at=at, supersedes_id=supersedes_id, reason=reason.strip()[:2000],
        launch_id=assessor.launch_id)
    try:
        # Added inside the SAVEPOINT: begin_nested() flushes pending objects *before* it
        # emits SAVEPOINT, so a row added earlier would be inserted outside it and a lost
        # correction race would abort the caller's whole transaction (PostgreSQL).
        with session.begin_nested():
            session.add(demo)
            session.flush()
    except IntegrityError:
        raise Conflict(_("That record was already corrected; correct the latest one."),
                       code="already_superseded") from None
    audit.record(session, "demonstration.corrected" if previous else "demonstration.recorded",
                 actor_account_id=assessor.account_id, context_id=context_id,
                 subject_type="demonstration", subject_id=demo.id,
                 launch_id=assessor.launch_id,
                 detail={"person": account.person_id, "skill": skill.code,
                         "outcome": parsed_outcome.value, "by": assessor.ref,
                         "supersedes": supersedes_id, "method": parsed_method.value,
                         "route": route.value if route else None})
    result = RecordResult(demo)
    if previous is not None and previous.outcome == Outcome.PASS.value and \
            parsed_outcome is Outcome.FAIL:
        # Only a pass corrected to a fail undermines an award (fixing a pass's evidence
        # link does not).
        result.flagged_awards = _flag_awards_resting_on(session, previous, demo, assessor)
    if context is not None:
        result.new_awards = evaluate_awards(session, person_id=account.person_id,
                                            context=context, offered=offered)
    return result


def _flag_awards_resting_on(session: Session, previous: Demonstration, demo: Demonstration,
                            assessor: Assessor) -> list[Award]:
    flagged = []
    for award in session.scalars(select(Award).where(
            Award.person_id == previous.person_id,
            Award.status == AwardStatus.ACTIVE.value)):
        if previous.id not in (award.demonstration_ids or []):
            continue
        award.status = AwardStatus.FLAGGED.value
        award.flagged_at = utcnow()
        award.flag_reason = (f"A demonstration it rests on was corrected to "
                             f"{demo.outcome}: {demo.reason}")[:2000]
        audit.record(session, "award.flagged", actor_account_id=assessor.account_id,
                     context_id=award.context_id, subject_type="award", subject_id=award.id,
                     launch_id=assessor.launch_id, detail={"demonstration": demo.id})
        flagged.append(award)
    session.flush()
    for award in list(flagged):
        # A program credential awarded on it is questionable too (issue 12).
        flagged += pathways.flag_programs_resting_on(session, award, by_ref=assessor.ref,
                                                     flagged=True)
    return flagged


# -- awards -----------------------------------------------------------------------------------
def holds_credential(session: Session, person_id: int, credential_id: int) -> Award | None:
    """The person's award for any version of the credential that is not revoked."""
    return session.scalars(select(Award).where(
        Award.person_id == person_id, Award.credential_id == credential_id,
        Award.status != AwardStatus.REVOKED.value).order_by(Award.id).limit(1)).first()


def evaluate_awards(session: Session, *, person_id: int, context: Context,
                    offered: Sequence[OfferedCredential] | None = None) -> list[Award]:
    """Award every offered credential whose rule the person now meets. Idempotent."""
    return evaluate_awards_many(session, person_ids=[person_id], context=context,
                                offered=offered)


EVALUATION_BATCH = 500


def evaluate_awards_many(session: Session, *, person_ids: Iterable[int], context: Context,
                         offered: Sequence[OfferedCredential] | None = None) -> list[Award]:
    """``evaluate_awards`` for many people at once (bulk import): the offered credentials,
    current demonstrations and held awards are read with a few queries per batch of people
    rather than a few per person; each award is still created by the same SAVEPOINT-guarded
    insert, so the unique constraint decides races. Idempotent."""
    created: list[Award] = []
    offered = list(offered) if offered is not None else offered_credentials(session, context)
    people = sorted(set(person_ids))
    if not offered or not people:
        return created
    skill_ids = {s.id for o in offered for s in o.skills}
    credential_ids = {o.offering.credential_id for o in offered}
    for start in range(0, len(people), EVALUATION_BATCH):
        batch = people[start:start + EVALUATION_BATCH]
        _serialise_people(session, batch)
        facts = current_facts(session, batch, skill_ids)
        held, revoked = award_standing(session, batch, credential_ids)
        for person_id in batch:
            made = _evaluate_person(session, person_id, context, offered, facts, held,
                                    revoked)
            if made:
                # Program credentials these awards complete (issue 12: pathways), under
                # the same person lock.
                made += pathways.award_programs(session, person_id=person_id,
                                                new_awards=made, context=context)
            created += made
    return created


def award_standing(session: Session, person_ids: Iterable[int], credential_ids: Iterable[int]
                   ) -> tuple[set[tuple[int, int]], dict[tuple[int, int], datetime]]:
    """Per (person, credential): whether a standing (not revoked) award exists, and when
    the latest revoked one was revoked. One query."""
    held: set[tuple[int, int]] = set()
    revoked: dict[tuple[int, int], datetime] = {}
    persons, credentials = list(person_ids), list(credential_ids)
    if not persons or not credentials:
        return held, revoked
    connection = _core_connection(session)
    for pid, cid, status, revoked_at in connection.execute(
            _award_standing_statement(connection.dialect.name),
            {"persons": persons, "credentials": credentials}).all():
        if status != AwardStatus.REVOKED.value:
            held.add((pid, cid))
        elif revoked_at is not None and (
                (pid, cid) not in revoked or revoked_at > revoked[(pid, cid)]):
            revoked[(pid, cid)] = revoked_at
    return held, revoked


@lru_cache(maxsize=4)
def _award_standing_statement(dialect_name: str) -> Any:
    return (select(Award.person_id, Award.credential_id, Award.status, Award.revoked_at)
            .where(id_in(Award.person_id, "persons", dialect_name),
                   id_in(Award.credential_id, "credentials", dialect_name)))


def earning_passes(item: OfferedCredential, facts: list[DemonstrationFact],
                   revoked_at: datetime | None) -> tuple[dict[str, DemonstrationFact],
                                                         RuleProgress, bool]:
    """The passes that count for ``item``, the rule's progress with them, and whether they
    may award: always for a first award; after a revocation only with a pass recorded
    since (``domain.tracking.passes_after_revocation``)."""
    if revoked_at is None:
        passes = counting_passes(facts, item.allowed_routes)
        progress = item.rule.progress(passes.keys())
        return passes, progress, progress.satisfied
    passes, fresh = passes_after_revocation(facts, item.allowed_routes, revoked_at)
    progress = item.rule.progress(passes.keys())
    return passes, progress, progress.satisfied and fresh


def _serialise_people(session: Session, person_ids: list[int]) -> None:
    """Serialise award evaluation per person: row locks on PostgreSQL, taken in id order so
    two bulk evaluations cannot deadlock (SQLite has one writer at a time anyway). Without
    it, two transactions each adding one of a learner's last two demonstrations would each
    miss the other's uncommitted row and neither would award (write skew); with it, the
    later one waits, then reads the earlier one's commit (READ COMMITTED). ``FOR NO KEY
    UPDATE`` does not conflict with the ``KEY SHARE`` locks that the foreign-key checks of
    inserted demonstrations and awards take. Held until the caller's transaction ends."""
    session.execute(select(Person.id).where(Person.id.in_(person_ids)).order_by(Person.id)
                    .with_for_update(key_share=True))  # FOR NO KEY UPDATE


def _evaluate_person(session: Session, person_id: int, context: Context,
                     offered: list[OfferedCredential],
                     facts: dict[tuple[int, int], list[DemonstrationFact]],
                     held: set[tuple[int, int]],
                     revoked: dict[tuple[int, int], datetime]) -> list[Award]:
    created: list[Award] = []
    for item in offered:
        key = (person_id, item.offering.credential_id)
        if key in held:
            continue
        person_facts = [f for s in item.skills for f in facts.get((person_id, s.id), [])]
        passes, _progress, may_award = earning_passes(item, person_facts, revoked.get(key))
        if not may_award:
            continue
        route = award_route(route_for_kind(context.kind), [f.route for f in passes.values()],
                            item.allowed_routes)
        used = [passes[c].id for c in (*item.rule.required,
                                       *[c for c in item.rule.optional if c in passes])
                if c in passes]
        award = _create_award(session, person_id=person_id, item=item, route=route,
                              context=context, demonstration_ids=sorted(used))
        if award is not None:
            created.append(award)
    return created


def _create_award(session: Session, *, person_id: int, item: OfferedCredential, route: str,
                  context: Context | None, demonstration_ids: list[int]) -> Award | None:
    award = Award(public_id=secrets.token_urlsafe(16), issuer_id=item.offering.issuer_id,
                  person_id=person_id, credential_id=item.offering.credential_id,
                  version_id=item.version.id, route=route,
                  context_id=context.id if context is not None else None,
                  demonstration_ids=demonstration_ids)
    try:
        with session.begin_nested():
            session.add(award)
            session.flush()
    except IntegrityError:
        # Another request or worker awarded it first: the partial unique index on standing
        # awards per (person, credential) decided.
        return None
    audit.record(session, "award.created",
                 context_id=context.id if context is not None else None,
                 subject_type="award", subject_id=award.id,
                 detail={"person": person_id, "route": route, "version": item.version.id,
                         "demonstrations": demonstration_ids})
    # Its signed credential is made before this transaction commits (award_credentials).
    award_credentials.note_new_award(session, award)
    # Optional "credential earned" in the LMS grade book (off unless the issuer enables it).
    if context is not None:
        gradebook.signal_award(session, award, context)
    return award


def award_by_route(session: Session, *, person_id: int, credential_ids: Iterable[int],
                   route: Route) -> list[Award]:
    """Award each of these credentials (their current published version) that allows
    ``route`` and whose rule the person's current demonstrations meet, with that route and
    no course: how a workflow outside courses (transfer) awards. The passes that count are
    those of the credential's allowed routes, wherever they were made; at least one of them
    must be of ``route`` (else the award is not this workflow's: the courses award it).
    After a revocation, only with a pass recorded since. Idempotent."""
    created: list[Award] = []
    ids = sorted(set(credential_ids))
    if not ids:
        return created
    _serialise_people(session, [person_id])
    items: list[OfferedCredential] = []
    for credential in session.scalars(select(MicroCredential).where(
            MicroCredential.id.in_(ids)).order_by(MicroCredential.id)):
        version = published_version(session, credential.issuer_id, credential.code)
        if version is None:
            continue
        allowed = tuple(version.content.get("allowed_routes", []))
        if route.value not in allowed:
            continue
        # An offering-shaped view of the credential (no course): the engine's own shape.
        offering = Offering(credential_id=credential.id, issuer_id=credential.issuer_id)
        items.append(_offered(offering, version))
    if not items:
        return created
    facts = current_facts(session, [person_id], {s.id for i in items for s in i.skills})
    held, revoked = award_standing(session, [person_id], ids)
    for item in items:
        key = (person_id, item.offering.credential_id)
        if key in held:
            continue
        person_facts = [f for s in item.skills for f in facts.get((person_id, s.id), [])]
        passes, _progress, may_award = earning_passes(item, person_facts, revoked.get(key))
        if not may_award or not any(f.route is route for f in passes.values()):
            continue
        used = sorted(passes[c].id for c in (*item.rule.required, *item.rule.optional)
                      if c in passes)
        award = _create_award(session, person_id=person_id, item=item, route=route.value,
                              context=None, demonstration_ids=used)
        if award is not None:
            created.append(award)
    if created:
        # Program credentials these awards complete (issue 12), under the same person lock.
        created += pathways.award_programs(session, person_id=person_id, new_awards=created,
                                           context=None)
    return created


def revoke_award(session: Session, award: Award, *, reason: str, by: Assessor) -> Award:
    """Revoke with a reason; the record stays and shows as revoked. Idempotent."""
    if not reason.strip():
        raise ValidationFailed({"reason": [_("say why the credential is revoked")]})
    if award.status != AwardStatus.REVOKED.value:
        award.status = AwardStatus.REVOKED.value
        award.revoked_at = utcnow()
        award.revoked_reason = reason.strip()[:2000]
        award.revoked_by = by.ref
        audit.record(session, "award.revoked", actor_account_id=by.account_id,
                     context_id=award.context_id, subject_type="award", subject_id=award.id,
                     launch_id=by.launch_id, detail={"reason": award.revoked_reason})
        session.flush()
        pathways.flag_programs_resting_on(session, award, by_ref=by.ref)
    return award


def clear_flag(session: Session, award: Award, *, by: Assessor) -> Award:
    """Keep a flagged award (the instructor reviewed it)."""
    if award.status == AwardStatus.FLAGGED.value:
        award.status = AwardStatus.ACTIVE.value
        audit.record(session, "award.flag_cleared", actor_account_id=by.account_id,
                     context_id=award.context_id, subject_type="award", subject_id=award.id,
                     launch_id=by.launch_id)
        session.flush()
    return award


# -- reading ------------------------------------------------------------------------------------
def history(session: Session, person_id: int, skill_id: int) -> list[Demonstration]:
    """Every record for one learner and skill, oldest first, superseded ones included."""
    return list(session.scalars(select(Demonstration).where(
        Demonstration.person_id == person_id, Demonstration.skill_id == skill_id)
        .order_by(Demonstration.recorded_at, Demonstration.id)))


def superseded_ids(session: Session, demo_ids: Sequence[int]) -> set[int]:
    if not demo_ids:
        return set()
    return set(session.scalars(select(Demonstration.supersedes_id).where(
        Demonstration.supersedes_id.in_(list(demo_ids)))))


@dataclass(frozen=True)
class CredentialProgress:
    offered: OfferedCredential
    award: Award | None
    progress: RuleProgress
    cells: dict[str, Cell]        # by skill code
    revoked_at: datetime | None = None   # the latest revocation, when nothing stands now
    may_award: bool = False       # the engine would award now (due, not evaluated yet)

    @property
    def needs_new_evidence(self) -> bool:
        """Revoked, every skill has a pass, but none recorded since the revocation."""
        return self.award is None and self.revoked_at is not None and \
            self.progress.satisfied and not self.may_award


def progress_for(session: Session, person_id: int, context: Context) -> list[CredentialProgress]:
    """Per offered credential: the award (earned anywhere) or progress, and each skill."""
    offered = offered_credentials(session, context)
    facts = current_facts(session, [person_id], {s.id for o in offered for s in o.skills})
    # The person's awards of these credentials in one query: per credential, the first
    # standing one (``holds_credential``) and when the latest revoked one was revoked
    # (``award_standing``).
    standing: dict[int, Award] = {}
    revoked: dict[int, datetime] = {}
    credential_ids = [o.offering.credential_id for o in offered]
    if credential_ids:
        for row in session.scalars(select(Award).where(
                Award.person_id == person_id, Award.credential_id.in_(credential_ids))
                .order_by(Award.id)):
            cid = row.credential_id
            if row.status != AwardStatus.REVOKED.value:
                standing.setdefault(cid, row)
            elif row.revoked_at is not None and (
                    cid not in revoked or row.revoked_at > revoked[cid]):
                revoked[cid] = row.revoked_at
    result = []
    for item in offered:
        cells = {s.code: summarise_cell(facts.get((person_id, s.id), [])) for s in item.skills}
        person_facts = [f for s in item.skills for f in facts.get((person_id, s.id), [])]
        award = standing.get(item.offering.credential_id)
        revoked_at = None if award else revoked.get(item.offering.credential_id)
        _passes, progress, may_award = earning_passes(item, person_facts, revoked_at)
        result.append(CredentialProgress(item, award, progress, cells, revoked_at,
                                         may_award and award is None))
    return result


def awards_in_context(session: Session, context: Context) -> list[Award]:
    """Awards for the credentials offered here held by anyone on the roster (wherever they
    were earned), and the program credentials awarded here (a pathway completed by an
    award of this course: its instructors review them when flagged)."""
    credential_ids = [o.credential_id for o in active_offerings(session, context.id)]
    from lti_tool.models import RosterEntry

    persons = select(LearnerAccount.person_id).join(
        RosterEntry, RosterEntry.account_id == LearnerAccount.id).where(
        RosterEntry.context_id == context.id)
    here = (Award.context_id == context.id) & (Award.route == STACKED_ROUTE)
    return list(session.scalars(select(Award).where(
        or_(Award.credential_id.in_(credential_ids), here) if credential_ids else here,
        Award.person_id.in_(persons))
        .order_by(Award.awarded_at, Award.id)))


# -- course kind from the issuer's rules; awards after an identity link -----------------------
KIND_SOURCE_RULE = "rule"


def kind_for_label(rules: object, label: str) -> str | None:
    """The kind the issuer's ``context_kind_rules`` ({label prefix: kind}) give a course
    label: the longest matching prefix wins, compared without regard to case."""
    if not isinstance(rules, dict) or not label:
        return None
    folded = label.casefold()
    best: tuple[int, str] | None = None
    for prefix, kind in rules.items():
        parsed = ContextKind.parse(kind)
        if not isinstance(prefix, str) or not prefix or parsed is None:
            continue
        if folded.startswith(prefix.casefold()) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), parsed.value)
    return best[1] if best else None


def apply_kind_rules(session: Session, context: Context, issuer: Issuer) -> bool:
    """Set the course's kind from the issuer's label-prefix rules when nobody told us: the
    platform (custom ``context_kind``) and an instructor's choice always win, so only a
    kind still at its default (or set by an earlier rule) changes. Idempotent; returns
    whether the kind changed."""
    if context.kind_source not in ("default", KIND_SOURCE_RULE):
        return False
    kind = kind_for_label((issuer.settings or {}).get("context_kind_rules"), context.label)
    if kind is None or (kind == context.kind and context.kind_source == KIND_SOURCE_RULE):
        return False
    audit.record(session, "context.kind_set", context_id=context.id, subject_type="context",
                 subject_id=context.id,
                 detail={"from": context.kind, "to": kind, "by": "issuer rule",
                         "label": context.label})
    context.kind = kind
    context.kind_source = KIND_SOURCE_RULE
    session.flush()
    return True


def apply_kind_rules_at_launch(session: Session, launch: LaunchContext,
                               record: LaunchRecord) -> LaunchRecord:
    """``apply_kind_rules`` for the launch's course; the launch record is returned with the
    kind it now has. Costs nothing for a course whose kind is already known."""
    if record.context_pk is None or record.context_kind != ContextKind.OTHER.value:
        return record
    # apply_kind_rules reads only the issuer's settings: the read-only instance will do.
    issuer = issuer_for_platform(session, launch.platform_id, launch.deployment_pk,
                                 read_only=True)
    if issuer is None or not (issuer.settings or {}).get("context_kind_rules"):
        return record
    context = session.get(Context, record.context_pk)
    if context is None or not apply_kind_rules(session, context, issuer):
        return record
    return replace(record, context_kind=context.kind)


def evaluate_awards_for_person(session: Session, person_id: int) -> list[Award]:
    """``evaluate_awards`` in every course the person is on the roster of or has a
    demonstration in (after an identity link moves demonstrations to them). Idempotent."""
    from lti_tool.models import RosterEntry

    rostered = select(RosterEntry.context_id).join(
        LearnerAccount, LearnerAccount.id == RosterEntry.account_id).where(
        LearnerAccount.person_id == person_id)
    demonstrated = select(Demonstration.context_id).where(
        Demonstration.person_id == person_id, Demonstration.context_id.is_not(None))
    contexts = session.scalars(select(Context).where(
        or_(Context.id.in_(rostered), Context.id.in_(demonstrated))).order_by(Context.id))
    created: list[Award] = []
    for context in contexts:
        created += evaluate_awards(session, person_id=person_id, context=context)
    return created
