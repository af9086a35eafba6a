"""Learner page versions (migration 0018): a counter per Person, and row 0 for everything
shared, bumped by database triggers on every write that can change a learner's landing page.
Read-only for the application (``services/learner_records.page_state``); never deleted (a
counter must never go back, or a cached page of an older state could match again)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base

SHARED_SCOPE = 0  # the row bumped by writes that may show on every learner's page


class LearnerPageVersion(Base):
    __tablename__ = "learner_page_versions"

    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
