"""Per-issuer API tokens: ``mc_<prefix>_<secret>``. Only the SHA-256 of the whole token is
stored; the token is shown once, at creation. Scopes limit what a token may do; an optional
expiry ends it at a given moment (an integration's credentials should not live for ever)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Scope
from lti_tool.errors import NotFound, ToolError, ValidationFailed
from lti_tool.models import ApiToken, Issuer
from lti_tool.models.base import utcnow
from lti_tool.services import audit
from lti_tool.services.catalog import Actor

TOKEN_PREFIX = "mc_"  # noqa: S105 - a public prefix, not a secret
PREFIX_HEX_DIGITS = 8  # a token's public prefix (after "mc_"): its name in lists and logs
MAX_LIFETIME = timedelta(days=5 * 366)


class TokenExpired(ToolError):
    """The token was valid, and its expiry has passed (401)."""

    status_code = 401
    code = "token_expired"
    title = "API token expired"

    def __init__(self, expired_at: datetime) -> None:
        super().__init__(f"This API token expired on {expired_at:%Y-%m-%d %H:%M} UTC. Ask a "
                         "catalog administrator for a new one.")


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
        raise ValidationFailed({"scopes": [
            _("unknown scope %(scopes)s; valid: %(valid)s", scopes=", ".join(bad), valid=valid)
            if bad else _("give at least one of: %(valid)s", valid=valid)]})
    return list(dict.fromkeys(scopes))


def expiry_after(days: int | None, now: datetime | None = None) -> datetime | None:
    """The moment ``days`` from now (None: no expiry). Raises ValidationFailed."""
    if days is None:
        return None
    if not 1 <= days <= MAX_LIFETIME.days:
        raise ValidationFailed({"expires": [_("give between 1 and %(max)d days, or no expiry",
                                              max=MAX_LIFETIME.days)]})
    return (now or utcnow()) + timedelta(days=days)


def check_expiry(expires_at: datetime | None, now: datetime | None = None) -> None:
    """Raises ValidationFailed for an expiry in the past, without a time zone, or too far."""
    if expires_at is None:
        return
    now = now or utcnow()
    if expires_at.tzinfo is None:
        raise ValidationFailed({"expires": [_("needs a time zone")]})
    if expires_at <= now:
        raise ValidationFailed({"expires": [_("must be in the future")]})
    if expires_at > now + MAX_LIFETIME:
        raise ValidationFailed({"expires": [_("at most %(max)d days ahead",
                                              max=MAX_LIFETIME.days)]})


def is_expired(token: ApiToken, now: datetime | None = None) -> bool:
    return token.expires_at is not None and token.expires_at <= (now or utcnow())


def create_token(session: Session, issuer_id: int, name: str, scopes: Iterable[str], *,
                 created_by: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """(row, plaintext). The plaintext is never stored. ``expires_at``: when the token stops
    working (None: until revoked). Raises ValidationFailed."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed({"name": [_("is required (%(max)d characters at most)",
                                           max=100)]})
    check_expiry(expires_at)
    if session.get(Issuer, issuer_id) is None:
        raise NotFound(_("No such issuer."))
    parsed = parse_scopes(scopes)
    prefix = secrets.token_hex(PREFIX_HEX_DIGITS // 2)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(issuer_id=issuer_id, name=name, prefix=prefix, token_hash=_hash(plaintext),
                   scopes=[s.value for s in parsed], created_by=created_by,
                   expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(session, "api_token.created", subject_type="api_token", subject_id=row.id,
                 detail={"by": created_by, "scopes": row.scopes, "issuer": issuer_id,
                         "expires_at": expires_at.isoformat() if expires_at else None})
    return row, plaintext


def authenticate(session: Session, plaintext: str) -> ApiToken | None:
    """The live token for this secret, or None (unknown, malformed or revoked). Raises
    TokenExpired for a token past its expiry."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(plaintext))).first()
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.expires_at is not None and is_expired(row, now):
        raise TokenExpired(row.expires_at)
    row.last_used_at = now
    return row


def actor_for_token(token: ApiToken) -> Actor:
    return Actor(ref=f"token:{token.id}", name=f"API token {token.name}",
                 issuer_id=token.issuer_id, scopes=frozenset(Scope(s) for s in token.scopes))


def list_tokens(session: Session, issuer_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.issuer_id == issuer_id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, issuer_id: int | None, ident: str, *, by: str) -> ApiToken:
    """Revoke by id or prefix (within the issuer when given). Idempotent. A prefix is eight
    hex digits and may be all decimal digits (about one token in 40): an ident of that
    length is looked up as a prefix first, then as an id."""
    scope = select(ApiToken)
    if issuer_id is not None:
        scope = scope.where(ApiToken.issuer_id == issuer_id)
    name = ident.removeprefix(TOKEN_PREFIX).split("_")[0]
    row = None
    if not ident.isdigit() or len(ident) == PREFIX_HEX_DIGITS:
        row = session.scalars(scope.where(ApiToken.prefix == name)).first()
    if row is None and ident.isdigit() and len(ident) < 19:
        row = session.scalars(scope.where(ApiToken.id == int(ident))).first()
    if row is None:
        raise NotFound(f"No API token {ident}.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, "api_token.revoked", subject_type="api_token", subject_id=row.id,
                     detail={"by": by})
    return row
