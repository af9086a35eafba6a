"""The course's learners as the instructor pages show them: the roster (learner roles
only, sorted by name) and one learner of it, checked to be on this course's roster."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.lti import AppRole, map_roles
from lti_tool.domain.tracking import learner_name, pseudonym
from lti_tool.errors import Conflict, NotFound
from lti_tool.models import LearnerAccount, RosterEntry
from lti_tool.web.lms.instructor.course import Course


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
    key = ((family or name or email).casefold(), (given or "").casefold(), shown.casefold(),
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
        raise NotFound("No such learner in this course.", code="learner_not_found")
    learner = _learner_from(*row[:7])
    if for_write and learner.status != "active":
        raise Conflict(f"{learner.name} is no longer active in this course: nothing can be "
                       "recorded for them here.", code="learner_inactive")
    return learner

