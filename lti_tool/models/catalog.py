"""The institution's catalog: issuers, skills, micro-credentials and their versions,
quality reviews, tool-level role grants and API tokens."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.models.base import Base, UTCDateTime, utcnow


class Issuer(Base):
    """The institution: owns the catalog and (later) the signing keys; an OB 3.0 Profile."""

    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    email: Mapped[str] = mapped_column(String(320))
    image_url: Mapped[str] = mapped_column(String(1000), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: The languages the issuer publishes its catalog and credentials in ("en", "fr"):
    #: with "fr", a missing French text is a review warning, not only a fallback.
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["en"])
    #: The profile's texts in other languages: ``{"fr": {"name": …, "description": …}}``
    #: (English in ``name`` / ``description``; read through ``domain.texts.localized``).
    translations: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True,
                                                                default=dict)
    # Issuer settings: link_identities_by ("none" | "email" | "sourcedid"),
    # gradebook_signal (bool), context_kind_rules ({"label prefix": kind}).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # The UPDATE carries "WHERE row_version = <as read>": a concurrent save is refused
    # (StaleDataError → 409) instead of silently overwritten. Services bump the counter.
    __mapper_args__ = {"version_id_col": row_version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IssuerPlatform(Base):
    """Which issuer a platform (or one deployment of it) serves. A deployment-specific row
    wins over the platform-wide one (deployment_pk NULL)."""

    __tablename__ = "issuer_platforms"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_pk: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), nullable=True)


class CatalogGrant(Base):
    """A tool-level role (catalog admin, reviewer) for a platform user (platform + sub)."""

    __tablename__ = "catalog_grants"
    __table_args__ = (UniqueConstraint("issuer_id", "platform_id", "sub", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    granted_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Skill(Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("issuer_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[str] = mapped_column(Text, default="")
    alignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``{"fr": {"name": …, "description": …, "criteria": …}}`` (English in the columns).
    translations: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True,
                                                                default=dict)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # The UPDATE carries "WHERE row_version = <as read>": a concurrent save is refused
    # (StaleDataError → 409) instead of silently overwritten. Services bump the counter.
    __mapper_args__ = {"version_id_col": row_version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MicroCredential(Base):
    """The identity of a catalog entry across its versions (stable code per issuer)."""

    __tablename__ = "micro_credentials"
    __table_args__ = (UniqueConstraint("issuer_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[CredentialVersion]] = relationship(
        back_populates="credential", order_by="CredentialVersion.version",
        cascade="all, delete-orphan")


class CredentialVersion(Base):
    """One version of a micro-credential. ``content`` holds every descriptor field as
    validated by CredentialInputSchema (the English texts, and the French ones under
    ``content["translations"]["fr"]``); a few are copied to columns for filtering.
    ``snapshot`` is frozen at publication (content plus the resolved skills)."""

    __tablename__ = "credential_versions"
    __table_args__ = (UniqueConstraint("credential_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("micro_credentials.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    short_description: Mapped[str] = mapped_column(String(500), default="")
    notional_hours: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    credit_bearing: Mapped[bool] = mapped_column(Boolean, default=False)
    field_of_study: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    author_ref: Mapped[str] = mapped_column(String(100))
    author_name: Mapped[str] = mapped_column(String(300), default="")
    contributors: Mapped[list[str]] = mapped_column(JSON, default=list)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # The UPDATE carries "WHERE row_version = <as read>": a concurrent save is refused
    # (StaleDataError → 409) instead of silently overwritten. Services bump the counter.
    __mapper_args__ = {"version_id_col": row_version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    credential: Mapped[MicroCredential] = relationship(back_populates="versions")
    skill_links: Mapped[list[CredentialSkill]] = relationship(
        cascade="all, delete-orphan", order_by="CredentialSkill.position")
    reviews: Mapped[list[Review]] = relationship(order_by="Review.id",
                                                 cascade="all, delete-orphan")


class CredentialSkill(Base):
    __tablename__ = "credential_skills"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("credential_versions.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    requirement: Mapped[str] = mapped_column(String(10))  # "required" | "optional"
    position: Mapped[int] = mapped_column(Integer, default=0)

    skill: Mapped[Skill] = relationship()


class RubricCriterionRow(Base):
    """An issuer's own review rubric; without rows the default rubric applies."""

    __tablename__ = "rubric_criteria"
    __table_args__ = (UniqueConstraint("issuer_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(50))
    lens: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("credential_versions.id", ondelete="CASCADE"), index=True)
    reviewer_ref: Mapped[str] = mapped_column(String(100))
    reviewer_name: Mapped[str] = mapped_column(String(300), default="")
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # An approval despite criteria scored "not met": their keys, which the reviewer
    # confirmed (empty otherwise).
    confirmed_not_met: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A per-issuer API token. Only a SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Optional: the token stops working at this moment (None: until revoked).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdempotencyRecord(Base):
    """The answer to one API write, kept under the client's ``Idempotency-Key`` for 24 hours
    and written in the same transaction as the write itself: a retry after any crash finds
    either this row (the work was committed: the same answer is replayed) or nothing (the
    work was rolled back with it: it runs once). Scoped by issuer, token and endpoint."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("issuer_id", "token_id", "endpoint", "key_hash",
                                       name="uq_idempotency_records_scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64))     # sha256 of the key
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request
    status: Mapped[int] = mapped_column(Integer, default=0)  # 0 until the answer is stored
    body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
