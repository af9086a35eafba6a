"""Signing the credentials of awards a request has just made, and revoking one: the hooks
every route that awards or revokes calls (instructor pages, the API). ``issue_awards_now``
runs after the route's commit; ``revoke_award_now`` changes the award and its status-list
bit in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import current_app

from lti_tool.models import Award
from lti_tool.services import issuing
from lti_tool.services.tracking import Assessor

log = logging.getLogger(__name__)


def _base_url() -> str:
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base


def issue_awards_now(session: Any, awards: Iterable[Award | int]) -> None:
    """Issue (sign) the credentials of awards a route has just created and committed. Best
    effort: the award is already saved, and a credential that could not be issued now is
    issued on its first read, so a failure here is logged, never shown."""
    items = list(awards)
    if not items:
        return
    try:
        issuing.issue_new_awards(session, items, vault=current_app.extensions["lti"].vault,
                                 base_url=_base_url())
        session.commit()
    except Exception:  # never fail the request that created the award
        session.rollback()
        log.exception("issuing credentials after an award failed; they will be issued on "
                      "first read", extra={"event": "issue_failed"})


def revoke_award_now(session: Any, award: Award, *, reason: str, by: Assessor) -> None:
    """``services.tracking.revoke_award`` plus the status-list bit, in the caller's
    transaction (so a revoked award is never left with a stale status list). Raises
    ValidationFailed without a reason, like ``revoke_award``."""
    issuing.revoke(session, award, reason=reason, by=by,
                   vault=current_app.extensions["lti"].vault, base_url=_base_url())
