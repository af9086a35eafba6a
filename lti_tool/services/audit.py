"""The audit trail: who did what, when, from which launch. Append-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.models import AuditEvent


def record(
    session: Session, action: str, *, actor_account_id: int | None = None,
    platform_id: int | None = None, context_id: int | None = None, subject_type: str = "",
    subject_id: str | int = "", launch_id: str = "", request_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        action=action, actor_account_id=actor_account_id, platform_id=platform_id,
        context_id=context_id, subject_type=subject_type, subject_id=str(subject_id),
        launch_id=launch_id, request_id=request_id, detail=detail or {},
    )
    session.add(event)
    return event
