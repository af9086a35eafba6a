"""CSV for spreadsheets: the grid and the awards as exports (cells a spreadsheet will not
run as formulas), a template to fill in, and the import of demonstrations (a dry run first,
then all or nothing; a long list of problems is summarised, with all of them to
download)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.domain.catalog import label
from lti_tool.domain.tracking import (
    AwardStatus,
    CellStatus,
    DemonstrationFact,
    Method,
    Outcome,
    summarise_cell,
)
from lti_tool.errors import ToolError
from lti_tool.models import LearnerAccount, Skill
from lti_tool.models.base import utcnow
from lti_tool.services import problem_lists, tracking
from lti_tool.services.demonstration_import import COLUMNS as IMPORT_COLUMNS
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web.common import problem_downloads
from lti_tool.web.common.launch_session import check_csrf
from lti_tool.web.lms.instructor.awards import award_rows
from lti_tool.web.lms.instructor.course import (
    MAX_IMPORT_BYTES,
    Course,
    bp,
    course_url,
    current_course,
    error_summary,
    form_values,
    offered_credentials,
    offered_skills,
    read_body_within,
    render,
)
from lti_tool.web.lms.instructor.grid import gc_paused
from lti_tool.web.lms.instructor.learners import Learner, roster


class ImportTooLarge(ToolError):
    status_code = 413
    code = "import_too_large"
    title = _l("The file is too large")

    def __init__(self) -> None:
        super().__init__(_("CSV files can be %(size)s MB at most: split it into smaller files.",
                           size=MAX_IMPORT_BYTES // 1_000_000))


# -- CSV exports ----------------------------------------------------------------------------------
# Spreadsheets keep machine-friendly values whatever the reader's language: ISO dates and
# the English column names and codes the import and other tools expect.
def _iso_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_response(rows: Iterable[Sequence[object]], filename: str, *,
                  checked: bool = False) -> WerkzeugResponse:
    """``rows`` as a CSV download; every value goes through ``csv_cell`` unless ``checked``
    says the caller did that already (strings only)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if checked:
        writer.writerows(rows)
    else:
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
    course = current_course()
    skills = offered_skills(offered_credentials(course))
    learners = roster(course.session, course.context.id)
    with gc_paused():
        facts = tracking.current_facts(course.session, [lr.person_id for lr in learners],
                                       [s.id for s in skills])
        rows = _grid_rows(learners, skills, facts)
        del facts
    return _csv_response(rows, f"{_file_stem(course)}-skills.csv", checked=True)


_GRID_WORDS = {CellStatus.DEMONSTRATED: "demonstrated", CellStatus.ATTEMPTED: "attempted",
               CellStatus.NOT_YET: "not yet"}


def _grid_rows(learners: list[Learner], skills: list[Skill],
               facts: dict[tuple[int, int], list[DemonstrationFact]]) -> list[list[str]]:
    """The grid export's rows, every value through ``csv_cell`` already: a cell is its
    status in words and, when recorded, the latest record's date ("demonstrated
    2026-12-06"). Words that start with a letter need no ``csv_cell``, and a cell's text is
    made once per distinct (status, day): 600 learners x 40 skills are 24,000 cells."""
    rows: list[list[str]] = [
        [csv_cell(v) for v in ("Learner", "Email", *[f"{s.code} {s.name}" for s in skills])]]
    skill_ids = [s.id for s in skills]
    by_person = tracking.facts_by_person(facts)
    nothing: dict[int, list[DemonstrationFact]] = {}
    not_yet = _GRID_WORDS[CellStatus.NOT_YET]
    texts: dict[tuple[CellStatus, date], str] = {}
    demonstrated, attempted, passed = CellStatus.DEMONSTRATED, CellStatus.ATTEMPTED, Outcome.PASS
    for learner in learners:
        line = [csv_cell(learner.name), csv_cell(learner.email)]
        append = line.append
        get = by_person.get(learner.person_id, nothing).get
        for sid in skill_ids:
            cell_facts = get(sid)
            if not cell_facts:
                append(not_yet)
                continue
            if len(cell_facts) == 1:
                # One current record: summarise_cell's rule, without building a Cell.
                latest = cell_facts[0]
                status = demonstrated if latest.outcome is passed else attempted
            else:
                summary = summarise_cell(cell_facts)
                if summary.latest is None:
                    append(_GRID_WORDS[summary.status])
                    continue
                status, latest = summary.status, summary.latest
            key = (status, latest.at.date())
            text = texts.get(key)
            if text is None:
                text = texts[key] = _GRID_WORDS[status] + " " + latest.at.strftime("%Y-%m-%d")
            append(text)
        rows.append(line)
    return rows


@bp.get("/course/export/awards.csv")
def export_awards() -> ResponseReturnValue:
    course = current_course()
    emails = {lr.person_id: lr.email
              for lr in roster(course.session, course.context.id, active_only=False)}

    def rows() -> Iterator[list[object]]:
        yield ["Learner", "Email", "Credential", "Code", "Version", "Route", "Earned in",
               "Awarded", "Status", "Flag reason", "Revoked", "Revocation reason"]
        for row in award_rows(course):
            award = row.award
            yield [row.learner, emails.get(award.person_id, ""), award.version.title,
                   award.credential.code, award.version.version, label(award.route),
                   row.where, _iso_date(award.awarded_at), award.status,
                   award.flag_reason if award.status == AwardStatus.FLAGGED.value else "",
                   _iso_date(award.revoked_at),
                   award.revoked_reason]

    return _csv_response(rows(), f"{_file_stem(course)}-awards.csv")


TEMPLATE_EXAMPLES = 3


@bp.get("/course/import/template.csv")
def import_template() -> ResponseReturnValue:
    """A CSV to fill in: the import's columns, and example rows with this course's real
    learners (email, else platform user id) and skill codes, to replace or delete."""
    course = current_course()
    skills = offered_skills(offered_credentials(course))
    learners = roster(course.session, course.context.id)[:TEMPLATE_EXAMPLES]
    subs: dict[int, str] = {aid: sub for aid, sub in course.session.execute(
        select(LearnerAccount.id, LearnerAccount.sub).where(
            LearnerAccount.id.in_([lr.account_id for lr in learners])))} if learners else {}
    today = utcnow().date().isoformat()

    def rows() -> Iterator[list[object]]:
        yield list(IMPORT_COLUMNS)
        if not skills:
            return
        for learner in learners or []:
            yield [learner.email or subs.get(learner.account_id, ""), skills[0].code,
                   Outcome.PASS.value, today, "", Method.IN_COURSE_ASSIGNMENT.value,
                   "Example row: replace it or delete it"]
        if not learners:
            yield ["learner@example.edu", skills[0].code, Outcome.PASS.value, today, "",
                   Method.IN_COURSE_ASSIGNMENT.value, "Example row: replace it or delete it"]

    return _csv_response(rows(), f"{_file_stem(course)}-demonstrations-template.csv")


@bp.get("/course/import/problems/<ref>.csv")
def import_problems(ref: str) -> ResponseReturnValue:
    """Every problem of the last check of an import, as CSV (kept for an hour)."""
    course = current_course()
    return problem_downloads.download(ref, f"{_file_stem(course)}-import-problems.csv")


# -- CSV import -----------------------------------------------------------------------------------
@bp.route("/course/import", methods=["GET", "POST"])
def import_page() -> ResponseReturnValue:
    if request.method == "POST":
        read_body_within(MAX_IMPORT_BYTES + 256 * 1024, ImportTooLarge)
    course = current_course()
    report = None
    errors: dict[str, list[str]] = {}
    dry_run = True
    if request.method == "POST":
        mode = form_values(("mode",))["mode"]
        check_csrf(course.current)
        dry_run = mode != "import"
        upload = request.files.get("file")
        data = upload.stream.read(MAX_IMPORT_BYTES + 1) if upload and upload.filename else b""
        if not data:
            errors["file"] = [_("choose a CSV file")]
        elif len(data) > MAX_IMPORT_BYTES:
            errors["file"] = [_("the file is larger than %(size)s MB; split it into smaller "
                                "files", size=MAX_IMPORT_BYTES // 1_000_000)]
        else:
            from lti_tool.services.demonstration_import import import_demonstrations_csv

            report = import_demonstrations_csv(course.session, context=course.context,
                                               text=data, assessor=course.assessor,
                                               dry_run=dry_run)
            if report.ok and not dry_run:
                course.session.commit()
            else:
                course.session.rollback()
    problems = problems_url = None
    if report is not None and report.problems:
        problems = problem_lists.summarise(report.problems, report.counts.get("problems"))
        problems_url = course_url("instructor.import_problems",
                                  ref=problem_downloads.keep(report.problems))
    return render("instructor/import.html", 422 if errors or (report and not report.ok)
                  else 200, report=report, dry_run=dry_run, errors=errors,
                  summary=error_summary(errors), active="import", problems=problems,
                  problems_url=problems_url, skills=offered_skills(offered_credentials(course)))
