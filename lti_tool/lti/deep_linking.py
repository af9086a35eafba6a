"""Deep Linking 2.0 responses: the instructor picks what to place in the course and the
tool answers the platform with a signed LtiDeepLinkingResponse (pylti1p3's DeepLink).
https://www.imsglobal.org/spec/lti-dl/v2p0/#deep-linking-response-message

Every item is an ``ltiResourceLink`` to the launch URL; what it opens is said by its custom
parameters, which the platform sends back in the launch's custom claim: ``mc_target`` =
``home`` (skills & credentials) or ``credential`` with ``mc_credential`` = the code of one
published credential of the launch's issuer. A launch's ``mc_credential`` is only a
request: the landing page accepts it only for a credential of the launch's own issuer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from sqlalchemy.orm import Session

from lti_tool.domain.labels import intl
from lti_tool.domain.lti import LaunchContext
from lti_tool.lti.tool_config import ToolRegistration
from lti_tool.models import Issuer
from lti_tool.services import keys as key_service
from lti_tool.services import platforms as platform_service
from lti_tool.services import public_catalog
from lti_tool.services.keys import KeyVault
from lti_tool.translate import gettext as _


@dataclass(frozen=True)
class ContentChoice:
    slug: str
    title: str
    text: str
    custom: dict[str, str]
    credential_id: int | None = None   # the micro-credential a credential link opens
    credential_title: str = ""         # its title alone


def home_choice() -> ContentChoice:
    """The general link (its title and text in the instructor's language: the title becomes
    the link's name in the course)."""
    return ContentChoice("home", _("Skills & credentials"),
                         _("Learners see their skills and credentials; instructors assess."),
                         {"mc_target": "home"})
TARGET_HOME = "home"
TARGET_CREDENTIAL = "credential"
CREDENTIAL_SLUG_PREFIX = "credential:"
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def credential_choice(code: str, title: str, credential_id: int | None = None) -> ContentChoice:
    """One link per published credential: learners see their progress on it, instructors
    the assessment grid filtered to it."""
    return ContentChoice(
        CREDENTIAL_SLUG_PREFIX + code, _("%(credential)s — skills & progress", credential=title),
        _("Learners see their progress on this micro-credential; instructors open the "
          "assessment grid for it."),
        {"mc_target": TARGET_CREDENTIAL, "mc_credential": code}, credential_id, title)


def content_choices(session: Session, issuer: Issuer | None) -> list[ContentChoice]:
    """What the instructor may place: the general link, then one per credential the
    launch's issuer has published (by title)."""
    choices = [home_choice()]
    if issuer is None:
        return choices
    seen: set[str] = set()
    for version in public_catalog.published_catalog(session, issuer):
        code = version.credential.code
        if code not in seen and _CODE.match(code):
            seen.add(code)
            # the title in the instructor's language: it becomes the link's name in the course
            choices.append(credential_choice(code, intl(version, "title").text,
                                             version.credential_id))
    return choices


def accepts_multiple(launch: LaunchContext) -> bool:
    """Whether the platform takes several items in one response. Absent means one: a
    single item is always acceptable (Canvas's link selection sends false)."""
    value = launch.deep_linking_settings.get("accept_multiple", False)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def requested_credential(launch: LaunchContext) -> str | None:
    """The credential code a placed link asks for (not yet checked against the issuer),
    or None for the general page."""
    custom = launch.custom or {}
    if custom.get("mc_target") != TARGET_CREDENTIAL:
        return None
    code = custom.get("mc_credential")
    if not isinstance(code, str) or not _CODE.match(code.strip()):
        return None
    return code.strip()


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
