"""LTI Dynamic Registration 1.0 as a use case: read the platform's OpenID configuration,
post our registration, store the resulting Platform (and Deployment, when one is given).
https://www.imsglobal.org/spec/lti-dr/v1p0
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.domain.registration import (
    PlatformConfiguration,
    RegistrationError,
    RegistrationResult,
    ToolUrls,
    build_registration_request,
    parse_openid_configuration,
    parse_registration_response,
)
from lti_tool.errors import Conflict, RegistrationFailed, UpstreamError
from lti_tool.models import Platform
from lti_tool.services import audit
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


def register(session: Session, http: HttpClient, config: PlatformConfiguration,
             registration_token: str, tool: ToolUrls, *, allow_http: bool,
             name: str = "") -> tuple[Platform, RegistrationResult]:
    """Post the registration and store the platform. Not idempotent (the platform issues a
    new client id each time). Raises RegistrationFailed, UpstreamError, Conflict."""
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
    if platform_service.find_platform(session, config.issuer, result.client_id):
        raise Conflict("This platform registration already exists.")
    product = config.product_family_code or ""
    platform = platform_service.add_platform(session, platform_service.PlatformInput(
        name=name or f"{product.capitalize() or 'LMS'} at {config.issuer}"[:200],
        issuer=config.issuer, client_id=result.client_id,
        auth_login_url=config.authorization_endpoint, auth_token_url=config.token_endpoint,
        jwks_url=config.jwks_uri, product_family=product,
        deployment_ids=(result.deployment_id,) if result.deployment_id else (),
        accept_new_deployments=result.deployment_id is None,
        registered_via="dynamic",
    ), allow_http=allow_http)
    audit.record(session, "platform.registered", platform_id=platform.id,
                 subject_type="platform", subject_id=platform.id,
                 detail={"via": "dynamic", "product_family": product,
                         "deployment_id": result.deployment_id})
    return platform, result
