"""Recording demonstrations: one cell (a learner's history for a skill, a new record with
an optional evidence file), corrections of an earlier record (kept, marked as corrected),
and one skill for many learners at once (bulk, all or nothing)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from lti_tool.domain.tracking import Method, Outcome, summarise_cell
from lti_tool.errors import Conflict, Forbidden, NotFound, ToolError, ValidationFailed
from lti_tool.models import Demonstration, EvidenceFile, LearnerAccount, RosterEntry, Skill
from lti_tool.models.base import utcnow
from lti_tool.services import evidence as evidence_service
from lti_tool.services import tracking
from lti_tool.services.tracking import RecordResult
from lti_tool.web.common.launch_session import check_csrf
from lti_tool.web.lms.instructor.course import (
    MAX_BULK,
    MAX_REASON,
    OUTCOME_CHOICES,
    Course,
    bp,
    current_course,
    error_summary,
    form_values,
    go,
    int_arg,
    offered_credentials,
    offered_skill,
    offered_skills,
    read_body_within,
    render,
)
from lti_tool.web.lms.instructor.learners import Learner, roster, roster_learner


# -- one cell: record, history, corrections --------------------------------------------------
def _cell_ids() -> tuple[int | None, int | None]:
    raw = request.values.get("c", "")
    if raw:
        account, _, skill = raw.partition(".")
        return int_arg(account), int_arg(skill)
    return int_arg(request.values.get("learner")), int_arg(request.values.get("skill"))


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
    credentials = [o for o in offered_credentials(course)
                   if any(s.id == skill.id for s in o.skills)]
    return render("instructor/cell.html", status, learner=learner, skill=skill, cell=cell,
                  history=_history(course, learner, skill), credentials=credentials,
                  form=form, errors=errors, summary=error_summary(errors),
                  today=utcnow().date().isoformat(), methods=list(Method),
                  outcomes=OUTCOME_CHOICES, active="grid")


@bp.get("/course/cell")
def cell() -> ResponseReturnValue:
    course = current_course()
    account_id, skill_id = _cell_ids()
    skill = offered_skill(course, skill_id)
    learner = roster_learner(course, account_id, for_write=False)
    return _cell_page(course, learner, skill, form={}, errors={})


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
    read_body_within(UPLOAD_LIMIT, evidence_service.EvidenceTooLarge)
    course = current_course()
    form = form_values(RECORD_FIELDS)
    check_csrf(course.current)
    account_id, skill_id = _cell_ids()
    skill = offered_skill(course, skill_id)
    learner = roster_learner(course, account_id, for_write=True)
    result, errors = _record(course, learner, skill, form)
    if result is None:
        course.session.rollback()
        return _cell_page(course, learner, skill, form=form, errors=errors, status=422)
    course.session.commit()
    outcome = "demonstrated" if result.demonstration.outcome == Outcome.PASS.value \
        else "attempted, not demonstrated yet"
    messages = [f"Recorded for {learner.name}: {skill.name} — {outcome}.",
                *_award_messages(course, [result], {learner.person_id: learner.name})]
    return go("instructor.cell", messages, c=f"{learner.account_id}.{skill.id}")


def _correctable(course: Course, demo_id: int) -> tuple[Demonstration, Learner, Skill]:
    demo = course.session.get(Demonstration, demo_id)
    if demo is None:
        raise NotFound("No such record.")
    skill = offered_skill(course, demo.skill_id)
    account_id = course.session.scalars(
        select(RosterEntry.account_id).join(LearnerAccount,
                                            LearnerAccount.id == RosterEntry.account_id)
        .where(RosterEntry.context_id == course.context.id,
               LearnerAccount.person_id == demo.person_id).limit(1)).first()
    learner = roster_learner(course, account_id, for_write=False)
    return demo, learner, skill


@bp.route("/course/correct/<int:demo_id>", methods=["GET", "POST"])
def correct(demo_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        read_body_within(UPLOAD_LIMIT, evidence_service.EvidenceTooLarge)
    course = current_course()
    form: dict[str, str] = {}
    if request.method == "POST":
        form = form_values(RECORD_FIELDS)
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
        learner = roster_learner(course, learner.account_id, for_write=True)
        if not form["reason"].strip():
            errors["reason"] = ["say why the earlier record is corrected"]
        result, record_errors = _record(course, learner, skill, form, supersedes_id=demo.id)
        errors = {**record_errors, **errors}
        if result is not None and not errors:
            course.session.commit()
            outcome = "demonstrated" if result.demonstration.outcome == Outcome.PASS.value \
                else "attempted, not demonstrated yet"
            messages = [f"Corrected for {learner.name}: {skill.name} — now {outcome}. The "
                        "earlier record is kept and marked as corrected.",
                        *_award_messages(course, [result], {learner.person_id: learner.name})]
            return go("instructor.cell", messages, c=f"{learner.account_id}.{skill.id}")
        course.session.rollback()
    else:
        form = {"outcome": demo.outcome, "method": demo.method,
                "demonstrated_at": demo.demonstrated_at.date().isoformat(),
                "evidence_url": demo.evidence_url, "evidence_note": demo.evidence_note,
                "reason": ""}
    return render("instructor/correct.html", 422 if errors else 200, demo=demo,
                  learner=learner, skill=skill, form=form, errors=errors,
                  summary=error_summary(errors), today=utcnow().date().isoformat(),
                  methods=list(Method), outcomes=OUTCOME_CHOICES, active="grid")


# -- bulk ------------------------------------------------------------------------------------------
BULK_FIELDS = ("skill", "outcome", "method", "demonstrated_at", "evidence_url", "evidence_note")


@bp.route("/course/bulk", methods=["GET", "POST"])
def bulk() -> ResponseReturnValue:
    """Mark one skill for many learners in one POST (from the grid's checkboxes or this
    page's own list): every record goes through ``record_demonstration`` in one
    transaction; any problem keeps nothing."""
    course = current_course()
    offered = offered_credentials(course)
    skills = offered_skills(offered)
    learners = roster(course.session, course.context.id)
    if request.method == "GET":
        form = {"skill": request.args.get("skill", ""), "outcome": "pass",
                "method": Method.IN_COURSE_ASSIGNMENT.value, "demonstrated_at": "",
                "evidence_url": "", "evidence_note": ""}
        return render("instructor/bulk.html", form=form, selected=set(), errors={},
                      summary=[], skills=skills, learners=learners,
                      today=utcnow().date().isoformat(), methods=list(Method),
                      outcomes=OUTCOME_CHOICES, active="grid")
    form = form_values(BULK_FIELDS)
    check_csrf(course.current)
    raw_ids = request.form.getlist("learner")[:MAX_BULK + 1]
    if len(raw_ids) > MAX_BULK:
        raise ToolError(f"Mark at most {MAX_BULK} learners at once.", code="bulk_too_large")
    ids = [int_arg(v) for v in raw_ids]
    skill = offered_skill(course, int_arg(form["skill"])) if form["skill"] else None
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
        return render("instructor/bulk.html", 422, form=form,
                      selected={lr.account_id for lr in chosen}, errors=errors,
                      summary=error_summary(errors), skills=skills, learners=learners,
                      today=utcnow().date().isoformat(), methods=list(Method),
                      outcomes=OUTCOME_CHOICES, active="grid")
    course.session.commit()
    assert skill is not None
    outcome = "demonstrated" if form["outcome"] == Outcome.PASS.value \
        else "attempted, not demonstrated yet"
    count = len(chosen)
    messages = [f"Recorded {skill.name} as {outcome} for {count} "
                f"learner{'s' if count != 1 else ''}.",
                *_award_messages(course, results,
                                 {lr.person_id: lr.name for lr in chosen})]
    return go("instructor.grid", messages, **_return_filters())


def _return_filters() -> dict[str, str]:
    """The grid filters the bulk form was posted from (validated again when read)."""
    keep = {}
    for name in ("credential", "skill", "status", "q", "per", "page"):
        value = request.form.get("return_" + name, "")
        if value and len(value) <= 100:
            keep[name] = value
    return keep


