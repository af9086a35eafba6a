"""The instructor's side of a course inside the LMS frame (``/course``): the course
dashboard, offerings (attach / detach catalog credentials, the course kind), the assessment
grid (learners by skills), recording a demonstration (one learner or many), the history of a
learner's records for a skill with corrections, awards (flags, revocation), CSV exports and
the CSV import of demonstrations.

Who may do what: instructors and administrators everything in their course; teaching
assistants read everything and record/correct demonstrations, but cannot attach/detach
offerings, set the course kind or decide on awards; learners get 403 on every route.

The course is always the *launch's* context (``current.record["context_pk"]``); learner and
skill ids from a URL or form are accepted only if the learner is on this course's roster and
the skill belongs to a credential offered here (otherwise 404, nothing changed). Every POST
checks the launch's CSRF token. Thin: every change goes through ``services.tracking`` /
``services.evidence`` / ``services.demonstration_import``; success redirects (303) and the
status message is kept server-side (Redis, per launch) so no user text is reflected from a
URL.

The grid is built for a 600-learner, 40-skill course: one query for the roster, one for every cell's
current demonstrations (``tracking.current_facts``), and the rows are rendered as strings
from precomputed, escaped pieces (a cell's accessible name is assembled by
``aria-labelledby`` from its row header, column header and a shared status label), so the
page costs no per-cell query and little per-cell work.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.domain.catalog import LifecycleState, label
from lti_tool.domain.lti import ROLE_LABELS, AppRole, ContextKind, map_roles
from lti_tool.domain.tracking import (
    CELL_LABELS,
    METHOD_LABELS,
    AwardStatus,
    CellStatus,
    DemonstrationFact,
    Method,
    Outcome,
    pseudonym,
    route_for_kind,
    summarise_cell,
)
from lti_tool.errors import Conflict, Forbidden, NotFound, ToolError, ValidationFailed
from lti_tool.extensions import db_session, kv
from lti_tool.models import (
    Award,
    Context,
    CredentialSkill,
    CredentialVersion,
    Demonstration,
    EvidenceFile,
    Issuer,
    LearnerAccount,
    MicroCredential,
    Offering,
    RosterEntry,
    Skill,
)
from lti_tool.models.base import utcnow
from lti_tool.services import catalog as catalog_service
from lti_tool.services import evidence as evidence_service
from lti_tool.services import tracking
from lti_tool.services.tracking import Assessor, OfferedCredential, RecordResult
from lti_tool.web.common.awarding import issue_awards_now, revoke_award_now
from lti_tool.web.common.catalog_access import issuer_for_launch
from lti_tool.web.common.launch_session import (
    CurrentLaunch,
    check_csrf,
    load_current_launch,
    require_roles,
)

bp = Blueprint("instructor", __name__)

STAFF = (AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR, AppRole.TEACHING_ASSISTANT)
MANAGERS = frozenset({AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR})
PER_PAGE_CHOICES = ("50", "100", "all")
DEFAULT_PER_PAGE = 50
MAX_BULK = 2000
MAX_REASON = 2000
MAX_IMPORT_BYTES = 2_000_000
NOTICE_TTL = 600
KIND_LABELS = {ContextKind.FOR_CREDIT.value: "For credit",
               ContextKind.CONTINUING_ED.value: "Continuing education",
               ContextKind.OTHER.value: "Other"}
ROUTE_NAMES = {"integrated": "integrated (for-credit)",
               "stand_alone": "stand-alone (continuing education)"}
KIND_SOURCES = {"platform": "set by the learning platform", "instructor": "set by an instructor",
                "rule": "set by your institution's rule", "default": "not set yet"}
OUTCOME_CHOICES = ((Outcome.PASS.value, "Demonstrated (pass)",
                    "The learner showed the skill."),
                   (Outcome.FAIL.value, "Not demonstrated yet (fail)",
                    "An attempt that did not show the skill yet."))
STATUS_ICONS = {CellStatus.DEMONSTRATED: "✓", CellStatus.ATTEMPTED: "✗",
                CellStatus.NOT_YET: "\u2013"}
STATUS_CLASS = {CellStatus.DEMONSTRATED: "d", CellStatus.ATTEMPTED: "a",
                CellStatus.NOT_YET: "n"}
AWARD_STATUS_LABELS = {AwardStatus.ACTIVE.value: "Active", AwardStatus.FLAGGED.value: "Flagged",
                       AwardStatus.REVOKED.value: "Revoked"}
FIELD_LABELS = {"outcome": "Outcome", "method": "Method", "demonstrated_at": "Date demonstrated",
                "evidence_url": "Evidence link", "evidence_note": "Note",
                "evidence_file": "Evidence file", "reason": "Reason", "learner": "Learners",
                "skill": "Skill", "kind": "Course kind", "file": "CSV file"}


# -- the course of this launch ------------------------------------------------------------------
@dataclass
class Course:
    session: Session
    current: CurrentLaunch
    context: Context
    assessor: Assessor

    @property
    def can_manage(self) -> bool:
        return bool(self.current.launch.app_roles & MANAGERS)

    @property
    def issuer(self) -> Issuer | None:
        if "course_issuer" not in g:
            g.course_issuer = issuer_for_launch(self.session, self.current)
        issuer: Issuer | None = g.course_issuer
        return issuer

    @property
    def kind_locked(self) -> bool:
        return self.context.kind_source == "platform"


def _course() -> Course:
    """The launch's course, for a staff member (instructor, administrator, TA); 403 else."""
    if "course" in g:
        existing: Course = g.course
        return existing
    current = require_roles(*STAFF)
    record = current.record or {}
    context_pk = record.get("context_pk")
    session = db_session()
    context = session.get(Context, context_pk) if context_pk else None
    if context is None:
        raise NotFound("Open MicroCred from inside a course to assess learners.",
                       code="no_course")
    launch = current.launch
    account_id = record.get("account_id")
    assessor = Assessor(ref=f"account:{account_id or launch.sub}",
                        name=launch.display_name or launch.email or "Instructor",
                        launch_id=launch.launch_id, account_id=account_id)
    course = Course(session, current, context, assessor)
    g.course = course
    return course


def _manager() -> Course:
    course = _course()
    if not course.can_manage:
        raise Forbidden("Only the course's instructors can do this; teaching assistants can "
                        "view it and record demonstrations.", code="not_course_instructor")
    return course


def _post(manager: bool = False) -> Course:
    """A POST: role first (403), then the launch's CSRF token (403); nothing changed yet."""
    course = _manager() if manager else _course()
    check_csrf(course.current)
    return course


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, lt=load_current_launch().token, **values)


def _go(endpoint: str, messages: Sequence[str] = (), **values: Any) -> WerkzeugResponse:
    if messages:
        values["note"] = _save_notice(messages)
    return redirect(_url(endpoint, **values), code=303)


def _notice_key(ref: str) -> str:
    launch_id = load_current_launch().launch.launch_id
    return "course-notice:" + hashlib.sha256(f"{launch_id}:{ref}".encode()).hexdigest()


def _save_notice(messages: Sequence[str]) -> str:
    ref = secrets.token_urlsafe(9)
    kv().set(_notice_key(ref), json.dumps(list(messages)[:50]), NOTICE_TTL)
    return ref


def _notice() -> list[str]:
    ref = request.args.get("note", "")
    if not ref or len(ref) > 20:
        return []
    raw = kv().get(_notice_key(ref))
    try:
        messages = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [m for m in messages if isinstance(m, str)]


def _render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    course = _course()
    context.setdefault("notices", _notice())
    return render_template(template, current=course.current, course=course,
                           role_label=ROLE_LABELS[course.current.launch.role],
                           **context), status


@bp.after_request
def _no_store(response: WerkzeugResponse) -> WerkzeugResponse:
    if request.path.startswith("/course"):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"course_url": _url, "fmt_date": _fmt_date, "fmt_dt": _fmt_dt, "label": label,
            "METHOD_LABELS": METHOD_LABELS, "CELL_LABELS": CELL_LABELS,
            "STATUS_ICONS": STATUS_ICONS, "KIND_LABELS": KIND_LABELS,
            "KIND_SOURCES": KIND_SOURCES, "AWARD_STATUS_LABELS": AWARD_STATUS_LABELS,
            "CellStatus": CellStatus}


def _fmt_date(value: datetime | date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def _fmt_dt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _int(raw: object) -> int | None:
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _summary(errors: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    return [(name, FIELD_LABELS.get(name, name.replace("_", " ").capitalize()), message)
            for name, messages in errors.items() for message in messages]


# -- learners -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Learner:
    account_id: int
    person_id: int
    name: str          # what the instructor reads: name, email or a pseudonymous label
    email: str
    status: str
    sort_key: tuple[str, ...]

    @property
    def label(self) -> str:
        return learner_label(self.account_id)

    def matches(self, q: str) -> bool:
        return q in self.name.casefold() or q in self.email.casefold() or \
            q in self.label.casefold()


def learner_label(account_id: int) -> str:
    """A stable pseudonymous label for a learner account the platform sent no name or
    email for (Canvas's anonymous privacy level): the same account always reads the same,
    and no two accounts share one (``domain.tracking.pseudonym``)."""
    return pseudonym(account_id)


@lru_cache(maxsize=256)
def _is_learner(roles: tuple[str, ...]) -> bool:
    # Entries come from launches (learners only) or NRPS (which may carry every member).
    return not roles or AppRole.LEARNER in map_roles(roles)


def _learner_from(account_id: int, person_id: int, status: str, name: str, given: str,
                  family: str, email: str) -> Learner:
    shown = name or " ".join(p for p in (given, family) if p) or email or \
        learner_label(account_id)
    key = ((family or name or email).casefold(), (given or "").casefold(), shown.casefold(),
           str(account_id))
    return Learner(account_id, person_id, shown, email, status, key)


def _roster_query(context_id: int) -> Any:
    return (select(RosterEntry.account_id, LearnerAccount.person_id, RosterEntry.status,
                   LearnerAccount.name, LearnerAccount.given_name, LearnerAccount.family_name,
                   LearnerAccount.email, RosterEntry.roles)
            .join(LearnerAccount, LearnerAccount.id == RosterEntry.account_id)
            .where(RosterEntry.context_id == context_id))


def roster(session: Session, context_id: int, *, active_only: bool = True) -> list[Learner]:
    """The course's learners (roster entries with a learner role), sorted by name."""
    query = _roster_query(context_id)
    if active_only:
        query = query.where(RosterEntry.status == "active")
    learners = [_learner_from(aid, pid, status, name, given, family, email)
                for aid, pid, status, name, given, family, email, roles in
                session.execute(query) if _is_learner(tuple(roles or ()))]
    learners.sort(key=lambda learner: learner.sort_key)
    return learners


def _roster_learner(course: Course, account_id: int | None, *, for_write: bool) -> Learner:
    """A learner of THIS course's roster (active, to record), or NotFound."""
    row = None
    if account_id is not None:
        row = course.session.execute(
            _roster_query(course.context.id).where(RosterEntry.account_id == account_id)).first()
    if row is None or not _is_learner(tuple(row[7] or ())):
        raise NotFound("No such learner in this course.", code="learner_not_found")
    learner = _learner_from(*row[:7])
    if for_write and learner.status != "active":
        raise Conflict(f"{learner.name} is no longer active in this course: nothing can be "
                       "recorded for them here.", code="learner_inactive")
    return learner


# -- offered credentials and their skills ------------------------------------------------------
def _offered(course: Course) -> list[OfferedCredential]:
    if "course_offered" not in g:
        _warm_skills(course)
        g.course_offered = tracking.offered_credentials(course.session, course.context)
    offered: list[OfferedCredential] = g.course_offered
    return offered


def _warm_skills(course: Course) -> None:
    """Load the skills of every published version offered here in one query, so reading
    ``link.skill`` for 40 skills costs no further query (identity map)."""
    offered = select(Offering.credential_id).where(Offering.context_id == course.context.id,
                                                   Offering.detached_at.is_(None))
    list(course.session.scalars(
        select(Skill).join(CredentialSkill, CredentialSkill.skill_id == Skill.id)
        .join(CredentialVersion, CredentialVersion.id == CredentialSkill.version_id)
        .where(CredentialVersion.credential_id.in_(offered),
               CredentialVersion.state == LifecycleState.PUBLISHED.value)))


def _offered_skills(offered: Iterable[OfferedCredential]) -> list[Skill]:
    seen: dict[int, Skill] = {}
    for item in offered:
        for skill in item.skills:
            seen.setdefault(skill.id, skill)
    return list(seen.values())


def _offered_skill(course: Course, skill_id: int | None) -> Skill:
    for skill in _offered_skills(_offered(course)):
        if skill.id == skill_id:
            return skill
    raise NotFound("That skill is not part of a credential offered in this course.",
                   code="skill_not_offered")


def _rule_sentence(version: CredentialVersion) -> str:
    return str(catalog_service.learner_view(version).get("earning_rule", ""))


def _route_warning(context: Context, allowed_routes: Iterable[str]) -> str:
    here = route_for_kind(context.kind)
    if here is None:
        return ("This course's kind is not set: demonstrations recorded here count toward "
                "no credential until it is set to for-credit or continuing education.")
    if here.value not in set(allowed_routes):
        return (f"This credential cannot be earned through the {ROUTE_NAMES[here.value]} "
                "route this course gives: demonstrations recorded here will not count "
                "toward it.")
    return ""


# -- dashboard --------------------------------------------------------------------------------
@bp.app_context_processor
def _course_overview() -> dict[str, Any]:
    """``course_overview()`` for the LTI landing page (lti/instructor_home.html)."""

    def course_overview() -> dict[str, Any] | None:
        current = g.get("current_launch")
        if current is None or not current.launch.app_roles & set(STAFF):
            return None
        try:
            course = _course()
            offered = _offered(course)
        except ToolError:
            return None
        session = course.session
        learners = len(roster(session, course.context.id))
        awards = tracking.awards_in_context(session, course.context)
        return {"course": course, "offered": offered, "learners": learners,
                "skills": len(_offered_skills(offered)),
                "awards": sum(1 for a in awards if a.status != AwardStatus.REVOKED.value),
                "flagged": sum(1 for a in awards if a.status == AwardStatus.FLAGGED.value),
                "kind_label": KIND_LABELS.get(course.context.kind, course.context.kind),
                "url": _url}

    return {"course_overview": course_overview}


@bp.get("/course")
def home() -> ResponseReturnValue:
    course = _course()
    return render_template("lti/instructor_home.html", current=course.current,
                           role_label=ROLE_LABELS[course.current.launch.role],
                           notices=_notice())


# -- offerings ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogEntry:
    version: CredentialVersion
    view: dict[str, Any]
    attached: bool
    warning: str


@bp.get("/course/offerings")
def offerings() -> ResponseReturnValue:
    course = _course()
    offered = _offered(course)
    q = request.args.get("q", "").strip()[:100]
    results: list[CatalogEntry] | None = None
    issuer = course.issuer
    if course.can_manage and issuer is not None:
        attached = {o.offering.credential_id for o in offered}
        results = [CatalogEntry(v, catalog_service.learner_view(v),
                                v.credential_id in attached,
                                _route_warning(course.context,
                                               v.content.get("allowed_routes", [])))
                   for v in _published(course.session, issuer.id, q)]
    items = [(o, _rule_sentence(o.version), _route_warning(course.context, o.allowed_routes))
             for o in offered]
    return _render("instructor/offerings.html", items=items, results=results, q=q,
                   kinds=[(k.value, KIND_LABELS[k.value]) for k in ContextKind],
                   active="offerings")


def _published(session: Session, issuer_id: int, q: str, limit: int = 50,
               ) -> list[CredentialVersion]:
    """Published credentials of the issuer, matching q in the title or code."""
    query = (select(CredentialVersion).join(MicroCredential)
             .where(MicroCredential.issuer_id == issuer_id,
                    CredentialVersion.state == LifecycleState.PUBLISHED.value))
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(CredentialVersion.title).like(pattern, escape="\\"),
                                func.lower(MicroCredential.code).like(pattern, escape="\\")))
    return list(session.scalars(query.order_by(CredentialVersion.title).limit(limit)))


@bp.post("/course/offerings/attach")
def attach() -> ResponseReturnValue:
    course = _post(manager=True)
    issuer = course.issuer
    credential_id = _int(request.form.get("credential_id"))
    if issuer is None or credential_id is None:
        raise NotFound("No such micro-credential in your institution's catalog.")
    offering = tracking.attach_offering(course.session, issuer_id=issuer.id,
                                        context=course.context, credential_id=credential_id,
                                        by=course.assessor)
    version = catalog_service.published_version(course.session, issuer.id,
                                                offering.credential.code)
    course.session.commit()
    title = version.title if version else offering.credential.code
    return _go("instructor.offerings", [f"{title} is now offered in this course."])


@bp.route("/course/offerings/<int:offering_id>/detach", methods=["GET", "POST"])
def detach(offering_id: int) -> ResponseReturnValue:
    course = _post(manager=True) if request.method == "POST" else _manager()
    item = next((o for o in _offered(course) if o.offering.id == offering_id), None)
    if item is None:
        raise NotFound("No such offering in this course.")
    if request.method == "GET":
        return _render("instructor/detach.html", item=item, active="offerings")
    tracking.detach_offering(course.session, context=course.context, offering_id=offering_id,
                             by=course.assessor)
    course.session.commit()
    return _go("instructor.offerings", [
        f"{item.version.title} is no longer offered in this course. Its demonstrations and "
        "awards are kept."])


@bp.post("/course/kind")
def set_kind() -> ResponseReturnValue:
    course = _post(manager=True)
    kind = request.form.get("kind", "")
    tracking.set_context_kind(course.session, course.context, kind, course.assessor)
    course.session.commit()
    return _go("instructor.offerings",
               [f"This course is now {KIND_LABELS.get(course.context.kind, kind).lower()}."])


# -- the grid ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridFilters:
    credential: int | None
    skill: int | None
    status: str
    q: str
    page: int
    per: str

    def args(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"credential": self.credential, "skill": self.skill,
                                  "status": self.status, "q": self.q, "per": self.per}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _grid_filters() -> GridFilters:
    status = request.args.get("status", "")
    if status not in {s.value for s in CellStatus}:
        status = ""
    per = request.args.get("per", "")
    if per not in PER_PAGE_CHOICES:
        per = str(DEFAULT_PER_PAGE)
    page = _int(request.args.get("page")) or 1
    return GridFilters(_int(request.args.get("credential")), _int(request.args.get("skill")),
                       status, request.args.get("q", "").strip()[:100], max(page, 1), per)


def _columns(offered: list[OfferedCredential], filters: GridFilters) -> list[Skill]:
    chosen = [o for o in offered if filters.credential in (None, o.offering.id)]
    skills = _offered_skills(chosen)
    if filters.skill is not None:
        skills = [s for s in skills if s.id == filters.skill]
    return skills


@dataclass
class GridPage:
    rows_html: Markup
    learners: list[Learner]
    columns: list[Skill]
    total: int          # learners matching the filters
    roster_size: int
    page: int
    pages: int
    counts: dict[str, int]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large grid is built. The grid creates tens
    of thousands of short-lived objects (one per demonstration and cell) that reference
    counting frees at the end of the request; without the pause CPython runs hundreds of
    young-generation and several full collections over the whole heap meanwhile, which cost
    as much as building the page (~100 ms for 600 x 40). Collection resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_grid(course: Course, offered: list[OfferedCredential],
               filters: GridFilters) -> GridPage:
    session = course.session
    columns = _columns(offered, filters)
    everyone = roster(session, course.context.id)
    learners = everyone
    if filters.q:
        folded = filters.q.casefold()
        learners = [learner for learner in learners if learner.matches(folded)]
    skill_ids = [s.id for s in columns]
    per = (len(learners) or 1) if filters.per == "all" else int(filters.per)
    counts = {s.value: 0 for s in CellStatus}
    with _gc_paused():
        if filters.status:
            # The status filter needs every learner's cells before paging: still one query.
            facts = tracking.current_facts(session, [lr.person_id for lr in learners],
                                           skill_ids)
            wanted = CellStatus(filters.status)
            kept = []
            for learner in learners:
                pid = learner.person_id
                if wanted is CellStatus.NOT_YET:  # no current record at all
                    hit = any((pid, sid) not in facts for sid in skill_ids)
                else:
                    hit = any(summarise_cell(facts[(pid, sid)]).status is wanted
                              for sid in skill_ids if (pid, sid) in facts)
                if hit:
                    kept.append(learner)
            learners = kept
        pages = max(1, -(-len(learners) // per))
        page = min(filters.page, pages)
        shown = learners[(page - 1) * per: page * per]
        if not filters.status:
            facts = tracking.current_facts(session, [lr.person_id for lr in shown], skill_ids)
        rows = _render_rows(shown, columns, facts, course.context.title, counts)
        del facts
    # Every piece of ``rows`` that came from data was escaped in _render_rows.
    return GridPage(Markup(rows), shown, columns, len(learners),  # noqa: S704
                    len(everyone), page, pages, counts)


_PASS = Outcome.PASS
_DEMONSTRATED, _ATTEMPTED = CellStatus.DEMONSTRATED, CellStatus.ATTEMPTED


def _render_rows(learners: list[Learner], columns: list[Skill],
                 facts: dict[tuple[int, int], list[DemonstrationFact]], context_title: str,
                 counts: dict[str, int]) -> str:
    """The grid's body rows as one string. A cell is a button in the grid's GET form
    (``c=<account>.<skill>``) whose accessible name is assembled by ``aria-labelledby``:
    the row's learner (``L<i>``), the column's skill (``K<j>``), a shared status label
    (``Sd``/``Sa``/``Sn``) and, for a recorded cell, its own text (date, assessor, place).
    Identical cell texts are built once; names and course titles are escaped."""
    texts: dict[tuple[Any, ...], str] = {}
    out: list[str] = []
    append = out.append
    columns_ = [(f"K{j}", f"{skill.id}", skill.id) for j, skill in enumerate(columns)]
    tally = {_DEMONSTRATED: 0, _ATTEMPTED: 0}
    empty = 0
    get = facts.get
    for i, learner in enumerate(learners):
        aid, pid = learner.account_id, learner.person_id
        row = f"L{i}"
        append(f'<tr><th scope="row"><input type="checkbox" form="bulk" name="learner" '
               f'value="{aid}" id="x{i}"><label for="x{i}"><span class="visually-hidden">'
               f'Select </span><span id="{row}">{escape(learner.name)}</span></label></th>')
        prefix = f'<td><button name="c" value="{aid}.'
        for kj, sid_text, sid in columns_:
            cell_facts = get((pid, sid))
            if not cell_facts:
                empty += 1
                append(f'{prefix}{sid_text}" aria-labelledby="{row} {kj} Sn"></button></td>')
                continue
            if len(cell_facts) == 1:
                # One current record: summarise_cell's rule, without building a Cell.
                latest = cell_facts[0]
                status = _DEMONSTRATED if latest.outcome is _PASS else _ATTEMPTED
            else:
                cell = summarise_cell(cell_facts)
                status, latest = cell.status, cell.latest  # type: ignore[assignment]
                if latest is None:
                    empty += 1
                    append(f'{prefix}{sid_text}" aria-labelledby="{row} {kj} Sn">'
                           '</button></td>')
                    continue
            tally[status] += 1
            key = (status, latest.at.date(), latest.assessor, latest.context_title)
            text = texts.get(key)
            if text is None:
                text = texts[key] = _cell_text(status, latest, context_title)
            cell_id = f"c{i}_{kj}"
            append(f'<td class="{STATUS_CLASS[status]}">{prefix[4:]}{sid_text}" id="{cell_id}" '
                   f'aria-labelledby="{row} {kj} S{STATUS_CLASS[status]} {cell_id}">'
                   f'{text}</button></td>')
        append("</tr>")
    counts[CellStatus.NOT_YET.value] = empty
    counts[CellStatus.DEMONSTRATED.value] = tally[_DEMONSTRATED]
    counts[CellStatus.ATTEMPTED.value] = tally[_ATTEMPTED]
    return "".join(out)


def _cell_text(status: CellStatus, latest: DemonstrationFact, context_title: str) -> str:
    """A recorded cell's visible text: the date, who assessed, and the course when it was
    another one (escaped)."""
    parts = [latest.at.strftime("%Y-%m-%d")]
    if latest.assessor:
        parts.append(f"<small>by {escape(latest.assessor)}</small>")
    if latest.context_title and latest.context_title != context_title:
        parts.append(f'<small class="where">in {escape(latest.context_title)}</small>')
    return "".join(parts)


@bp.get("/course/grid")
def grid() -> ResponseReturnValue:
    course = _course()
    offered = _offered(course)
    filters = _grid_filters()
    if filters.credential is not None and \
            all(o.offering.id != filters.credential for o in offered):
        filters = GridFilters(None, filters.skill, filters.status, filters.q, filters.page,
                              filters.per)
    data = build_grid(course, offered, filters)
    return _render("instructor/grid.html", grid=data, offered=offered, filters=filters,
                   all_skills=_offered_skills(offered), active="grid",
                   today=utcnow().date().isoformat(), methods=list(Method),
                   outcomes=OUTCOME_CHOICES, form={}, errors={})


@bp.post("/course/roster/refresh")
def refresh_roster() -> ResponseReturnValue:
    """Refresh the roster from the platform now (NRPS), or queue it for a worker."""
    from lti_tool import jobs

    course = _post()
    submitted = jobs.enqueue_roster_refresh(course.context.id)
    return _go("instructor.grid", [submitted.message])


# -- one cell: record, history, corrections --------------------------------------------------
def _cell_ids() -> tuple[int | None, int | None]:
    raw = request.values.get("c", "")
    if raw:
        account, _, skill = raw.partition(".")
        return _int(account), _int(skill)
    return _int(request.values.get("learner")), _int(request.values.get("skill"))


@dataclass(frozen=True)
class HistoryItem:
    demo: Demonstration
    superseded_by: Demonstration | None
    here: bool
    file_name: str
    file_size: int


def _history(course: Course, learner: Learner, skill: Skill) -> list[HistoryItem]:
    records = tracking.history(course.session, learner.person_id, skill.id)
    by_supersedes = {d.supersedes_id: d for d in records if d.supersedes_id is not None}
    file_ids = {d.evidence_file_id for d in records if d.evidence_file_id}
    # Names and sizes only: the files' bytes stay in the database.
    files = {fid: (name, size) for fid, name, size in course.session.execute(
        select(EvidenceFile.id, EvidenceFile.filename, EvidenceFile.size)
        .where(EvidenceFile.id.in_(file_ids)))} if file_ids else {}
    return [HistoryItem(d, by_supersedes.get(d.id), d.context_id == course.context.id,
                        *files.get(d.evidence_file_id or 0, ("", 0)))
            for d in records]


def _cell_page(course: Course, learner: Learner, skill: Skill, *, form: dict[str, Any],
               errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    facts = tracking.current_facts(course.session, [learner.person_id], [skill.id])
    cell = summarise_cell(facts.get((learner.person_id, skill.id), []))
    credentials = [o for o in _offered(course) if any(s.id == skill.id for s in o.skills)]
    return _render("instructor/cell.html", status, learner=learner, skill=skill, cell=cell,
                   history=_history(course, learner, skill), credentials=credentials,
                   form=form, errors=errors, summary=_summary(errors),
                   today=utcnow().date().isoformat(), methods=list(Method),
                   outcomes=OUTCOME_CHOICES, active="grid")


@bp.get("/course/cell")
def cell() -> ResponseReturnValue:
    course = _course()
    account_id, skill_id = _cell_ids()
    skill = _offered_skill(course, skill_id)
    learner = _roster_learner(course, account_id, for_write=False)
    return _cell_page(course, learner, skill, form={}, errors={})


class ImportTooLarge(ToolError):
    status_code = 413
    code = "import_too_large"
    title = "The file is too large"
    public_message = (f"CSV files can be {MAX_IMPORT_BYTES // 1_000_000} MB at most: split it "
                      "into smaller files.")


def _read_body(limit: int, too_large: type[ToolError]) -> None:
    """Before anything reads the request (the launch token ``lt`` may be in the form):
    allow this route's upload size, refuse a larger body with a clear 413, and parse the
    body within that limit. Nothing is stored before this passes."""
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise too_large()
    try:
        request.form  # noqa: B018 - parse now, inside the limit
    except RequestEntityTooLarge:
        raise too_large() from None


def _form_values(names: Iterable[str]) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def _demonstrated_at(raw: str) -> tuple[datetime | None, dict[str, list[str]]]:
    """A date from the form (the learner's local "today" may be UTC's tomorrow): today or
    tomorrow (UTC) is now; an earlier day is noon UTC that day; later is refused."""
    raw = raw.strip()
    now = utcnow()
    if not raw:
        return now, {}
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, {"demonstrated_at": ["enter the date as YYYY-MM-DD"]}
    if day > now.date() + timedelta(days=1):
        return None, {"demonstrated_at": ["cannot be in the future"]}
    if day < date(1990, 1, 1):
        return None, {"demonstrated_at": ["enter a date after 1990"]}
    if day >= now.date():
        return now, {}
    return datetime.combine(day, time(12), tzinfo=UTC), {}


# The evidence file plus the form's other fields (a note is 4000 characters at most).
UPLOAD_LIMIT = evidence_service.MAX_EVIDENCE_BYTES + 512 * 1024
RECORD_FIELDS = ("outcome", "method", "demonstrated_at", "evidence_url", "evidence_note",
                 "reason")


def _store_upload(course: Course, errors: dict[str, list[str]]) -> int | None:
    upload = request.files.get("evidence_file")
    if upload is None or not upload.filename:
        return None
    data = upload.stream.read(evidence_service.MAX_EVIDENCE_BYTES + 1)
    try:
        row = evidence_service.store_evidence(course.session, filename=upload.filename,
                                              data=data, uploaded_by=course.assessor.ref)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None
    return row.id


def _record(course: Course, learner: Learner, skill: Skill, form: dict[str, str], *,
            supersedes_id: int | None = None) -> tuple[RecordResult | None,
                                                       dict[str, list[str]]]:
    """Record (or correct) one demonstration from the posted form; on any problem nothing
    is kept (the caller rolls back) and the field errors are returned."""
    errors: dict[str, list[str]] = {}
    file_id = _store_upload(course, errors)
    at, date_errors = _demonstrated_at(form["demonstrated_at"])
    errors.update(date_errors)
    account = course.session.get(LearnerAccount, learner.account_id)
    assert account is not None
    result = None
    try:
        result = tracking.record_demonstration(
            course.session, context=course.context, account=account, skill=skill,
            outcome=form["outcome"], method=form["method"], assessor=course.assessor,
            evidence_url=form["evidence_url"], evidence_note=form["evidence_note"],
            evidence_file_id=file_id, demonstrated_at=at, supersedes_id=supersedes_id,
            reason=form.get("reason", "")[:MAX_REASON])
    except ValidationFailed as exc:
        errors = {**exc.errors, **errors}
    if errors and request.files.get("evidence_file") and "evidence_file" not in errors:
        errors["evidence_file"] = ["choose the file again: a file is not kept when the "
                                   "form has a problem"]
    return (None if errors else result), errors


def _award_messages(course: Course, results: Iterable[RecordResult],
                    names: dict[int, str]) -> list[str]:
    messages = []
    for result in results:
        for award in result.new_awards:
            messages.append(f"{names.get(award.person_id, 'A learner')} earned "
                            f"{award.version.title}.")
        for award in result.flagged_awards:
            messages.append(
                f"Flagged for your review: {names.get(award.person_id, 'a learner')}'s "
                f"{award.version.title} rests on the corrected record. Keep or revoke it on "
                "the Awards page.")
    return messages


@bp.post("/course/cell")
def record() -> ResponseReturnValue:
    _read_body(UPLOAD_LIMIT, evidence_service.EvidenceTooLarge)
    course = _course()
    form = _form_values(RECORD_FIELDS)
    check_csrf(course.current)
    account_id, skill_id = _cell_ids()
    skill = _offered_skill(course, skill_id)
    learner = _roster_learner(course, account_id, for_write=True)
    result, errors = _record(course, learner, skill, form)
    if result is None:
        course.session.rollback()
        return _cell_page(course, learner, skill, form=form, errors=errors, status=422)
    course.session.commit()
    issue_awards_now(course.session, result.new_awards)
    outcome = "demonstrated" if result.demonstration.outcome == Outcome.PASS.value \
        else "attempted, not demonstrated yet"
    messages = [f"Recorded for {learner.name}: {skill.name} — {outcome}.",
                *_award_messages(course, [result], {learner.person_id: learner.name})]
    return _go("instructor.cell", messages, c=f"{learner.account_id}.{skill.id}")


def _correctable(course: Course, demo_id: int) -> tuple[Demonstration, Learner, Skill]:
    demo = course.session.get(Demonstration, demo_id)
    if demo is None:
        raise NotFound("No such record.")
    skill = _offered_skill(course, demo.skill_id)
    account_id = course.session.scalars(
        select(RosterEntry.account_id).join(LearnerAccount,
                                            LearnerAccount.id == RosterEntry.account_id)
        .where(RosterEntry.context_id == course.context.id,
               LearnerAccount.person_id == demo.person_id).limit(1)).first()
    learner = _roster_learner(course, account_id, for_write=False)
    return demo, learner, skill


@bp.route("/course/correct/<int:demo_id>", methods=["GET", "POST"])
def correct(demo_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        _read_body(UPLOAD_LIMIT, evidence_service.EvidenceTooLarge)
    course = _course()
    form: dict[str, str] = {}
    if request.method == "POST":
        form = _form_values(RECORD_FIELDS)
        check_csrf(course.current)
    demo, learner, skill = _correctable(course, demo_id)
    if demo.context_id != course.context.id:
        raise Forbidden("This record was made in another course; it can be corrected there.",
                        code="record_of_other_course")
    later = course.session.scalars(select(Demonstration.id).where(
        Demonstration.supersedes_id == demo.id)).first()
    if later is not None:
        raise Conflict("That record was already corrected; correct the latest one.",
                       code="already_superseded")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        learner = _roster_learner(course, learner.account_id, for_write=True)
        if not form["reason"].strip():
            errors["reason"] = ["say why the earlier record is corrected"]
        result, record_errors = _record(course, learner, skill, form, supersedes_id=demo.id)
        errors = {**record_errors, **errors}
        if result is not None and not errors:
            course.session.commit()
            issue_awards_now(course.session, result.new_awards)
            outcome = "demonstrated" if result.demonstration.outcome == Outcome.PASS.value \
                else "attempted, not demonstrated yet"
            messages = [f"Corrected for {learner.name}: {skill.name} — now {outcome}. The "
                        "earlier record is kept and marked as corrected.",
                        *_award_messages(course, [result], {learner.person_id: learner.name})]
            return _go("instructor.cell", messages, c=f"{learner.account_id}.{skill.id}")
        course.session.rollback()
    else:
        form = {"outcome": demo.outcome, "method": demo.method,
                "demonstrated_at": demo.demonstrated_at.date().isoformat(),
                "evidence_url": demo.evidence_url, "evidence_note": demo.evidence_note,
                "reason": ""}
    return _render("instructor/correct.html", 422 if errors else 200, demo=demo,
                   learner=learner, skill=skill, form=form, errors=errors,
                   summary=_summary(errors), today=utcnow().date().isoformat(),
                   methods=list(Method), outcomes=OUTCOME_CHOICES, active="grid")


# -- bulk ------------------------------------------------------------------------------------------
BULK_FIELDS = ("skill", "outcome", "method", "demonstrated_at", "evidence_url", "evidence_note")


@bp.route("/course/bulk", methods=["GET", "POST"])
def bulk() -> ResponseReturnValue:
    """Mark one skill for many learners in one POST (from the grid's checkboxes or this
    page's own list): every record goes through ``record_demonstration`` in one
    transaction; any problem keeps nothing."""
    course = _course()
    offered = _offered(course)
    skills = _offered_skills(offered)
    learners = roster(course.session, course.context.id)
    if request.method == "GET":
        form = {"skill": request.args.get("skill", ""), "outcome": "pass",
                "method": Method.IN_COURSE_ASSIGNMENT.value, "demonstrated_at": "",
                "evidence_url": "", "evidence_note": ""}
        return _render("instructor/bulk.html", form=form, selected=set(), errors={},
                       summary=[], skills=skills, learners=learners,
                       today=utcnow().date().isoformat(), methods=list(Method),
                       outcomes=OUTCOME_CHOICES, active="grid")
    form = _form_values(BULK_FIELDS)
    check_csrf(course.current)
    raw_ids = request.form.getlist("learner")[:MAX_BULK + 1]
    if len(raw_ids) > MAX_BULK:
        raise ToolError(f"Mark at most {MAX_BULK} learners at once.", code="bulk_too_large")
    ids = [_int(v) for v in raw_ids]
    skill = _offered_skill(course, _int(form["skill"])) if form["skill"] else None
    by_account = {learner.account_id: learner for learner in learners}
    if any(i is None or i not in by_account for i in ids):
        # A learner id not on this course's roster: refuse everything.
        raise NotFound("No such learner in this course.", code="learner_not_found")
    chosen = [by_account[i] for i in dict.fromkeys(i for i in ids if i is not None)]
    errors: dict[str, list[str]] = {}
    if not chosen:
        errors["learner"] = ["select at least one learner"]
    if skill is None:
        errors["skill"] = ["choose the skill to mark"]
    at, date_errors = _demonstrated_at(form["demonstrated_at"])
    errors.update(date_errors)
    results: list[RecordResult] = []
    if not errors and skill is not None:
        for learner in chosen:
            account = course.session.get(LearnerAccount, learner.account_id)
            assert account is not None
            try:
                results.append(tracking.record_demonstration(
                    course.session, context=course.context, account=account, skill=skill,
                    outcome=form["outcome"], method=form["method"], assessor=course.assessor,
                    evidence_url=form["evidence_url"], evidence_note=form["evidence_note"],
                    demonstrated_at=at))
            except ValidationFailed as exc:
                errors.update(exc.errors)
                break
    if errors:
        course.session.rollback()
        return _render("instructor/bulk.html", 422, form=form,
                       selected={lr.account_id for lr in chosen}, errors=errors,
                       summary=_summary(errors), skills=skills, learners=learners,
                       today=utcnow().date().isoformat(), methods=list(Method),
                       outcomes=OUTCOME_CHOICES, active="grid")
    course.session.commit()
    issue_awards_now(course.session, [a for r in results for a in r.new_awards])
    assert skill is not None
    outcome = "demonstrated" if form["outcome"] == Outcome.PASS.value \
        else "attempted, not demonstrated yet"
    count = len(chosen)
    messages = [f"Recorded {skill.name} as {outcome} for {count} "
                f"learner{'s' if count != 1 else ''}.",
                *_award_messages(course, results,
                                 {lr.person_id: lr.name for lr in chosen})]
    return _go("instructor.grid", messages, **_return_filters())


def _return_filters() -> dict[str, str]:
    """The grid filters the bulk form was posted from (validated again when read)."""
    keep = {}
    for name in ("credential", "skill", "status", "q", "per", "page"):
        value = request.form.get("return_" + name, "")
        if value and len(value) <= 100:
            keep[name] = value
    return keep


# -- awards ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AwardRow:
    award: Award
    learner: str
    where: str
    here: bool


def _award_rows(course: Course) -> list[AwardRow]:
    session = course.session
    names = {lr.person_id: lr.name
             for lr in roster(session, course.context.id, active_only=False)}
    awards = tracking.awards_in_context(session, course.context)
    titles = dict(session.execute(select(Context.id, Context.title).where(
        Context.id.in_({a.context_id for a in awards if a.context_id}))).all()) if awards else {}
    return [AwardRow(a, names.get(a.person_id, f"Person {a.person_id}"),
                     titles.get(a.context_id, "") if a.context_id else "",
                     a.context_id == course.context.id) for a in awards]


@bp.get("/course/awards")
def awards() -> ResponseReturnValue:
    course = _course()
    rows = _award_rows(course)
    rows.sort(key=lambda r: (r.award.status != AwardStatus.FLAGGED.value, r.learner.casefold()))
    return _render("instructor/awards.html", rows=rows, active="awards")


def _award_here(course: Course, award_id: int) -> AwardRow:
    row = next((r for r in _award_rows(course) if r.award.id == award_id), None)
    if row is None:
        raise NotFound("No such award in this course.")
    if not row.here:
        raise Forbidden(f"This award was earned in {row.where or 'another course'}; it is "
                        "managed there.", code="award_of_other_course")
    return row


@bp.route("/course/awards/<int:award_id>/revoke", methods=["GET", "POST"])
def revoke(award_id: int) -> ResponseReturnValue:
    course = _post(manager=True) if request.method == "POST" else _manager()
    row = _award_here(course, award_id)
    errors: dict[str, list[str]] = {}
    reason = ""
    if request.method == "POST":
        reason = request.form.get("reason", "")[:MAX_REASON]
        try:
            revoke_award_now(course.session, row.award, reason=reason, by=course.assessor)
        except ValidationFailed as exc:
            course.session.rollback()
            errors = exc.errors
        else:
            course.session.commit()
            return _go("instructor.awards", [
                f"{row.learner}'s {row.award.version.title} was revoked. The record stays, "
                "marked as revoked."])
    return _render("instructor/revoke.html", 422 if errors else 200, row=row, reason=reason,
                   errors=errors, summary=_summary(errors), active="awards")


@bp.post("/course/awards/<int:award_id>/keep")
def keep(award_id: int) -> ResponseReturnValue:
    course = _post(manager=True)
    row = _award_here(course, award_id)
    tracking.clear_flag(course.session, row.award, by=course.assessor)
    course.session.commit()
    return _go("instructor.awards",
               [f"{row.learner}'s {row.award.version.title} is kept; the flag is cleared."])


# -- evidence files -------------------------------------------------------------------------------
@bp.get("/course/evidence/<int:file_id>")
def evidence_file(file_id: int) -> ResponseReturnValue:
    """Download an evidence file: staff of a course where the learner is on the roster
    (or the learner themself). Always an attachment, never rendered by the browser."""
    current = load_current_launch()
    record = current.record or {}
    staff = bool(current.launch.app_roles & set(STAFF))
    if not staff:
        raise Forbidden()
    row = evidence_service.file_for_reader(
        db_session(), file_id, person_id=record.get("person_id"),
        staff_context_id=record.get("context_pk") if staff else None)
    response = send_file(io.BytesIO(row.data), as_attachment=True, download_name=row.filename,
                         mimetype=evidence_service.served_content_type(row.content_type),
                         max_age=0, etag=False, conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- CSV exports ----------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_response(rows: Iterable[Sequence[object]], filename: str) -> WerkzeugResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    response = WerkzeugResponse("\ufeff" + buffer.getvalue(),
                                content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _file_stem(course: Course) -> str:
    base = course.context.label or course.context.title or "course"
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in base)
    return cleaned.strip("-")[:40] or "course"


@bp.get("/course/export/grid.csv")
def export_grid() -> ResponseReturnValue:
    course = _course()
    skills = _offered_skills(_offered(course))
    learners = roster(course.session, course.context.id)
    with _gc_paused():
        facts = tracking.current_facts(course.session, [lr.person_id for lr in learners],
                                       [s.id for s in skills])
    words = {CellStatus.DEMONSTRATED: "demonstrated", CellStatus.ATTEMPTED: "attempted",
             CellStatus.NOT_YET: "not yet"}

    def rows() -> Iterator[list[object]]:
        yield ["Learner", "Email", *[f"{s.code} {s.name}" for s in skills]]
        for learner in learners:
            line: list[object] = [learner.name, learner.email]
            for skill in skills:
                summary = summarise_cell(facts.get((learner.person_id, skill.id), []))
                text = words[summary.status]
                if summary.latest is not None:
                    text += " " + summary.latest.at.strftime("%Y-%m-%d")
                line.append(text)
            yield line

    return _csv_response(rows(), f"{_file_stem(course)}-skills.csv")


@bp.get("/course/export/awards.csv")
def export_awards() -> ResponseReturnValue:
    course = _course()
    emails = {lr.person_id: lr.email
              for lr in roster(course.session, course.context.id, active_only=False)}

    def rows() -> Iterator[list[object]]:
        yield ["Learner", "Email", "Credential", "Code", "Version", "Route", "Earned in",
               "Awarded", "Status", "Flag reason", "Revoked", "Revocation reason"]
        for row in _award_rows(course):
            award = row.award
            yield [row.learner, emails.get(award.person_id, ""), award.version.title,
                   award.credential.code, award.version.version, label(award.route),
                   row.where, _fmt_date(award.awarded_at), award.status,
                   award.flag_reason if award.status == AwardStatus.FLAGGED.value else "",
                   _fmt_date(award.revoked_at) if award.revoked_at else "",
                   award.revoked_reason]

    return _csv_response(rows(), f"{_file_stem(course)}-awards.csv")


# -- CSV import -----------------------------------------------------------------------------------
@bp.route("/course/import", methods=["GET", "POST"])
def import_page() -> ResponseReturnValue:
    if request.method == "POST":
        _read_body(MAX_IMPORT_BYTES + 256 * 1024, ImportTooLarge)
    course = _course()
    report = None
    errors: dict[str, list[str]] = {}
    dry_run = True
    if request.method == "POST":
        mode = _form_values(("mode",))["mode"]
        check_csrf(course.current)
        dry_run = mode != "import"
        upload = request.files.get("file")
        data = upload.stream.read(MAX_IMPORT_BYTES + 1) if upload and upload.filename else b""
        if not data:
            errors["file"] = ["choose a CSV file"]
        elif len(data) > MAX_IMPORT_BYTES:
            errors["file"] = [f"the file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB; "
                              "split it into smaller files"]
        else:
            from lti_tool.services.demonstration_import import import_demonstrations_csv

            report = import_demonstrations_csv(course.session, context=course.context,
                                               text=data, assessor=course.assessor,
                                               dry_run=dry_run)
            if report.ok and not dry_run:
                course.session.commit()
                issue_awards_now(course.session, [a["id"] for a in report.awards if a["id"]])
            else:
                course.session.rollback()
    return _render("instructor/import.html", 422 if errors or (report and not report.ok)
                   else 200, report=report, dry_run=dry_run, errors=errors,
                   summary=_summary(errors), active="import")
