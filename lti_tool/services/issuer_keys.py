"""Issuer signing keys for Open Badges 3.0: Ed25519, one active per issuer, rotated on
demand, revoked when compromised.

* A key signs credentials with ``eddsa-rdfc-2022`` (https://www.w3.org/TR/vc-di-eddsa/) and
  VC-JWTs with ``EdDSA`` (RFC 8037). Its verification method id — and the JWT ``kid`` — is
  ``<issuer id>#<publicKeyMultibase>`` and its ``controller`` is the issuer id
  ``<base>/issuers/<slug>``: the issuer profile served there is the controller document
  (https://www.w3.org/TR/cid-1.0/), listing the key under ``verificationMethod`` and, while
  it may sign, under ``assertionMethod``. So a Data Integrity verifier (e.g. Digital
  Bazaar's) finds "the verification method's controller is the credential's issuer". The
  JWKS at ``/issuers/<slug>/jwks.json`` carries the same ``kid``s. Credentials made before
  this scheme name ``<issuer id>/keys#<multibase>``; that id still resolves (``/keys``).
* Rotation retires the active key and makes a new one. Retired keys sign nothing new but
  stay listed for ever: a credential may be checked years after issue, so old credentials
  must keep verifying.
* Revocation (a key reported compromised) is different: the key leaves
  ``assertionMethod`` and the JWKS, stays described with its ``revoked`` time, and the
  issuing service re-signs what it signed with the active key
  (:func:`lti_tool.services.issuing.revoke_issuer_key`).
* The 32-byte seed is stored as a Fernet token made by ``services.keys.KeyVault`` (a
  database dump alone does not reveal it); a decrypted key is kept for the life of the
  process (``private_key``), so issuing never decrypts twice.

Functions commit nothing; ``ensure_active_key`` and ``revoke`` are idempotent, ``rotate`` is
not.
"""

from __future__ import annotations

import threading
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.badges.multikey import decode_multikey, encode_ed25519_public_key
from lti_tool.errors import ConfigurationError, ValidationFailed
from lti_tool.models import Issuer, IssuerSigningKey
from lti_tool.models.base import utcnow
from lti_tool.services import audit
from lti_tool.services.keys import KeyVault

ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"

_loaded: dict[str, ed25519.Ed25519PrivateKey] = {}
_lock = threading.Lock()


def issuer_url(base_url: str, issuer: Issuer) -> str:
    """The issuer's Profile id: ``<base>/issuers/<slug>``."""
    return f"{base_url.rstrip('/')}/issuers/{issuer.slug}"


def legacy_keys_url(base_url: str, issuer: Issuer) -> str:
    """``<issuer id>/keys``: where credentials made before keys were bound to the issuer
    profile name their keys (still served, still resolved)."""
    return issuer_url(base_url, issuer) + "/keys"


def verification_method(base_url: str, issuer: Issuer, key: IssuerSigningKey) -> str:
    """``<issuer id>#<publicKeyMultibase>``: proof verificationMethod and VC-JWT ``kid``."""
    return f"{issuer_url(base_url, issuer)}#{key.public_multibase}"


def legacy_verification_method(base_url: str, issuer: Issuer, key: IssuerSigningKey) -> str:
    return f"{legacy_keys_url(base_url, issuer)}#{key.public_multibase}"


def public_key(key: IssuerSigningKey) -> ed25519.Ed25519PublicKey:
    decoded = decode_multikey(key.public_multibase)
    assert isinstance(decoded, ed25519.Ed25519PublicKey)  # only Ed25519 keys are stored
    return decoded


def generate_key(session: Session, vault: KeyVault, issuer: Issuer) -> IssuerSigningKey:
    """A new active key (the caller retires the previous one). Not idempotent."""
    private = ed25519.Ed25519PrivateKey.generate()
    seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    key = IssuerSigningKey(issuer_id=issuer.id,
                           public_multibase=encode_ed25519_public_key(private.public_key()),
                           private_encrypted=vault.encrypt(seed), status=ACTIVE)
    session.add(key)
    session.flush()
    with _lock:
        _loaded[key.public_multibase] = private
    return key


def active_key(session: Session, issuer: Issuer) -> IssuerSigningKey | None:
    return session.scalars(
        select(IssuerSigningKey).where(IssuerSigningKey.issuer_id == issuer.id,
                                       IssuerSigningKey.status == ACTIVE)
        .order_by(IssuerSigningKey.created_at.desc(), IssuerSigningKey.id.desc()).limit(1)
    ).first()


def ensure_active_key(session: Session, vault: KeyVault, issuer: Issuer) -> IssuerSigningKey:
    """The issuer's active key, creating the first one. Idempotent. (Two first-ever issues
    racing may each create one; both are published and either signs correctly.)"""
    return active_key(session, issuer) or generate_key(session, vault, issuer)


def rotate(session: Session, vault: KeyVault, issuer: Issuer, *,
           by: str = "") -> IssuerSigningKey:
    """Retire the active key(s) and create a new active one. Retired keys stay published,
    so every credential signed so far keeps verifying. Not idempotent."""
    now = utcnow()
    retired = []
    for old in session.scalars(select(IssuerSigningKey).where(
            IssuerSigningKey.issuer_id == issuer.id, IssuerSigningKey.status == ACTIVE)):
        old.status = RETIRED
        old.retired_at = now
        retired.append(old.public_multibase)
    session.flush()
    key = generate_key(session, vault, issuer)
    audit.record(session, "issuer_key.rotated", subject_type="issuer", subject_id=issuer.id,
                 detail={"by": by, "new": key.public_multibase, "retired": retired})
    return key


def revoke(session: Session, vault: KeyVault, issuer: Issuer, key: IssuerSigningKey, *,
           compromised_since: datetime, reason: str, by: str = "") -> IssuerSigningKey:
    """Withdraw ``key`` (reported compromised since ``compromised_since``): it may sign
    nothing and counts for nothing any more. When it was the active key a new one is made
    first. Returns the issuer's active key. Idempotent: revoking a revoked key changes
    nothing. Raises ValidationFailed for a reason that is empty or too long, or a time in
    the future."""
    reason = " ".join(reason.split())
    fields: dict[str, list[str]] = {}
    if not reason:
        fields["reason"] = ["Say why the key is withdrawn (verifiers are shown it)."]
    elif len(reason) > 300:
        fields["reason"] = ["Keep the reason under 300 characters."]
    now = utcnow()
    if compromised_since.tzinfo is None:
        fields["compromised_since"] = ["Give the time with its time zone."]
    elif compromised_since > now:
        fields["compromised_since"] = ["The time a key was compromised cannot be in the future."]
    if fields:
        raise ValidationFailed(fields, "The key was not revoked.")
    if key.status == REVOKED:
        return ensure_active_key(session, vault, issuer)
    active = key if key.status == ACTIVE else None
    if active is not None:
        rotate(session, vault, issuer, by=by)
    key.status = REVOKED
    key.revoked_at = now
    key.retired_at = key.retired_at or now
    key.compromised_since = compromised_since
    key.revocation_reason = reason
    session.flush()
    audit.record(session, "issuer_key.revoked", subject_type="issuer", subject_id=issuer.id,
                 detail={"by": by, "key": key.public_multibase, "reason": reason,
                         "compromised_since": compromised_since.isoformat()})
    return ensure_active_key(session, vault, issuer)


def published_keys(session: Session, issuer: Issuer) -> list[IssuerSigningKey]:
    """Every key of the issuer, oldest first: the active one, the retired and the revoked
    ones (a revoked key is described, with its ``revoked`` time, but not for signing)."""
    return list(session.scalars(
        select(IssuerSigningKey).where(IssuerSigningKey.issuer_id == issuer.id)
        .order_by(IssuerSigningKey.created_at, IssuerSigningKey.id)))


def signing_keys(session: Session, issuer: Issuer) -> list[IssuerSigningKey]:
    """The keys whose signatures count (``assertionMethod``): active and retired."""
    return [k for k in published_keys(session, issuer) if k.status != REVOKED]


def key_by_multibase(session: Session, issuer: Issuer,
                     multibase: str) -> IssuerSigningKey | None:
    return session.scalars(select(IssuerSigningKey).where(
        IssuerSigningKey.issuer_id == issuer.id,
        IssuerSigningKey.public_multibase == multibase)).first()


def private_key(vault: KeyVault, key: IssuerSigningKey) -> ed25519.Ed25519PrivateKey:
    """The decrypted key, cached for the life of the process. Raises ConfigurationError
    when the secret that encrypted it is gone or the stored key is damaged."""
    cached = _loaded.get(key.public_multibase)
    if cached is not None:
        return cached
    seed = vault.decrypt(key.private_encrypted)
    try:
        loaded = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError:
        raise ConfigurationError("A stored issuer signing key is damaged.") from None
    if encode_ed25519_public_key(loaded.public_key()) != key.public_multibase:
        raise ConfigurationError("A stored issuer signing key does not match its public key.")
    with _lock:
        _loaded[key.public_multibase] = loaded
    return loaded
