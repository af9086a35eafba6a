"""Occupations ("jobs in view"): what an occupation requires, as the institution maps it
onto its skills. The code and title come from a classification (Canada's NOC 2021, ESCO);
the list of required skills and their links to the catalog are the institution's own
curriculum work, and say so (``mapping_note``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.models.base import Base, UTCDateTime, utcnow
from lti_tool.models.catalog import Skill


class Occupation(Base):
    """One occupation of an issuer's list, keyed by ``code`` (e.g. ``NOC-33102``)."""

    __tablename__ = "occupations"
    __table_args__ = (UniqueConstraint("issuer_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    code: Mapped[str] = mapped_column(String(64))
    noc_code: Mapped[str] = mapped_column(String(5), default="")     # NOC 2021 unit group
    esco_uri: Mapped[str] = mapped_column(String(300), default="")   # ESCO occupation URI
    title: Mapped[str] = mapped_column(String(300))                  # English
    description: Mapped[str] = mapped_column(Text, default="")
    # {"fr": {"title": …, "description": …}} (domain.texts)
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(Text, default="")        # where code and title come from
    mapping_note: Mapped[str] = mapped_column(Text, default="")  # who mapped the skills, when
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requirements: Mapped[list[OccupationSkill]] = relationship(
        back_populates="occupation", order_by="OccupationSkill.position",
        cascade="all, delete-orphan")


class OccupationSkill(Base):
    """A skill the occupation requires. Linked to the catalog directly (``skill_id``) and/or
    through a framework item (``framework_url``, e.g. an ESCO skill URI or a CASE CFItem):
    every catalog skill aligned to that item covers the requirement too."""

    __tablename__ = "occupation_skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occupation_id: Mapped[int] = mapped_column(
        ForeignKey("occupations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(300))               # English
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    importance: Mapped[str] = mapped_column(String(10), default="essential")  # | "optional"
    skill_id: Mapped[int | None] = mapped_column(
        ForeignKey("skills.id", ondelete="SET NULL"), nullable=True, index=True)
    framework_url: Mapped[str] = mapped_column(String(1000), default="")

    occupation: Mapped[Occupation] = relationship(back_populates="requirements")
    skill: Mapped[Skill | None] = relationship()
