"""The assessment grid (learners by skills) and the on-demand roster refresh.

The grid is built for a 600-learner, 40-skill course: one query for the roster, one for
every cell's current demonstrations (``tracking.current_facts``), and the rows are rendered
as strings from precomputed, escaped pieces (a cell's accessible name is assembled by
``aria-labelledby`` from its row header, column header and a shared status label), so the
page costs no per-cell query and little per-cell work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from lti_tool import jobs
from lti_tool.domain.tracking import CellStatus, DemonstrationFact, Method, Outcome, summarise_cell
from lti_tool.models import Skill
from lti_tool.models.base import utcnow
from lti_tool.services import tracking
from lti_tool.services.tracking import OfferedCredential
from lti_tool.web.lms.instructor.course import (
    DEFAULT_PER_PAGE,
    OUTCOME_CHOICES,
    PER_PAGE_CHOICES,
    STATUS_CLASS,
    Course,
    bp,
    current_course,
    go,
    int_arg,
    offered_credentials,
    offered_skills,
    posted_course,
    render,
)
from lti_tool.web.lms.instructor.learners import Learner, roster


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
    page = int_arg(request.args.get("page")) or 1
    return GridFilters(int_arg(request.args.get("credential")), int_arg(request.args.get("skill")),
                       status, request.args.get("q", "").strip()[:100], max(page, 1), per)


def _columns(offered: list[OfferedCredential], filters: GridFilters) -> list[Skill]:
    chosen = [o for o in offered if filters.credential in (None, o.offering.id)]
    skills = offered_skills(chosen)
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
def gc_paused() -> Iterator[None]:
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
    with gc_paused():
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
    course = current_course()
    offered = offered_credentials(course)
    filters = _grid_filters()
    if filters.credential is not None and \
            all(o.offering.id != filters.credential for o in offered):
        filters = GridFilters(None, filters.skill, filters.status, filters.q, filters.page,
                              filters.per)
    data = build_grid(course, offered, filters)
    return render("instructor/grid.html", grid=data, offered=offered, filters=filters,
                  all_skills=offered_skills(offered), active="grid",
                  today=utcnow().date().isoformat(), methods=list(Method),
                  outcomes=OUTCOME_CHOICES, form={}, errors={})


@bp.post("/course/roster/refresh")
def refresh_roster() -> ResponseReturnValue:
    """Refresh the roster from the platform now (NRPS), or queue it for a worker."""
    course = posted_course()
    submitted = jobs.enqueue_roster_refresh(course.context.id)
    return go("instructor.grid", [submitted.message])


