"""LTI registrations and what launches tell us: platforms, deployments, people, courses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.domain.lti import ContextKind
from lti_tool.models.base import Base, UTCDateTime, utcnow


class Platform(Base):
    """One LMS registration, keyed by (issuer, client_id): every hosted Canvas shares one
    issuer, so the issuer alone never identifies a registration."""

    __tablename__ = "platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    product_family: Mapped[str] = mapped_column(String(50), default="")
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    jwks_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # A platform may publish a static keyset instead of a URL (pylti1p3's key_set).
    static_jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Canvas's Dynamic Registration returns no deployment_id: the first launch's
    # (signed) deployment id is accepted and recorded.
    accept_new_deployments: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_via: Mapped[str] = mapped_column(String(20), default="manual")
    # A deactivated registration launches nothing (its courses and records stay).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class Person(Base):
    """One human across contexts and platforms; learner accounts link to a Person."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LearnerAccount(Base):
    """A user as one platform knows them (platform + sub). Named for the product's
    glossary; instructors and administrators have accounts too."""

    __tablename__ = "learner_accounts"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    lis_person_sourcedid: Mapped[str] = mapped_column(String(255), default="")
    roles_seen: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The language of this account's latest launch that sent a locale ("en" / "fr"; ""
    #: before any): the language its person's credentials are issued in.
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()


class Context(Base):
    """A course shell from a launch. ``kind`` decides which award routes apply."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("deployment_id", "lti_context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    lti_context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    context_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(20), default=ContextKind.OTHER.value)
    kind_source: Mapped[str] = mapped_column(String(20), default="default")
    nrps_url: Mapped[str] = mapped_column(String(1000), default="")
    # The AGS claim of the latest launch that carried one: {"lineitems", "lineitem",
    # "scope"} (domain.advantage.AgsEndpoint); None when the platform offers no AGS.
    ags: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The latest roster refresh (services.roster.note_refresh): {"at", "ok", "source",
    # "learners", "code", "message"}; None before the first one.
    roster_status: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployment: Mapped[Deployment] = relationship()


class ResourceLink(Base):
    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("context_id", "lti_resource_link_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    lti_resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
