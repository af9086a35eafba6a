"""Revoking an award from a route: ``revoke_award_now`` changes the award and its status-list
bit in one transaction. (A new award's credential needs no call: it is signed before the
commit that creates the award, by ``jobs``' before-commit hook.)"""

from __future__ import annotations

from typing import Any

from flask import current_app

from lti_tool.models import Award
from lti_tool.services import issuing
from lti_tool.services.tracking import Assessor


def _base_url() -> str:
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base


def revoke_award_now(session: Any, award: Award, *, reason: str, by: Assessor) -> None:
    """``services.tracking.revoke_award`` plus the status-list bit, in the caller's
    transaction (so a revoked award is never left with a stale status list). Raises
    ValidationFailed without a reason, like ``revoke_award``."""
    issuing.revoke(session, award, reason=reason, by=by,
                   vault=current_app.extensions["lti"].vault, base_url=_base_url())
