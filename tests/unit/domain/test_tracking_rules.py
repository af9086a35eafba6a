"""The pure award rules: an earning rule (required + k of optional) and its progress, how a
grid cell is summarised from current demonstrations, and which passes count where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lti_tool.domain.catalog import EarningRule, Route
from lti_tool.domain.tracking import (
    CellStatus,
    DemonstrationFact,
    Outcome,
    counting_passes,
    route_for_kind,
    summarise_cell,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def fact(skill: str, outcome: str = "pass", *, minutes: int = 0,
         route: Route | None = Route.INTEGRATED, fid: int | None = None) -> DemonstrationFact:
    return DemonstrationFact(fid if fid is not None else next(_ids), skill, Outcome(outcome),
                             route, T0 + timedelta(minutes=minutes))


# -- earning rules -----------------------------------------------------------------------------
def test_required_only_rule_needs_every_required_skill():
    rule = EarningRule(("A", "B", "C"))
    partial = rule.progress({"A", "C"})
    assert not partial.satisfied
    assert partial.required_missing == ("B",)
    assert (partial.done, partial.total) == (2, 3)
    assert partial.optional_still_needed == 0
    done = rule.progress({"A", "B", "C"})
    assert done.satisfied and done.required_missing == () and (done.done, done.total) == (3, 3)


def test_required_plus_k_of_optional():
    rule = EarningRule(("A", "B"), ("X", "Y", "Z"), 2)
    only_required = rule.progress({"A", "B"})
    assert not only_required.satisfied
    assert only_required.optional_still_needed == 2
    assert (only_required.done, only_required.total) == (2, 4)

    one_optional = rule.progress({"A", "B", "Y"})
    assert not one_optional.satisfied
    assert one_optional.optional_have == ("Y",)
    assert one_optional.optional_still_needed == 1
    assert one_optional.done == 3

    enough = rule.progress({"A", "B", "Z", "X"})
    assert enough.satisfied and enough.optional_still_needed == 0
    assert enough.optional_have == ("X", "Z")  # in the rule's order
    assert (enough.done, enough.total) == (4, 4)

    optional_but_missing_required = rule.progress({"A", "X", "Y", "Z"})
    assert not optional_but_missing_required.satisfied
    assert optional_but_missing_required.required_missing == ("B",)


def test_more_optional_than_needed_does_not_overcount_progress():
    rule = EarningRule(("A",), ("X", "Y", "Z"), 1)
    progress = rule.progress({"A", "X", "Y", "Z"})
    assert progress.satisfied
    assert (progress.done, progress.total) == (2, 2)


def test_k_zero_makes_optional_skills_truly_optional():
    rule = EarningRule(("A",), ("X", "Y"), 0)
    progress = rule.progress({"A"})
    assert progress.satisfied
    assert (progress.done, progress.total) == (1, 1)
    assert rule.progress(set()).satisfied is False


def test_optional_only_rule():
    rule = EarningRule((), ("X", "Y", "Z"), 2)
    assert rule.problems() == {}
    assert not rule.progress(set()).satisfied
    assert rule.progress({"X"}).optional_still_needed == 1
    assert rule.progress({"Z", "X"}).satisfied
    # Skills outside the rule do not count.
    assert not rule.progress({"X", "Q"}).satisfied


def test_rule_without_any_demonstrable_requirement_is_a_problem():
    assert "skills" in EarningRule((), ("X",), 0).problems()
    assert "optional_min" in EarningRule(("A",), ("X",), 2).problems()
    assert "optional_skills" in EarningRule(("A",), ("A",), 0).problems()


def test_unrelated_skills_never_satisfy_a_rule():
    assert not EarningRule(("A", "B")).progress({"A", "C", "D"}).satisfied


# -- routes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "route"), [
    ("for-credit", Route.INTEGRATED), ("continuing-ed", Route.STAND_ALONE), ("other", None),
    ("", None)])
def test_route_for_course_kind(kind, route):
    assert route_for_kind(kind) == route


# -- grid cells --------------------------------------------------------------------------------
def test_empty_cell_is_not_yet():
    cell = summarise_cell([])
    assert cell.status is CellStatus.NOT_YET and cell.latest is None


def test_fails_only_is_attempted_showing_the_latest_fail():
    old, new = fact("A", "fail", minutes=1), fact("A", "fail", minutes=30)
    cell = summarise_cell([new, old])
    assert cell.status is CellStatus.ATTEMPTED
    assert cell.latest == new


def test_a_pass_beats_later_fails():
    passed = fact("A", "pass", minutes=5)
    later_fail = fact("A", "fail", minutes=60)
    cell = summarise_cell([later_fail, passed])
    assert cell.status is CellStatus.DEMONSTRATED
    assert cell.latest == passed


def test_latest_pass_is_shown_and_ties_break_on_id():
    first = fact("A", minutes=0, fid=500)
    same_time_later_id = fact("A", minutes=0, fid=501)
    cell = summarise_cell([same_time_later_id, first])
    assert cell.latest == same_time_later_id
    newest = fact("A", minutes=10, fid=10)
    assert summarise_cell([first, newest, same_time_later_id]).latest == newest


def test_summarise_accepts_a_generator():
    cell = summarise_cell(f for f in [fact("A", "fail"), fact("A", "pass")])
    assert cell.status is CellStatus.DEMONSTRATED


# -- counting passes ---------------------------------------------------------------------------
def test_counting_passes_keeps_only_allowed_routes():
    integrated = fact("A", route=Route.INTEGRATED)
    stand_alone = fact("B", route=Route.STAND_ALONE)
    nowhere = fact("C", route=None)  # an "other" course gives no route
    counted = counting_passes([integrated, stand_alone, nowhere], ["integrated"])
    assert counted == {"A": integrated}
    both = counting_passes([integrated, stand_alone, nowhere], ["integrated", "stand_alone"])
    assert set(both) == {"A", "B"}


def test_counting_passes_ignores_fails_and_picks_the_earliest_pass():
    late = fact("A", minutes=90, fid=3)
    early = fact("A", minutes=10, fid=9)
    fail = fact("A", "fail", minutes=0, fid=1)
    assert counting_passes([late, fail, early], ["integrated"]) == {"A": early}


def test_counting_passes_ties_break_on_lowest_id():
    a = fact("A", minutes=0, fid=7)
    b = fact("A", minutes=0, fid=4)
    assert counting_passes([a, b], ["integrated"])["A"] == b


def test_a_pass_on_a_disallowed_route_does_not_shadow_an_allowed_later_one():
    ce_first = fact("A", minutes=0, route=Route.STAND_ALONE)
    credit_later = fact("A", minutes=50, route=Route.INTEGRATED)
    assert counting_passes([ce_first, credit_later], ["integrated"]) == {"A": credit_later}


def test_no_allowed_routes_means_nothing_counts():
    assert counting_passes([fact("A")], []) == {}
