"""Transfer between institutions: the equivalency table of an issuer (another institution's
achievement → local skills or a whole local credential) and the transfer requests of
learners (an external credential kept verbatim, its verification, the decision)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.models.base import Base, UTCDateTime, utcnow
from lti_tool.models.catalog import MicroCredential


class TransferEquivalency(Base):
    """One entry of the issuer's equivalency table. ``state``: draft → approved (by
    someone other than its author) → retired; only approved entries decide anything.
    ``match_by`` "achievement" compares ``achievement_id``; "alignment" needs every target
    of ``alignments`` ([{framework, code, url, name}]) on the external achievement. The
    target is a whole credential (``credential_id``) or skills (``skill_ids``)."""

    __tablename__ = "transfer_equivalencies"
    __table_args__ = (Index("ix_transfer_equivalencies_issuer_external", "issuer_id",
                            "external_issuer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    external_issuer_id: Mapped[str] = mapped_column(String(1000))
    external_issuer_name: Mapped[str] = mapped_column(String(300), default="")
    match_by: Mapped[str] = mapped_column(String(20))
    achievement_id: Mapped[str] = mapped_column(String(1000), default="")
    achievement_name: Mapped[str] = mapped_column(String(300), default="")
    alignments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    target_kind: Mapped[str] = mapped_column(String(20))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("micro_credentials.id"),
                                                      nullable=True)
    skill_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    valid_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_version: Mapped[str] = mapped_column(String(50), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # {"fr": {"note": "..."}}: the note in other languages (domain.texts.localized)
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    author_ref: Mapped[str] = mapped_column(String(100))
    author_name: Mapped[str] = mapped_column(String(300), default="")
    # everyone who wrote or changed the draft (``account:<id>``): none of them approves it
    contributors: Mapped[list[str]] = mapped_column(JSON, default=list)
    approved_by: Mapped[str] = mapped_column(String(100), default="")
    approved_by_name: Mapped[str] = mapped_column(String(300), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    credential: Mapped[MicroCredential | None] = relationship()


class TransferRequest(Base):
    """A credential from another institution submitted for recognition, by the learner
    (from a launch) or by a registrar on their behalf. ``original`` is the submission
    verbatim (JSON, VC-JWT, baked PNG/SVG or the hosted assertion's URL); ``report`` the
    verification report; ``claims`` what it certifies (``domain.transfer.ExternalClaims``).
    State: refused (does not verify) | pending (waits for a registrar) | accepted |
    declined."""

    __tablename__ = "transfer_requests"
    __table_args__ = (Index("ix_transfer_requests_issuer_state", "issuer_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("learner_accounts.id"),
                                                   nullable=True)
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id"), nullable=True)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_by_name: Mapped[str] = mapped_column(String(300), default="")
    original: Mapped[bytes] = mapped_column(LargeBinary)
    original_type: Mapped[str] = mapped_column(String(100), default="application/json")
    original_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    standard: Mapped[str] = mapped_column(String(10), default="")
    result: Mapped[str] = mapped_column(String(10))            # valid | warning | invalid
    reason: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recipient_match: Mapped[str] = mapped_column(String(30), default="")
    external_issuer_id: Mapped[str] = mapped_column(String(1000), default="")
    external_achievement_id: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[str] = mapped_column(String(12))
    equivalency_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfer_equivalencies.id"), nullable=True)
    auto: Mapped[bool] = mapped_column(default=False)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_by_name: Mapped[str] = mapped_column(String(300), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    demonstration_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    award_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    equivalency: Mapped[TransferEquivalency | None] = relationship()
