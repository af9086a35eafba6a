"""Pathways: an issuer's ladders of micro-credentials into a larger credential, versioned
and reviewed like micro-credentials (``domain.pathways`` holds the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.models.base import Base, UTCDateTime, utcnow
from lti_tool.models.catalog import MicroCredential


class Pathway(Base):
    """The identity of a pathway across its versions (stable code per issuer)."""

    __tablename__ = "pathways"
    __table_args__ = (UniqueConstraint("issuer_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[PathwayVersion]] = relationship(
        back_populates="pathway", order_by="PathwayVersion.version",
        cascade="all, delete-orphan")


class PathwayVersion(Base):
    """One version of a pathway, with the credentials' lifecycle (draft → in review →
    approved → published → retired, or rejected). ``content`` holds PathwayInputSchema's
    fields (English texts, ``translations`` {"fr": {...}}); ``title``/``description`` are
    copied to columns; ``snapshot`` is frozen at publication with each step's title and
    hours resolved. ``target_credential_id`` and the step links index what the award
    engine looks up."""

    __tablename__ = "pathway_versions"
    __table_args__ = (UniqueConstraint("pathway_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathways.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    target_credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("micro_credentials.id"), nullable=True, index=True)
    author_ref: Mapped[str] = mapped_column(String(100))
    author_name: Mapped[str] = mapped_column(String(300), default="")
    contributors: Mapped[list[str]] = mapped_column(JSON, default=list)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking as for credential versions (StaleDataError → 409).
    __mapper_args__ = {"version_id_col": row_version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    pathway: Mapped[Pathway] = relationship(back_populates="versions")
    target_credential: Mapped[MicroCredential | None] = relationship()
    step_links: Mapped[list[PathwayStepLink]] = relationship(cascade="all, delete-orphan")
    reviews: Mapped[list[PathwayReview]] = relationship(order_by="PathwayReview.id",
                                                        cascade="all, delete-orphan")


class PathwayStepLink(Base):
    """A credential that is a step of a pathway version (an index of ``content``)."""

    __tablename__ = "pathway_steps"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("pathway_versions.id", ondelete="CASCADE"), primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id"),
                                               primary_key=True, index=True)


class PathwayReview(Base):
    """The rubric review of a pathway version (the same fields as a credential's)."""

    __tablename__ = "pathway_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("pathway_versions.id", ondelete="CASCADE"), index=True)
    reviewer_ref: Mapped[str] = mapped_column(String(100))
    reviewer_name: Mapped[str] = mapped_column(String(300), default="")
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confirmed_not_met: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
