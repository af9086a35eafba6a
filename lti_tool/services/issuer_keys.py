"""Issuer signing keys for Open Badges 3.0: Ed25519, one active per issuer, rotated on
demand, never unpublished.

* A key signs credentials with ``eddsa-rdfc-2022`` (https://www.w3.org/TR/vc-di-eddsa/) and
  VC-JWTs with ``EdDSA`` (RFC 8037). Its verification method id — and the JWT ``kid`` — is
  ``<base>/issuers/<slug>/keys#<publicKeyMultibase>``: the controller document served at
  ``/issuers/<slug>/keys`` lists it (https://www.w3.org/TR/controller-document/), the JWKS
  at ``/issuers/<slug>/jwks.json`` carries the same ``kid``, and the fragment is the key
  itself, so the 1EdTech validator's "[controller]#[publicKeyMultibase]" convention works
  offline too.
* Rotation retires the active key and makes a new one. Retired keys sign nothing new but
  stay in the controller document and JWKS for ever: a credential may be checked years
  after issue, so old credentials must keep verifying.
* The 32-byte seed is stored as a Fernet token made by ``services.keys.KeyVault`` (a
  database dump alone does not reveal it); a decrypted key is kept for the life of the
  process (``private_key``), so issuing never decrypts twice.

Functions commit nothing; ``ensure_active_key`` is idempotent, ``rotate`` is not.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.badges.multikey import decode_multikey, encode_ed25519_public_key
from lti_tool.errors import ConfigurationError
from lti_tool.models import Issuer, IssuerSigningKey
from lti_tool.models.base import utcnow
from lti_tool.services import audit
from lti_tool.services.keys import KeyVault

ACTIVE, RETIRED = "active", "retired"

_loaded: dict[str, ed25519.Ed25519PrivateKey] = {}
_lock = threading.Lock()


def issuer_url(base_url: str, issuer: Issuer) -> str:
    """The issuer's Profile id: ``<base>/issuers/<slug>``."""
    return f"{base_url.rstrip('/')}/issuers/{issuer.slug}"


def controller_url(base_url: str, issuer: Issuer) -> str:
    """The controller document listing the issuer's verification methods."""
    return issuer_url(base_url, issuer) + "/keys"


def verification_method(base_url: str, issuer: Issuer, key: IssuerSigningKey) -> str:
    """``<base>/issuers/<slug>/keys#<publicKeyMultibase>``: proof verificationMethod and
    VC-JWT ``kid``."""
    return f"{controller_url(base_url, issuer)}#{key.public_multibase}"


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


def published_keys(session: Session, issuer: Issuer) -> list[IssuerSigningKey]:
    """Every key of the issuer, oldest first: the active one and all retired ones."""
    return list(session.scalars(
        select(IssuerSigningKey).where(IssuerSigningKey.issuer_id == issuer.id)
        .order_by(IssuerSigningKey.created_at, IssuerSigningKey.id)))


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
