"""Deep Linking 2.0 responses: the instructor picks what to place in the course and the
tool answers the platform with a signed LtiDeepLinkingResponse (pylti1p3's DeepLink).
https://www.imsglobal.org/spec/lti-dl/v2p0/#deep-linking-response-message
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from sqlalchemy.orm import Session

from lti_tool.domain.lti import LaunchContext
from lti_tool.lti.tool_config import ToolRegistration
from lti_tool.services import keys as key_service
from lti_tool.services import platforms as platform_service
from lti_tool.services.keys import KeyVault


@dataclass(frozen=True)
class ContentChoice:
    slug: str
    title: str
    text: str
    custom: dict[str, str]


CONTENT_CHOICES = (
    ContentChoice("home", "Skills & credentials",
                  "Learners see their skills and credentials; instructors assess.",
                  {"mc_target": "home"}),
)


def build_response(session: Session, vault: KeyVault, launch: LaunchContext,
                   choices: list[ContentChoice], launch_url: str) -> tuple[str, str]:
    """(return URL, signed JWT) for the auto-submitting form back to the platform."""
    platform = platform_service.get_platform(session, launch.platform_id)
    # The first deep-linking response of a fresh install creates the tool key.
    key = key_service.ensure_active_key(session, vault)
    session.commit()
    registration = ToolRegistration(platform, key, vault)
    settings: dict[str, Any] = dict(launch.deep_linking_settings)
    deep_link = DeepLink(registration, launch.deployment_id, settings)  # type: ignore[arg-type]
    resources = []
    for choice in choices:
        resource = DeepLinkResource().set_url(launch_url).set_title(choice.title) \
            .set_custom_params(choice.custom)
        resources.append(resource)
    return str(settings["deep_link_return_url"]), deep_link.get_response_jwt(resources)
