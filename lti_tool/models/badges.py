"""Open Badges 3.0 issuing: each issuer's Ed25519 signing keys, its revocation status lists
(W3C Bitstring Status List) and the signed credential issued for each award."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.models.base import Base, UTCDateTime, utcnow
from lti_tool.models.tracking import Award


class IssuerSigningKey(Base):
    """An issuer's Ed25519 key for ``eddsa-rdfc-2022`` proofs and EdDSA VC-JWTs.

    Exactly one is ``active`` (signs new credentials); ``retired`` keys sign nothing new but
    stay listed for signing in the issuer profile (``assertionMethod``) and JWKS for ever,
    so every credential they signed keeps verifying. A ``revoked`` key (reported
    compromised) leaves ``assertionMethod`` and the JWKS; it stays described in the profile
    with its ``revoked`` time so verifiers can say why its signatures no longer count, and
    what it signed is re-issued with the active key. The private key is a Fernet token made
    by ``services.keys.KeyVault`` (a database dump alone does not reveal it)."""

    __tablename__ = "issuer_signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    # publicKeyMultibase (z6Mk...): the fragment of the verification method id and the kid.
    public_multibase: Mapped[str] = mapped_column(String(64), unique=True)
    private_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Revocation: when it was withdrawn, since when the issuer believes it was compromised,
    # and the reason given (shown to anyone who verifies something it signed).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    compromised_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)


class StatusList(Base):
    """One revocation bitstring of an issuer, published as a signed
    BitstringStatusListCredential at ``/issuers/<slug>/status/<list_id>``.

    ``next_index`` is allocated with one atomic ``UPDATE ... RETURNING`` per credential, so
    two workers never hand out the same bit; ``bits`` are recomputed from the awards'
    revocations (under a row lock) whenever the list is signed again."""

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("issuer_id", "list_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    list_id: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(20), default="revocation")
    size: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    # The signed BitstringStatusListCredential as served (re-signed on every change).
    signed: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CredentialRecord(Base):
    """The signed OpenBadgeCredential of one award: the JSON-LD form (with its
    ``eddsa-rdfc-2022`` proof) and the VC-JWT form. Its claims never change (a revocation
    flips the award's status-list bit instead); only when the key that signed it is revoked
    is it signed again with the issuer's active key (``reissued_at``), keeping its id, so
    the learner's links keep working."""

    __tablename__ = "credential_records"
    __table_args__ = (UniqueConstraint("status_list_id", "status_list_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"),
                                          unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_list_index: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(ForeignKey("issuer_signing_keys.id"), index=True)
    json: Mapped[dict[str, Any]] = mapped_column(JSON)
    jwt: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reissued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    award: Mapped[Award] = relationship()
    status_list: Mapped[StatusList] = relationship()
    key: Mapped[IssuerSigningKey] = relationship()
