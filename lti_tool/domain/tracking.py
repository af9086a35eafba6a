"""Skill tracking and awarding as pure rules: demonstration outcomes and methods, which
award route a course kind gives, how a cell of the assessment grid is summarised from
append-only demonstrations, and when a credential's earning rule is met.

Course grades are never read: only demonstrations count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from lti_tool.domain.catalog import Route
from lti_tool.domain.lti import ContextKind


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a secret
    FAIL = "fail"


class Method(StrEnum):
    IN_COURSE_ASSIGNMENT = "in_course_assignment"
    OBSERVATION = "observation"
    PORTFOLIO = "portfolio"
    CHALLENGE_ASSESSMENT = "challenge_assessment"
    # Recorded only by a PLAR decision (services.plar), never typed in a course's grid.
    PLAR = "plar"
    # Recognised from another institution's credential (services.transfer) only.
    TRANSFER = "transfer"


#: The route a workflow method is recorded with, and only with (record_demonstration).
WORKFLOW_ROUTES = {Method.PLAR: Route.PLAR, Method.TRANSFER: Route.TRANSFER}
#: The methods an instructor may record in a course (the grid, forms, imports, the API).
COURSE_METHODS = tuple(m for m in Method if m not in WORKFLOW_ROUTES)

METHOD_LABELS = {
    Method.IN_COURSE_ASSIGNMENT: "In-course assignment",
    Method.OBSERVATION: "Observation",
    Method.PORTFOLIO: "Portfolio",
    Method.CHALLENGE_ASSESSMENT: "Challenge assessment",
    Method.PLAR: "Prior learning assessment (PLAR)",
    Method.TRANSFER: "Transfer (another institution's credential)",
}


class CellStatus(StrEnum):
    NOT_YET = "not_yet"
    ATTEMPTED = "attempted"        # attempted, not demonstrated yet
    DEMONSTRATED = "demonstrated"


CELL_LABELS = {
    CellStatus.NOT_YET: "Not yet",
    CellStatus.ATTEMPTED: "Attempted, not yet demonstrated",
    CellStatus.DEMONSTRATED: "Demonstrated",
}


class AwardStatus(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"    # a supporting demonstration was superseded by a fail
    REVOKED = "revoked"


_BARE_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                        r"[A-Za-z][A-Za-z0-9-]{0,62}(?::[0-9]{1,5})?$")


def complete_evidence_url(url: str) -> str:
    """An evidence link as people type it: ``moodle.college.ca/mod/assign/view.php?id=4``
    (no scheme, a host name with a dot) gets ``https://``; anything else is returned
    stripped, to be checked as it is (``mailto:``, ``javascript:`` are never completed)."""
    url = url.strip()
    if not url or "://" in url:
        return url
    host = re.split(r"[/?#]", url, maxsplit=1)[0]
    return "https://" + url if _BARE_HOST.match(host) else url


def route_for_kind(kind: str) -> Route | None:
    """The award route a course of this kind gives (None: no route; e.g. 'other')."""
    if kind == ContextKind.FOR_CREDIT.value:
        return Route.INTEGRATED
    if kind == ContextKind.CONTINUING_ED.value:
        return Route.STAND_ALONE
    return None


#: Routes that are not a course's: a pass made through one of them names its own route.
ASSESSED_ELSEWHERE = frozenset({Route.PLAR, Route.TRANSFER})


def award_route(here: Route | None, pass_routes: Iterable[Route | None],
                allowed_routes: Iterable[str]) -> str:
    """The route an award records. When every pass it rests on came through one route that
    is not a course's (PLAR, transfer), that route: the learner earned it by PLAR even if
    the decision was recorded in a continuing-education shell. Otherwise the route of the
    course where it is evaluated, if the credential allows it; else the most common route
    among the passes."""
    routes = [r for r in pass_routes]
    distinct = set(routes)
    if len(distinct) == 1:
        only = next(iter(distinct))
        if only in ASSESSED_ELSEWHERE:
            return only.value
    allowed = set(allowed_routes)
    if here is not None and here.value in allowed:
        return here.value
    counts: dict[str, int] = {}
    for route in routes:
        key = route.value if route else ""
        counts[key] = counts.get(key, 0) + 1
    return max(counts.items(), key=lambda kv: kv[1])[0]


class DemonstrationFact(NamedTuple):
    """The parts of a (current, not superseded) demonstration the rules need. A NamedTuple,
    not a frozen dataclass: a grid builds one per current demonstration (~14,000 for 600 x
    40), and a NamedTuple costs ~0.5 µs to build where a frozen dataclass costs ~3 µs."""

    id: int
    skill_code: str
    outcome: Outcome
    route: Route | None
    at: datetime
    assessor: str = ""
    context_title: str = ""
    recorded_at: datetime | None = None  # when it was entered (``at`` may be back-dated)


@dataclass(frozen=True)
class Cell:
    status: CellStatus
    latest: DemonstrationFact | None


def summarise_cell(facts: Iterable[DemonstrationFact]) -> Cell:
    """Demonstrated if any current pass exists; otherwise attempted if any fail."""
    passes = [f for f in facts if f.outcome is Outcome.PASS]
    if passes:
        return Cell(CellStatus.DEMONSTRATED, max(passes, key=lambda f: (f.at, f.id)))
    fails = [f for f in facts if f.outcome is Outcome.FAIL]
    if fails:
        return Cell(CellStatus.ATTEMPTED, max(fails, key=lambda f: (f.at, f.id)))
    return Cell(CellStatus.NOT_YET, None)


def counting_passes(facts: Iterable[DemonstrationFact],
                    allowed_routes: Iterable[str]) -> dict[str, DemonstrationFact]:
    """Per skill code, the earliest current pass made where the credential's routes allow
    (a demonstration counts wherever it was made, if that place's route is allowed)."""
    # A Route is a StrEnum: it hashes and compares as its value, and None is never in the
    # set (cheaper than reading ``.value``: this runs per fact, per learner, per credential).
    allowed = set(allowed_routes)
    best: dict[str, DemonstrationFact] = {}
    for fact in facts:
        if fact.outcome is not Outcome.PASS or fact.route not in allowed:
            continue
        current = best.get(fact.skill_code)
        if current is None or (fact.at, fact.id) < (current.at, current.id):
            best[fact.skill_code] = fact
    return best


def passes_after_revocation(facts: Iterable[DemonstrationFact], allowed_routes: Iterable[str],
                            revoked_at: datetime) -> tuple[dict[str, DemonstrationFact], bool]:
    """The passes that may earn a credential again after the person's award of it was
    revoked at ``revoked_at``: per skill, the earliest counting pass *recorded* after the
    revocation if there is one, else the earliest counting pass; and whether any of them
    is new. A revoked credential is earned again only with new evidence (at least one pass
    recorded after the revocation): otherwise the very passes behind the revoked award
    would award it again at the next evaluation."""
    allowed = list(allowed_routes)
    facts = list(facts)
    fresh = counting_passes([f for f in facts if f.recorded_at is not None
                             and f.recorded_at > revoked_at], allowed)
    passes = {**counting_passes(facts, allowed), **fresh}
    return passes, bool(fresh)


_CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: easy to read aloud
_PSEUDONYM_BLOCK_BITS = 20


def pseudonym(account_id: int) -> str:
    """A stable label for a learner whose platform sends neither name nor email (Canvas
    privacy settings), e.g. "Learner 4F2A".

    Derived from the account id by a bijection (odd multipliers and an xor-shift modulo a
    power of two), so two accounts never share a label and consecutive ids do not look
    consecutive. Four characters up to about a million accounts, eight beyond."""
    if account_id < 0:
        raise ValueError("account ids are not negative")
    blocks = 1
    while account_id >= 1 << (_PSEUDONYM_BLOCK_BITS * blocks):
        blocks += 1
    bits = _PSEUDONYM_BLOCK_BITS * blocks
    mask = (1 << bits) - 1
    x = (account_id * 0x9E3B1) & mask
    x ^= x >> (bits // 2)
    x = (x * 0x5BD1F) & mask
    chars = []
    for _ in range(bits // 5):
        chars.append(_CROCKFORD32[x & 31])
        x >>= 5
    return "Learner " + "".join(reversed(chars))


def learner_name(account_id: int, *, name: str = "", given: str = "", family: str = "",
                 email: str = "") -> str:
    """How MicroCred names a learner everywhere (grid, exports, import reports, the API):
    the name the platform sent, else given and family name, else the email, else the
    account's ``pseudonym`` ("Learner 4F2A")."""
    full = name.strip() or " ".join(p for p in (given.strip(), family.strip()) if p)
    return full or email.strip() or pseudonym(account_id)
