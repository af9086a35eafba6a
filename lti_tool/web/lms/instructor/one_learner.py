"""Several skills for one learner on one form (``/course/learner?l=<account>``): every
skill offered in the course (the grid's credential filter narrows it), each with its
current status and "demonstrated when" criteria, and an outcome to choose per skill, with
one method, date, evidence link, note and file for all of them.

No outcome is preselected: a skill left without one is not recorded, and a form with none
chosen saves nothing (422). Everything chosen is recorded in one transaction through
``tracking.record_demonstration`` (one evaluation of the award rules per record), or
nothing is. "Save" goes back to the grid with the learner's row focused; "Save and next
learner" opens the same form for the next learner in the grid's order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from lti_tool.domain.labels import intl
from lti_tool.domain.tracking import COURSE_METHODS, Cell, Outcome, summarise_cell
from lti_tool.errors import ValidationFailed
from lti_tool.models import LearnerAccount, Skill
from lti_tool.models.base import utcnow
from lti_tool.services import evidence as evidence_service
from lti_tool.services import tracking
from lti_tool.services.tracking import OfferedCredential, RecordResult
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web.common.launch_session import check_csrf
from lti_tool.web.lms.instructor.course import (
    BODY_LIMIT,
    Course,
    bp,
    current_course,
    error_summary,
    form_values,
    go,
    int_arg,
    offered_credentials,
    read_body_within,
    render,
)
from lti_tool.web.lms.instructor.grid import skill_columns
from lti_tool.web.lms.instructor.learners import Learner, roster_learner
from lti_tool.web.lms.instructor.recording import (
    award_messages,
    back_to_grid_args,
    carried_filters,
    demonstrated_at,
    file_not_kept,
    file_too_large,
    next_learner,
    store_upload,
    upload_too_large,
)

SHARED_FIELDS = ("method", "demonstrated_at", "evidence_url", "evidence_note")
# Per skill: "pass", "fail", or "" (not assessed now: nothing is recorded for it).
CHOICES = ((Outcome.PASS.value, _l("Demonstrated")), (Outcome.FAIL.value, _l("Not yet")),
           ("", _l("Skip")))


@dataclass(frozen=True)
class SkillRow:
    skill: Skill
    cell: Cell
    credentials: list[str]   # titles of the offered credentials it counts toward

    @property
    def field(self) -> str:
        return f"outcome_{self.skill.id}"


def _rows(course: Course, learner: Learner, offered: list[OfferedCredential],
          credential: int | None) -> list[SkillRow]:
    skills = skill_columns(offered, credential)
    facts = tracking.current_facts(course.session, [learner.person_id],
                                   [s.id for s in skills])
    uses: dict[int, list[str]] = {}
    for item in offered:
        for skill in item.skills:
            uses.setdefault(skill.id, []).append(intl(item.version, "title").text)
    return [SkillRow(s, summarise_cell(facts.get((learner.person_id, s.id), [])),
                     uses.get(s.id, [])) for s in skills]


def _page(course: Course, learner: Learner, rows: list[SkillRow], *, form: dict[str, Any],
          chosen: dict[int, str], errors: dict[str, list[str]],
          status: int = 200) -> ResponseReturnValue:
    filters = carried_filters()
    progress = [p for p in tracking.progress_for(course.session, learner.person_id,
                                                 course.context)
                if filters.credential in (None, p.offered.offering.id)]
    return render("instructor/learner_record.html", status, learner=learner, rows=rows,
                  form=form, chosen=chosen, errors=errors, summary=error_summary(errors),
                  choices=CHOICES, progress=progress, today=utcnow().date().isoformat(),
                  methods=list(COURSE_METHODS), active="grid", state=filters.state(),
                  back_args=back_to_grid_args(filters, learner.account_id),
                  next_learner=next_learner(course, learner, filters))


@bp.route("/course/learner", methods=["GET", "POST"])
def learner_record() -> ResponseReturnValue:
    if request.method == "POST":
        read_body_within(BODY_LIMIT, evidence_service.EvidenceTooLarge)
    course = current_course()
    filters = carried_filters()
    offered = offered_credentials(course)
    if request.method == "GET":
        learner = roster_learner(course, int_arg(request.args.get("l")), for_write=False)
        rows = _rows(course, learner, offered, filters.credential)
        return _page(course, learner, rows, form={}, chosen={}, errors={})
    form = form_values(SHARED_FIELDS)
    check_csrf(course.current)
    learner = roster_learner(course, int_arg(request.form.get("l")), for_write=True)
    rows = _rows(course, learner, offered, filters.credential)
    chosen = {row.skill.id: request.form.get(row.field, "") for row in rows}
    chosen = {sid: value for sid, value in chosen.items()
              if value in (Outcome.PASS.value, Outcome.FAIL.value)}
    if upload_too_large():
        return _page(course, learner, rows, form=form, chosen=chosen,
                     errors={"evidence_file": [file_too_large()]}, status=413)
    errors: dict[str, list[str]] = {}
    if not chosen:
        errors["outcomes"] = [_("choose Demonstrated or Not yet for at least one skill")]
    file_id = store_upload(course, errors) if chosen else None
    at, date_errors = demonstrated_at(form["demonstrated_at"])
    errors.update(date_errors)
    errors.update(tracking.check_shared_fields(
        method=form["method"], evidence_url=form["evidence_url"],
        evidence_note=form["evidence_note"]))
    results: list[RecordResult] = []
    if not errors:
        account = course.session.get(LearnerAccount, learner.account_id)
        assert account is not None
        for row in rows:
            if row.skill.id not in chosen:
                continue
            try:
                results.append(tracking.record_demonstration(
                    course.session, context=course.context, account=account,
                    skill=row.skill, outcome=chosen[row.skill.id], method=form["method"],
                    assessor=course.assessor, evidence_url=form["evidence_url"],
                    evidence_note=form["evidence_note"], evidence_file_id=file_id,
                    demonstrated_at=at, offered=offered))
            except ValidationFailed as exc:
                errors.update(exc.errors)
                break
    if errors:
        course.session.rollback()
        file_not_kept(errors)
        return _page(course, learner, rows, form=form, chosen=chosen, errors=errors,
                     status=422)
    course.session.commit()
    passed = sum(1 for r in results if r.demonstration.outcome == Outcome.PASS.value)
    failed = len(results) - passed
    if passed and failed:
        done = _("Recorded for %(learner)s: %(passed)s demonstrated and %(failed)s not "
                 "demonstrated yet.", learner=learner.name, passed=passed, failed=failed)
    elif passed:
        done = _("Recorded for %(learner)s: %(passed)s demonstrated.", learner=learner.name,
                 passed=passed)
    else:
        done = _("Recorded for %(learner)s: %(failed)s not demonstrated yet.",
                 learner=learner.name, failed=failed)
    messages = [done,
                *award_messages(results, {learner.person_id: learner.name})]
    if request.form.get("then") == "next_learner":
        after = next_learner(course, learner, filters)
        if after is not None:
            return go("instructor.learner_record", messages, l=after.account_id,
                      **filters.state())
        messages.append(_("That was the last learner."))
    return go("instructor.grid", messages, **back_to_grid_args(filters, learner.account_id))
