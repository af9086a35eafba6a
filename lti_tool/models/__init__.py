"""SQLAlchemy 2 typed models. Import everything here so Alembic sees the whole metadata."""

from lti_tool.models.audit import AuditEvent
from lti_tool.models.base import Base
from lti_tool.models.catalog import (
    ApiToken,
    CatalogGrant,
    CredentialSkill,
    CredentialVersion,
    Issuer,
    IssuerPlatform,
    MicroCredential,
    Review,
    RubricCriterionRow,
    Skill,
)
from lti_tool.models.keys import ToolKey
from lti_tool.models.lti import Context, Deployment, LearnerAccount, Person, Platform, ResourceLink

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "CatalogGrant",
    "Context",
    "CredentialSkill",
    "CredentialVersion",
    "Deployment",
    "Issuer",
    "IssuerPlatform",
    "LearnerAccount",
    "MicroCredential",
    "Person",
    "Platform",
    "ResourceLink",
    "Review",
    "RubricCriterionRow",
    "Skill",
    "ToolKey",
]
