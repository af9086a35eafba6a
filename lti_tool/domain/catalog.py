"""The micro-credential catalog as pure rules: lifecycle states and transitions, earning
rules, the quality-review rubric, and version diffs.

Lifecycle: draft → in_review → approved → published → retired; a review may also send a
version back to draft (request changes) or reject it (terminal). A published version is
immutable: editing it starts a new draft version.

Descriptor fields follow common micro-credential frameworks (e.g. the Ontario
Micro-credentials Principles and Framework, the eCampusOntario quality rubric and the EU
Council Recommendation on micro-credentials, Annex I).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from flask_babel import gettext


def N_(text: str) -> str:
    """Marks an English text for the message catalogs (``make i18n``) where the data keeps
    it in English (the API's labels, the OpenAPI document, the seeded rubric); ``gettext``
    translates it when it is shown to a person (``label``, ``lens_title``…)."""
    return text


class LifecycleState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"
    RETIRED = "retired"
    REJECTED = "rejected"


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"
    PUBLISH = "publish"
    RETIRE = "retire"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class AssessmentKind(StrEnum):
    PASS_FAIL_DEMONSTRATION = "pass_fail_demonstration"  # noqa: S105 - not a secret
    PORTFOLIO = "portfolio"
    OBSERVATION = "observation"
    EXAM = "exam"
    PROJECT = "project"
    CHALLENGE_ASSESSMENT = "challenge_assessment"


class Grading(StrEnum):
    PASS_FAIL = "pass_fail"  # noqa: S105 - not a secret
    GRADED = "graded"


class DeliveryMode(StrEnum):
    SELF_DIRECTED = "self_directed"
    ASYNCHRONOUS = "asynchronous"
    SYNCHRONOUS = "synchronous"
    IN_PERSON = "in_person"


class Route(StrEnum):
    """How an award is earned."""

    INTEGRATED = "integrated"      # inside a for-credit course
    STAND_ALONE = "stand_alone"    # continuing-education shell
    PLAR = "plar"                  # prior learning assessment and recognition
    TRANSFER = "transfer"


class CatalogRole(StrEnum):
    CATALOG_ADMIN = "catalog_admin"
    REVIEWER = "reviewer"
    #: decides transfer requests, keeps the equivalency table, reads and exports records
    REGISTRAR = "registrar"


class Scope(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    REVIEW = "review"
    DEMONSTRATIONS_WRITE = "demonstrations:write"
    AWARDS_READ = "awards:read"
    AWARDS_REVOKE = "awards:revoke"
    COURSES_READ = "courses:read"
    OFFERINGS_WRITE = "offerings:write"
    RECORDS_READ = "records:read"
    TRANSFER = "transfer"


#: What each API token scope allows, in words (the CLI's --help, the admin tokens page,
#: the OpenAPI document).
SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.CATALOG_READ: N_("Read skills and micro-credentials, export the catalog."),
    Scope.CATALOG_WRITE: N_("Create and change skills and drafts, move versions through the "
                         "lifecycle, import."),
    Scope.REVIEW: N_("Record quality reviews."),
    Scope.DEMONSTRATIONS_WRITE: N_("Record demonstrated skills (one, or a CSV import)."),
    Scope.AWARDS_READ: N_("Read awards, their signed credentials and learner records."),
    Scope.AWARDS_REVOKE: N_("Revoke awards."),
    Scope.COURSES_READ: N_("Read courses with their offerings, rosters and demonstrations."),
    Scope.OFFERINGS_WRITE: N_("Offer micro-credentials in courses, and detach them."),
    Scope.RECORDS_READ: N_("Read the registrar's record: every award with its route, "
                           "credit, hours, transcript notation and student number, and what "
                           "changed since a time (student information systems)."),
    Scope.TRANSFER: N_("Keep the transfer equivalency table and decide transfer requests "
                       "(the registrar's work, in the admin pages; no API endpoint takes it)."),
}


LABELS: dict[str, str] = {
    "draft": N_("Draft"), "in_review": N_("In review"), "approved": N_("Approved"),
    "published": N_("Published"), "retired": N_("Retired"), "rejected": N_("Rejected"),
    "pass_fail_demonstration": N_("Pass/fail demonstration"), "portfolio": N_("Portfolio"),
    "observation": N_("Observation"), "exam": N_("Exam"), "project": N_("Project"),
    "challenge_assessment": N_("Challenge assessment"),
    "self_directed": N_("Self-directed"), "asynchronous": N_("Online, asynchronous"),
    "synchronous": N_("Online, synchronous"), "in_person": N_("In person"),
    "integrated": N_("In a for-credit course"),
    "stand_alone": N_("Stand-alone (continuing education)"),
    "plar": N_("Prior learning assessment (PLAR)"),
    "transfer": N_("Transfer (recognised from another institution)"),
    "stacked": N_("Stacked (a pathway completed)"),
    "pass_fail": N_("Pass/fail"), "graded": N_("Graded"),
    "approve": N_("Approve"), "request_changes": N_("Request changes"), "reject": N_("Reject"),
    "reviewer": N_("Reviewer"), "catalog_admin": N_("Catalog administrator"),
    "registrar": N_("Registrar"),
}


def label(value: str) -> str:
    """A state's, kind's or decision's English name: what data keeps (issued credentials,
    CSV exports, the API). ``display_label`` is the same name in the reader's language."""
    return LABELS.get(value, value.replace("_", " ").capitalize())


def display_label(value: str) -> str:
    """``label`` in the language of the request (pages)."""
    return gettext(LABELS[value]) if value in LABELS else label(value)


class TransitionRefused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


_TRANSITIONS: dict[tuple[LifecycleState, Action], LifecycleState] = {
    (LifecycleState.DRAFT, Action.SUBMIT): LifecycleState.IN_REVIEW,
    (LifecycleState.IN_REVIEW, Action.WITHDRAW): LifecycleState.DRAFT,
    (LifecycleState.IN_REVIEW, Action.APPROVE): LifecycleState.APPROVED,
    (LifecycleState.IN_REVIEW, Action.REQUEST_CHANGES): LifecycleState.DRAFT,
    (LifecycleState.IN_REVIEW, Action.REJECT): LifecycleState.REJECTED,
    (LifecycleState.APPROVED, Action.PUBLISH): LifecycleState.PUBLISHED,
    (LifecycleState.PUBLISHED, Action.RETIRE): LifecycleState.RETIRED,
}

_REFUSALS: dict[Action, str] = {
    Action.SUBMIT: N_("Only a draft can be submitted for review."),
    Action.WITHDRAW: N_("Only a version in review can be withdrawn."),
    Action.APPROVE: N_("Only a version in review can be approved."),
    Action.REQUEST_CHANGES: N_("Changes can be requested only for a version in review."),
    Action.REJECT: N_("Only a version in review can be rejected."),
    Action.PUBLISH: N_("Only an approved version can be published."),
    Action.RETIRE: N_("Only a published version can be retired."),
}


def next_state(state: LifecycleState, action: Action) -> LifecycleState:
    """The state after ``action``; raises TransitionRefused with a reason if not allowed."""
    try:
        return _TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionRefused(
            gettext("%(refusal)s This version is %(state)s.", refusal=gettext(_REFUSALS[action]),
                    state=display_label(state.value).lower())
        ) from None


def allowed_actions(state: LifecycleState) -> list[Action]:
    return [action for (src, action) in _TRANSITIONS if src == state]


def is_editable(state: LifecycleState) -> bool:
    return state == LifecycleState.DRAFT


# -- earning rule ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EarningRule:
    """All ``required`` skills, plus at least ``optional_min`` of ``optional``."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    optional_min: int = 0

    def problems(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not self.required and not (self.optional and self.optional_min > 0):
            errors.setdefault("skills", []).append(gettext(
                "needs at least one required skill, or a number of optional skills to choose"))
        overlap = set(self.required) & set(self.optional)
        if overlap:
            errors.setdefault("optional_skills", []).append(gettext(
                "a skill cannot be both required and optional: %(skills)s",
                skills=", ".join(sorted(overlap))))
        if len(set(self.required)) != len(self.required) or \
                len(set(self.optional)) != len(self.optional):
            errors.setdefault("skills", []).append(gettext("lists a skill twice"))
        if self.optional_min < 0 or self.optional_min > len(self.optional):
            errors.setdefault("optional_min", []).append(gettext(
                "must be between 0 and the number of optional skills (%(count)d)",
                count=len(self.optional)))
        return errors

    def progress(self, demonstrated: Iterable[str]) -> RuleProgress:
        have = set(demonstrated)
        missing = tuple(s for s in self.required if s not in have)
        optional_have = tuple(s for s in self.optional if s in have)
        optional_short = max(0, self.optional_min - len(optional_have))
        return RuleProgress(
            satisfied=not missing and optional_short == 0,
            required_missing=missing, optional_have=optional_have,
            optional_still_needed=optional_short,
            total=len(self.required) + self.optional_min,
            done=len(self.required) - len(missing) + min(len(optional_have), self.optional_min),
        )

    def describe(self, names: Mapping[str, str] | None = None, lang: str = "en") -> str:
        """The rule in a sentence, in English or (``lang`` "fr") French; ``names``: the
        skills' names by code, in that language."""
        names = names or {}
        french = lang == "fr"
        parts = []
        if self.required:
            required = [names.get(s, s) for s in self.required]
            parts.append(("démontrer " + _join(required, "et")) if french
                         else ("demonstrate " + _join(required)))
        if self.optional and self.optional_min:
            optional = [names.get(s, s) for s in self.optional]
            if french:
                parts.append(f"au moins {self.optional_min} parmi {_join(optional, 'ou')}")
            else:
                parts.append(f"at least {self.optional_min} of {_join(optional, 'or')}")
        if not parts:
            return ""
        if french:
            return "Pour l'obtenir : " + " et ".join(parts) + "."
        return "To earn it, " + " and ".join(parts) + "."


class RuleProgress(NamedTuple):
    """How far a learner is with an earning rule. A NamedTuple (cheap to build): a grid
    computes one per learner and offered credential (2,400 for 600 learners x 4)."""

    satisfied: bool
    required_missing: tuple[str, ...]
    optional_have: tuple[str, ...]
    optional_still_needed: int
    total: int
    done: int


def _join(items: Sequence[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


# -- quality review rubric ------------------------------------------------------------------
@dataclass(frozen=True)
class RubricCriterion:
    key: str
    lens: str
    title: str
    description: str


LENSES = {
    "educational": N_("Educational goals and standards"),
    "institutional": N_("Institutional accountability"),
    "sector": N_("Provincial and sector accountability"),
}

RUBRIC_LEVELS: tuple[tuple[str, str], ...] = (
    ("not_met", N_("Not met")),
    ("partially_met", N_("Partially met")),
    ("met", N_("Met")),
    ("exemplary", N_("Exemplary")),
)
RUBRIC_LEVEL_KEYS = tuple(k for k, _ in RUBRIC_LEVELS)

#: Seeded for every issuer, in English (stored as written, exported, sent by the API). Shown
#: in the reader's language while the issuer keeps them as seeded: see ``criterion_text``.
DEFAULT_RUBRIC: tuple[RubricCriterion, ...] = (
    RubricCriterion("structure", "educational", N_("Structure and admission requirements"),
                    N_("The structure, size and any admission requirements are clear and "
                       "appropriate.")),
    RubricCriterion("delivery", "educational", N_("Delivery method"),
                    N_("The delivery modes suit the learners and the outcomes.")),
    RubricCriterion("curriculum", "educational", N_("Curriculum quality"),
                    N_("Content is current, accurate and at the stated level.")),
    RubricCriterion("outcomes", "educational", N_("Outcomes meet goals and standards"),
                    N_("Learning outcomes meet the stated goals and any regulatory or "
                       "professional standard.")),
    RubricCriterion("assessment", "educational", N_("Rigour of assessment"),
                    N_("Assessment methods validly and reliably show each outcome.")),
    RubricCriterion("approval_policy", "institutional", N_("Policy and process for approval"),
                    N_("The credential went through the institution's approval policy.")),
    RubricCriterion("mandate", "institutional", N_("Consistency with mandate and strategy"),
                    N_("The credential fits the institution's mandate and strategic goals.")),
    RubricCriterion("quality_review", "institutional", N_("Measurable quality review"),
                    N_("There is a measurable plan to review the credential's quality.")),
    RubricCriterion("commonalities", "sector", N_("Commonalities with institutions, industry "
                                                  "and employers"),
                    N_("Outcomes are shared with or validated by other institutions, "
                       "industry or employers.")),
    RubricCriterion("competencies", "sector", N_("Standardized competencies"),
                    N_("Skills align to standardized competencies usable for transfer and "
                       "pathways.")),
)
_DEFAULT_CRITERIA = {c.key: c for c in DEFAULT_RUBRIC}


def criterion_text(criterion: RubricCriterion | Mapping[str, Any], field: str) -> str:
    """A rubric criterion's ``title`` or ``description`` for the reader. The rubric is the
    issuer's content, stored in one language; a default criterion the issuer kept exactly as
    seeded (same key, same English text) is MicroCred's own text, so it is shown in the
    reader's language from the message catalogs. Once the issuer changes a text, that text
    is shown as written, in every language. Works on stored review snapshots (dicts) too."""
    if isinstance(criterion, Mapping):
        key, text = str(criterion.get("key") or ""), str(criterion.get(field) or "")
    else:
        key, text = criterion.key, str(getattr(criterion, field))
    default = _DEFAULT_CRITERIA.get(key)
    if default is not None and text and getattr(default, field) == text:
        return gettext(text)
    return text


def lens_title(lens: str) -> str:
    """A rubric lens's title in the reader's language (an unknown lens: its key, readable)."""
    return gettext(LENSES[lens]) if lens in LENSES else lens.replace("_", " ").capitalize()


def rubric_levels() -> tuple[tuple[str, str], ...]:
    """``RUBRIC_LEVELS`` with each level's name in the reader's language."""
    return tuple((key, gettext(text)) for key, text in RUBRIC_LEVELS)


def level_label(level: str) -> str:
    return dict(rubric_levels()).get(level, level)


# -- diffs ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


def diff_versions(before: Mapping[str, Any], after: Mapping[str, Any],
                  ignore: Iterable[str] = ()) -> list[FieldChange]:
    skip = set(ignore)
    keys = [k for k in dict.fromkeys([*before.keys(), *after.keys()]) if k not in skip]
    return [FieldChange(k, before.get(k), after.get(k)) for k in keys
            if before.get(k) != after.get(k)]


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that orders numbers inside codes by value: "SK-2" before "SK-10" (not
    "1, 10, 100, 2"), letters without regard to case."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold())
                 for part in _DIGITS.split(text) if part)


def routes_available() -> tuple[str, ...]:
    """The award routes MicroCred can award through today, hence the ones forms offer:
    integrated (for-credit courses), stand-alone (continuing education), PLAR (a decision
    on a prior learning assessment request, ``services.plar``) and transfer (a registrar
    recognises another institution's credential, ``services.transfer``). Each route is
    added here when its award path exists; stored data and imports may name any route of
    ``Route`` (they are valid values), forms offer only these."""
    return (Route.INTEGRATED.value, Route.STAND_ALONE.value, Route.PLAR.value,
            Route.TRANSFER.value)
