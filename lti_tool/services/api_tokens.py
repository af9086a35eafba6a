"""Per-issuer API tokens: ``mc_<prefix>_<secret>``. Only the SHA-256 of the whole token is
stored; the token is shown once, at creation. Scopes limit what a token may do."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Scope
from lti_tool.errors import NotFound, ValidationFailed
from lti_tool.models import ApiToken, Issuer
from lti_tool.models.base import utcnow
from lti_tool.services import audit
from lti_tool.services.catalog import Actor

TOKEN_PREFIX = "mc_"  # noqa: S105 - a public prefix, not a secret


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(raw: Iterable[str]) -> list[Scope]:
    scopes: list[Scope] = []
    bad: list[str] = []
    for item in raw:
        item = item.strip()
        if not item:
            continue
        try:
            scopes.append(Scope(item))
        except ValueError:
            bad.append(item)
    if bad or not scopes:
        valid = ", ".join(s.value for s in Scope)
        raise ValidationFailed({"scopes": [f"unknown scope {', '.join(bad)}; valid: {valid}"
                                           if bad else f"give at least one of: {valid}"]})
    return list(dict.fromkeys(scopes))


def create_token(session: Session, issuer_id: int, name: str, scopes: Iterable[str], *,
                 created_by: str) -> tuple[ApiToken, str]:
    """(row, plaintext). The plaintext is never stored. Raises ValidationFailed."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed({"name": ["is required (100 characters at most)"]})
    if session.get(Issuer, issuer_id) is None:
        raise NotFound("No such issuer.")
    parsed = parse_scopes(scopes)
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(issuer_id=issuer_id, name=name, prefix=prefix, token_hash=_hash(plaintext),
                   scopes=[s.value for s in parsed], created_by=created_by)
    session.add(row)
    session.flush()
    audit.record(session, "api_token.created", subject_type="api_token", subject_id=row.id,
                 detail={"by": created_by, "scopes": row.scopes, "issuer": issuer_id})
    return row, plaintext


def authenticate(session: Session, plaintext: str) -> ApiToken | None:
    """The live token for this secret, or None (unknown, malformed or revoked)."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(plaintext))).first()
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = utcnow()
    return row


def actor_for_token(token: ApiToken) -> Actor:
    return Actor(ref=f"token:{token.id}", name=f"API token {token.name}",
                 issuer_id=token.issuer_id, scopes=frozenset(Scope(s) for s in token.scopes))


def list_tokens(session: Session, issuer_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.issuer_id == issuer_id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, issuer_id: int | None, ident: str, *, by: str) -> ApiToken:
    """Revoke by id or prefix (within the issuer when given). Idempotent."""
    query = select(ApiToken)
    query = query.where(ApiToken.id == int(ident)) if ident.isdigit() else \
        query.where(ApiToken.prefix == ident.removeprefix(TOKEN_PREFIX).split("_")[0])
    if issuer_id is not None:
        query = query.where(ApiToken.issuer_id == issuer_id)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"No API token {ident}.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, "api_token.revoked", subject_type="api_token", subject_id=row.id,
                     detail={"by": by})
    return row
