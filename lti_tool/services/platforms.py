"""Platform registrations (issuer + client_id) and their deployments.

Endpoint presets follow each LMS's documentation:
Moodle https://docs.moodle.org/en/LTI_and_Moodle (auth.php / token.php / certs.php under
/mod/lti); Canvas https://canvas.instructure.com/doc/api/file.lti_dev_key_config.html
(the sso.canvaslms.com endpoints, shared by every hosted Canvas).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import Deployment, Platform
from lti_tool.services import registry_cache


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
        errors.setdefault(field, []).append(_("must be an absolute https:// URL"))
    elif parts.scheme == "http" and not allow_http:
        errors.setdefault(field, []).append(
            _("must use https (plain http is allowed only with ALLOW_HTTP_ISSUERS in "
              "development)"))
    elif parts.username or parts.password:
        errors.setdefault(field, []).append(_("must not contain credentials"))
    elif len(url) > 1000:
        errors.setdefault(field, []).append(_("is too long (%(max)d characters at most)",
                                              max=1000))


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
        errors["preset"] = [_("must be one of %(presets)s", presets=", ".join(PRESETS))]
    if not data.issuer.strip() and preset is not None and preset.default_issuer:
        # Hosted Canvas has one issuer per environment, whatever the customer's host.
        data = replace(data, issuer=preset.default_issuer)
    # The same deployment id given twice means it once (and must not look like a conflict).
    data = replace(data, client_id=data.client_id.strip(),
                   deployment_ids=tuple(dict.fromkeys(d.strip() for d in data.deployment_ids)))
    if not data.name.strip() or len(data.name) > 200:
        errors["name"] = [_("is required (%(max)d characters at most)", max=200)]
    if not data.client_id.strip() or len(data.client_id) > 255:
        errors["client_id"] = [_("is required (%(max)d characters at most)", max=255)]
    if not data.issuer.strip():
        errors["issuer"] = [_("is required")]
    else:
        check_url("issuer", data.issuer, allow_http=allow_http, errors=errors)
    auth, token, jwks, family = resolve_urls(data)
    for field, url in (("auth_login_url", auth), ("auth_token_url", token),
                       ("jwks_url", jwks)):
        if not url:
            errors.setdefault(field, []).append(_("is required (or choose a preset)"))
        else:
            check_url(field, url, allow_http=allow_http, errors=errors)
    for dep in data.deployment_ids:
        if not dep.strip() or len(dep) > 255:
            errors["deployment_id"] = [_("must be 1 to 255 characters")]
    if errors:
        raise ValidationFailed(errors)
    if find_platform(session, data.issuer, data.client_id) is not None:
        raise Conflict(_("A platform with issuer %(issuer)s and client id %(client_id)s is "
                         "already registered.", issuer=data.issuer, client_id=data.client_id))
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
        raise Conflict(_("That platform is already registered.")) from None
    return platform


def find_platform(session: Session, issuer: str, client_id: str | None, *,
                  read_only: bool = False) -> Platform | None:
    """By (issuer, client_id). Without a client_id (a login that sent none), the issuer
    must identify exactly one registration. Served from the process's registry cache
    inside a request (``services.registry_cache``); ``read_only``: the caller only reads
    its columns, so the cache's shared instance may be returned."""
    if client_id:
        # The query is built only on a cache miss (building it costs more than a hit).
        return registry_cache.cache.lookup(
            session, ("platform", issuer, client_id),
            lambda: session.scalars(select(Platform).where(
                Platform.issuer == issuer, Platform.client_id == client_id)).first(),
            shared=read_only)
    rows = list(session.scalars(select(Platform).where(Platform.issuer == issuer).limit(2)))
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


def find_deployment(session: Session, platform_id: int, deployment_id: str, *,
                    read_only: bool = False) -> Deployment | None:
    """``read_only``: as for ``find_platform``."""
    return registry_cache.cache.lookup(
        session, ("deployment", platform_id, deployment_id),
        lambda: session.scalars(select(Deployment).where(
            Deployment.platform_id == platform_id, Deployment.deployment_id == deployment_id,
        )).first(), shared=read_only)


def add_deployment(session: Session, platform_id: int, deployment_id: str,
                   name: str = "") -> Deployment:
    """Raises NotFound for an unknown platform, Conflict if the deployment exists."""
    platform = get_platform(session, platform_id)
    deployment_id = deployment_id.strip()
    if not deployment_id or len(deployment_id) > 255:
        raise ValidationFailed({"deployment_id": [_("must be 1 to 255 characters")]})
    if find_deployment(session, platform.id, deployment_id):
        raise Conflict(_("Deployment %(deployment)s is already registered for this platform.",
                         deployment=deployment_id))
    deployment = Deployment(platform_id=platform.id, deployment_id=deployment_id, name=name)
    session.add(deployment)
    session.flush()
    return deployment


# -- administration: what an institution sees and changes ------------------------------------
@dataclass(frozen=True)
class DeploymentRow:
    deployment: Deployment
    issuer_id: int | None          # the institution it serves (its own link, else the
    own_link: bool                 # platform's); own_link: linked on its own


@dataclass(frozen=True)
class PlatformRow:
    platform: Platform
    issuer_id: int | None          # the platform-wide link (None: not linked)
    deployments: list[DeploymentRow]


def _links(session: Session, platform_ids: list[int]) -> dict[tuple[int, int | None], int]:
    from lti_tool.models import IssuerPlatform

    if not platform_ids:
        return {}
    return {(pid, dep): iid for pid, dep, iid in session.execute(
        select(IssuerPlatform.platform_id, IssuerPlatform.deployment_pk,
               IssuerPlatform.issuer_id).where(IssuerPlatform.platform_id.in_(platform_ids)))}


def platforms_of(session: Session, issuer_id: int) -> tuple[list[PlatformRow],
                                                            list[PlatformRow]]:
    """(the platforms with a link to this institution, the platforms linked to no
    institution at all): what an institution's administrator may see. Platforms of other
    institutions are left out."""
    platforms = list(session.scalars(select(Platform).order_by(Platform.id)))
    links = _links(session, [p.id for p in platforms])
    mine: list[PlatformRow] = []
    unlinked: list[PlatformRow] = []
    for platform in platforms:
        wide = links.get((platform.id, None))
        rows = []
        for dep in platform.deployments:
            own = links.get((platform.id, dep.id))
            rows.append(DeploymentRow(dep, own if own is not None else wide, own is not None))
        row = PlatformRow(platform, wide, rows)
        if wide == issuer_id or any(r.issuer_id == issuer_id for r in rows):
            mine.append(row)
        elif wide is None and not any(r.issuer_id is not None for r in rows):
            unlinked.append(row)
    return mine, unlinked


def visible_platform(session: Session, issuer_id: int, platform_id: int) -> PlatformRow:
    """The platform, if this institution may manage it (linked to it, or to nobody).
    Raises NotFound otherwise (another institution's platform is not revealed)."""
    mine, unlinked = platforms_of(session, issuer_id)
    for row in (*mine, *unlinked):
        if row.platform.id == platform_id:
            return row
    raise NotFound(_("No such platform for your institution."))


def set_active(session: Session, platform: Platform, active: bool, *, by: str,
               deployment: Deployment | None = None) -> None:
    """Deactivate (or reactivate) a registration or one of its deployments: a deactivated
    one launches nothing; its courses, records and credentials stay. Idempotent;
    audited when it changes."""
    from lti_tool.services import audit

    target = deployment if deployment is not None else platform
    if target.active == active:
        return
    target.active = active
    audit.record(session, "platform.activated" if active else "platform.deactivated",
                 platform_id=platform.id, subject_type="deployment" if deployment else
                 "platform", subject_id=target.id,
                 detail={"by": by, "deployment": deployment.deployment_id if deployment
                         else None})
    session.flush()


def update_from_registration(session: Session, platform: Platform, *, auth_login_url: str,
                             auth_token_url: str, jwks_url: str, product_family: str,
                             deployment_id: str | None, name: str = "") -> list[str]:
    """A known registration registered again (Moodle's "Update"): take the platform's
    current endpoints and keys URL, add its deployment if new, reactivate it. Returns the
    names of what changed. Idempotent."""
    changed = []
    for attr, value in (("auth_login_url", auth_login_url), ("auth_token_url", auth_token_url),
                        ("jwks_url", jwks_url), ("product_family", product_family),
                        ("name", name.strip()[:200])):
        if value and getattr(platform, attr) != value:
            setattr(platform, attr, value)
            changed.append(attr)
    if not platform.active:
        platform.active = True
        changed.append("active")
    if deployment_id:
        existing = find_deployment(session, platform.id, deployment_id)
        if existing is None:
            session.add(Deployment(platform_id=platform.id, deployment_id=deployment_id))
            changed.append("deployment")
        elif not existing.active:
            existing.active = True
            changed.append("deployment")
    session.flush()
    return changed


def check_usable(platform: Platform, deployment: Deployment | None = None) -> None:
    """Refuse a launch (or login) through a deactivated registration or deployment, with a
    message that says what to do. Raises LaunchError."""
    from lti_tool.errors import LaunchError
    from lti_tool.translate import gettext as _

    if not platform.active:
        raise LaunchError(_("MicroCred's registration of this learning platform is "
                            "deactivated. Ask your institution's MicroCred administrator to "
                            "reactivate it (the Platforms page of its administration)."),
                          code="platform_deactivated")
    if deployment is not None and not deployment.active:
        raise LaunchError(_("Deployment %(deployment)s of this learning platform is "
                            "deactivated in MicroCred. Ask your institution's MicroCred "
                            "administrator to reactivate it (the Platforms page of its "
                            "administration).", deployment=deployment.deployment_id),
                          code="deployment_deactivated")
