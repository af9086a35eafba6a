"""Pathways as pure rules: how micro-credentials stack into a larger credential.

A pathway is an issuer's catalog object, versioned and reviewed like a micro-credential
(``domain.catalog`` lifecycle and rubric). A version holds:

- a **target**: a MicroCred credential awarded on completion (a program or stacked
  credential, route ``stacked``), and/or an external program (e.g. "Personal Support
  Worker — Ontario College Certificate") with what completion grants there;
- **groups** of **steps** (micro-credentials, each with the versions that count), each
  group with a rule: all of them, ``k`` of ``n``, at least ``N`` credits or at least ``N``
  notional hours from the group's steps;
- **order** constraints (A precedes B): they guide next steps and the flowchart; completion
  counts a learner's awards whatever order they were earned in (an award proves the skills;
  enrolment prerequisites are the registrar's business, see docs/pathways.md);
- **credit articulation** per step and for the whole: credit-bearing or not, credits and
  hours granted, the target course(s) exempted or counted toward, transfer notes.

Everything here is pure: parsing the stored content into frozen dataclasses, validation
against facts about the catalog (``CredentialFacts``), and progress evaluation against a
learner's holdings, fast enough for 200 pathways and 50 awards in well under 20 ms
(``bench/pathways.py``). Standards: CLR 2.0 ``Association`` types
(https://www.imsglobal.org/spec/clr/v2p0/#associationtype-enumeration).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from lti_tool.domain.catalog_schemas import CODE_RE, HttpUrl, StrictSchema, Text, _text

#: The route of an award made because a pathway was completed.
STACKED_ROUTE = "stacked"

#: CLR 2.0 AssociationType values we emit.
ASSOCIATION_IS_PART_OF = "isPartOf"
ASSOCIATION_PRECEDES = "precedes"
ASSOCIATION_IS_CHILD_OF = "isChildOf"


class GroupRule(StrEnum):
    ALL = "all"            # every step
    CHOOSE = "choose"      # at least ``minimum`` of the steps
    CREDITS = "credits"    # at least ``minimum`` credits from the steps earned
    HOURS = "hours"        # at least ``minimum`` notional learning hours from them


class CourseRelation(StrEnum):
    EXEMPTS = "exempts"              # the learner is exempted from the course
    COUNTS_TOWARD = "counts_toward"  # counts toward the course (partial credit)


class StepStatus(StrEnum):
    EARNED = "earned"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


RULE_LABELS = {
    "all": "All of these", "choose": "Choose some of these",
    "credits": "Credits from these", "hours": "Hours from these",
}


# -- input ----------------------------------------------------------------------------------
def _decimal(max_value: int) -> fields.Decimal:
    return fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                          validate=validate.Range(min=0, max=max_value))


class CourseCreditSchema(StrictSchema):
    code = _text(64, required=True)
    title = _text(300)
    relation = fields.String(load_default=CourseRelation.EXEMPTS.value,
                             validate=validate.OneOf([r.value for r in CourseRelation]))


class ArticulationSchema(StrictSchema):
    """Credit articulation of a step or of the whole pathway."""

    credit_bearing = fields.Boolean(load_default=False)
    credits = _decimal(240)
    hours = _decimal(10000)
    credit_system = _text(200)
    courses = fields.List(fields.Nested(CourseCreditSchema), load_default=list,
                          validate=validate.Length(max=20))
    transfer_notes = _text(4000)

    @validates_schema
    def _credit(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("credits") not in (None, Decimal(0)) and not data.get("credit_bearing"):
            raise ValidationError({"credits": ["credits need the step or pathway to be "
                                               "marked credit-bearing"]})


def _empty_articulation() -> dict[str, Any]:
    """The default articulation, loaded (so stored content is the same whether the field
    was left out or sent empty)."""
    loaded: dict[str, Any] = ArticulationSchema().load({})
    return loaded


class StepSchema(StrictSchema):
    credential = Text(required=True, validate=validate.Regexp(CODE_RE, error="not a code"))
    # Which versions of the credential count; empty: any version ever published.
    versions = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                           load_default=list, validate=validate.Length(max=50))
    articulation = fields.Nested(ArticulationSchema, load_default=_empty_articulation)


class GroupSchema(StrictSchema):
    key = Text(required=True, validate=validate.Regexp(CODE_RE, error="not a key"))
    title = _text(200, required=True)
    rule = fields.String(load_default=GroupRule.ALL.value,
                         validate=validate.OneOf([r.value for r in GroupRule]))
    minimum = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                             validate=validate.Range(min=0, max=10000))
    steps = fields.List(fields.Nested(StepSchema), required=True,
                        validate=validate.Length(min=1, max=60))


class ExternalTargetSchema(StrictSchema):
    name = _text(300, required=True)
    institution = _text(300)
    grants = _text(2000)
    url = HttpUrl(load_default="")


class TargetSchema(StrictSchema):
    credential = Text(load_default=None, allow_none=True,
                      validate=validate.Regexp(CODE_RE, error="not a code"))
    external = fields.Nested(ExternalTargetSchema, load_default=None, allow_none=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("credential") and not data.get("external"):
            raise ValidationError({"credential": [
                "name a MicroCred credential awarded on completion, an external program, "
                "or both"]})


class PathwayTranslationSchema(StrictSchema):
    title = _text(200)
    description = _text(10000)


class PathwayInputSchema(StrictSchema):
    """The editable fields of a pathway version (API bodies, forms, imports)."""

    code = Text(required=True, validate=validate.Regexp(
        CODE_RE, error="use 1-64 letters, digits, '.', '_' or '-'"))
    title = _text(200, required=True, min_len=3)
    description = _text(10000)
    target = fields.Nested(TargetSchema, required=True)
    articulation = fields.Nested(ArticulationSchema, load_default=_empty_articulation)
    groups = fields.List(fields.Nested(GroupSchema), required=True,
                         validate=validate.Length(min=1, max=20))
    order = fields.List(fields.List(Text(validate=validate.Regexp(CODE_RE)),
                                    validate=validate.Length(equal=2)),
                        load_default=list, validate=validate.Length(max=200))
    translations = fields.Dict(keys=fields.String(validate=validate.OneOf(["fr"])),
                               values=fields.Nested(PathwayTranslationSchema),
                               load_default=dict)

    @post_load
    def _drop_empty_translations(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """A French text left empty is missing (shown as the English one, marked)."""
        data["translations"] = {lang: {k: v for k, v in texts.items() if v}
                                for lang, texts in data["translations"].items()
                                if any(texts.values())}
        return data


def normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    """Loaded input as JSON-safe content (Decimals as strings, as the credentials do)."""
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value
    return dict(plain(data))


# -- parsed form ------------------------------------------------------------------------------
def _dec(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class CourseCredit:
    code: str
    title: str
    relation: str


@dataclass(frozen=True)
class Articulation:
    credit_bearing: bool = False
    credits: Decimal | None = None
    hours: Decimal | None = None
    credit_system: str = ""
    courses: tuple[CourseCredit, ...] = ()
    transfer_notes: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.credit_bearing or self.credits or self.hours or self.courses
                    or self.transfer_notes)


def articulation_of(data: Mapping[str, Any] | None) -> Articulation:
    data = data or {}
    return Articulation(
        credit_bearing=bool(data.get("credit_bearing")), credits=_dec(data.get("credits")),
        hours=_dec(data.get("hours")), credit_system=str(data.get("credit_system") or ""),
        courses=tuple(CourseCredit(str(c.get("code", "")), str(c.get("title") or ""),
                                   str(c.get("relation") or CourseRelation.EXEMPTS.value))
                      for c in data.get("courses") or ()),
        transfer_notes=str(data.get("transfer_notes") or ""))


@dataclass(frozen=True)
class Step:
    credential: str                  # the credential's code (same issuer)
    versions: tuple[int, ...]        # versions that count; () = any
    articulation: Articulation
    title: str = ""                  # resolved at publication (snapshot)
    hours: Decimal | None = None     # step hours, else the credential's notional hours

    def counts(self, version: int) -> bool:
        return not self.versions or version in self.versions

    @property
    def credits(self) -> Decimal:
        return self.articulation.credits or Decimal(0)


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    rule: GroupRule
    minimum: Decimal | None
    steps: tuple[Step, ...]

    @property
    def needed(self) -> Decimal:
        """What the rule asks for: steps (all, choose), credits or hours."""
        if self.rule is GroupRule.ALL:
            return Decimal(len(self.steps))
        return self.minimum or Decimal(0)

    def describe(self) -> str:
        n = len(self.steps)
        if self.rule is GroupRule.ALL:
            return "All of these" if n > 1 else "This one"
        if self.rule is GroupRule.CHOOSE:
            return f"Choose {_num(self.needed)} of {n}"
        if self.rule is GroupRule.CREDITS:
            return f"At least {_num(self.needed)} credits from these"
        return f"At least {_num(self.needed)} hours from these"


def _num(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    d = Decimal(value)
    return str(d.quantize(Decimal(1))) if d == d.to_integral_value() else str(d.normalize())


@dataclass(frozen=True)
class ExternalTarget:
    name: str
    institution: str = ""
    grants: str = ""
    url: str = ""


@dataclass(frozen=True)
class PathwaySpec:
    code: str
    title: str
    description: str
    target_credential: str | None
    external: ExternalTarget | None
    articulation: Articulation
    groups: tuple[Group, ...]
    order: tuple[tuple[str, str], ...]
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    target_title: str = ""
    # French titles of the steps and the target, by code, as published (snapshot).
    step_titles_fr: Mapping[str, str] = field(default_factory=dict)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(s for g in self.groups for s in g.steps)

    @property
    def step_codes(self) -> tuple[str, ...]:
        return tuple(s.credential for s in self.steps)


def spec_of(content: Mapping[str, Any]) -> PathwaySpec:
    """The stored content (PathwayInputSchema's shape, or a published snapshot with
    ``title``/``hours`` resolved per step) as a PathwaySpec."""
    groups = []
    for g in content.get("groups") or ():
        steps = tuple(Step(credential=str(s["credential"]),
                           versions=tuple(int(v) for v in s.get("versions") or ()),
                           articulation=articulation_of(s.get("articulation")),
                           title=str(s.get("title") or ""),
                           hours=_dec((s.get("articulation") or {}).get("hours"))
                           or _dec(s.get("notional_hours")))
                      for s in g.get("steps") or ())
        groups.append(Group(key=str(g["key"]), title=str(g.get("title") or ""),
                            rule=GroupRule(g.get("rule") or "all"),
                            minimum=_dec(g.get("minimum")), steps=steps))
    target = content.get("target") or {}
    ext = target.get("external")
    return PathwaySpec(
        code=str(content.get("code") or ""), title=str(content.get("title") or ""),
        description=str(content.get("description") or ""),
        target_credential=target.get("credential") or None,
        external=ExternalTarget(str(ext.get("name") or ""), str(ext.get("institution") or ""),
                                str(ext.get("grants") or ""), str(ext.get("url") or ""))
        if ext else None,
        articulation=articulation_of(content.get("articulation")),
        groups=tuple(groups),
        order=tuple((str(a), str(b)) for a, b in content.get("order") or ()),
        translations=dict(content.get("translations") or {}),
        target_title=str(target.get("title") or ""),
        step_titles_fr={**{str(s["credential"]): str(s["title_fr"])
                           for g in content.get("groups") or ()
                           for s in g.get("steps") or () if s.get("title_fr")},
                        **({str(target["credential"]): str(target["title_fr"])}
                           if target.get("credential") and target.get("title_fr") else {})})


# -- validation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CredentialFacts:
    """What validation needs to know about one catalog credential."""

    code: str
    title: str
    published_version: int | None      # the current published version, if any
    issued_versions: frozenset[int]    # every version ever published (retired included)
    notional_hours: Decimal | None = None


def find_cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """A cycle in a directed graph as [a, b, …, a], or None. Iterative DFS."""
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in graph:
        if colour[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                colour[node] = grey
                path.append(node)
            nexts = graph[node]
            if i < len(nexts):
                stack.append((node, i + 1))
                nxt = nexts[i]
                if colour[nxt] == grey:
                    return [*path[path.index(nxt):], nxt]
                if colour[nxt] == white:
                    stack.append((nxt, 0))
            else:
                colour[node] = black
                path.pop()
    return None


def problems(spec: PathwaySpec, catalog: Mapping[str, CredentialFacts], *,
             publishing: bool = False,
             other_stacks: Iterable[tuple[str, str]] = ()) -> dict[str, list[str]]:
    """Every problem with the pathway, by field. Always: steps name known credentials,
    none twice, not the target; each group's rule can be met; order pairs name steps and
    make no cycle; pinned versions exist. ``publishing``: every step and the target must
    have a published version now and each step's pinned versions include a published
    (or once published) one; ``other_stacks`` (step → target edges of the issuer's other
    published pathways) must not close a cycle with this one."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    seen: set[str] = set()
    for gi, group in enumerate(spec.groups):
        gkey = f"groups.{gi}"
        for si, step in enumerate(group.steps):
            skey = f"{gkey}.steps.{si}"
            code = step.credential
            if code in seen:
                add(f"{skey}.credential", f"{code} is already a step of this pathway")
            seen.add(code)
            if code == spec.target_credential:
                add(f"{skey}.credential", f"{code} is the credential this pathway awards; "
                                          "it cannot also be a step")
            facts = catalog.get(code)
            if facts is None:
                add(f"{skey}.credential", f"no micro-credential {code} in this catalog")
                continue
            if publishing and facts.published_version is None:
                add(f"{skey}.credential", f"{code} has no published version (retired or not "
                                          "published yet)")
            known = facts.issued_versions | ({facts.published_version}
                                              if facts.published_version else set())
            unknown = [v for v in step.versions if v not in known]
            if unknown and (publishing or facts.issued_versions):
                add(f"{skey}.versions", f"{code} has no published version "
                                        + ", ".join(str(v) for v in unknown))
            if step.versions and facts.published_version is not None and publishing and \
                    facts.published_version not in step.versions:
                add(f"{skey}.versions", f"the current version of {code} "
                                        f"({facts.published_version}) is not among the "
                                        "versions that count: add it, or no learner "
                                        "can complete this step any more")
        _group_problems(group, gkey, catalog, add)
    keys = [g.key for g in spec.groups]
    if len(set(keys)) != len(keys):
        add("groups", "each group needs its own key")
    step_set = set(spec.step_codes)
    for oi, (a, b) in enumerate(spec.order):
        for code in (a, b):
            if code not in step_set:
                add(f"order.{oi}", f"{code} is not a step of this pathway")
        if a == b:
            add(f"order.{oi}", f"{a} cannot precede itself")
    cycle = find_cycle(p for p in spec.order if p[0] != p[1])
    if cycle:
        add("order", "the order makes a cycle: " + " → ".join(cycle))
    target = spec.target_credential
    if target:
        facts = catalog.get(target)
        if facts is None:
            add("target.credential", f"no micro-credential {target} in this catalog")
        elif publishing and facts.published_version is None:
            add("target.credential", f"{target} has no published version: publish it first")
        stack_cycle = find_cycle([*other_stacks, *((c, target) for c in step_set)])
        if stack_cycle:
            add("target.credential", "pathways would lead in a circle: "
                                     + " → ".join(stack_cycle))
    return errors


def _group_problems(group: Group, gkey: str, catalog: Mapping[str, CredentialFacts],
                    add: Any) -> None:
    n = len(group.steps)
    if group.rule is GroupRule.ALL:
        return
    minimum = group.minimum
    if minimum is None or minimum <= 0:
        add(f"{gkey}.minimum", "say how many (more than 0) this group asks for")
        return
    if group.rule is GroupRule.CHOOSE:
        if minimum != minimum.to_integral_value():
            add(f"{gkey}.minimum", "a number of steps is a whole number")
        elif minimum > n:
            add(f"{gkey}.minimum", f"asks for {_num(minimum)} of only {n} steps")
    elif group.rule is GroupRule.CREDITS:
        available = sum((s.credits for s in group.steps), Decimal(0))
        if available < minimum:
            add(f"{gkey}.minimum", f"asks for {_num(minimum)} credits but its steps grant "
                                   f"{_num(available)} together")
    elif group.rule is GroupRule.HOURS:
        available = sum((step_hours(s, catalog) for s in group.steps), Decimal(0))
        if available < minimum:
            add(f"{gkey}.minimum", f"asks for {_num(minimum)} hours but its steps add up to "
                                   f"{_num(available)}")


def step_hours(step: Step, catalog: Mapping[str, CredentialFacts] | None = None) -> Decimal:
    """A step's hours: its own articulation, else the credential's notional hours."""
    if step.articulation.hours is not None:
        return step.articulation.hours
    if step.hours is not None:
        return step.hours
    facts = (catalog or {}).get(step.credential)
    return facts.notional_hours if facts and facts.notional_hours is not None else Decimal(0)


# -- progress ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Holding:
    """A learner's standing, active award of a credential: the version it is for."""

    version: int
    award_ref: str = ""


@dataclass(frozen=True)
class StepProgress:
    step: Step
    status: StepStatus
    counts: bool            # earned with a version that counts
    note: str = ""          # e.g. "version 1 does not count here"


@dataclass(frozen=True)
class GroupProgress:
    group: Group
    satisfied: bool
    have: Decimal           # steps, credits or hours, by the rule
    needed: Decimal
    steps: tuple[StepProgress, ...]

    def describe(self) -> str:
        unit = {"credits": "credits", "hours": "hours"}.get(self.group.rule.value, "steps")
        return f"{_num(min(self.have, self.needed))} of {_num(self.needed)} {unit}"


@dataclass(frozen=True)
class PathwayProgress:
    spec: PathwaySpec
    complete: bool
    groups: tuple[GroupProgress, ...]
    next_steps: tuple[Step, ...]
    credits_earned: Decimal     # articulated credits of the steps earned
    hours_earned: Decimal
    courses: tuple[CourseCredit, ...]   # course credit the earned steps bring
    counted: tuple[str, ...]            # award refs the completion rests on

    @property
    def steps_earned(self) -> int:
        return sum(1 for g in self.groups for s in g.steps if s.counts)

    @property
    def steps_total(self) -> int:
        return sum(len(g.steps) for g in self.groups)

    @property
    def started(self) -> bool:
        return any(s.status is not StepStatus.NOT_STARTED for g in self.groups
                   for s in g.steps)


def evaluate(spec: PathwaySpec, holdings: Mapping[str, Holding],
             started: frozenset[str] | set[str] = frozenset()) -> PathwayProgress:
    """The learner's progress on one pathway: per step earned / in progress / not started
    (``started``: credentials with at least one pass toward them, or a flagged award),
    per group whether its rule is met, the next steps (not earned, in a group not yet
    satisfied, every predecessor earned), and what the earned steps are worth. Pure."""
    earned_codes: set[str] = set()
    groups = []
    credits = hours = Decimal(0)
    courses: list[CourseCredit] = []
    counted: list[str] = []
    for group in spec.groups:
        steps = []
        have = Decimal(0)
        for step in group.steps:
            holding = holdings.get(step.credential)
            if holding is not None and step.counts(holding.version):
                steps.append(StepProgress(step, StepStatus.EARNED, True))
                earned_codes.add(step.credential)
                credits += step.credits
                hours += step_hours(step)
                courses.extend(step.articulation.courses)
                counted.append(holding.award_ref)
                if group.rule is GroupRule.CREDITS:
                    have += step.credits
                elif group.rule is GroupRule.HOURS:
                    have += step_hours(step)
                else:
                    have += 1
            elif holding is not None:
                steps.append(StepProgress(step, StepStatus.IN_PROGRESS, False,
                                          f"version {holding.version} does not count here"))
            elif step.credential in started:
                steps.append(StepProgress(step, StepStatus.IN_PROGRESS, False))
            else:
                steps.append(StepProgress(step, StepStatus.NOT_STARTED, False))
        needed = group.needed
        groups.append(GroupProgress(group, have >= needed, have, needed, tuple(steps)))
    before: dict[str, list[str]] = {}
    for a, b in spec.order:
        before.setdefault(b, []).append(a)
    next_steps = tuple(
        sp.step for gp in groups if not gp.satisfied for sp in gp.steps
        if not sp.counts and all(p in earned_codes for p in before.get(sp.step.credential, ())))
    complete = all(g.satisfied for g in groups)
    return PathwayProgress(spec, complete, tuple(groups), next_steps, credits, hours,
                           tuple(courses), tuple(counted))


def associations(spec: PathwaySpec, achievement_ids: Mapping[str, str]) -> list[dict[str, Any]]:
    """CLR 2.0 ``Association``s between the achievements of a pathway: each step
    ``isPartOf`` the target (when it is a MicroCred credential) and A ``precedes`` B for
    each order pair; only between achievements present in ``achievement_ids`` (code →
    achievement id)."""
    result: list[dict[str, Any]] = []
    target = spec.target_credential
    for code in spec.step_codes:
        if target and code in achievement_ids and target in achievement_ids:
            result.append({"type": "Association", "associationType": ASSOCIATION_IS_PART_OF,
                           "sourceId": achievement_ids[code],
                           "targetId": achievement_ids[target]})
    for a, b in spec.order:
        if a in achievement_ids and b in achievement_ids:
            result.append({"type": "Association", "associationType": ASSOCIATION_PRECEDES,
                           "sourceId": achievement_ids[a], "targetId": achievement_ids[b]})
    return result


def describe_versions(step: Step) -> str:
    if not step.versions:
        return "any version"
    word = "version" if len(step.versions) == 1 else "versions"
    return f"{word} " + ", ".join(str(v) for v in step.versions)


def order_predecessors(spec: PathwaySpec) -> dict[str, tuple[str, ...]]:
    before: dict[str, list[str]] = {}
    for a, b in spec.order:
        before.setdefault(b, []).append(a)
    return {k: tuple(v) for k, v in before.items()}


def codes_in(specs: Sequence[PathwaySpec]) -> set[str]:
    return {c for s in specs for c in s.step_codes}
