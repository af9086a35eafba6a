"""The assessment grid (learners by skills) and the on-demand roster refresh.

The grid is built for a 600-learner, 40-skill course: one query for the roster, one for
every cell's current demonstrations (``tracking.current_facts``; from 50 learners on, two
small ones more for the skills' codes and the courses' titles), one for the shown
learners' awards, and the rows are rendered as strings from precomputed, escaped pieces
(each column's cell markup is made once, with placeholders for the row; a cell's
accessible name is assembled by ``aria-labelledby`` from its row header, column header and
a shared status label), so the page costs no per-cell query and little per-cell work.

Each row also has a progress cell (earned, or skills done of those needed, per offered
credential) that opens the form recording several skills for that learner. The grid's
filters travel to the pages it opens as ``g_*`` parameters, so "save" comes back to the
same view with the changed cell focused (``focus=<account>.<skill>``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
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
        by_person = tracking.facts_by_person(facts)
        progress = _progress(course, chosen, shown, facts, by_person, set(skill_ids))
        focused = focus is not None and any(lr.account_id == focus[0] for lr in shown)
        rows = _render_rows(shown, columns, by_person, course.context.title, counts,
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
              by_person: dict[int, dict[int, list[DemonstrationFact]]],
              loaded_skills: set[int]) -> dict[int, list[LearnerProgress]]:
    """Per shown learner (person id), their standing on each chosen credential: two more
    queries at most (the skills the columns do not show, and the awards). ``by_person``:
    ``facts`` by person (``tracking.facts_by_person``)."""
    if not chosen or not shown:
        return {}
    persons = [lr.person_id for lr in shown]
    needed = {s.id for o in chosen for s in o.skills}
    missing = needed - loaded_skills
    if missing:
        by_person = tracking.facts_by_person(
            {**facts, **tracking.current_facts(course.session, persons, missing)})
    held, revoked = tracking.award_standing(course.session, persons,
                                            [o.offering.credential_id for o in chosen])
    result: dict[int, list[LearnerProgress]] = {}
    # Per credential, what the loop needs, read once from the ORM objects (an instrumented
    # attribute costs ~0.2 µs a read), and a cache of the rule's progress by the set of its
    # skills with a counting pass (a bit mask): without a revocation that set is all
    # ``earning_passes`` depends on, and learners at the same point share it.
    Prepared = tuple[OfferedCredential, int, list[str], dict[int, RuleProgress], str, str]
    prepared: list[Prepared] = [
        (item, item.offering.credential_id, [s.code for s in item.skills], {},
         item.offering.credential.code, intl(item.version, "title").text)
        for item in chosen]
    # Per skill, the credentials it counts for: (index, its bit there, allowed routes).
    targets: dict[int, list[tuple[int, int, set[str]]]] = {}
    for k, item in enumerate(chosen):
        allowed = set(item.allowed_routes)
        for n, skill in enumerate(item.skills):
            targets.setdefault(skill.id, []).append((k, 1 << n, allowed))
    nothing: dict[int, list[DemonstrationFact]] = {}
    earning_passes = tracking.earning_passes
    for pid in persons:
        mine = by_person.get(pid, nothing)
        # ``counting_passes``' test per fact: a current pass on a route the credential
        # allows (a Route is a StrEnum: it hashes as its value; None is never allowed).
        masks = [0] * len(prepared)
        for sid, cell_facts in mine.items():
            counts_for = targets.get(sid)
            if counts_for is None:
                continue
            for fact in cell_facts:
                if fact.outcome is _PASS:
                    route = fact.route
                    for k, bit, allowed in counts_for:
                        if route in allowed:
                            masks[k] |= bit
        items = []
        for (item, credential_id, codes, rule_progress, code, title), mask in zip(
                prepared, masks, strict=True):
            key = (pid, credential_id)
            held_here = key in held
            revoked_at = None if held_here else revoked.get(key)
            if revoked_at is not None:
                person_facts = [f for s in item.skills for f in mine.get(s.id, ())]
                _passes, revoked_progress, may = earning_passes(item, person_facts, revoked_at)
                items.append(LearnerProgress(code, title, False, revoked_progress,
                                             revoked_progress.satisfied and not may))
                continue
            progress = rule_progress.get(mask)
            if progress is None:
                progress = rule_progress[mask] = item.rule.progress(
                    [c for n, c in enumerate(codes) if mask >> n & 1])
            items.append(LearnerProgress(code, title, held_here, progress))
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


#: Placeholders for a row's account id and index in the cell markup built once per column
#: (``_column_markup``). Every piece of a cell that comes from data is escaped, so it
#: contains no "<" and cannot hold a placeholder: only ours are replaced.
_ACCOUNT, _ROW = "<@a>", "<@i>"
_FOCUS_ATTR = ' data-focus-on-load aria-describedby="notice"'


class _ColumnMarkup(NamedTuple):
    """One skill column's cell markup with ``_ACCOUNT`` and ``_ROW`` placeholders: the
    empty cell whole, and a recorded cell's opening (up to its text) per status."""

    skill_id: int
    empty: str
    demonstrated: str
    attempted: str


def _column_markup(j: int, skill_id: int, focus: str = "") -> _ColumnMarkup:
    kj = f"K{j}"
    button = f'<button name="c" value="{_ACCOUNT}.{skill_id}"'

    def opening(css: str) -> str:
        return (f'<td class="{css}">{button} id="c{_ROW}_{kj}" '
                f'aria-labelledby="L{_ROW} {kj} S{css} c{_ROW}_{kj}"{focus}>')

    return _ColumnMarkup(
        skill_id, f'<td>{button} aria-labelledby="L{_ROW} {kj} Sn"{focus}></button></td>',
        opening(STATUS_CLASS[_DEMONSTRATED]), opening(STATUS_CLASS[_ATTEMPTED]))


#: A recorded cell's words (``_cell_text``), read once per page like PROGRESS_LINK_NAME.
BY_ASSESSOR = _l("by %(assessor)s")
IN_COURSE = _l("in %(course)s")


def _render_rows(learners: list[Learner], columns: list[Skill],
                 by_person: dict[int, dict[int, list[DemonstrationFact]]],
                 context_title: str, counts: dict[str, int], *,
                 progress: dict[int, list[LearnerProgress]] | None = None,
                 focus: tuple[int, int | None] | None = None, learner_url: str = "") -> str:
    """The grid's body rows as one string. A cell is a button in the grid's GET form
    (``c=<account>.<skill>``) whose accessible name is assembled by ``aria-labelledby``:
    the row's learner (``L<i>``), the column's skill (``K<j>``), a shared status label
    (``Sd``/``Sa``/``Sn``) and, for a recorded cell, its own text (date, assessor, place).
    Names and course titles are escaped. The ``focus`` cell (or the row's progress link)
    gets ``data-focus-on-load`` and is described by the status message.

    Built for 24,000 cells: each column's markup is made once with placeholders for the
    row (``_column_markup``), a row's cells are joined and their placeholders replaced
    in one pass per row, identical cell texts are made once, and the facts are read per
    learner (one dict per row instead of a (person, skill) key per cell)."""
    texts: dict[tuple[Any, ...], str] = {}
    dates: dict[date, str] = {}
    standings: dict[tuple[Any, ...], tuple[str, str, bool]] = {}
    words = (str(BY_ASSESSOR), str(IN_COURSE))
    out: list[str] = []
    append = out.append
    markup = [_column_markup(j, skill.id) for j, skill in enumerate(columns)]
    demonstrated = attempted = empty = 0
    nothing: dict[int, list[DemonstrationFact]] = {}
    progress = progress or {}
    focus_account, focus_skill = focus if focus is not None else (None, None)
    if focus_skill is not None and all(c.skill_id != focus_skill for c in markup):
        focus_skill = None  # the column is filtered out: focus the row instead
    link_name = str(PROGRESS_LINK_NAME)
    select_word = escape(_("Select"))
    for i, learner in enumerate(learners):
        aid, pid = learner.account_id, learner.person_id
        append(f'<tr><th scope="row"><input type="checkbox" form="bulk" name="learner" '
               f'value="{aid}" id="x{i}"><label for="x{i}"><span class="visually-hidden">'
               f'{select_word} </span><span id="L{i}">{escape(learner.name)}</span></label></th>')
        progress_cell = _progress_cell(progress.get(pid, []), learner.name,
                                       f"{learner_url}{aid}", standings, link_name)
        row_markup = markup
        if aid == focus_account:
            if focus_skill is None:
                progress_cell = progress_cell.replace("<a ", f"<a{_FOCUS_ATTR} ", 1)
            else:
                row_markup = [_column_markup(j, c.skill_id, _FOCUS_ATTR)
                              if c.skill_id == focus_skill else c
                              for j, c in enumerate(markup)]
        append(progress_cell)
        get = by_person.get(pid, nothing).get
        cells: list[str] = []
        add = cells.append
        for column in row_markup:
            cell_facts = get(column.skill_id)
            if not cell_facts:
                empty += 1
                add(column.empty)
                continue
            if len(cell_facts) == 1:
                # One current record: summarise_cell's rule, without building a Cell.
                latest = cell_facts[0]
                status = _DEMONSTRATED if latest.outcome is _PASS else _ATTEMPTED
            else:
                cell = summarise_cell(cell_facts)
                if cell.latest is None:
                    empty += 1
                    add(column.empty)
                    continue
                status, latest = cell.status, cell.latest
            if status is _DEMONSTRATED:
                demonstrated += 1
                opening = column.demonstrated
            else:
                attempted += 1
                opening = column.attempted
            day = latest.at.date()
            key = (status, day, latest.assessor, latest.context_title)
            text = texts.get(key)
            if text is None:
                text = texts[key] = _cell_text(latest, context_title, day, dates, words)
            add(f"{opening}{text}</button></td>")
        append("".join(cells).replace(_ACCOUNT, str(aid)).replace(_ROW, str(i)))
        append("</tr>")
    counts[CellStatus.NOT_YET.value] = empty
    counts[CellStatus.DEMONSTRATED.value] = demonstrated
    counts[CellStatus.ATTEMPTED.value] = attempted
    return "".join(out)


def _cell_text(latest: DemonstrationFact, context_title: str, day: date,
               dates: dict[date, str], words: tuple[str, str]) -> str:
    """A recorded cell's visible text: the date (``day``), who assessed, and the course
    when it was another one (escaped). ``dates`` caches the formatted dates of a page and
    ``words`` holds BY_ASSESSOR and IN_COURSE translated (filled with ``%`` as gettext
    would)."""
    shown = dates.get(day)
    if shown is None:
        shown = dates[day] = str(escape(format_date(day, "medium")))
    parts: list[str] = [shown]
    if latest.assessor:
        parts.append(f"<small>{escape(words[0] % {'assessor': latest.assessor})}</small>")
    if latest.context_title and latest.context_title != context_title:
        parts.append(f'<small class="where">'
                     f'{escape(words[1] % {"course": latest.context_title})}</small>')
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


