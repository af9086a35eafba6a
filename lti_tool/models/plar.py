"""Prior learning assessment and recognition (PLAR): a learner's request for recognition of
a micro-credential (or chosen skills of it), its skills with the learner's narrative and the
assessors' decisions, its evidence, the messages between learner and assessors, the
assessors assigned per credential, and the e-mail outbox that tells people what changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.models.base import Base, UTCDateTime, utcnow
from lti_tool.models.catalog import MicroCredential, Skill
from lti_tool.models.lti import Context
from lti_tool.models.tracking import EvidenceFile

OPEN_STATES_SQL = "state IN ('submitted', 'in_assessment', 'more_evidence')"


class PlarAssessor(Base):
    """A platform user (platform + sub) who assesses PLAR requests for one credential (a
    tool-level role granted by an institution administrator, like reviewers)."""

    __tablename__ = "plar_assessors"
    __table_args__ = (UniqueConstraint("credential_id", "platform_id", "sub",
                                       name="uq_plar_assessors_credential_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("micro_credentials.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    granted_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    credential: Mapped[MicroCredential] = relationship()


class PlarRequest(Base):
    """One learner's request for recognition of one credential."""

    __tablename__ = "plar_requests"
    __table_args__ = (
        Index("ix_plar_requests_issuer_state", "issuer_id", "state"),
        # One open request per person and credential, even when two submits race.
        Index("uq_plar_requests_open", "person_id", "credential_id", unique=True,
              sqlite_where=text(OPEN_STATES_SQL), postgresql_where=text(OPEN_STATES_SQL)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("credential_versions.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("learner_accounts.id"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id"))
    state: Mapped[str] = mapped_column(String(20))
    learner_email: Mapped[str] = mapped_column(String(320), default="")
    learner_name: Mapped[str] = mapped_column(String(300), default="")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    assessor_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("learner_accounts.id"), nullable=True)
    assessor_name: Mapped[str] = mapped_column(String(300), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), nullable=True)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # Two assessors deciding at once: the later save is refused (StaleDataError → 409).
    __mapper_args__ = {"version_id_col": row_version}

    credential: Mapped[MicroCredential] = relationship()
    context: Mapped[Context] = relationship()
    skills: Mapped[list[PlarSkill]] = relationship(
        back_populates="request", order_by="PlarSkill.position", cascade="all, delete-orphan")
    evidence: Mapped[list[PlarEvidence]] = relationship(
        order_by="PlarEvidence.id", cascade="all, delete-orphan")
    messages: Mapped[list[PlarMessage]] = relationship(
        order_by="PlarMessage.id", cascade="all, delete-orphan")


class PlarSkill(Base):
    """One skill asked for in a request: the learner's narrative and the decision."""

    __tablename__ = "plar_request_skills"
    __table_args__ = (UniqueConstraint("request_id", "skill_id",
                                       name="uq_plar_request_skills_request_skill"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("plar_requests.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    narrative: Mapped[str] = mapped_column(Text, default="")
    # The assessment: method, and for a scheduled one its date and place (or link).
    method: Mapped[str] = mapped_column(String(30), default="")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scheduled_place: Mapped[str] = mapped_column(String(1000), default="")
    # "" (not decided), "demonstrated", "not_yet".
    decision: Mapped[str] = mapped_column(String(20), default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("learner_accounts.id"), nullable=True)
    decided_by_name: Mapped[str] = mapped_column(String(300), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A second assessor's confirmation, when the issuer asks for one (credit-bearing).
    confirmed_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("learner_accounts.id"), nullable=True)
    confirmed_by_name: Mapped[str] = mapped_column(String(300), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    demonstration_id: Mapped[int | None] = mapped_column(ForeignKey("demonstrations.id"),
                                                         nullable=True)

    request: Mapped[PlarRequest] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship()


class PlarEvidence(Base):
    """A piece of evidence: an uploaded file (kept with the existing upload safety), a link,
    or a credential the learner holds (one of ours by award, or another's by its URL)."""

    __tablename__ = "plar_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("plar_requests.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(20))   # "file" | "link" | "credential"
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"),
                                                         nullable=True)
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    evidence_file: Mapped[EvidenceFile | None] = relationship()
    skill: Mapped[Skill | None] = relationship()


class PlarMessage(Base):
    """What the learner and the assessors said to each other: a request for more evidence,
    the learner's answer, a note on a decision. Append-only."""

    __tablename__ = "plar_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("plar_requests.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(30))
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("learner_accounts.id"),
                                                          nullable=True)
    author_name: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """An e-mail to send (the outbox), written in the same transaction as the change it
    tells of; sent after the commit and retried by a job until it goes or gives up. The LMS
    page shows the same notice until the learner has seen it."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True,
                                                  index=True)
    subject_type: Mapped[str] = mapped_column(String(30), default="")
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "pending" → "sent" | "failed" (gave up) | "skipped" (no address, or mail is off).
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
