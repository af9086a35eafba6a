"""LTI Dynamic Registration 1.0 as a use case: read the platform's OpenID configuration,
post our registration, store the resulting Platform (and Deployment, when one is given),
linked to the institution the administrator chose (an existing one, or a new one).
https://www.imsglobal.org/spec/lti-dr/v1p0

Registering again (Moodle's "Update" when a tool on the same host exists) is an update:
Moodle keeps the tool's client id, so the platform answers with an (issuer, client id)
MicroCred already knows; its endpoints, keys URL and deployment are taken over and its
courses, records and institution link stay. Everything the administrator chose is checked
before the registration is posted, so a refusal changes nothing on either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.registration import (
    MOODLE_UPDATE_SCOPE,
    PlatformConfiguration,
    RegistrationError,
    RegistrationResult,
    ToolUrls,
    build_registration_request,
    parse_openid_configuration,
    parse_registration_response,
    registration_token_scope,
)
from lti_tool.errors import NotFound, RegistrationFailed, UpstreamError, ValidationFailed
from lti_tool.models import Issuer, IssuerPlatform, Platform
from lti_tool.services import audit
from lti_tool.services import catalog as catalog_service
from lti_tool.services import platforms as platform_service
from lti_tool.services.http_client import HttpClient, is_public_host


def fetch_configuration(http: HttpClient, openid_configuration_url: str, *,
                        allow_http: bool, registration_token: str = "") -> PlatformConfiguration:
    """Fetch and validate the platform's OpenID configuration (LTI-DR §3.4-3.5). Idempotent.

    The registration token, when given, is sent as a bearer token: Canvas requires it to
    serve its configuration ("the registration_token parameter is the token used to access
    that URL", https://canvas.instructure.com/doc/api/file.registration.html ); other
    platforms ignore it. It is only sent once the URL has passed the scheme check.
    Raises RegistrationFailed (bad URL or document) or UpstreamError (unreachable, not JSON).
    """
    errors: dict[str, list[str]] = {}
    platform_service.check_url("openid_configuration", openid_configuration_url,
                               allow_http=allow_http, errors=errors)
    if errors:
        raise RegistrationFailed("The platform's openid_configuration URL must be an https URL.",
                                 code="bad_openid_configuration_url")
    if not allow_http and not is_public_host(openid_configuration_url):
        # A visitor chooses this URL: never let it make the tool fetch internal addresses.
        raise RegistrationFailed("The platform's address does not resolve to a public internet "
                                 "address.", code="openid_configuration_not_public")
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        doc = http.get_json(openid_configuration_url, headers=headers)
        return parse_openid_configuration(
            doc, openid_configuration_url=openid_configuration_url, allow_http=allow_http)
    except RegistrationError as exc:
        raise RegistrationFailed(exc.public_message, code="bad_openid_configuration",
                                 log_detail=exc.log_detail) from None


@dataclass(frozen=True)
class InstitutionChoice:
    """Which institution (issuer) the registered platform serves: an existing one
    (``issuer_id``), or a new one (``new``: name, url, email, and ``slug``)."""

    issuer_id: int | None = None
    new: dict[str, Any] = field(default_factory=dict)
    slug: str = ""


def check_choice(session: Session, choice: InstitutionChoice) -> None:
    """Raises ValidationFailed (fields ``institution``, ``new_name``, ``new_url``,
    ``new_email``, ``new_slug``) unless the choice can be applied; nothing is changed.
    Run before the registration is posted, so a refusal changes nothing anywhere."""
    if choice.issuer_id is not None:
        if session.get(Issuer, choice.issuer_id) is None:
            raise ValidationFailed({"institution": ["choose one of the institutions listed"]})
        return
    if not choice.new:
        raise ValidationFailed({"institution": ["choose the institution this platform "
                                                "serves, or a new one"]})
    catalog_service.check_new_issuer(session, choice.new, slug=choice.slug)


@dataclass(frozen=True)
class Registered:
    platform: Platform
    result: RegistrationResult
    issuer: Issuer | None
    updated: bool = False                 # a known registration registered again
    changes: tuple[str, ...] = ()


def is_update(registration_token: str) -> bool:
    """Whether the platform's administrator chose to update an existing tool (Moodle's
    "Update"): a hint read from the token, for the confirmation page."""
    return registration_token_scope(registration_token) == MOODLE_UPDATE_SCOPE


def current_client_id(http: HttpClient, config: PlatformConfiguration,
                      registration_token: str) -> str | None:
    """For Moodle's "Update": the client id of the registration it will update, read with a
    GET of the registration endpoint (Moodle 4.1 and later answer it with the current
    registration). None when the platform does not say. Changes nothing."""
    if not is_update(registration_token):
        return None
    try:
        doc = http.get_json(config.registration_endpoint,
                            headers={"Accept": "application/json",
                                     "Authorization": f"Bearer {registration_token}"})
        return parse_registration_response(doc).client_id
    except (RegistrationError, UpstreamError):
        return None


def known_platform(session: Session, config: PlatformConfiguration,
                   client_id: str | None) -> Platform | None:
    return platform_service.find_platform(session, config.issuer, client_id) \
        if client_id else None


def platform_issuer(session: Session, platform: Platform) -> Issuer | None:
    """The institution a platform serves as a whole (its platform-wide link)."""
    return session.scalars(select(Issuer).join(
        IssuerPlatform, IssuerPlatform.issuer_id == Issuer.id).where(
        IssuerPlatform.platform_id == platform.id,
        IssuerPlatform.deployment_pk.is_(None))).first()


def register(session: Session, http: HttpClient, config: PlatformConfiguration,
             registration_token: str, tool: ToolUrls, *, allow_http: bool,
             name: str = "", institution: InstitutionChoice | None = None) -> Registered:
    """Post the registration and store the platform, linked to ``institution`` (checked
    first with ``check_choice``; for an update, None keeps the current link). A known
    (issuer, client id) is updated, never refused. Not idempotent (a new registration gets
    a new client id). Raises ValidationFailed (before posting), RegistrationFailed,
    UpstreamError."""
    if institution is not None:
        check_choice(session, institution)
    body = build_registration_request(config, tool)
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        answer = http.post_json(config.registration_endpoint, body, headers=headers)
        result = parse_registration_response(answer)
    except RegistrationError as exc:
        raise RegistrationFailed(exc.public_message, code="bad_registration_response",
                                 log_detail=exc.log_detail) from None
    except UpstreamError as exc:
        raise RegistrationFailed(
            "The platform refused or did not answer the registration: " + exc.public_message,
            code="registration_refused") from None
    product = config.product_family_code or ""
    existing = platform_service.find_platform(session, config.issuer, result.client_id)
    if existing is not None:
        changes = platform_service.update_from_registration(
            session, existing, auth_login_url=config.authorization_endpoint,
            auth_token_url=config.token_endpoint, jwks_url=config.jwks_uri,
            product_family=product, deployment_id=result.deployment_id, name=name)
        issuer = _link(session, existing, institution)
        audit.record(session, "platform.registration_updated", platform_id=existing.id,
                     subject_type="platform", subject_id=existing.id,
                     detail={"via": "dynamic", "changed": changes,
                             "deployment_id": result.deployment_id,
                             "issuer": issuer.slug if issuer else None})
        return Registered(existing, result, issuer, updated=True, changes=tuple(changes))
    platform = platform_service.add_platform(session, platform_service.PlatformInput(
        name=name or f"{product.capitalize() or 'LMS'} at {config.issuer}"[:200],
        issuer=config.issuer, client_id=result.client_id,
        auth_login_url=config.authorization_endpoint, auth_token_url=config.token_endpoint,
        jwks_url=config.jwks_uri, product_family=product,
        deployment_ids=(result.deployment_id,) if result.deployment_id else (),
        accept_new_deployments=result.deployment_id is None,
        registered_via="dynamic",
    ), allow_http=allow_http)
    issuer = _link(session, platform, institution)
    audit.record(session, "platform.registered", platform_id=platform.id,
                 subject_type="platform", subject_id=platform.id,
                 detail={"via": "dynamic", "product_family": product,
                         "deployment_id": result.deployment_id,
                         "issuer": issuer.slug if issuer else None})
    return Registered(platform, result, issuer)


def _link(session: Session, platform: Platform,
          institution: InstitutionChoice | None) -> Issuer | None:
    if institution is None:
        return platform_issuer(session, platform)
    if institution.issuer_id is not None:
        issuer = session.get(Issuer, institution.issuer_id)
        if issuer is None:
            raise NotFound("No such institution.")
        catalog_service.map_platform(session, issuer.id, platform.id)
        return issuer
    return catalog_service.create_issuer(session, institution.new, slug=institution.slug,
                                         platform_id=platform.id, actor_ref="registration")
