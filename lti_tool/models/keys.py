"""Signing keys: the tool's RSA keys (published in its JWKS) and the sandbox LMS's key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, UTCDateTime, utcnow


class ToolKey(Base):
    __tablename__ = "tool_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    # "lti-tool": the tool's own key; "sandbox-platform": the sandbox LMS's signing key.
    purpose: Mapped[str] = mapped_column(String(30), default="lti-tool", index=True)
    algorithm: Mapped[str] = mapped_column(String(10), default="RS256")
    public_pem: Mapped[str] = mapped_column(Text)
    # Fernet token of the PKCS#8 PEM; the Fernet key is derived from KEY_ENCRYPTION_KEY
    # (or SECRET_KEY), so a database dump alone does not reveal private keys.
    private_pem_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A retired key stays published until then, so tokens signed just before rotation
    # still verify at the platform.
    publish_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
