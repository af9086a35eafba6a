"""In-course tracking: offerings, the roster, append-only demonstrations (with evidence
files), awards, identity-link proposals and grade-book signals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.models.base import Base, UTCDateTime, utcnow
from lti_tool.models.catalog import CredentialVersion, MicroCredential, Skill
from lti_tool.models.lti import Context, LearnerAccount


class Offering(Base):
    """A catalog micro-credential attached to a course (context). Detaching keeps every
    demonstration and award; re-attaching reuses the row."""

    __tablename__ = "offerings"
    __table_args__ = (UniqueConstraint("context_id", "credential_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id"), index=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    attached_by: Mapped[str] = mapped_column(String(100), default="")
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    credential: Mapped[MicroCredential] = relationship()
    context: Mapped[Context] = relationship()


class RosterEntry(Base):
    """A course member, from NRPS (source "nrps") or seen in a launch ("launch")."""

    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("context_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"),
                                            index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("learner_accounts.id",
                                                       ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    source: Mapped[str] = mapped_column(String(10), default="launch")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[LearnerAccount] = relationship()


class EvidenceFile(Base):
    """An uploaded evidence file, kept in the database (shared by every worker). Served
    only as an attachment, never inline."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Demonstration(Base):
    """One assessment event. Append-only: a correction is a new row that ``supersedes`` an
    earlier one, with a reason; no row is ever updated or deleted."""

    __tablename__ = "demonstrations"
    __table_args__ = (
        Index("ix_demonstrations_person_skill", "person_id", "skill_id"),
        Index("ix_demonstrations_context_skill", "context_id", "skill_id"),
        # The corrections only (migration 0017): "not superseded" probes it per row read.
        Index("ix_demonstrations_superseded", "supersedes_id",
              sqlite_where=text("supersedes_id IS NOT NULL"),
              postgresql_where=text("supersedes_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("learner_accounts.id"),
                                                   nullable=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id"), nullable=True)
    route: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(30))
    evidence_url: Mapped[str] = mapped_column(String(1000), default="")
    evidence_note: Mapped[str] = mapped_column(Text, default="")
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"),
                                                         nullable=True)
    assessor_ref: Mapped[str] = mapped_column(String(100))
    assessor_name: Mapped[str] = mapped_column(String(300), default="")
    demonstrated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("demonstrations.id"), nullable=True, unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    launch_id: Mapped[str] = mapped_column(String(64), default="")

    skill: Mapped[Skill] = relationship()
    context: Mapped[Context | None] = relationship()
    evidence_file: Mapped[EvidenceFile | None] = relationship()


class Award(Base):
    """The credential issued to a Person for one version. At most one *standing* (not
    revoked) award per (person, credential), enforced by a partial unique index so racing
    workers cannot create two; revoked awards stay, and a credential earned again after a
    revocation is a new row."""

    __tablename__ = "awards"
    __table_args__ = (
        Index("uq_awards_person_credential_standing", "person_id", "credential_id",
              unique=True, sqlite_where=text("revoked_at IS NULL"),
              postgresql_where=text("revoked_at IS NULL")),
        Index("ix_awards_person_version", "person_id", "version_id"),
        # The awards API: an issuer's awards in id order, all or by status (migration 0014).
        Index("ix_awards_issuer_id_id", "issuer_id", "id"),
        Index("ix_awards_issuer_status_id", "issuer_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("credential_versions.id"))
    route: Mapped[str] = mapped_column(String(20))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id"), nullable=True)
    demonstration_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="active")
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    flag_reason: Mapped[str] = mapped_column(Text, default="")
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by: Mapped[str] = mapped_column(String(100), default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    version: Mapped[CredentialVersion] = relationship()
    credential: Mapped[MicroCredential] = relationship()
    context: Mapped[Context | None] = relationship()


class LinkProposal(Base):
    """A proposed cross-platform identity link (by verified email or institutional id),
    confirmed or undone by an administrator."""

    __tablename__ = "link_proposals"
    __table_args__ = (UniqueConstraint("account_id", "target_person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("learner_accounts.id",
                                                       ondelete="CASCADE"))
    target_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    previous_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"),
                                                           nullable=True)
    basis: Mapped[str] = mapped_column(String(20))  # "email" | "sourcedid"
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class GradebookSignal(Base):
    """AGS: the line item a context uses for "credential earned" and the per-award
    publication state (retried in the background)."""

    __tablename__ = "gradebook_signals"
    __table_args__ = (UniqueConstraint("award_id", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    lineitem_url: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
