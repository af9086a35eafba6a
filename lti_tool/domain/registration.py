"""LTI Dynamic Registration 1.0, tool side, as pure data transformations.

Spec: https://www.imsglobal.org/spec/lti-dr/v1p0

This module owns the three documents of the exchange, and nothing else (no HTTP, no Flask,
no database):

* the platform's OpenID configuration (§3.4-3.5): ``parse_openid_configuration`` validates it
  and returns a ``PlatformConfiguration``; it is tolerant of known LMS quirks (named
  ``_apply_*_quirks`` functions below) and strict about where it lets us send or trust things;
* the tool's registration request (§3.6 and §4): ``build_registration_request``;
* the platform's registration response (§3.6.2): ``parse_registration_response``.

Fetching the configuration and posting the request (with the registration token) is the
caller's job, as is storing the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lti_tool.domain.lti import MESSAGE_DEEP_LINKING, MESSAGE_RESOURCE_LINK

PLATFORM_CONFIGURATION_KEY = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION_KEY = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY_LEVEL_KEY = "https://canvas.instructure.com/lti/privacy_level"

SCOPE_AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_AGS_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_AGS_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS_MEMBERSHIP_READONLY = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)
#: The service scopes MicroCred asks for, in the order they are requested.
WANTED_SCOPES: tuple[str, ...] = (
    SCOPE_AGS_LINEITEM,
    SCOPE_AGS_LINEITEM_READONLY,
    SCOPE_AGS_RESULT_READONLY,
    SCOPE_AGS_SCORE,
    SCOPE_NRPS_MEMBERSHIP_READONLY,
)
#: Claims the tool wants in every launch (§4.2 ``claims``).
WANTED_CLAIMS: tuple[str, ...] = ("iss", "sub", "name", "given_name", "family_name", "email")

DEFAULT_DESCRIPTION = (
    "MicroCred tracks the skills learners demonstrate in a course and awards Open Badges "
    "micro-credentials."
)

PRODUCT_CANVAS = "canvas"
PRODUCT_MOODLE = "moodle"

#: Instructure-hosted Canvas issuers and the SSO host that serves their keys and endpoints.
_CANVAS_HOSTED_ISSUERS: Mapping[str, str] = {
    "https://canvas.instructure.com": "sso.canvaslms.com",
    "https://canvas.beta.instructure.com": "sso.beta.canvaslms.com",
    "https://canvas.test.instructure.com": "sso.test.canvaslms.com",
}
_CANVAS_RESOURCE_LINK_PLACEMENT = "course_navigation"
_CANVAS_DEEP_LINKING_PLACEMENT = "link_selection"

_MOODLE_AUTH_PATH = "/mod/lti/auth.php"
_MOODLE_REGISTRATION_PATH = "/mod/lti/openid-registration.php"
_MOODLE_DEEP_LINKING_PLACEMENT = "ContentArea"
#: Moodle 3.10-4.0 advertised the resource-link message under its pre-final name.
_MOODLE_MESSAGE_ALIASES: Mapping[str, str] = {"LtiResourceLink": MESSAGE_RESOURCE_LINK}

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RegistrationError(Exception):
    """Dynamic registration cannot go on.

    ``public_message`` is safe to show to the administrator doing the registration: it names
    the field and the problem but never echoes values from the platform's documents.
    ``log_detail`` may carry those values for the operator's log.
    """

    def __init__(self, public_message: str, *, log_detail: str = "") -> None:
        self.public_message = public_message
        self.log_detail = log_detail
        super().__init__(f"{public_message} ({log_detail})" if log_detail else public_message)


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration the tool relies on (LTI-DR §3.5)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family_code: str = ""
    version: str = ""
    #: ``(message type, placements)`` pairs, e.g. ``("LtiDeepLinkingRequest", ("ContentArea",))``.
    messages_supported: tuple[tuple[str, tuple[str, ...]], ...] = ()
    scopes_supported: tuple[str, ...] = ()
    token_endpoint_auth_signing_alg_values_supported: tuple[str, ...] = ()

    def supports_message(self, message_type: str) -> bool:
        return any(kind == message_type for kind, _ in self.messages_supported)

    def placements_for(self, message_type: str) -> tuple[str, ...]:
        for kind, placements in self.messages_supported:
            if kind == message_type:
                return placements
        return ()


@dataclass(frozen=True)
class ToolUrls:
    """Where the platform reaches the tool. ``domain`` is derived from ``base_url``."""

    base_url: str
    login_url: str
    launch_url: str
    jwks_url: str
    logo_url: str
    domain: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "domain", urlsplit(self.base_url).netloc)


@dataclass(frozen=True)
class RegistrationResult:
    """What the platform assigned (LTI-DR §3.6.2)."""

    client_id: str
    #: Canvas sends none: the deployment is then recorded at its first launch.
    deployment_id: str | None
    raw: dict[str, Any]


# --------------------------------------------------------------------------------------------
# OpenID configuration
# --------------------------------------------------------------------------------------------


def parse_openid_configuration(
    doc: object, *, openid_configuration_url: str, allow_http: bool
) -> PlatformConfiguration:
    """Validate the platform's OpenID configuration (LTI-DR §3.5) and extract what we use.

    ``openid_configuration_url`` is the URL the document was fetched from (the
    ``openid_configuration`` parameter of the registration initiation). ``allow_http`` admits
    plain-http URLs, for local development only.
    """
    if not isinstance(doc, dict):
        raise RegistrationError(
            "The platform's OpenID configuration is not a JSON object.",
            log_detail=f"got {type(doc).__name__}",
        )
    _check_url(openid_configuration_url, "openid_configuration", allow_http=allow_http)
    conf = _apply_moodle_quirks(doc)

    issuer = _required_str(conf, "issuer")
    # §3.5.1 / OpenID Connect Discovery §3: the issuer has no query or fragment.
    _check_url(issuer, "issuer", allow_http=allow_http)
    split_issuer = urlsplit(issuer)
    if split_issuer.query or split_issuer.fragment:
        raise RegistrationError(
            "The platform's issuer must not contain a query or fragment.", log_detail=issuer
        )
    endpoints = {
        name: _required_str(conf, name)
        for name in (
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "registration_endpoint",
        )
    }
    for name, url in endpoints.items():
        _check_url(url, name, allow_http=allow_http)

    _check_signing_algorithms(conf)

    platform = _platform_section(conf)
    product = _optional_str(platform, "product_family_code")
    if not _apply_canvas_quirks(
        product_family_code=product,
        issuer=issuer,
        endpoints=endpoints,
        openid_configuration_url=openid_configuration_url,
    ):
        _check_same_origin(issuer, openid_configuration_url, endpoints["registration_endpoint"])

    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        registration_endpoint=endpoints["registration_endpoint"],
        product_family_code=product,
        version=_optional_str(platform, "version"),
        messages_supported=_messages_supported(platform.get("messages_supported")),
        scopes_supported=_str_tuple(conf.get("scopes_supported"), "scopes_supported"),
        token_endpoint_auth_signing_alg_values_supported=_str_tuple(
            conf.get("token_endpoint_auth_signing_alg_values_supported"),
            "token_endpoint_auth_signing_alg_values_supported",
        ),
    )


def _apply_moodle_quirks(doc: Mapping[Any, Any]) -> dict[str, Any]:
    """Normalise what Moodle 3.10-4.0 (``mod/lti/openid-configuration.php``) got wrong.

    * The platform-configuration key was emitted with a trailing space
      (``"https://purl.imsglobal.org/spec/lti-platform-configuration "``), see
      https://tracker.moodle.org/browse/MDL-73745 . Whitespace is stripped from every
      top-level key and every key of the platform-configuration object. This runs for every
      platform: until the key is fixed we cannot read ``product_family_code`` to know it is
      Moodle, and a stripped key never means anything else.
    * ``messages_supported`` was a list of strings, with the resource-link message named
      ``LtiResourceLink``; it becomes the spec's list of ``{"type": ...}`` objects.
    * ``authorization_endpoint`` was missing. For Moodle (``product_family_code`` "moodle", or
      a registration endpoint at ``/mod/lti/openid-registration.php``) it is always
      ``{issuer}/mod/lti/auth.php``; for any other platform it stays missing, and is refused.
    """
    conf = _strip_keys(doc)
    platform_raw = conf.get(PLATFORM_CONFIGURATION_KEY)
    platform: dict[str, Any] | None = None
    if isinstance(platform_raw, Mapping):
        platform = _strip_keys(platform_raw)
        conf[PLATFORM_CONFIGURATION_KEY] = platform
        messages = platform.get("messages_supported")
        if isinstance(messages, list):
            platform["messages_supported"] = [
                {"type": _MOODLE_MESSAGE_ALIASES.get(m.strip(), m.strip())}
                if isinstance(m, str)
                else m
                for m in messages
            ]

    if "authorization_endpoint" not in conf:
        product = platform.get("product_family_code") if platform is not None else None
        registration = conf.get("registration_endpoint")
        looks_like_moodle = (
            isinstance(product, str) and product.strip().lower() == PRODUCT_MOODLE
        ) or (
            isinstance(registration, str)
            and urlsplit(registration).path.endswith(_MOODLE_REGISTRATION_PATH)
        )
        issuer = conf.get("issuer")
        if looks_like_moodle and isinstance(issuer, str) and issuer.strip():
            conf["authorization_endpoint"] = issuer.strip().rstrip("/") + _MOODLE_AUTH_PATH
    return conf


def _apply_canvas_quirks(
    *,
    product_family_code: str,
    issuer: str,
    endpoints: Mapping[str, str],
    openid_configuration_url: str,
) -> bool:
    """Check origins the Canvas way; return False if this is not Instructure-hosted Canvas.

    Instructure-hosted Canvas uses one issuer for every customer (``canvas.instructure.com``
    and its beta and test twins) while the OpenID configuration and the registration endpoint
    live on the customer's host (``https://school.instructure.com/api/lti/...``) and the
    authorization endpoint and key set on ``sso.canvaslms.com`` (or its beta/test twins). See
    https://canvas.instructure.com/doc/api/file.registration.html . The generic rule "issuer
    has the origin of the configuration URL" cannot hold, so instead:

    * the registration endpoint must be on the configuration URL's host (we only ever post to
      the host that served us the document);
    * the key set must be on the issuer's or its SSO host: Canvas signs launches with one
      environment-wide key set, so a document claiming a Canvas issuer cannot point us at
      keys served from anywhere else;
    * the authorization and token endpoints must be on the issuer's host, its SSO host or the
      customer host (older Canvas served them on the customer host).
    """
    sso_hostname = _CANVAS_HOSTED_ISSUERS.get(issuer.rstrip("/"))
    if product_family_code.strip().lower() != PRODUCT_CANVAS or sso_hostname is None:
        return False
    sso_host = (sso_hostname, _DEFAULT_PORTS["https"])
    config_host = _host(openid_configuration_url)
    issuer_host = _host(issuer)
    if _host(endpoints["registration_endpoint"]) != config_host:
        raise RegistrationError(
            "The platform's registration endpoint is not on the host that served its "
            "configuration.",
            log_detail=f"{endpoints['registration_endpoint']} vs {openid_configuration_url}",
        )
    allowed = {
        "jwks_uri": {issuer_host, sso_host},
        "authorization_endpoint": {issuer_host, sso_host, config_host},
        "token_endpoint": {issuer_host, sso_host, config_host},
    }
    for name, hosts in allowed.items():
        if _host(endpoints[name]) not in hosts:
            raise RegistrationError(
                f"The platform's {name} is not on a Canvas host.",
                log_detail=f"{endpoints[name]} not on {sorted(h for h, _ in hosts)}",
            )
    return True


def _check_same_origin(issuer: str, openid_configuration_url: str, registration: str) -> None:
    """LTI-DR §3.5.1: the issuer matches the domain of the configuration URL; and we only post
    the registration to the issuer's host."""
    if _origin(issuer) != _origin(openid_configuration_url):
        raise RegistrationError(
            "The platform's issuer does not match the address its configuration was fetched from.",
            log_detail=f"issuer {issuer} vs {openid_configuration_url}",
        )
    if _host(registration) != _host(issuer):
        raise RegistrationError(
            "The platform's registration endpoint is not on the issuer's host.",
            log_detail=f"{registration} vs issuer {issuer}",
        )


def _check_signing_algorithms(conf: Mapping[str, Any]) -> None:
    if "id_token_signing_alg_values_supported" not in conf:
        return
    algs = _str_tuple(
        conf["id_token_signing_alg_values_supported"], "id_token_signing_alg_values_supported"
    )
    if "RS256" not in algs:
        raise RegistrationError(
            "The platform does not sign launches with RS256, which LTI 1.3 requires.",
            log_detail=f"id_token_signing_alg_values_supported={list(algs)}",
        )


def _platform_section(conf: Mapping[str, Any]) -> Mapping[str, Any]:
    platform = conf.get(PLATFORM_CONFIGURATION_KEY)
    if platform is None:
        return {}
    if not isinstance(platform, Mapping):
        raise RegistrationError(
            "The platform's LTI platform configuration is not a JSON object.",
            log_detail=f"got {type(platform).__name__}",
        )
    return platform


def _messages_supported(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Normalise ``messages_supported``; entries without a string ``type`` are skipped."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RegistrationError(
            "The platform's messages_supported is not a list.",
            log_detail=f"got {type(value).__name__}",
        )
    result: list[tuple[str, tuple[str, ...]]] = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if not isinstance(kind, str) or not kind.strip():
            continue
        placements = item.get("placements")
        names = (
            tuple(p.strip() for p in placements if isinstance(p, str) and p.strip())
            if isinstance(placements, list)
            else ()
        )
        result.append((kind.strip(), names))
    return tuple(result)


# --------------------------------------------------------------------------------------------
# Registration request
# --------------------------------------------------------------------------------------------


def build_registration_request(
    config: PlatformConfiguration,
    tool: ToolUrls,
    *,
    client_name: str = "MicroCred",
    description: str = DEFAULT_DESCRIPTION,
) -> dict[str, Any]:
    """The JSON body the tool posts to ``config.registration_endpoint`` (LTI-DR §3.6, §4)."""
    product = config.product_family_code.strip().lower()
    is_canvas = product == PRODUCT_CANVAS

    resource_link: dict[str, Any] = {
        "type": MESSAGE_RESOURCE_LINK,
        "target_link_uri": tool.launch_url,
        "label": client_name,
    }
    if is_canvas:
        resource_link["placements"] = [_CANVAS_RESOURCE_LINK_PLACEMENT]
    messages: list[dict[str, Any]] = [resource_link]

    if config.supports_message(MESSAGE_DEEP_LINKING):
        deep_linking: dict[str, Any] = {
            "type": MESSAGE_DEEP_LINKING,
            "target_link_uri": tool.launch_url,
            "label": client_name,
        }
        if is_canvas:
            deep_linking["placements"] = [_CANVAS_DEEP_LINKING_PLACEMENT]
        elif product == PRODUCT_MOODLE and _MOODLE_DEEP_LINKING_PLACEMENT in (
            config.placements_for(MESSAGE_DEEP_LINKING)
        ):
            deep_linking["placements"] = [_MOODLE_DEEP_LINKING_PLACEMENT]
        messages.append(deep_linking)

    tool_configuration: dict[str, Any] = {
        "domain": tool.domain,
        "target_link_uri": tool.launch_url,
        "description": description,
        "claims": list(WANTED_CLAIMS),
        "messages": messages,
    }
    if is_canvas:
        tool_configuration[CANVAS_PRIVACY_LEVEL_KEY] = "public"

    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.login_url,
        "redirect_uris": [tool.launch_url],
        "client_name": client_name,
        "jwks_uri": tool.jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(requested_scopes(config)),
        TOOL_CONFIGURATION_KEY: tool_configuration,
    }
    if tool.logo_url:
        body["logo_uri"] = tool.logo_url
    return body


def requested_scopes(config: PlatformConfiguration) -> tuple[str, ...]:
    """The wanted scopes the platform offers; all of them if it does not say what it offers."""
    if not config.scopes_supported:
        return WANTED_SCOPES
    offered = set(config.scopes_supported)
    return tuple(scope for scope in WANTED_SCOPES if scope in offered)


# --------------------------------------------------------------------------------------------
# Registration response
# --------------------------------------------------------------------------------------------


def parse_registration_response(doc: object) -> RegistrationResult:
    """Read the client id and, if the platform created one, the deployment id (§3.6.2)."""
    if not isinstance(doc, dict):
        raise RegistrationError(
            "The platform's registration response is not a JSON object.",
            log_detail=f"got {type(doc).__name__}",
        )
    client_id = _identifier(doc.get("client_id"), "client_id")
    if client_id is None:
        raise RegistrationError(
            "The platform's registration response has no client_id.",
            log_detail=f"keys: {sorted(str(k) for k in doc)}",
        )
    tool_configuration = doc.get(TOOL_CONFIGURATION_KEY)
    deployment_id = (
        _identifier(tool_configuration.get("deployment_id"), "deployment_id")
        if isinstance(tool_configuration, Mapping)
        else None
    )
    return RegistrationResult(client_id=client_id, deployment_id=deployment_id, raw=dict(doc))


def _identifier(value: object, name: str) -> str | None:
    """A string or integer identifier as a non-empty string; None if absent or empty."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RegistrationError(
            f"The platform's {name} is not a string.", log_detail=f"got {type(value).__name__}"
        )
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _strip_keys(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    """Copy with whitespace stripped from string keys; a key that was already clean wins."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            continue
        clean = key.strip()
        if clean not in out or key == clean:
            out[clean] = value
    return out


def _required_str(conf: Mapping[str, Any], name: str) -> str:
    value = conf.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RegistrationError(
            f"The platform's OpenID configuration is missing {name}.",
            log_detail=f"{name}={value!r}",
        )
    return value.strip()


def _optional_str(conf: Mapping[str, Any], name: str) -> str:
    value = conf.get(name)
    return value.strip() if isinstance(value, str) else ""


def _str_tuple(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not all(isinstance(v, str) for v in value)
    ):
        raise RegistrationError(
            f"The platform's {name} is not a list of strings.", log_detail=f"{name}={value!r}"
        )
    return tuple(v.strip() for v in value)


def _check_url(url: str, name: str, *, allow_http: bool) -> None:
    """An absolute https URL (http only if allowed) with a host and no credentials."""
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in allowed:
        raise RegistrationError(
            f"The platform's {name} must be an https address.", log_detail=f"{name}={url}"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise RegistrationError(
            f"The platform's {name} is not a valid address.", log_detail=f"{name}={url}"
        ) from exc
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise RegistrationError(
            f"The platform's {name} is not a valid address.", log_detail=f"{name}={url}"
        )


def _host(url: str) -> tuple[str, int]:
    """Host name (lower case) and effective port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def _origin(url: str) -> tuple[str, str, int]:
    host, port = _host(url)
    return urlsplit(url).scheme.lower(), host, port


# --------------------------------------------------------------------------------------------
# Re-registration ("Update" in Moodle)
# --------------------------------------------------------------------------------------------
#: Moodle's registration token says what the administrator chose: a new registration
#: ("reg") or an update of an existing tool ("reg-update", its ``sub`` then being the tool
#: type id). Moodle keeps the tool's client id on an update, so the registration answers
#: with the client id MicroCred already knows. Source: moodle/moodle
#: mod/lti/classes/local/ltiopenid/registration_helper.php (REG_TOKEN_OP_UPDATE_REG,
#: validate_registration_token) and mod/lti/openid-registration.php (GET returns the
#: current registration, POST updates it).
MOODLE_UPDATE_SCOPE = "reg-update"


def registration_token_scope(token: str) -> str:
    """The ``scope`` claim of a platform's registration token, read without verifying it
    (only the platform can verify it; this is a hint for the confirmation page, never a
    decision): "reg-update" when Moodle's administrator chose "Update", "" when the token
    is not a readable JWT."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) != 3 or len(token) > 4096:
        return ""
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return ""
    scope = claims.get("scope") if isinstance(claims, dict) else None
    return scope if isinstance(scope, str) and len(scope) <= 100 else ""
