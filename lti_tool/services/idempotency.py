"""Durable idempotency for API writes (``Idempotency-Key``, as Stripe's and the IETF draft
https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/).

The key, a fingerprint of the request and the answer are stored in the database **in the
same transaction as the write** (``idempotency_records``), scoped by the token's issuer,
the token and the endpoint. So whatever happens to the process:

- crash before the commit: neither the write nor the record exists; the retry runs once;
- crash after the commit (before the answer reached the client): the retry finds the
  record and gets the same answer, without running again;
- a retry arriving while the first is still running: its ``claim`` waits on the row the
  first inserted (PostgreSQL's unique index; SQLite's single writer), then replays the
  committed answer, or runs if the first was rolled back. It never sees a "pending" key,
  so there is no 409 to wait out after a crash. A wait longer than the database's lock
  timeout is a 503 to retry.

Only successful answers are stored: a refused request rolls its transaction back, record
included, so it can be corrected and sent again with the same key. Records older than
``KEEP`` are treated as absent and purged as new ones are claimed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import ValidationFailed
from lti_tool.models import IdempotencyRecord
from lti_tool.models.base import utcnow

KEEP = timedelta(hours=24)
PURGE_BATCH = 100
_KEY = re.compile(r"^[\x21-\x7e]{1,255}\Z")  # visible ASCII, as Stripe's
#: Response headers worth replaying (the body's media type and validators).
KEPT_HEADERS = ("Content-Type", "ETag", "Location")


@dataclass(frozen=True)
class Scope:
    """Who may replay an answer: one token of one issuer, on one endpoint."""

    issuer_id: int
    token_id: int
    endpoint: str


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(payload: Any) -> str:
    """A stable digest of the (already parsed) request."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str,
                                     separators=(",", ":")).encode()).hexdigest()


def check_key(key: str) -> str:
    """The key, if well formed. Raises ValidationFailed."""
    if not _KEY.match(key):
        raise ValidationFailed({"Idempotency-Key": ["use 1-255 visible ASCII characters, "
                                                    "e.g. a UUID"]})
    return key


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _find(session: Session, scope: Scope, key_hash: str) -> IdempotencyRecord | None:
    return session.scalars(select(IdempotencyRecord).where(
        IdempotencyRecord.issuer_id == scope.issuer_id,
        IdempotencyRecord.token_id == scope.token_id,
        IdempotencyRecord.endpoint == scope.endpoint,
        IdempotencyRecord.key_hash == key_hash)).first()


def _answer_of(record: IdempotencyRecord, scope: Scope, print_: str) -> StoredAnswer:
    if record.fingerprint != print_:
        raise ValidationFailed(
            {"Idempotency-Key": ["was already used for a different request; use a new key "
                                 "for each new request"]},
            "This Idempotency-Key was already used with another request body.")
    return StoredAnswer(record.status, record.body, dict(record.headers or {}))


def _purge(session: Session, scope: Scope) -> None:
    """Forget this token's expired records (a bounded batch, skipping rows another
    transaction holds)."""
    cutoff = utcnow() - KEEP
    expired = select(IdempotencyRecord.id).where(
        IdempotencyRecord.token_id == scope.token_id,
        IdempotencyRecord.created_at < cutoff).limit(PURGE_BATCH)
    if session.get_bind().dialect.name == "postgresql":
        expired = expired.with_for_update(skip_locked=True)
    ids = list(session.scalars(expired))
    if ids:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))


def claim(session: Session, scope: Scope, key: str,
          request_print: str) -> StoredAnswer | IdempotencyRecord:
    """Start an idempotent write in the caller's transaction: the stored answer of an
    earlier request with this key (replay it; the same key with another request is
    ValidationFailed), or a claimed record to ``complete`` once the work is done. Waits
    for a concurrent request holding the same key (see the module docstring). Raises
    ValidationFailed; OperationalError when that wait exceeds the lock timeout. Must be
    the transaction's first write."""
    key_hash = _hash(check_key(key))
    existing = _find(session, scope, key_hash)
    if existing is not None:
        if existing.created_at >= utcnow() - KEEP:
            return _answer_of(existing, scope, request_print)
        session.delete(existing)
        session.flush()
    _purge(session, scope)
    record = IdempotencyRecord(issuer_id=scope.issuer_id, token_id=scope.token_id,
                               endpoint=scope.endpoint, key_hash=key_hash,
                               fingerprint=request_print, status=0, body="", headers={})
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        # A concurrent request with this key committed first (we waited for it).
        winner = _find(session, scope, key_hash)
        if winner is None:  # pragma: no cover - it just made our insert fail
            raise
        return _answer_of(winner, scope, request_print)
    return record


def complete(session: Session, record: IdempotencyRecord, status: int, body: str,
             headers: dict[str, str]) -> None:
    """Store the answer on the claimed record; the caller's commit makes both durable."""
    record.status = status
    record.body = body
    record.headers = {k: v for k, v in headers.items() if k in KEPT_HEADERS}
    session.flush()
