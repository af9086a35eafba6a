"""Recording demonstrations: one cell (a learner's history for a skill, a new record with
an optional evidence file), corrections of an earlier record (kept, marked as corrected),
and one skill for many learners at once (bulk, all or nothing).

Fast and careful: no outcome is preselected (an untouched form saves nothing); a save goes
back to the grid with the changed cell focused, or on to the next learner or the next
skill; a refused save (422, a file too large: 413, a record corrected meanwhile: 409)
shows the same form with what was typed, never a dead end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from lti_tool.domain.labels import intl
from lti_tool.domain.tracking import COURSE_METHODS, Method, Outcome, summarise_cell
from lti_tool.errors import Conflict, Forbidden, NotFound, ToolError, ValidationFailed
from lti_tool.models import Demonstration, EvidenceFile, LearnerAccount, RosterEntry, Skill
from lti_tool.models.base import utcnow
from lti_tool.services import evidence as evidence_service
from lti_tool.services import tracking
from lti_tool.services.tracking import RecordResult
from lti_tool.translate import gettext as _
from lti_tool.translate import ngettext
from lti_tool.web.common.launch_session import check_csrf
from lti_tool.web.lms.instructor.course import (
    BODY_LIMIT,
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
from lti_tool.web.lms.instructor.evidence import evidence_shared
from lti_tool.web.lms.instructor.grid import (
    GRID_STATE_PREFIX,
    GridFilters,
    grid_filters,
    skill_columns,
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
    evidence_shown: bool = True   # false: recorded in another course, which keeps it

    @property
    def has_evidence(self) -> bool:
        return bool(self.demo.evidence_url or self.demo.evidence_note or
                    self.demo.evidence_file_id)


def _history(course: Course, learner: Learner, skill: Skill) -> list[HistoryItem]:
    records = tracking.history(course.session, learner.person_id, skill.id)
    by_supersedes = {d.supersedes_id: d for d in records if d.supersedes_id is not None}
    shared = evidence_shared(course)
    shown = {d.id: shared or d.context_id == course.context.id for d in records}
    file_ids = {d.evidence_file_id for d in records if d.evidence_file_id and shown[d.id]}
    # Names and sizes only: the files' bytes stay in the database.
    files = {fid: (name, size) for fid, name, size in course.session.execute(
        select(EvidenceFile.id, EvidenceFile.filename, EvidenceFile.size)
        .where(EvidenceFile.id.in_(file_ids)))} if file_ids else {}
    return [HistoryItem(d, by_supersedes.get(d.id), d.context_id == course.context.id,
                        *files.get(d.evidence_file_id or 0, ("", 0)),
                        evidence_shown=shown[d.id])
            for d in records]


def carried_filters() -> GridFilters:
    """The grid view this page was opened from (``g_*`` parameters)."""
    return grid_filters(request.values, GRID_STATE_PREFIX)


def _next_skill(course: Course, skill: Skill, filters: GridFilters) -> Skill | None:
    """The skill after this one in the grid's columns (its credential filter, not its
    skill filter: "next" walks the columns)."""
    columns = skill_columns(offered_credentials(course), filters.credential)
    ids = [s.id for s in columns]
    if skill.id not in ids:
        return None
    after = ids.index(skill.id) + 1
    return columns[after] if after < len(columns) else None


def next_learner(course: Course, learner: Learner, filters: GridFilters) -> Learner | None:
    """The learner after this one in the grid's order (its name filter)."""
    learners = roster(course.session, course.context.id)
    if filters.q:
        folded = filters.q.casefold()
        learners = [lr for lr in learners if lr.matches(folded)]
    ids = [lr.account_id for lr in learners]
    if learner.account_id not in ids:
        return None
    after = ids.index(learner.account_id) + 1
    return learners[after] if after < len(learners) else None


def _cell_page(course: Course, learner: Learner, skill: Skill, *, form: dict[str, Any],
               errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    facts = tracking.current_facts(course.session, [learner.person_id], [skill.id])
    cell = summarise_cell(facts.get((learner.person_id, skill.id), []))
    credentials = [o for o in offered_credentials(course)
                   if any(s.id == skill.id for s in o.skills)]
    filters = carried_filters()
    return render("instructor/cell.html", status, learner=learner, skill=skill, cell=cell,
                  history=_history(course, learner, skill), credentials=credentials,
                  form=form, errors=errors, summary=error_summary(errors),
                  today=utcnow().date().isoformat(), methods=list(COURSE_METHODS),
                  outcomes=OUTCOME_CHOICES, active="grid", state=filters.state(),
                  back_args=back_to_grid_args(filters, learner.account_id, skill.id),
                  next_skill=_next_skill(course, skill, filters),
                  next_learner=next_learner(course, learner, filters))


def back_to_grid_args(filters: GridFilters, account_id: int,
                      skill_id: int | None = None) -> dict[str, Any]:
    """The grid's URL arguments to come back to the view a page was opened from, with the
    learner's cell (or row) focused on the page that holds it."""
    focus = f"{account_id}.{skill_id}" if skill_id is not None else str(account_id)
    return {**filters.args(), "focus": focus}


@bp.get("/course/cell")
def cell() -> ResponseReturnValue:
    course = current_course()
    account_id, skill_id = _cell_ids()
    skill = offered_skill(course, skill_id)
    learner = roster_learner(course, account_id, for_write=False)
    return _cell_page(course, learner, skill, form={}, errors={})


def demonstrated_at(raw: str) -> tuple[datetime | None, dict[str, list[str]]]:
    """A date from the form (the learner's local "today" may be UTC's tomorrow): today or
    tomorrow (UTC) is now; an earlier day is noon UTC that day; later is refused."""
    raw = raw.strip()
    now = utcnow()
    if not raw:
        return now, {}
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, {"demonstrated_at": [_("enter the date as YYYY-MM-DD")]}
    if day > now.date() + timedelta(days=1):
        return None, {"demonstrated_at": [_("cannot be in the future")]}
    if day < date(1990, 1, 1):
        return None, {"demonstrated_at": [_("enter a date after %(year)s", year=1990)]}
    if day >= now.date():
        return now, {}
    return datetime.combine(day, time(12), tzinfo=UTC), {}


RECORD_FIELDS = ("outcome", "method", "demonstrated_at", "evidence_url", "evidence_note",
                 "reason")


def file_too_large() -> str:
    return _("the file is larger than %(size)s MB: choose a smaller one, or give a link to "
             "where the evidence is kept", size=evidence_service.MAX_EVIDENCE_BYTES // 2**20)


def upload_too_large() -> bool:
    """Whether the posted evidence file is over the limit (the body itself was within
    ``BODY_LIMIT``), so the form can be shown again with 413 and what was typed."""
    upload = request.files.get("evidence_file")
    if upload is None or not upload.filename:
        return False
    upload.stream.seek(0, 2)
    size = upload.stream.tell()
    upload.stream.seek(0)
    return size > evidence_service.MAX_EVIDENCE_BYTES


def store_upload(course: Course, errors: dict[str, list[str]]) -> int | None:
    upload = request.files.get("evidence_file")
    if upload is None or not upload.filename:
        return None
    data = upload.stream.read(evidence_service.MAX_EVIDENCE_BYTES + 1)
    try:
        row = evidence_service.store_evidence(course.session, filename=upload.filename,
                                              data=data, uploaded_by=course.assessor.ref)
    except evidence_service.EvidenceTooLarge:
        errors["evidence_file"] = [file_too_large()]
        return None
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None
    return row.id


def file_not_kept(errors: dict[str, list[str]]) -> None:
    """A file input cannot be filled in again by the server: say so on the field."""
    if errors and request.files.get("evidence_file") and \
            request.files["evidence_file"].filename and "evidence_file" not in errors:
        errors["evidence_file"] = [_("choose the file again: a file is not kept when the "
                                     "form has a problem")]


def _record(course: Course, learner: Learner, skill: Skill, form: dict[str, str], *,
            supersedes_id: int | None = None) -> tuple[RecordResult | None,
                                                       dict[str, list[str]]]:
    """Record (or correct) one demonstration from the posted form; on any problem nothing
    is kept (the caller rolls back) and the field errors are returned."""
    errors: dict[str, list[str]] = {}
    if not form["outcome"]:
        errors["outcome"] = [_("choose Demonstrated or Not demonstrated yet")]
        errors.update(tracking.check_shared_fields(
            method=form["method"], evidence_url=form["evidence_url"],
            evidence_note=form["evidence_note"]))
    file_id = store_upload(course, errors)
    at, date_errors = demonstrated_at(form["demonstrated_at"])
    errors.update(date_errors)
    account = course.session.get(LearnerAccount, learner.account_id)
    assert account is not None
    result = None
    if "outcome" not in errors:
        try:
            result = tracking.record_demonstration(
                course.session, context=course.context, account=account, skill=skill,
                outcome=form["outcome"], method=form["method"], assessor=course.assessor,
                evidence_url=form["evidence_url"], evidence_note=form["evidence_note"],
                evidence_file_id=file_id, demonstrated_at=at, supersedes_id=supersedes_id,
                reason=form.get("reason", "")[:MAX_REASON],
                offered=offered_credentials(course))  # read once per request (g)
        except ValidationFailed as exc:
            errors = {**exc.errors, **errors}
    file_not_kept(errors)
    return (None if errors else result), errors


def award_messages(results: Iterable[RecordResult], names: dict[int, str]) -> list[str]:
    messages = []
    for result in results:
        for award in result.new_awards:
            messages.append(_("%(learner)s earned %(credential)s.",
                              learner=names.get(award.person_id) or _("A learner"),
                              credential=intl(award.version, "title").text))
        for award in result.flagged_awards:
            messages.append(_(
                "Flagged for your review: %(learner)s's %(credential)s rests on the "
                "corrected record. Keep or revoke it on the Awards page.",
                learner=names.get(award.person_id) or _("a learner"),
                credential=intl(award.version, "title").text))
    return messages


def outcome_words(outcome: str) -> str:
    return (_("demonstrated") if outcome == Outcome.PASS.value
            else _("attempted, not demonstrated yet"))


@bp.post("/course/cell")
def record() -> ResponseReturnValue:
    read_body_within(BODY_LIMIT, evidence_service.EvidenceTooLarge)
    course = current_course()
    form = form_values(RECORD_FIELDS)
    check_csrf(course.current)
    account_id, skill_id = _cell_ids()
    skill = offered_skill(course, skill_id)
    learner = roster_learner(course, account_id, for_write=True)
    if upload_too_large():
        return _cell_page(course, learner, skill, form=form,
                          errors={"evidence_file": [file_too_large()]}, status=413)
    result, errors = _record(course, learner, skill, form)
    if result is None:
        course.session.rollback()
        return _cell_page(course, learner, skill, form=form, errors=errors, status=422)
    course.session.commit()
    messages = [_("Recorded for %(learner)s: %(skill)s — %(outcome)s.", learner=learner.name,
                  skill=intl(skill, "name").text,
                  outcome=outcome_words(result.demonstration.outcome)),
                *award_messages([result], {learner.person_id: learner.name})]
    return _after_save(course, learner, skill, messages)


def _after_save(course: Course, learner: Learner, skill: Skill,
                messages: list[str]) -> ResponseReturnValue:
    """Where a saved record goes: the next skill's or learner's cell when asked (``then``),
    else the grid view it came from with this cell focused."""
    filters = carried_filters()
    state = filters.state()
    then = request.form.get("then", "")
    if then == "next_skill":
        following = _next_skill(course, skill, filters)
        if following is not None:
            return go("instructor.cell", messages, c=f"{learner.account_id}.{following.id}",
                      **state)
        messages.append(_("That was the last skill for %(learner)s.", learner=learner.name))
    elif then == "next_learner":
        after = next_learner(course, learner, filters)
        if after is not None:
            return go("instructor.cell", messages, c=f"{after.account_id}.{skill.id}", **state)
        messages.append(_("That was the last learner for %(skill)s.",
                            skill=intl(skill, "name").text))
    return go("instructor.grid", messages,
              **back_to_grid_args(filters, learner.account_id, skill.id))


def _correctable(course: Course, demo_id: int) -> tuple[Demonstration, Learner, Skill]:
    demo = course.session.get(Demonstration, demo_id)
    if demo is None:
        raise NotFound(_("No such record."))
    skill = offered_skill(course, demo.skill_id)
    account_id = course.session.scalars(
        select(RosterEntry.account_id).join(LearnerAccount,
                                            LearnerAccount.id == RosterEntry.account_id)
        .where(RosterEntry.context_id == course.context.id,
               LearnerAccount.person_id == demo.person_id).limit(1)).first()
    learner = roster_learner(course, account_id, for_write=False)
    return demo, learner, skill


def latest_of(course: Course, demo: Demonstration) -> Demonstration:
    """The current end of a record's correction chain (the record itself if nobody
    corrected it)."""
    seen = {demo.id}
    while True:
        later = course.session.scalars(select(Demonstration).where(
            Demonstration.supersedes_id == demo.id)).first()
        if later is None or later.id in seen:
            return demo
        seen.add(later.id)
        demo = later


@bp.route("/course/correct/<int:demo_id>", methods=["GET", "POST"])
def correct(demo_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        read_body_within(BODY_LIMIT, evidence_service.EvidenceTooLarge)
    course = current_course()
    form: dict[str, str] = {}
    if request.method == "POST":
        form = form_values(RECORD_FIELDS)
        check_csrf(course.current)
    demo, learner, skill = _correctable(course, demo_id)
    if demo.context_id != course.context.id:
        raise Forbidden(_("This record was made in another course; it can be corrected there."),
                        code="record_of_other_course")
    latest = latest_of(course, demo)
    if latest.id != demo.id:
        # Corrected meanwhile (or an old link): show the latest record, keep what was typed.
        return _correct_page(course, latest, learner, skill,
                             form or _form_of(latest), {}, status=409, superseded=demo)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        learner = roster_learner(course, learner.account_id, for_write=True)
        if upload_too_large():
            return _correct_page(course, demo, learner, skill, form,
                                 {"evidence_file": [file_too_large()]}, status=413)
        if not form["reason"].strip():
            errors["reason"] = [_("say why the earlier record is corrected")]
        try:
            result, record_errors = _record(course, learner, skill, form,
                                            supersedes_id=demo.id)
        except Conflict:
            # Another assessor's correction won the race a moment ago.
            course.session.rollback()
            latest = latest_of(course, demo)
            return _correct_page(course, latest, learner, skill, form, {}, status=409,
                                 superseded=demo)
        errors = {**record_errors, **errors}
        if result is not None and not errors:
            course.session.commit()
            messages = [_("Corrected for %(learner)s: %(skill)s — now %(outcome)s. The "
                          "earlier record is kept and marked as corrected.",
                          learner=learner.name, skill=intl(skill, "name").text,
                          outcome=outcome_words(result.demonstration.outcome)),
                        *award_messages([result], {learner.person_id: learner.name})]
            return go("instructor.cell", messages, c=f"{learner.account_id}.{skill.id}",
                      **carried_filters().state())
        course.session.rollback()
    else:
        form = _form_of(demo)
    return _correct_page(course, demo, learner, skill, form, errors,
                         status=422 if errors else 200)


def _form_of(demo: Demonstration) -> dict[str, str]:
    return {"outcome": demo.outcome, "method": demo.method,
            "demonstrated_at": demo.demonstrated_at.date().isoformat(),
            "evidence_url": demo.evidence_url, "evidence_note": demo.evidence_note,
            "reason": ""}


def _correct_page(course: Course, demo: Demonstration, learner: Learner, skill: Skill,
                  form: dict[str, str], errors: dict[str, list[str]], *, status: int,
                  superseded: Demonstration | None = None) -> ResponseReturnValue:
    """The correction form for ``demo``; ``superseded``: the record the user meant to
    correct, already corrected by someone (409: the form now corrects the latest)."""
    return render("instructor/correct.html", status, demo=demo, learner=learner,
                  skill=skill, form=form, errors=errors, summary=error_summary(errors),
                  today=utcnow().date().isoformat(), methods=list(COURSE_METHODS),
                  outcomes=OUTCOME_CHOICES, active="grid", superseded=superseded,
                  correctable=demo.context_id == course.context.id,
                  state=carried_filters().state())


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
        form = {"skill": request.args.get("skill", ""), "outcome": "",
                "method": Method.IN_COURSE_ASSIGNMENT.value, "demonstrated_at": "",
                "evidence_url": "", "evidence_note": ""}
        return render("instructor/bulk.html", form=form, selected=set(), errors={},
                      summary=[], skills=skills, learners=learners,
                      today=utcnow().date().isoformat(), methods=list(COURSE_METHODS),
                      outcomes=OUTCOME_CHOICES, active="grid")
    form = form_values(BULK_FIELDS)
    check_csrf(course.current)
    raw_ids = request.form.getlist("learner")[:MAX_BULK + 1]
    if len(raw_ids) > MAX_BULK:
        raise ToolError(_("Mark at most %(max)s learners at once.", max=MAX_BULK),
                        code="bulk_too_large")
    ids = [int_arg(v) for v in raw_ids]
    skill = offered_skill(course, int_arg(form["skill"])) if form["skill"] else None
    by_account = {learner.account_id: learner for learner in learners}
    if any(i is None or i not in by_account for i in ids):
        # A learner id not on this course's roster: refuse everything.
        raise NotFound(_("No such learner in this course."), code="learner_not_found")
    chosen = [by_account[i] for i in dict.fromkeys(i for i in ids if i is not None)]
    errors: dict[str, list[str]] = {}
    if not chosen:
        errors["learner"] = [_("select at least one learner")]
    if skill is None:
        errors["skill"] = [_("choose the skill to mark")]
    if not form["outcome"]:
        errors["outcome"] = [_("choose Demonstrated or Not demonstrated yet")]
    at, date_errors = demonstrated_at(form["demonstrated_at"])
    errors.update(date_errors)
    errors.update(tracking.check_shared_fields(
        method=form["method"], evidence_url=form["evidence_url"],
        evidence_note=form["evidence_note"]))
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
                    demonstrated_at=at, offered=offered_credentials(course)))
            except ValidationFailed as exc:
                errors.update(exc.errors)
                break
    if errors:
        course.session.rollback()
        return render("instructor/bulk.html", 422, form=form,
                      selected={lr.account_id for lr in chosen}, errors=errors,
                      summary=error_summary(errors), skills=skills, learners=learners,
                      today=utcnow().date().isoformat(), methods=list(COURSE_METHODS),
                      outcomes=OUTCOME_CHOICES, active="grid")
    course.session.commit()
    assert skill is not None
    count = len(chosen)
    messages = [ngettext("Recorded %(skill)s as %(outcome)s for %(num)s learner.",
                         "Recorded %(skill)s as %(outcome)s for %(num)s learners.", count,
                         skill=intl(skill, "name").text, outcome=outcome_words(form["outcome"])),
                *award_messages(results,
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


