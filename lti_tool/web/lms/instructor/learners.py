"""The course's learners as the instructor pages show them: the roster (learner roles
only, sorted by name), one learner of it, checked to be on this course's roster, and the
roster's state in words (``roster_notice``): where it comes from, when it was last
refreshed, and when a refresh failed, why and what to ask the LMS administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.lti import AppRole, map_roles
from lti_tool.domain.tracking import learner_name, pseudonym
from lti_tool.errors import Conflict, NotFound
from lti_tool.i18n import current_short, sort_key
from lti_tool.models import LearnerAccount, RosterEntry
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web.lms.instructor.course import Course, fmt_dt


@dataclass(frozen=True)
class Learner:
    account_id: int
    person_id: int
    name: str          # what the instructor reads: name, email or a pseudonymous label
    email: str
    status: str
    sort_key: tuple[str, ...]

    @property
    def label(self) -> str:
        """The account's pseudonym, so an instructor can search by it whatever is shown."""
        return pseudonym(self.account_id)

    def matches(self, q: str) -> bool:
        return q in self.name.casefold() or q in self.email.casefold() or \
            q in self.label.casefold()


@lru_cache(maxsize=256)
def _is_learner(roles: tuple[str, ...]) -> bool:
    # Entries come from launches (learners only) or NRPS (which may carry every member).
    return not roles or AppRole.LEARNER in map_roles(roles)


def _learner_from(account_id: int, person_id: int, status: str, name: str, given: str,
                  family: str, email: str) -> Learner:
    shown = learner_name(account_id, name=name, given=given, family=family, email=email)
    key = (*sort_key(family or name or email), *sort_key(given or ""), *sort_key(shown),
           str(account_id))
    return Learner(account_id, person_id, shown, email, status, key)


def _roster_query(context_id: int) -> Any:
    return (select(RosterEntry.account_id, LearnerAccount.person_id, RosterEntry.status,
                   LearnerAccount.name, LearnerAccount.given_name, LearnerAccount.family_name,
                   LearnerAccount.email, RosterEntry.roles)
            .join(LearnerAccount, LearnerAccount.id == RosterEntry.account_id)
            .where(RosterEntry.context_id == context_id))


def roster(session: Session, context_id: int, *, active_only: bool = True) -> list[Learner]:
    """The course's learners (roster entries with a learner role), sorted by name."""
    query = _roster_query(context_id)
    if active_only:
        query = query.where(RosterEntry.status == "active")
    learners = [_learner_from(aid, pid, status, name, given, family, email)
                for aid, pid, status, name, given, family, email, roles in
                session.execute(query) if _is_learner(tuple(roles or ()))]
    learners.sort(key=lambda learner: learner.sort_key)
    return learners


def roster_learner(course: Course, account_id: int | None, *, for_write: bool) -> Learner:
    """A learner of THIS course's roster (active, to record), or NotFound."""
    row = None
    if account_id is not None:
        row = course.session.execute(
            _roster_query(course.context.id).where(RosterEntry.account_id == account_id)).first()
    if row is None or not _is_learner(tuple(row[7] or ())):
        raise NotFound(_("No such learner in this course."), code="learner_not_found")
    learner = _learner_from(*row[:7])
    if for_write and learner.status != "active":
        raise Conflict(_("%(name)s is no longer active in this course: nothing can be "
                         "recorded for them here.", name=learner.name), code="learner_inactive")
    return learner



# -- the roster's state, for the people who rely on it -------------------------------------
SANDBOX_FAMILY = "microcred-sandbox"


@dataclass(frozen=True)
class RosterNotice:
    """The roster's state (the words are in ``instructor/_roster.html``). ``kind``:
    "synced" (from the platform), "pending" (not read from the platform yet), "launches"
    (the platform shares no member list: learners appear when they open MicroCred),
    "sandbox", "failed" (the latest refresh failed: ``problem`` is what the platform
    answered, ``ask`` which advice to give: "keys", "service", "network" or "retry").
    ``family``: "moodle", "canvas" or "" (the LMS the advice names)."""

    kind: str
    at: datetime | None = None
    learners: int = 0
    problem: str = ""
    problem_lang: str = "en"   # the problem as recorded (English) or said again in French
    ask: str = ""
    family: str = ""
    jwks_url: str = ""

    @property
    def when(self) -> str:
        return fmt_dt(self.at) if self.at else ""


def _family(family: str) -> str:
    family = (family or "").lower()
    return "moodle" if "moodle" in family else "canvas" if "canvas" in family else ""


#: what a failed refresh's code means, said again in the reader's language (the message was
#: recorded in English when the refresh ran, often on a worker); it starts with the host
_PROBLEMS = {
    "token_unreachable": _l("%(host)s could not be reached for an access token."),
    "token_refused": _l("%(host)s refused MicroCred's access token request. Check the tool's "
                        "registration on the platform: its client ID, its public keyset URL, "
                        "and that the tool may use this service."),
    "token_failed": _l("%(host)s did not issue an access token."),
    "service_refused": _l("%(host)s refused MicroCred access to the course roster. The tool "
                          "may not have been given this service in the platform's settings "
                          "for this tool."),
    "service_missing": _l("%(host)s has no course roster at the address it gave."),
    "service_failed": _l("%(host)s could not provide the course roster right now."),
    "unreachable": _l("%(host)s could not be reached (the course roster)."),
}


def _problem(status: dict[str, Any]) -> tuple[str, str]:
    """The recorded problem, in French when the page is and the code is a known one."""
    message = str(status.get("message", ""))
    template = _PROBLEMS.get(str(status.get("code", "")))
    if template is None or current_short() == "en" or not message:
        return message, "en"
    host = message.split(" ", 1)[0]
    return str(template) % {"host": host}, current_short()


_ADVICE = {"token_refused": "keys", "service_refused": "service", "service_missing": "service",
           "token_unreachable": "network", "unreachable": "network"}


def roster_notice(course: Course) -> RosterNotice:
    platform = course.context.deployment.platform
    family = _family(platform.product_family)
    status = course.context.roster_status or {}
    at = None
    if isinstance(status.get("at"), str):
        try:
            at = datetime.fromisoformat(status["at"])
        except ValueError:
            at = None
    if platform.product_family == SANDBOX_FAMILY:
        return RosterNotice("sandbox")
    if not course.context.nrps_url:
        return RosterNotice("launches", at, family=family)
    if status and not status.get("ok"):
        jwks = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/.well-known/jwks.json"
        problem, problem_lang = _problem(status)
        return RosterNotice("failed", at, problem=problem, problem_lang=problem_lang,
                            ask=_ADVICE.get(str(status.get("code", "")), "retry"),
                            family=family, jwks_url=jwks)
    return RosterNotice("synced" if status else "pending", at,
                        int(status.get("learners", 0) or 0), family=family)
