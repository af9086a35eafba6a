"""Tool signing keys: generation, encryption at rest, rotation and the published JWKS.

Private keys are stored as Fernet tokens whose key is derived (HKDF-SHA256) from
KEY_ENCRYPTION_KEY, or from SECRET_KEY when no dedicated key is set. Loading a PEM costs
~50 ms, so ``KeyVault`` keeps loaded keys for the life of the process.
JWKS format: RFC 7517; LTI security framework: https://www.imsglobal.org/spec/security/v1p0/
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.errors import ConfigurationError
from lti_tool.models import ToolKey
from lti_tool.models.base import utcnow

PURPOSE_TOOL = "lti-tool"
PURPOSE_SANDBOX = "sandbox-platform"
RSA_KEY_BITS = 2048


def _b64u_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_pem: str, kid: str, alg: str = "RS256") -> dict[str, Any]:
    key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("only RSA keys are published")
    numbers = key.public_numbers()
    return {"kty": "RSA", "alg": alg, "use": "sig", "kid": kid,
            "n": _b64u_uint(numbers.n), "e": _b64u_uint(numbers.e)}


def _kid_for(public_pem: str) -> str:
    # RFC 7638-style thumbprint of the public key: stable and unique per key.
    jwk = public_jwk(public_pem, kid="")
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]},
                           separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class KeyVault:
    """Process-wide: encrypts/decrypts private keys and caches the loaded key objects."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigurationError(
                "Setting SECRET_KEY (or KEY_ENCRYPTION_KEY) is required to encrypt tool keys."
            )
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"microcred-tool-keys",
            info=b"fernet-v1",
        ).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        self._loaded: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    def encrypt(self, pem: bytes) -> bytes:
        return self._fernet.encrypt(pem)

    def decrypt(self, token: bytes) -> bytes:
        """The plaintext of a token made by ``encrypt`` (e.g. an issuer's Ed25519 key, see
        ``services.issuer_keys``). Raises ConfigurationError if the secret changed."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise ConfigurationError(
                "A stored signing key cannot be decrypted: SECRET_KEY/KEY_ENCRYPTION_KEY "
                "differs from the one the key was created with."
            ) from None

    def private_key(self, key: ToolKey) -> rsa.RSAPrivateKey:
        """The loaded private key (decrypted and parsed once per process)."""
        cached = self._loaded.get(key.kid)
        if cached is not None:
            return cached
        loaded = serialization.load_pem_private_key(self._decrypt(key), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ConfigurationError("A stored tool key is not an RSA key.")
        with self._lock:
            self._loaded[key.kid] = loaded
        return loaded

    def private_pem(self, key: ToolKey) -> str:
        """PEM text, for libraries (pylti1p3) that want a string. Raises ConfigurationError
        like ``private_key``."""
        return self._decrypt(key).decode()

    def _decrypt(self, key: ToolKey) -> bytes:
        try:
            return self._fernet.decrypt(key.private_pem_encrypted)
        except InvalidToken:
            raise ConfigurationError(
                "A stored tool key cannot be decrypted: SECRET_KEY/KEY_ENCRYPTION_KEY "
                "differs from the one the key was created with."
            ) from None


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    status: str
    jwk: dict[str, Any]


def generate_key(session: Session, vault: KeyVault, purpose: str = PURPOSE_TOOL) -> ToolKey:
    """Create and store a new active RSA key. Not idempotent: each call makes a key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    key = ToolKey(kid=_kid_for(public_pem), purpose=purpose, public_pem=public_pem,
                  private_pem_encrypted=vault.encrypt(private_pem), status="active")
    session.add(key)
    session.flush()
    return key


def active_key(session: Session, purpose: str = PURPOSE_TOOL) -> ToolKey | None:
    return session.scalars(
        select(ToolKey).where(ToolKey.purpose == purpose, ToolKey.status == "active")
        .order_by(ToolKey.created_at.desc(), ToolKey.id.desc()).limit(1)
    ).first()


def ensure_active_key(session: Session, vault: KeyVault, purpose: str = PURPOSE_TOOL) -> ToolKey:
    """The active key, creating the first one if there is none. Idempotent."""
    return active_key(session, purpose) or generate_key(session, vault, purpose)


def rotate_keys(session: Session, vault: KeyVault, grace_days: int,
                purpose: str = PURPOSE_TOOL) -> ToolKey:
    """Make a new active key; previous active keys are retired but stay published for
    ``grace_days`` so that platforms holding a cached JWKS keep verifying our tokens."""
    now = utcnow()
    for old in session.scalars(
        select(ToolKey).where(ToolKey.purpose == purpose, ToolKey.status == "active")
    ):
        old.status = "retired"
        old.retired_at = now
        old.publish_until = now + timedelta(days=grace_days)
    session.flush()
    return generate_key(session, vault, purpose)


def list_keys(session: Session, purpose: str = PURPOSE_TOOL) -> list[ToolKey]:
    return list(session.scalars(
        select(ToolKey).where(ToolKey.purpose == purpose).order_by(ToolKey.created_at.desc(),
                                                                   ToolKey.id.desc())
    ))


def published_keys(session: Session, purpose: str = PURPOSE_TOOL) -> list[PublishedKey]:
    """The keys a JWKS must show: the active one and retired ones still in their grace."""
    now = utcnow()
    rows = session.scalars(
        select(ToolKey).where(
            ToolKey.purpose == purpose,
            or_(ToolKey.status == "active", ToolKey.publish_until > now),
        ).order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
    )
    return [PublishedKey(k.kid, k.status, public_jwk(k.public_pem, k.kid, k.algorithm))
            for k in rows]
