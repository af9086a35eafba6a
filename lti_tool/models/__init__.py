"""SQLAlchemy 2 typed models. Import everything here so Alembic sees the whole metadata."""

from lti_tool.models.audit import AuditEvent
from lti_tool.models.badges import CredentialRecord, IssuerSigningKey, StatusList
from lti_tool.models.base import Base
from lti_tool.models.catalog import (
    ApiToken,
    CatalogGrant,
    CredentialSkill,
    CredentialVersion,
    IdempotencyRecord,
    Issuer,
    IssuerPlatform,
    MicroCredential,
    Review,
    RubricCriterionRow,
    Skill,
)
from lti_tool.models.keys import ToolKey
from lti_tool.models.lti import Context, Deployment, LearnerAccount, Person, Platform, ResourceLink
from lti_tool.models.occupations import Occupation, OccupationSkill
from lti_tool.models.page_versions import LearnerPageVersion
from lti_tool.models.pathways import Pathway, PathwayReview, PathwayStepLink, PathwayVersion
from lti_tool.models.plar import (
    Notification,
    PlarAssessor,
    PlarEvidence,
    PlarMessage,
    PlarRequest,
    PlarSkill,
)
from lti_tool.models.tracking import (
    Award,
    Demonstration,
    EvidenceFile,
    GradebookSignal,
    LinkProposal,
    Offering,
    RosterEntry,
)
from lti_tool.models.transfer import TransferEquivalency, TransferRequest

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Award",
    "Base",
    "CatalogGrant",
    "Context",
    "CredentialRecord",
    "CredentialSkill",
    "CredentialVersion",
    "Demonstration",
    "Deployment",
    "EvidenceFile",
    "GradebookSignal",
    "IdempotencyRecord",
    "Issuer",
    "IssuerPlatform",
    "IssuerSigningKey",
    "LearnerAccount",
    "LearnerPageVersion",
    "LinkProposal",
    "MicroCredential",
    "Notification",
    "Occupation",
    "OccupationSkill",
    "Offering",
    "Pathway",
    "PathwayReview",
    "PathwayStepLink",
    "PathwayVersion",
    "Person",
    "PlarAssessor",
    "PlarEvidence",
    "PlarMessage",
    "PlarRequest",
    "PlarSkill",
    "Platform",
    "ResourceLink",
    "Review",
    "RosterEntry",
    "RubricCriterionRow",
    "Skill",
    "StatusList",
    "ToolKey",
    "TransferEquivalency",
    "TransferRequest",
]
