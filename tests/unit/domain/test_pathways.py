"""Pathway rules, pure: parsing, validation (unknown credentials, duplicate steps, rules no
learner can meet, order cycles, cycles across pathways, version pinning, publication
needs published credentials), progress (all, k of n, credits, hours, versions that count,
next steps after their predecessors, credit worth) and CLR associations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lti_tool.domain.pathways import (
    CredentialFacts,
    Holding,
    PathwayInputSchema,
    StepStatus,
    associations,
    evaluate,
    find_cycle,
    normalise,
    problems,
    spec_of,
)


def step(code: str, credits: str | None = None, hours: str | None = None,
         versions: tuple[int, ...] = (), courses: tuple[str, ...] = ()) -> dict[str, Any]:
    art: dict[str, Any] = {}
    if credits is not None:
        art.update(credit_bearing=True, credits=credits)
    if hours is not None:
        art["hours"] = hours
    if courses:
        art["courses"] = [{"code": c, "title": f"Course {c}", "relation": "exempts"}
                          for c in courses]
    return {"credential": code, "versions": list(versions), "articulation": art}


def content(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "PSW", "title": "Personal support pathway",
        "description": "Four micro-credentials into the certificate.",
        "target": {"credential": "PROG", "external": {
            "name": "Personal Support Worker — Ontario College Certificate",
            "institution": "Test College", "grants": "Exemption from two courses."}},
        "groups": [
            {"key": "core", "title": "Core", "rule": "all",
             "steps": [step("A", "1.5", courses=("PSW-101",)), step("B", "1.5")]},
            {"key": "electives", "title": "Electives", "rule": "choose", "minimum": 2,
             "steps": [step("C", "1"), step("D", "1"), step("E", "1")]},
        ],
        "order": [["A", "B"]],
    }
    data.update(overrides)
    return normalise(PathwayInputSchema().load(data))


def facts(*codes: str, published: int | None = 1, hours: str = "10") -> dict[str,
                                                                              CredentialFacts]:
    return {c: CredentialFacts(c, f"Title {c}", published,
                               frozenset({published} if published else set()),
                               Decimal(hours)) for c in codes}


CATALOG = facts("A", "B", "C", "D", "E", "PROG")


def test_a_valid_pathway_has_no_problems() -> None:
    assert problems(spec_of(content()), CATALOG, publishing=True) == {}


def test_schema_refuses_a_pathway_without_any_target() -> None:
    from marshmallow import ValidationError
    with pytest.raises(ValidationError) as refused:
        PathwayInputSchema().load({**content(), "target": {}})
    assert "credential" in refused.value.messages["target"]


def test_unknown_and_duplicate_steps_and_target_as_step() -> None:
    data = content(groups=[{"key": "g", "title": "G", "rule": "all",
                            "steps": [step("A"), step("A"), step("PROG"), step("ZZ")]}],
                   order=[])
    errors = problems(spec_of(data), CATALOG)
    assert "A is already a step of this pathway" in errors["groups.0.steps.1.credential"]
    assert any("cannot also be a step" in m for m in errors["groups.0.steps.2.credential"])
    assert errors["groups.0.steps.3.credential"] == ["no micro-credential ZZ in this catalog"]


@pytest.mark.parametrize(("rule", "minimum", "message"), [
    ("choose", "4", "asks for 4 of only 3 steps"),
    ("choose", "1.5", "a number of steps is a whole number"),
    ("choose", None, "say how many (more than 0) this group asks for"),
    ("credits", "3.5", "asks for 3.5 credits but its steps grant 3 together"),
    ("hours", "31", "asks for 31 hours but its steps add up to 30"),
])
def test_a_rule_no_learner_can_meet_is_refused(rule: str, minimum: str | None,
                                               message: str) -> None:
    group = {"key": "e", "title": "E", "rule": rule, "minimum": minimum,
             "steps": [step("C", "1"), step("D", "1"), step("E", "1")]}
    errors = problems(spec_of(content(groups=[group], order=[])), CATALOG)
    assert errors == {"groups.0.minimum": [message]}


def test_order_must_name_steps_and_not_make_a_cycle() -> None:
    data = content(order=[["A", "B"], ["B", "C"], ["C", "A"], ["A", "Q"]])
    errors = problems(spec_of(data), CATALOG)
    assert errors["order.3"] == ["Q is not a step of this pathway"]
    assert errors["order"] == ["the order makes a cycle: A → B → C → A"]


def test_pathways_cannot_lead_in_a_circle() -> None:
    # Another published pathway stacks PROG into A; this one stacks A into PROG.
    errors = problems(spec_of(content()), CATALOG, other_stacks=[("PROG", "A")])
    assert errors["target.credential"] == ["pathways would lead in a circle: PROG → A → PROG"]


def test_publishing_needs_published_credentials_and_current_versions() -> None:
    catalog = {**CATALOG, **facts("B", published=None), **facts("PROG", published=None)}
    catalog["C"] = CredentialFacts("C", "C", 3, frozenset({1, 2, 3}), Decimal(5))
    data = content()
    data["groups"][1]["steps"][0]["versions"] = [1, 2]
    data["groups"][1]["steps"][1]["versions"] = [7]
    assert problems(spec_of(data), catalog, publishing=False) == {
        "groups.1.steps.1.versions": ["D has no published version 7"]}
    errors = problems(spec_of(data), catalog, publishing=True)
    assert errors["groups.0.steps.1.credential"] == [
        "B has no published version (retired or not published yet)"]
    assert errors["target.credential"] == ["PROG has no published version: publish it first"]
    assert "the current version of C (3) is not among the versions that count" in \
        errors["groups.1.steps.0.versions"][0]


def test_progress_all_and_k_of_n_with_next_steps_and_credit() -> None:
    spec = spec_of(content())
    nothing = evaluate(spec, {})
    assert not nothing.complete and not nothing.started
    # B waits for A (A precedes B); electives are open.
    assert [s.credential for s in nothing.next_steps] == ["A", "C", "D", "E"]

    some = evaluate(spec, {"A": Holding(1, "10"), "C": Holding(1, "11")}, {"D"})
    core, electives = some.groups
    assert [s.status for s in core.steps] == [StepStatus.EARNED, StepStatus.NOT_STARTED]
    assert [s.status for s in electives.steps] == [
        StepStatus.EARNED, StepStatus.IN_PROGRESS, StepStatus.NOT_STARTED]
    assert core.describe() == "1 of 2 steps" and electives.describe() == "1 of 2 steps"
    assert [s.credential for s in some.next_steps] == ["B", "D", "E"]
    assert some.credits_earned == Decimal("2.5")
    assert [c.code for c in some.courses] == ["PSW-101"]

    done = evaluate(spec, {c: Holding(1, str(i)) for i, c in enumerate("ABCE")})
    assert done.complete and done.next_steps == ()
    assert sorted(done.counted) == ["0", "1", "2", "3"]


def test_credits_and_hours_rules_and_pinned_versions() -> None:
    groups = [
        {"key": "cr", "title": "Credits", "rule": "credits", "minimum": "2",
         "steps": [step("A", "1.5"), step("B", "1", versions=(2,))]},
        {"key": "hr", "title": "Hours", "rule": "hours", "minimum": "15",
         "steps": [step("C", hours="10"), step("D", hours="6")]},
    ]
    spec = spec_of(content(groups=groups, order=[]))
    old_b = evaluate(spec, {"A": Holding(1), "B": Holding(1), "C": Holding(1)})
    assert not old_b.groups[0].satisfied
    assert old_b.groups[0].steps[1].note == "version 1 does not count here"
    assert old_b.groups[0].steps[1].status is StepStatus.IN_PROGRESS
    assert old_b.groups[1].describe() == "10 of 15 hours"
    done = evaluate(spec, {"A": Holding(1), "B": Holding(2), "C": Holding(1), "D": Holding(1)})
    assert done.complete and done.hours_earned == Decimal(16)


def test_find_cycle() -> None:
    assert find_cycle([("a", "b"), ("b", "c")]) is None
    assert find_cycle([("a", "b"), ("b", "a")]) == ["a", "b", "a"]


def test_associations_part_of_and_precedes() -> None:
    spec = spec_of(content())
    ids = {"A": "urn:a", "B": "urn:b", "PROG": "urn:p"}
    assert associations(spec, ids) == [
        {"type": "Association", "associationType": "isPartOf", "sourceId": "urn:a",
         "targetId": "urn:p"},
        {"type": "Association", "associationType": "isPartOf", "sourceId": "urn:b",
         "targetId": "urn:p"},
        {"type": "Association", "associationType": "precedes", "sourceId": "urn:a",
         "targetId": "urn:b"},
    ]
