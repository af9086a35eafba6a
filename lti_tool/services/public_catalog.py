"""What anyone on the web may read about an issuer's catalog: published micro-credentials
and, so that awards stay verifiable, retired ones. Drafts, versions in review, approved but
unpublished and rejected versions are never public (NotFound, like an unknown code).

Everything shown comes from the version's snapshot frozen at publication
(``catalog.learner_view``), so a public page never changes under an award that pins it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.catalog import LifecycleState
from lti_tool.errors import NotFound
from lti_tool.models import CredentialVersion, Issuer, MicroCredential
from lti_tool.services.catalog import learner_view
from lti_tool.translate import gettext as _

PUBLIC_STATES = (LifecycleState.PUBLISHED.value, LifecycleState.RETIRED.value)
FORMAT = "microcred-credential-description"


@dataclass(frozen=True)
class PublicCredential:
    issuer: Issuer
    version: CredentialVersion
    current: CredentialVersion | None  # the published version of this credential, if any
    history: list[CredentialVersion]   # its published and retired versions, newest first

    @property
    def retired(self) -> bool:
        return self.version.state == LifecycleState.RETIRED.value

    @property
    def view(self) -> dict[str, Any]:
        return learner_view(self.version)


def http_url(value: Any) -> str:
    """``value`` if it is an absolute http(s) URL, else "" (never a javascript: link, even
    from data that bypassed validation)."""
    if not isinstance(value, str):
        return ""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def issuer_by_slug(session: Session, slug: str) -> Issuer:
    """Raises NotFound."""
    issuer = session.scalars(select(Issuer).where(Issuer.slug == slug)).first()
    if issuer is None:
        raise NotFound(_("There is no catalog at this address."))
    return issuer


def public_credential(session: Session, issuer_slug: str, code: str,
                      number: int | None = None) -> PublicCredential:
    """The current published version (or, for a credential that was retired altogether, its
    last version), or version ``number`` if it is published or retired. Raises NotFound."""
    issuer = issuer_by_slug(session, issuer_slug)
    versions = list(session.scalars(
        select(CredentialVersion).join(MicroCredential)
        .where(MicroCredential.issuer_id == issuer.id, MicroCredential.code == code,
               CredentialVersion.state.in_(PUBLIC_STATES))
        .options(selectinload(CredentialVersion.credential))
        .order_by(CredentialVersion.version.desc())))
    current = next((v for v in versions if v.state == LifecycleState.PUBLISHED.value), None)
    if number is None:
        chosen = current or (versions[0] if versions else None)
    else:
        chosen = next((v for v in versions if v.version == number), None)
    if chosen is None:
        raise NotFound(_("No published micro-credential has this address."))
    return PublicCredential(issuer, chosen, current, versions)


def published_catalog(session: Session, issuer: Issuer) -> list[CredentialVersion]:
    """The current published version of each of the issuer's credentials, by title."""
    return list(session.scalars(
        select(CredentialVersion).join(MicroCredential)
        .where(MicroCredential.issuer_id == issuer.id,
               CredentialVersion.state == LifecycleState.PUBLISHED.value)
        .options(selectinload(CredentialVersion.credential))
        .order_by(CredentialVersion.title, MicroCredential.code)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def issuer_json(issuer: Issuer, base_url: str) -> dict[str, Any]:
    return {"slug": issuer.slug, "name": issuer.name, "url": http_url(issuer.url),
            "email": issuer.email, "description": issuer.description,
            "image_url": http_url(issuer.image_url), "languages": list(issuer.languages or []),
            "translations": {k: dict(v) for k, v in (issuer.translations or {}).items()},
            "catalog_url": f"{base_url}/c/{issuer.slug}"}


def credential_url(base_url: str, issuer: Issuer, code: str, number: int | None = None) -> str:
    url = f"{base_url}/c/{issuer.slug}/{code}"
    return url if number is None else f"{url}/v/{number}"


def description_json(found: PublicCredential, base_url: str) -> dict[str, Any]:
    """The machine-readable description: the learner view, with its issuer and version."""
    version, issuer = found.version, found.issuer
    view = found.view
    code = version.credential.code
    skills = [{**skill, "alignments": [
        {**a, "target_url": http_url(a.get("target_url"))}
        for a in skill.get("alignments", []) if isinstance(a, dict)]}
        for skill in view.get("skills", []) if isinstance(skill, dict)]
    return {
        **view,
        "format": FORMAT,
        "id": credential_url(base_url, issuer, code, version.version),
        "url": credential_url(base_url, issuer, code),
        "code": code, "version": version.version, "state": version.state,
        "published_at": _iso(version.published_at), "retired_at": _iso(version.retired_at),
        "current_version": found.current.version if found.current is not None else None,
        "versions": [{"version": v.version, "state": v.state,
                      "published_at": _iso(v.published_at), "retired_at": _iso(v.retired_at),
                      "url": credential_url(base_url, issuer, code, v.version)}
                     for v in found.history],
        "image_url": http_url(view.get("image_url")),
        "skills": skills,
        "pathways": [],  # stacking into larger credentials: not built yet
        "issuer": issuer_json(issuer, base_url),
    }


def _list_translations(version: CredentialVersion) -> dict[str, Any]:
    """The French title and short description of a listed version (from its snapshot)."""
    view = version.snapshot if version.snapshot is not None else version.content
    out: dict[str, Any] = {}
    for lang, texts in ((view or {}).get("translations") or {}).items():
        picked = {k: texts[k] for k in ("title", "short_description")
                  if isinstance(texts, dict) and texts.get(k)}
        if picked:
            out[lang] = picked
    return out


def catalog_json(issuer: Issuer, versions: list[CredentialVersion],
                 base_url: str) -> dict[str, Any]:
    return {"format": "microcred-public-catalog", "issuer": issuer_json(issuer, base_url),
            "credentials": [{
                "code": v.credential.code, "version": v.version, "title": v.title,
                "short_description": v.short_description,
                "translations": _list_translations(v),
                "notional_hours": str(v.notional_hours), "credit_bearing": v.credit_bearing,
                "published_at": _iso(v.published_at),
                "url": credential_url(base_url, issuer, v.credential.code)}
                for v in versions]}
