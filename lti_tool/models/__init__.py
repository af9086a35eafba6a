"""SQLAlchemy 2 typed models. Import everything here so Alembic sees the whole metadata."""

from lti_tool.models.audit import AuditEvent
from lti_tool.models.base import Base
from lti_tool.models.keys import ToolKey
from lti_tool.models.lti import Context, Deployment, LearnerAccount, Person, Platform, ResourceLink

__all__ = [
    "AuditEvent",
    "Base",
    "Context",
    "Deployment",
    "LearnerAccount",
    "Person",
    "Platform",
    "ResourceLink",
    "ToolKey",
]
