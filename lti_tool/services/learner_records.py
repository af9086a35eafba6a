"""What a learner sees of their own records inside a course: each skill of the credentials
offered there (status, when and in which course it was demonstrated, the evidence, and the
full history of corrections), the credentials they earned (wherever they earned them) and
their progress on the others, with what remains in plain language.

Only the given Person's records are read; the caller decides who that Person is (the
launched account's current Person, so a confirmed identity link is followed). Course
grades are never read or shown. The one write: a learner whose demonstrations already
satisfy an offered credential's rule (say, after an identity link brought in records from
another platform) is awarded it here, through the award engine (idempotent).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import RuleProgress
from lti_tool.domain.labels import CELL, label, method_label
from lti_tool.domain.texts import LocalText, localized
from lti_tool.domain.tracking import AwardStatus, Cell
from lti_tool.errors import NotFound
from lti_tool.models import (
    Award,
    Context,
    CredentialVersion,
    Demonstration,
    Issuer,
    LearnerAccount,
    MicroCredential,
    Skill,
)
from lti_tool.models.page_versions import SHARED_SCOPE, LearnerPageVersion
from lti_tool.services import tracking
from lti_tool.services.catalog import learner_view
from lti_tool.services.tracking import CredentialProgress
from lti_tool.translate import gettext as _
from lti_tool.translate import ngettext


def award_status_label(status: str) -> str:
    """An award's status as its learner reads it."""
    if status == AwardStatus.ACTIVE.value:
        return _("Earned")
    if status == AwardStatus.FLAGGED.value:
        return _("Earned — your instructor is reviewing a corrected record")
    if status == AwardStatus.REVOKED.value:
        return _("Revoked")
    return label(status)


class Labels:
    """Labels translated once per page, not once per record or skill (a page shows a few
    distinct ones a hundred times, and each translation looks the request's catalog up
    again). One per ``for_learner`` call: within it the language does not change."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], str] = {}

    def get(self, kind: str, value: str, translate: Callable[[], str]) -> str:
        key = (kind, value)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = translate()
        return found


@dataclass(frozen=True)
class Record:
    """One demonstration in a learner's history."""

    demonstration: Demonstration
    superseded: bool          # a later record corrected it
    course: str               # where it was recorded
    labels: Labels = field(default_factory=Labels, compare=False, repr=False)

    @property
    def outcome_label(self) -> str:
        passed = self.demonstration.outcome == "pass"
        return self.labels.get("outcome", "pass" if passed else "", lambda: (
            _("Demonstrated") if passed else _("Not yet demonstrated")))

    @property
    def method_label(self) -> str:
        method = self.demonstration.method
        return self.labels.get("method", method, lambda: method_label(method))

    @property
    def is_correction(self) -> bool:
        return self.demonstration.supersedes_id is not None


@dataclass(frozen=True)
class SkillStatus:
    skill: Skill
    cell: Cell
    latest: Record | None                 # the record the status rests on
    history: list[Record]                 # oldest first, superseded ones included
    credentials: list[str]                # titles of the offered credentials that use it
    criteria: Any = ""                    # "demonstrated when", as the version published it
    #: the skill's name in the page's language (a LocalText: marked when it is English)
    name: Any = ""
    labels: Labels = field(default_factory=Labels, compare=False, repr=False)

    @property
    def status(self) -> str:
        return self.cell.status.value

    @property
    def status_label(self) -> str:
        status = self.cell.status
        return self.labels.get("cell", status.value, lambda: str(CELL[status]))

    @property
    def corrections(self) -> int:
        return sum(1 for r in self.history if r.is_correction)


@dataclass(frozen=True)
class EarnedCredential:
    award: Award
    title: LocalText | str               # in the page's language
    code: str
    version: int
    issuer_slug: str
    route_label: str
    earned_in: str                        # the course's title ("" when not known)
    offered_here: bool

    @property
    def status(self) -> str:
        return self.award.status

    @property
    def status_label(self) -> str:
        return award_status_label(self.award.status)

    @property
    def revoked(self) -> bool:
        return self.award.status == AwardStatus.REVOKED.value


@dataclass(frozen=True)
class InProgress:
    title: LocalText | str
    code: str
    version: int
    issuer_slug: str
    progress: RuleProgress
    missing: list[str]                    # names of required skills still to demonstrate
    choose_from: list[str]                # names of optional skills not yet demonstrated
    skills: list[SkillStatus]
    revoked_at: datetime | None = None    # an earlier award of it was revoked then
    needs_new_evidence: bool = False      # every skill passed, before that revocation

    @property
    def summary(self) -> str:
        """"3 of 5 skills" (the text alternative of the progress bar)."""
        return ngettext("%(done)s of %(num)s skill", "%(done)s of %(num)s skills",
                        self.progress.total, done=self.progress.done)

    @property
    def remaining(self) -> list[str]:
        """What remains, in plain language: "Still to demonstrate: Functions, Debugging",
        "and 1 of: Testing, Recursion"."""
        parts = []
        if self.missing:
            parts.append(_("Still to demonstrate: %(skills)s", skills=", ".join(self.missing)))
        if self.progress.optional_still_needed and self.choose_from:
            choose = ", ".join(self.choose_from)
            count = self.progress.optional_still_needed
            parts.append(_("and %(count)s of: %(skills)s", count=count, skills=choose)
                         if self.missing else
                         _("Still to demonstrate %(count)s of: %(skills)s", count=count,
                           skills=choose))
        return parts


@dataclass
class LearnerRecords:
    context: Context | None
    skills: list[SkillStatus] = field(default_factory=list)
    earned: list[EarnedCredential] = field(default_factory=list)     # standing awards
    revoked: list[EarnedCredential] = field(default_factory=list)    # history, newest first
    in_progress: list[InProgress] = field(default_factory=list)
    new_awards: list[Award] = field(default_factory=list)
    offered_codes: list[str] = field(default_factory=list)


def person_of(session: Session, account_id: int) -> int:
    """The Person the launched account belongs to now (identity links move accounts)."""
    person_id = session.scalar(select(LearnerAccount.person_id).where(
        LearnerAccount.id == account_id))
    if person_id is None:
        raise _account_gone()
    return person_id


def _account_gone() -> NotFound:
    """The launched account no longer exists (merged away, or deleted since the launch)."""
    return NotFound(_("Your account is not known here any more. Open MicroCred from your "
                      "course again."))


def _records(session: Session, person_id: int, skill_ids: list[int],
             labels: Labels) -> dict[int, list[Record]]:
    """Every record of the person for these skills (``tracking.history`` for many skills
    in one query), oldest first, with the course each was recorded in."""
    by_skill: dict[int, list[Record]] = defaultdict(list)
    if not skill_ids:
        return by_skill
    rows = session.execute(
        select(Demonstration, Context.title)
        .outerjoin(Context, Context.id == Demonstration.context_id)
        .where(Demonstration.person_id == person_id, Demonstration.skill_id.in_(skill_ids))
        .order_by(Demonstration.recorded_at, Demonstration.id)).all()
    corrected = {demo.supersedes_id for demo, _ in rows if demo.supersedes_id is not None}
    for demo, title in rows:
        by_skill[demo.skill_id].append(Record(demo, demo.id in corrected, title or "",
                                              labels))
    return by_skill


def _slugs(session: Session, issuer_ids: set[int],
           known: dict[int, str] | None = None) -> dict[int, str]:
    """Issuer id → slug, reading only those not ``known`` already."""
    found = {i: slug for i, slug in (known or {}).items() if i in issuer_ids}
    missing = issuer_ids - set(found)
    if missing:
        found.update(session.execute(select(Issuer.id, Issuer.slug)
                                     .where(Issuer.id.in_(missing))).tuples())
    return found


def _awards(session: Session, person_id: int, issuer_id: int | None,
            credential_ids: list[int]) -> list[tuple[Award, CredentialVersion,
                                                     MicroCredential, str]]:
    """The person's awards of the launch's issuer (and of the offered credentials), newest
    first, with the version, the credential and the title of the course earned in."""
    query = (select(Award, CredentialVersion, MicroCredential, Context.title)
             .join(CredentialVersion, CredentialVersion.id == Award.version_id)
             .join(MicroCredential, MicroCredential.id == Award.credential_id)
             .outerjoin(Context, Context.id == Award.context_id)
             .where(Award.person_id == person_id))
    if issuer_id is not None:
        query = query.where((Award.issuer_id == issuer_id)
                            | Award.credential_id.in_(credential_ids))
    else:
        query = query.where(Award.credential_id.in_(credential_ids))
    rows = session.execute(query.order_by(Award.awarded_at.desc(), Award.id.desc())).all()
    return [(a, v, c, t or "") for a, v, c, t in rows]


def _catch_up(session: Session, person_id: int, context: Context,
              progress: list[CredentialProgress]) -> list[Award]:
    """Award what the person's records already satisfy but nobody evaluated here yet (the
    offering was attached afterwards, or an identity link brought the records in). A
    revoked credential is due again only with a pass recorded since its revocation
    (``CredentialProgress.may_award``), so a revoked award is not simply made again."""
    if not any(p.may_award for p in progress):
        return []
    return tracking.evaluate_awards(session, person_id=person_id, context=context)


def for_learner(session: Session, *, person_id: int, context: Context | None,
                issuer_id: int | None, only: MicroCredential | None = None,
                lang: str = "en", issuer_slug: str | None = None) -> LearnerRecords:
    """The learner's page. ``only`` narrows it to one credential (a deep link to that
    credential), offered in this course or not. Titles, skill names and criteria are in
    ``lang`` ("en" / "fr": LocalText, English marked as a fallback where the catalog has
    no French text). ``issuer_slug``: the slug of ``issuer_id`` when the caller has it (not
    read again). May award (see the module docstring); commits nothing."""
    result = LearnerRecords(context)
    progress: list[CredentialProgress] = []
    if context is not None:
        progress = tracking.progress_for(session, person_id, context)
        result.new_awards = _catch_up(session, person_id, context, progress)
        if result.new_awards:
            progress = tracking.progress_for(session, person_id, context)
    result.offered_codes = [p.offered.offering.credential.code for p in progress]
    if only is not None:
        progress = [p for p in progress if p.offered.offering.credential_id == only.id]

    skills: dict[int, Skill] = {}
    cells: dict[int, Cell] = {}
    uses: dict[int, list[str]] = defaultdict(list)
    criteria: dict[int, str] = {}
    for item in progress:
        published = _published_criteria(item.offered.version, lang)
        for skill in item.offered.skills:
            skills.setdefault(skill.id, skill)
            cells.setdefault(skill.id, item.cells[skill.code])
            uses[skill.id].append(_title(item.offered.version, lang).text)
            criteria.setdefault(skill.id, published.get(
                skill.code, localized(skill, None, "criteria", lang)))
    labels = Labels()
    records = _records(session, person_id, list(skills), labels)
    statuses: dict[int, SkillStatus] = {}
    for skill_id, skill in skills.items():
        cell, history = cells[skill_id], records.get(skill_id, [])
        latest = next((r for r in history if cell.latest is not None
                       and r.demonstration.id == cell.latest.id), None)
        statuses[skill_id] = SkillStatus(skill, cell, latest, history, uses[skill_id],
                                         criteria.get(skill_id, ""),
                                         localized(skill, None, "name", lang), labels)
    result.skills = list(statuses.values())

    credential_ids = [p.offered.offering.credential_id for p in progress]
    if only is not None:
        credential_ids = [only.id]
    offered_ids = {p.offered.offering.credential_id for p in progress}
    awards = _awards(session, person_id, issuer_id if only is None else None, credential_ids)
    slugs = _slugs(session, {a.issuer_id for a, *_ in awards} |
                   {p.offered.offering.issuer_id for p in progress},
                   {issuer_id: issuer_slug} if issuer_id is not None and issuer_slug is not None
                   else None)
    shown: set[int] = set()
    for award, version, credential, course in awards:
        entry = EarnedCredential(award, _title(version, lang), credential.code,
                                 version.version,
                                 slugs.get(award.issuer_id, ""), label(award.route), course,
                                 credential.id in offered_ids)
        # A revoked award is history, never "earned"; a standing award of the same
        # credential (earned again since) is.
        if award.status == AwardStatus.REVOKED.value:
            result.revoked.append(entry)
        elif credential.id not in shown:
            shown.add(credential.id)
            result.earned.append(entry)

    for item in progress:
        if item.offered.offering.credential_id in shown:
            continue
        names = {s.code: localized(s, None, "name", lang).text for s in item.offered.skills}
        rule = item.offered.rule
        result.in_progress.append(InProgress(
            _title(item.offered.version, lang), item.offered.offering.credential.code,
            item.offered.version.version, slugs.get(item.offered.offering.issuer_id, ""),
            item.progress, [names[c] for c in item.progress.required_missing],
            [names[c] for c in rule.optional if c not in item.progress.optional_have],
            [statuses[s.id] for s in item.offered.skills], item.revoked_at,
            item.needs_new_evidence))
    return result


def _title(version: CredentialVersion, lang: str) -> LocalText:
    """The version's title in ``lang`` as published (its snapshot; the draft's content
    before publication), marked when it falls back to English."""
    view = version.snapshot if version.snapshot is not None else version.content
    translations = (view or {}).get("translations") if isinstance(view, dict) else None
    return localized(str((view or {}).get("title") or version.title),
                     translations if isinstance(translations, dict) else {}, "title", lang)


def _published_criteria(version: CredentialVersion, lang: str = "en") -> dict[str, Any]:
    """Skill code → its "demonstrated when" criteria as the version was published (later
    edits of the skill do not change a published version), in ``lang`` (LocalText)."""
    snapshot = learner_view(version)
    found: dict[str, Any] = {}
    for entry in snapshot.get("skills", []) if isinstance(snapshot, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            translations = entry.get("translations")
            found[entry["code"]] = localized(
                str(entry.get("criteria") or ""),
                translations if isinstance(translations, dict) else {}, "criteria", lang)
    return found


def evidence_file_of(session: Session, *, person_id: int,
                     demonstration_id: int) -> Demonstration:
    """The demonstration holding an evidence file, only if it is the person's own.
    Raises NotFound (also for another learner's record: nothing tells them apart)."""
    demo = session.get(Demonstration, demonstration_id)
    if demo is None or demo.person_id != person_id or demo.evidence_file_id is None:
        raise NotFound(_("No such evidence file among your records."))
    return demo


# -- page versions (the landing page cache's validity) ---------------------------------------
# Tables the learner's landing page never reads, so the triggers of migration 0018 leave
# them out (a test fails when a table is neither covered by a trigger nor listed here).
PAGE_EXEMPT_TABLES: dict[str, str] = {
    "alembic_version": "migration bookkeeping",
    "learner_page_versions": "the counters themselves",
    "audit_events": "append-only log, never on the page",
    "roster_entries": "launch and roster-sync bookkeeping; the learner page reads no roster",
    "learner_accounts": "the page's person is resolved live by page_state; account columns "
                        "are not rendered (names come from the launch)",
    "idempotency_records": "API replay bookkeeping",
    "gradebook_signals": "AGS outbox",
    "api_tokens": "API authentication",
    "tool_keys": "the tool's signing keys",
    "status_lists": "revocation is shown from awards.status, never from a status list",
}
#: Shared tables whose new rows alone change no learner page (migration 0018): only their
#: updates and deletes bump the shared counter.
PAGE_INSERT_EXEMPT_TABLES: dict[str, str] = {
    "contexts": "a new course shows on a page only through an offering, demonstration or "
                "award, which bump a counter themselves (a course's first launch must not "
                "invalidate every page)",
    "resource_links": "the same, for a new link in a course",
    "deployments": "the same, for a new deployment",
    "evidence_files": "a new file shows only once a demonstration refers to it",
}

_PAGE_VERSIONS = LearnerPageVersion.__table__
_ACCOUNTS = LearnerAccount.__table__
_SHARED_VERSION = _PAGE_VERSIONS.alias("shared_version")
_PERSON_VERSION = _PAGE_VERSIONS.alias("person_version")
# Core, not ORM: this one statement is most of a cached page's cost.
_PAGE_STATE = (
    select(_ACCOUNTS.c.person_id, _PERSON_VERSION.c.version, _SHARED_VERSION.c.version)
    .select_from(_ACCOUNTS)
    .outerjoin(_PERSON_VERSION, _PERSON_VERSION.c.person_id == _ACCOUNTS.c.person_id)
    .outerjoin(_SHARED_VERSION, _SHARED_VERSION.c.person_id == SHARED_SCOPE)
    .where(_ACCOUNTS.c.id == bindparam("account_id")))


@dataclass(frozen=True)
class PageState:
    """The launched account's Person now, and the versions of what their page shows: any
    committed write that can change the page changes one of them (database triggers)."""

    person_id: int
    person_version: int
    shared_version: int


def page_state(bind: Session | Connection, account_id: int) -> PageState:
    """One statement: ``person_of`` and the page's version counters. Read it *before* the
    page's data: a write committed in between makes the page newer than its versions, never
    older. ``bind``: a session, or any connection (the web layer's
    ``extensions.read_connection``: autocommit when the request has no transaction open, so
    a page served from the cache costs one round trip). Raises NotFound like ``person_of``."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    row = connection.execute(_PAGE_STATE, {"account_id": account_id}).first()
    if row is None:
        raise _account_gone()
    return PageState(row[0], row[1] or 0, row[2] or 0)
