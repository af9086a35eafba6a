"""Platform registrations (issuer + client_id) and their deployments.

Endpoint presets follow each LMS's documentation:
Moodle https://docs.moodle.org/en/LTI_and_Moodle (auth.php / token.php / certs.php under
/mod/lti); Canvas https://canvas.instructure.com/doc/api/file.lti_dev_key_config.html
(the sso.canvaslms.com endpoints, shared by every hosted Canvas).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import Deployment, Platform


@dataclass(frozen=True)
class Preset:
    product_family: str
    auth_login_url: str
    auth_token_url: str
    jwks_url: str
    default_issuer: str = ""


def _canvas(host: str, issuer: str) -> Preset:
    return Preset("canvas", f"https://{host}/api/lti/authorize_redirect",
                  f"https://{host}/login/oauth2/token", f"https://{host}/api/lti/security/jwks",
                  issuer)


PRESETS: dict[str, Preset] = {
    "moodle": Preset("moodle", "{issuer}/mod/lti/auth.php", "{issuer}/mod/lti/token.php",
                     "{issuer}/mod/lti/certs.php"),
    "canvas": _canvas("sso.canvaslms.com", "https://canvas.instructure.com"),
    "canvas-beta": _canvas("sso.beta.canvaslms.com", "https://canvas.beta.instructure.com"),
    "canvas-test": _canvas("sso.test.canvaslms.com", "https://canvas.test.instructure.com"),
}


def check_url(field: str, url: str, *, allow_http: bool, errors: dict[str, list[str]]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        errors.setdefault(field, []).append("must be an absolute https:// URL")
    elif parts.scheme == "http" and not allow_http:
        errors.setdefault(field, []).append(
            "must use https (plain http is allowed only with ALLOW_HTTP_ISSUERS in development)"
        )
    elif parts.username or parts.password:
        errors.setdefault(field, []).append("must not contain credentials")
    elif len(url) > 1000:
        errors.setdefault(field, []).append("is too long (1000 characters at most)")


@dataclass(frozen=True)
class PlatformInput:
    name: str
    issuer: str
    client_id: str
    preset: str = ""
    auth_login_url: str = ""
    auth_token_url: str = ""
    jwks_url: str = ""
    auth_audience: str = ""
    product_family: str = ""
    deployment_ids: tuple[str, ...] = ()
    accept_new_deployments: bool = False
    registered_via: str = "manual"


def resolve_urls(data: PlatformInput) -> tuple[str, str, str, str]:
    """(auth, token, jwks, product_family) from the preset, explicit URLs overriding it."""
    preset = PRESETS.get(data.preset) if data.preset else None
    issuer = data.issuer.rstrip("/")
    auth = data.auth_login_url or (preset.auth_login_url.format(issuer=issuer) if preset else "")
    token = data.auth_token_url or (preset.auth_token_url.format(issuer=issuer) if preset else "")
    jwks = data.jwks_url or (preset.jwks_url.format(issuer=issuer) if preset else "")
    family = data.product_family or (preset.product_family if preset else "")
    return auth, token, jwks, family


def add_platform(session: Session, data: PlatformInput, *, allow_http: bool) -> Platform:
    """Register a platform (and its deployments). Raises ValidationFailed with field
    messages, Conflict when (issuer, client_id) is already registered. Not idempotent."""
    errors: dict[str, list[str]] = {}
    preset = PRESETS.get(data.preset)
    if data.preset and preset is None:
        errors["preset"] = [f"must be one of {', '.join(PRESETS)}"]
    if not data.issuer.strip() and preset is not None and preset.default_issuer:
        # Hosted Canvas has one issuer per environment, whatever the customer's host.
        data = replace(data, issuer=preset.default_issuer)
    # The same deployment id given twice means it once (and must not look like a conflict).
    data = replace(data, client_id=data.client_id.strip(),
                   deployment_ids=tuple(dict.fromkeys(d.strip() for d in data.deployment_ids)))
    if not data.name.strip() or len(data.name) > 200:
        errors["name"] = ["is required (200 characters at most)"]
    if not data.client_id.strip() or len(data.client_id) > 255:
        errors["client_id"] = ["is required (255 characters at most)"]
    if not data.issuer.strip():
        errors["issuer"] = ["is required"]
    else:
        check_url("issuer", data.issuer, allow_http=allow_http, errors=errors)
    auth, token, jwks, family = resolve_urls(data)
    for field, url in (("auth_login_url", auth), ("auth_token_url", token),
                       ("jwks_url", jwks)):
        if not url:
            errors.setdefault(field, []).append("is required (or choose a --preset)")
        else:
            check_url(field, url, allow_http=allow_http, errors=errors)
    for dep in data.deployment_ids:
        if not dep.strip() or len(dep) > 255:
            errors["deployment_id"] = ["must be 1 to 255 characters"]
    if errors:
        raise ValidationFailed(errors)
    if find_platform(session, data.issuer, data.client_id) is not None:
        raise Conflict(f"A platform with issuer {data.issuer} and client id {data.client_id} "
                       "is already registered.")
    platform = Platform(
        name=data.name.strip(), issuer=data.issuer, client_id=data.client_id.strip(),
        product_family=family, auth_login_url=auth, auth_token_url=token, jwks_url=jwks,
        auth_audience=data.auth_audience or None,
        accept_new_deployments=data.accept_new_deployments,
        registered_via=data.registered_via,
    )
    platform.deployments = [Deployment(deployment_id=d.strip()) for d in data.deployment_ids]
    session.add(platform)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("That platform is already registered.") from None
    return platform


def find_platform(session: Session, issuer: str, client_id: str | None) -> Platform | None:
    """By (issuer, client_id). Without a client_id (a login that sent none), the issuer
    must identify exactly one registration."""
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        return session.scalars(query.where(Platform.client_id == client_id)).first()
    rows = list(session.scalars(query.limit(2)))
    return rows[0] if len(rows) == 1 else None


def issuer_known(session: Session, issuer: str) -> bool:
    return session.scalars(select(Platform.id).where(Platform.issuer == issuer).limit(1)).first() \
        is not None


def get_platform(session: Session, platform_id: int) -> Platform:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise NotFound(f"No platform with id {platform_id}.")
    return platform


def list_platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.id)))


def remove_platform(session: Session, platform_id: int) -> None:
    session.delete(get_platform(session, platform_id))
    session.flush()


def find_deployment(session: Session, platform_id: int, deployment_id: str) -> Deployment | None:
    return session.scalars(select(Deployment).where(
        Deployment.platform_id == platform_id, Deployment.deployment_id == deployment_id,
    )).first()


def add_deployment(session: Session, platform_id: int, deployment_id: str,
                   name: str = "") -> Deployment:
    """Raises NotFound for an unknown platform, Conflict if the deployment exists."""
    platform = get_platform(session, platform_id)
    deployment_id = deployment_id.strip()
    if not deployment_id or len(deployment_id) > 255:
        raise ValidationFailed({"deployment_id": ["must be 1 to 255 characters"]})
    if find_deployment(session, platform.id, deployment_id):
        raise Conflict(f"Deployment {deployment_id} is already registered for this platform.")
    deployment = Deployment(platform_id=platform.id, deployment_id=deployment_id, name=name)
    session.add(deployment)
    session.flush()
    return deployment
