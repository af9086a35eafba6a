"""LTI 1.3 claim names, role vocabularies and the plain ``LaunchContext`` the rest of the
tool works with once a launch has been validated.

Specs: LTI Core 1.3 https://www.imsglobal.org/spec/lti/v1p3/ (claims §5, roles §A.2),
Deep Linking 2.0 https://www.imsglobal.org/spec/lti-dl/v2p0/ .
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

LTI_VERSION = "1.3.0"
CLAIM_PREFIX = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = CLAIM_PREFIX + "message_type"
CLAIM_VERSION = CLAIM_PREFIX + "version"
CLAIM_DEPLOYMENT_ID = CLAIM_PREFIX + "deployment_id"
CLAIM_TARGET_LINK_URI = CLAIM_PREFIX + "target_link_uri"
CLAIM_RESOURCE_LINK = CLAIM_PREFIX + "resource_link"
CLAIM_ROLES = CLAIM_PREFIX + "roles"
CLAIM_CONTEXT = CLAIM_PREFIX + "context"
CLAIM_TOOL_PLATFORM = CLAIM_PREFIX + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = CLAIM_PREFIX + "launch_presentation"
CLAIM_CUSTOM = CLAIM_PREFIX + "custom"
CLAIM_LIS = CLAIM_PREFIX + "lis"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"

MESSAGE_RESOURCE_LINK = "LtiResourceLinkRequest"
MESSAGE_DEEP_LINKING = "LtiDeepLinkingRequest"
MESSAGE_DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUPPORTED_MESSAGE_TYPES = frozenset({MESSAGE_RESOURCE_LINK, MESSAGE_DEEP_LINKING})

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLE_MEMBERSHIP = LIS + "membership#"
ROLE_INSTITUTION = LIS + "institution/person#"
ROLE_SYSTEM = LIS + "system/person#"
ROLE_TA_SUB = LIS + "membership/Instructor#TeachingAssistant"


class AppRole(StrEnum):
    """The tool's own roles, from most to least privileged."""

    ADMINISTRATOR = "administrator"
    INSTRUCTOR = "instructor"
    TEACHING_ASSISTANT = "teaching_assistant"
    LEARNER = "learner"
    OTHER = "other"


ROLE_LABELS = {
    AppRole.ADMINISTRATOR: "Institution administrator",
    AppRole.INSTRUCTOR: "Instructor",
    AppRole.TEACHING_ASSISTANT: "Teaching assistant",
    AppRole.LEARNER: "Learner",
    AppRole.OTHER: "Guest",
}

_PRECEDENCE = [
    AppRole.ADMINISTRATOR,
    AppRole.INSTRUCTOR,
    AppRole.TEACHING_ASSISTANT,
    AppRole.LEARNER,
]

# Context (membership) roles may be sent in short form ("Instructor"): LTI 1.3 §A.2.3.
_CONTEXT_ROLES = {
    "Administrator": AppRole.INSTRUCTOR,  # a course administrator manages the course
    "ContentDeveloper": AppRole.INSTRUCTOR,
    "Instructor": AppRole.INSTRUCTOR,
    "TeachingAssistant": AppRole.TEACHING_ASSISTANT,
    "Learner": AppRole.LEARNER,
}
_INSTITUTION_ADMIN = {
    ROLE_INSTITUTION + "Administrator",
    ROLE_SYSTEM + "Administrator",
    ROLE_SYSTEM + "SysAdmin",
}


def map_role(uri: str) -> AppRole | None:
    """Map one LIS role (full URI or short context-role name) to an app role."""
    role = uri.strip()
    if role in _INSTITUTION_ADMIN:
        return AppRole.ADMINISTRATOR
    if role == ROLE_TA_SUB or role.endswith("#TeachingAssistant"):
        return AppRole.TEACHING_ASSISTANT
    if role.startswith(ROLE_MEMBERSHIP):
        return _CONTEXT_ROLES.get(role[len(ROLE_MEMBERSHIP):])
    if role.startswith(LIS + "membership/"):
        # Sub-roles such as membership/Instructor#Lecturer: the principal role decides.
        principal = role[len(LIS + "membership/"):].split("#", 1)[0]
        return _CONTEXT_ROLES.get(principal)
    return _CONTEXT_ROLES.get(role)


def map_roles(uris: Iterable[str]) -> frozenset[AppRole]:
    return frozenset(r for r in (map_role(u) for u in uris if isinstance(u, str)) if r)


def primary_role(roles: frozenset[AppRole]) -> AppRole:
    for role in _PRECEDENCE:
        if role in roles:
            return role
    return AppRole.OTHER


class ContextKind(StrEnum):
    FOR_CREDIT = "for-credit"
    CONTINUING_ED = "continuing-ed"
    OTHER = "other"

    @classmethod
    def parse(cls, value: object) -> ContextKind | None:
        if not isinstance(value, str):
            return None
        normalised = value.strip().lower().replace("_", "-").replace(" ", "-")
        aliases = {"credit": cls.FOR_CREDIT, "continuing-education": cls.CONTINUING_ED,
                   "ce": cls.CONTINUING_ED, "non-credit": cls.CONTINUING_ED}
        if normalised in aliases:
            return aliases[normalised]
        try:
            return cls(normalised)
        except ValueError:
            return None


@dataclass(frozen=True)
class LaunchContext:
    """A validated launch, as plain data. Produced by ``lti/``, consumed by services."""

    launch_id: str
    message_type: str
    platform_id: int
    deployment_pk: int
    issuer: str
    client_id: str
    deployment_id: str
    sub: str
    roles: tuple[str, ...]
    app_roles: frozenset[AppRole]
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    lis_person_sourcedid: str = ""
    context_id: str = ""
    context_title: str = ""
    context_label: str = ""
    context_types: tuple[str, ...] = ()
    resource_link_id: str = ""
    resource_link_title: str = ""
    resource_link_description: str = ""
    custom: Mapping[str, Any] = field(default_factory=dict)
    product_family: str = ""
    nrps_url: str = ""
    return_url: str = ""
    locale: str = ""
    document_target: str = ""
    deep_linking_settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def role(self) -> AppRole:
        return primary_role(self.app_roles)

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == MESSAGE_DEEP_LINKING

    @property
    def display_name(self) -> str:
        return self.name or " ".join(p for p in (self.given_name, self.family_name) if p)


def _str_claim(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


def _obj_claim(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    return value if isinstance(value, Mapping) else {}


def launch_context_from_claims(
    body: Mapping[str, Any], *, launch_id: str, platform_id: int, deployment_pk: int,
    client_id: str,
) -> LaunchContext:
    """Build the plain launch object from already-validated claims."""
    roles = tuple(r for r in body.get(CLAIM_ROLES, []) if isinstance(r, str))
    context = _obj_claim(body, CLAIM_CONTEXT)
    link = _obj_claim(body, CLAIM_RESOURCE_LINK)
    platform = _obj_claim(body, CLAIM_TOOL_PLATFORM)
    presentation = _obj_claim(body, CLAIM_LAUNCH_PRESENTATION)
    lis = _obj_claim(body, CLAIM_LIS)
    nrps = _obj_claim(body, CLAIM_NRPS)
    ctx_types = context.get("type", [])
    if isinstance(ctx_types, str):
        ctx_types = [ctx_types]
    return LaunchContext(
        launch_id=launch_id,
        message_type=_str_claim(body, CLAIM_MESSAGE_TYPE),
        platform_id=platform_id,
        deployment_pk=deployment_pk,
        issuer=_str_claim(body, "iss"),
        client_id=client_id,
        deployment_id=_str_claim(body, CLAIM_DEPLOYMENT_ID),
        sub=_str_claim(body, "sub"),
        roles=roles,
        app_roles=map_roles(roles),
        name=_str_claim(body, "name"),
        given_name=_str_claim(body, "given_name"),
        family_name=_str_claim(body, "family_name"),
        email=_str_claim(body, "email"),
        lis_person_sourcedid=str(lis.get("person_sourcedid") or ""),
        context_id=str(context.get("id") or ""),
        context_title=str(context.get("title") or ""),
        context_label=str(context.get("label") or ""),
        context_types=tuple(str(t) for t in ctx_types if isinstance(t, str)),
        resource_link_id=str(link.get("id") or ""),
        resource_link_title=str(link.get("title") or ""),
        resource_link_description=str(link.get("description") or ""),
        custom=dict(_obj_claim(body, CLAIM_CUSTOM)),
        product_family=str(platform.get("product_family_code") or ""),
        nrps_url=str(nrps.get("context_memberships_url") or ""),
        return_url=str(presentation.get("return_url") or ""),
        locale=str(presentation.get("locale") or ""),
        document_target=str(presentation.get("document_target") or ""),
        deep_linking_settings=dict(_obj_claim(body, CLAIM_DL_SETTINGS)),
    )


def context_kind_from_launch(launch: LaunchContext) -> ContextKind | None:
    """The platform (custom parameter ``context_kind``) may tell us the course's kind."""
    return ContextKind.parse(launch.custom.get("context_kind"))
