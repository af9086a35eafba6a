"""The assessment grid (learners by skills) and the on-demand roster refresh.

The grid is built for a 600-learner, 40-skill course: one query for the roster, one for
every cell's current demonstrations (``tracking.current_facts``), one for the shown
learners' awards, and the rows are rendered as strings from precomputed, escaped pieces (a
cell's accessible name is assembled by ``aria-labelledby`` from its row header, column
header and a shared status label), so the page costs no per-cell query and little per-cell
work.

Each row also has a progress cell (earned, or skills done of those needed, per offered
credential) that opens the form recording several skills for that learner. The grid's
filters travel to the pages it opens as ``g_*`` parameters, so "save" comes back to the
same view with the changed cell focused (``focus=<account>.<skill>``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask import request
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from lti_tool import jobs
from lti_tool.domain.catalog import RuleProgress
from lti_tool.domain.labels import intl
from lti_tool.domain.tracking import (
    COURSE_METHODS,
    CellStatus,
    DemonstrationFact,
    Outcome,
    summarise_cell,
)
from lti_tool.i18n import format_date
from lti_tool.models import Skill
from lti_tool.models.base import utcnow
from lti_tool.services import tracking
from lti_tool.services.tracking import OfferedCredential
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web.lms.instructor.course import (
    DEFAULT_PER_PAGE,
    OUTCOME_CHOICES,
    PER_PAGE_CHOICES,
    STATUS_CLASS,
    Course,
    bp,
    course_url,
    current_course,
    go,
    int_arg,
    offered_credentials,
    offered_skills,
    posted_course,
    render,
)
from lti_tool.web.lms.instructor.learners import Learner, roster, roster_notice

GRID_STATE_PREFIX = "g_"
_FILTER_NAMES = ("credential", "skill", "status", "q", "per", "page")


@dataclass(frozen=True)
class GridFilters:
    credential: int | None
    skill: int | None
    status: str
    q: str
    page: int
    per: str
    page_given: bool = True

    def args(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"credential": self.credential, "skill": self.skill,
                                  "status": self.status, "q": self.q, "per": self.per}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}

    def state(self) -> dict[str, str]:
        """The filters (and page) as ``g_*`` parameters, for the pages the grid opens."""
        values = self.args(page=self.page if self.page > 1 else None)
        if values.get("per") == str(DEFAULT_PER_PAGE):
            del values["per"]
        return {GRID_STATE_PREFIX + k: str(v) for k, v in values.items()}


def grid_filters(values: Mapping[str, str], prefix: str = "") -> GridFilters:
    """The grid's filters from query or form values (``prefix`` "g_": carried by another
    page); anything unknown falls back to its default."""
    status = values.get(prefix + "status", "")
    if status not in {s.value for s in CellStatus}:
        status = ""
    per = values.get(prefix + "per", "")
    if per not in PER_PAGE_CHOICES:
        per = str(DEFAULT_PER_PAGE)
    page = int_arg(values.get(prefix + "page"))
    return GridFilters(int_arg(values.get(prefix + "credential")),
                       int_arg(values.get(prefix + "skill")), status,
                       values.get(prefix + "q", "").strip()[:100], max(page or 1, 1), per,
                       page_given=page is not None)


def grid_state() -> dict[str, str]:
    """The ``g_*`` parameters this request carries (validated)."""
    return grid_filters(request.values, GRID_STATE_PREFIX).state()


def _grid_filters() -> GridFilters:
    return grid_filters(request.args)


def skill_columns(offered: list[OfferedCredential], credential: int | None) -> list[Skill]:
    """The grid's skill columns for a credential filter (an offering id, or every one)."""
    return offered_skills([o for o in offered if credential in (None, o.offering.id)])


def _columns(offered: list[OfferedCredential], filters: GridFilters) -> list[Skill]:
    skills = skill_columns(offered, filters.credential)
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
    focused: bool = False   # the ``focus`` cell is on this page


class LearnerProgress(NamedTuple):
    """One learner's standing on one offered credential, for the grid's progress cell (a
    NamedTuple: 2,400 of them for 600 learners x 4 credentials)."""

    code: str
    title: str
    earned: bool
    progress: RuleProgress
    needs_new_evidence: bool = False   # revoked; every skill passed before the revocation

    @property
    def short(self) -> str:
        if self.earned:
            return _("Earned")
        if self.needs_new_evidence:
            return _("Revoked")
        return f"{self.progress.done}/{self.progress.total}"

    @property
    def spoken(self) -> str:
        if self.earned:
            return _("%(title)s: earned", title=self.title)
        if self.needs_new_evidence:
            return _("%(title)s: revoked; a new demonstration can earn it again",
                     title=self.title)
        return _("%(title)s: %(done)s of %(total)s skills", title=self.title,
                 done=self.progress.done, total=self.progress.total)


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


def parse_focus(raw: str) -> tuple[int, int | None] | None:
    """``<account>.<skill>`` (a cell) or ``<account>`` (a row)."""
    account, _, skill = (raw or "")[:30].partition(".")
    account_id = int_arg(account)
    if account_id is None:
        return None
    return account_id, int_arg(skill) if skill else None


def build_grid(course: Course, offered: list[OfferedCredential],
               filters: GridFilters, focus: tuple[int, int | None] | None = None) -> GridPage:
    session = course.session
    columns = _columns(offered, filters)
    chosen = [o for o in offered if filters.credential in (None, o.offering.id)]
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
        if focus is not None and not filters.page_given:
            # Back from a record: the page that holds the learner whose cell changed.
            index = next((i for i, lr in enumerate(learners) if lr.account_id == focus[0]),
                         None)
            if index is not None:
                page = index // per + 1
        shown = learners[(page - 1) * per: page * per]
        if not filters.status:
            facts = tracking.current_facts(session, [lr.person_id for lr in shown], skill_ids)
        progress = _progress(course, chosen, shown, facts, set(skill_ids))
        focused = focus is not None and any(lr.account_id == focus[0] for lr in shown)
        rows = _render_rows(shown, columns, facts, course.context.title, counts,
                            progress=progress, focus=focus if focused else None,
                            learner_url=_learner_url(filters))
        del facts
    # Every piece of ``rows`` that came from data was escaped in _render_rows.
    return GridPage(Markup(rows), shown, columns, len(learners),  # noqa: S704
                    len(everyone), page, pages, counts, focused)


def _learner_url(filters: GridFilters) -> str:
    """The several-skills form's URL for a row, without the learner (appended per row)."""
    query = urlencode(filters.state())
    return course_url("instructor.learner_record") + (f"&{query}" if query else "") + "&l="


def _progress(course: Course, chosen: list[OfferedCredential], shown: list[Learner],
              facts: dict[tuple[int, int], list[DemonstrationFact]],
              loaded_skills: set[int]) -> dict[int, list[LearnerProgress]]:
    """Per shown learner (person id), their standing on each chosen credential: two more
    queries at most (the skills the columns do not show, and the awards)."""
    if not chosen or not shown:
        return {}
    persons = [lr.person_id for lr in shown]
    needed = {s.id for o in chosen for s in o.skills}
    missing = needed - loaded_skills
    all_facts = facts
    if missing:
        all_facts = {**facts, **tracking.current_facts(course.session, persons, missing)}
    held, revoked = tracking.award_standing(course.session, persons,
                                            [o.offering.credential_id for o in chosen])
    result: dict[int, list[LearnerProgress]] = {}
    # Per credential, what each learner's loop needs, read once from the ORM objects
    # (an instrumented attribute costs ~0.2 µs a read; 600 learners x 40 skills).
    prepared = [(item, item.offering.credential_id, [s.id for s in item.skills],
                 item.offering.credential.code, intl(item.version, "title").text)
                for item in chosen]
    get = all_facts.get
    none: list[DemonstrationFact] = []
    earning_passes = tracking.earning_passes
    for pid in persons:
        items = []
        for item, credential_id, skill_ids, code, title in prepared:
            key = (pid, credential_id)
            person_facts = [f for sid in skill_ids for f in get((pid, sid), none)]
            held_here = key in held
            revoked_at = None if held_here else revoked.get(key)
            _passes, progress, may = earning_passes(item, person_facts, revoked_at)
            items.append(LearnerProgress(
                code, title, held_here, progress,
                revoked_at is not None and progress.satisfied and not may))
        result[pid] = items
    return result


_PASS = Outcome.PASS
_DEMONSTRATED, _ATTEMPTED = CellStatus.DEMONSTRATED, CellStatus.ATTEMPTED


#: The progress link's accessible name. Read once per page (``str()``: translated, not
#: formatted) and filled per row with ``%``, as gettext would fill it: a gettext call per
#: row (~10 µs: Flask-Babel finds the request's translations again each time) was 6 ms of
#: a 600-row page.
PROGRESS_LINK_NAME = _l("Record several skills for %(name)s (%(progress)s)")


def _progress_cell(items: list[LearnerProgress], name: str, url: str,
                   standings: dict[tuple[Any, ...], tuple[str, str, bool]] | None = None,
                   link_name: str | None = None) -> str:
    """The row's progress cell: a link to the several-skills form whose text is the
    standing per credential ("Earned", "2/5"; prefixed by the code when several are
    offered) and whose accessible name says it in words. ``standings`` caches the words
    of each distinct standing on one credential across the rows of a page: 600 rows of 4
    credentials have a few dozen, and each is a translated sentence."""
    if not items:
        return '<td class="progress"></td>'
    several = len(items) > 1
    if standings is None:
        standings = {}
    shown_parts, spoken_parts, all_earned = [], [], True
    for p in items:
        # What the words depend on (not which skills are missing: that differs per learner).
        key = (p.code, p.title, p.earned, p.needs_new_evidence, p.progress.done,
               p.progress.total, several)
        words = standings.get(key)
        if words is None:
            words = standings[key] = (
                f'<span class="{"earned" if p.earned else "todo"}">'
                f'{escape(p.code) + " " if several else ""}{p.short}</span>', p.spoken, p.earned)
        shown_parts.append(words[0])
        spoken_parts.append(words[1])
        all_earned = all_earned and words[2]
    shown, spoken = "".join(shown_parts), "; ".join(spoken_parts)
    earned = " earned" if all_earned else ""
    if link_name is None:
        link_name = str(PROGRESS_LINK_NAME)
    aria = link_name % {"name": name, "progress": spoken}
    return (f'<td class="progress{earned}"><a href="{escape(url)}" aria-label="{escape(aria)}">'
            f'{shown}</a></td>')


def _render_rows(learners: list[Learner], columns: list[Skill],
                 facts: dict[tuple[int, int], list[DemonstrationFact]], context_title: str,
                 counts: dict[str, int], *,
                 progress: dict[int, list[LearnerProgress]] | None = None,
                 focus: tuple[int, int | None] | None = None, learner_url: str = "") -> str:
    """The grid's body rows as one string. A cell is a button in the grid's GET form
    (``c=<account>.<skill>``) whose accessible name is assembled by ``aria-labelledby``:
    the row's learner (``L<i>``), the column's skill (``K<j>``), a shared status label
    (``Sd``/``Sa``/``Sn``) and, for a recorded cell, its own text (date, assessor, place).
    Identical cell texts are built once; names and course titles are escaped. The ``focus``
    cell (or the row's progress link) gets ``data-focus-on-load`` and is described by the
    status message."""
    texts: dict[tuple[Any, ...], str] = {}
    standings: dict[tuple[Any, ...], tuple[str, str, bool]] = {}
    out: list[str] = []
    append = out.append
    columns_ = [(f"K{j}", f"{skill.id}", skill.id) for j, skill in enumerate(columns)]
    tally = {_DEMONSTRATED: 0, _ATTEMPTED: 0}
    empty = 0
    get = facts.get
    progress = progress or {}
    focus_account, focus_skill = focus if focus is not None else (None, None)
    if focus_skill is not None and all(sid != focus_skill for _, _, sid in columns_):
        focus_skill = None  # the column is filtered out: focus the row instead
    focus_attr = ' data-focus-on-load aria-describedby="notice"'
    status_class = STATUS_CLASS
    link_name = str(PROGRESS_LINK_NAME)
    select_word = escape(_("Select"))
    for i, learner in enumerate(learners):
        aid, pid = learner.account_id, learner.person_id
        row = f"L{i}"
        append(f'<tr><th scope="row"><input type="checkbox" form="bulk" name="learner" '
               f'value="{aid}" id="x{i}"><label for="x{i}"><span class="visually-hidden">'
               f'{select_word} </span><span id="{row}">{escape(learner.name)}</span></label></th>')
        progress_cell = _progress_cell(progress.get(pid, []), learner.name,
                                       f"{learner_url}{aid}", standings, link_name)
        if aid == focus_account and focus_skill is None:
            progress_cell = progress_cell.replace("<a ", f"<a{focus_attr} ", 1)
        append(progress_cell)
        prefix = f'<td><button name="c" value="{aid}.'
        recorded_prefix = prefix[4:]
        # Only the focused learner's row compares skills with the focused one.
        focus_sid = focus_skill if aid == focus_account else None
        for kj, sid_text, sid in columns_:
            cell_facts = get((pid, sid))
            focus_here = focus_attr if sid == focus_sid else ""
            if not cell_facts:
                empty += 1
                append(f'{prefix}{sid_text}" aria-labelledby="{row} {kj} Sn"{focus_here}>'
                       '</button></td>')
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
                    append(f'{prefix}{sid_text}" aria-labelledby="{row} {kj} Sn"'
                           f'{focus_here}></button></td>')
                    continue
            tally[status] += 1
            key = (status, latest.at.date(), latest.assessor, latest.context_title)
            text = texts.get(key)
            if text is None:
                text = texts[key] = _cell_text(status, latest, context_title)
            css = status_class[status]
            append(f'<td class="{css}">{recorded_prefix}{sid_text}" id="c{i}_{kj}" '
                   f'aria-labelledby="{row} {kj} S{css} c{i}_{kj}"{focus_here}>{text}'
                   '</button></td>')
        append("</tr>")
    counts[CellStatus.NOT_YET.value] = empty
    counts[CellStatus.DEMONSTRATED.value] = tally[_DEMONSTRATED]
    counts[CellStatus.ATTEMPTED.value] = tally[_ATTEMPTED]
    return "".join(out)


def _cell_text(status: CellStatus, latest: DemonstrationFact, context_title: str) -> str:
    """A recorded cell's visible text: the date, who assessed, and the course when it was
    another one (escaped)."""
    parts: list[str] = [escape(format_date(latest.at.date(), "medium"))]
    if latest.assessor:
        parts.append(f"<small>{escape(_('by %(assessor)s', assessor=latest.assessor))}</small>")
    if latest.context_title and latest.context_title != context_title:
        parts.append(f'<small class="where">'
                     f'{escape(_("in %(course)s", course=latest.context_title))}</small>')
    return "".join(parts)


@bp.get("/course/grid")
def grid() -> ResponseReturnValue:
    course = current_course()
    offered = offered_credentials(course)
    filters = _grid_filters()
    if filters.credential is not None and \
            all(o.offering.id != filters.credential for o in offered):
        filters = GridFilters(None, filters.skill, filters.status, filters.q, filters.page,
                              filters.per, filters.page_given)
    focus = parse_focus(request.args.get("focus", ""))
    data = build_grid(course, offered, filters, focus)
    return render("instructor/grid.html", grid=data, offered=offered, filters=filters,
                  all_skills=offered_skills(offered), active="grid",
                  today=utcnow().date().isoformat(), methods=list(COURSE_METHODS),
                  outcomes=OUTCOME_CHOICES, form={}, errors={},
                  roster_notice=roster_notice(course))


@bp.post("/course/roster/refresh")
def refresh_roster() -> ResponseReturnValue:
    """Refresh the roster from the platform now (NRPS), or queue it for a worker."""
    course = posted_course()
    context_id = course.context.id
    # The job works in a transaction of its own (inline or on a worker): end this request's
    # read first, so nothing of ours encloses or waits on it.
    course.session.rollback()
    submitted = jobs.enqueue_roster_refresh(context_id)
    return go("instructor.grid", [submitted.message])


