"""MicroCred as ``wsgi.py`` builds it, plus the fault suite's one injection point: a request
carrying ``X-Fault-Kill: before-commit`` (or ``after-commit``) gets its worker process
killed with SIGKILL just before (or just after) the commit of the transaction that stores
its API answer, i.e. with the demonstration, the award and its credential all written.

Only this test module installs the hook; the product has no such switch.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from lti_tool import create_app
from lti_tool.models import IdempotencyRecord

app = create_app()


def _answer_stored(session: Session) -> bool:
    return any(isinstance(obj, IdempotencyRecord) and obj.status
               for obj in session.identity_map.values())


def _kill_at(point: str) -> Any:
    def hook(session: Session) -> None:
        if session.in_nested_transaction() or not has_request_context():
            return
        if request.headers.get("X-Fault-Kill") == point and _answer_stored(session):
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


event.listen(Session, "before_commit", _kill_at("before-commit"))
event.listen(Session, "after_commit", _kill_at("after-commit"))
