"""What an untrusted credential *claims*, as short plain strings for the /verify report.

The values come from whatever was uploaded: each is reduced to a clipped string (the
template escapes it) and nothing is ever fetched, rendered or linked — image URLs are shown
as text, ``data:`` images only by their size. A claim is not a fact: the page shows these
next to the verification result, which says whether the signature covers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lti_tool.i18n import format_decimal
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l

MAX_TEXT = 300
MAX_LONG_TEXT = 1000
MAX_ITEMS = 20

KIND_LABELS = {"ob": _l("Open Badge (OpenBadgeCredential / AchievementCredential)"),
               "endorsement": _l("Endorsement (EndorsementCredential)"),
               "clr": _l("Comprehensive Learner Record (ClrCredential)"),
               "status-list": _l("Status list (BitstringStatusListCredential)")}


@dataclass
class Claims:
    """Display strings; "" when the credential does not say."""

    kind: str = ""
    credential_id: str = ""
    name: str = ""
    description: str = ""
    issuer_name: str = ""
    issuer_id: str = ""
    issuer_url: str = ""
    achievement_name: str = ""
    achievement_type: str = ""
    achievement_description: str = ""
    criteria: str = ""
    subject: str = ""
    valid_from: str = ""
    valid_until: str = ""
    awarded: str = ""
    images: list[tuple[str, str]] = field(default_factory=list)
    included: list[str] = field(default_factory=list)  # CLR: achievements it holds

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.credential_id, "name": self.name,
                "description": self.description,
                "issuer": {"id": self.issuer_id, "name": self.issuer_name,
                           "url": self.issuer_url},
                "achievement": {"name": self.achievement_name,
                                "type": self.achievement_type,
                                "description": self.achievement_description,
                                "criteria": self.criteria},
                "subject": self.subject, "validFrom": self.valid_from,
                "validUntil": self.valid_until, "awardedDate": self.awarded,
                "images": [{"what": what, "url": url} for what, url in self.images],
                "included": self.included}


def clip(value: Any, size: int = MAX_TEXT) -> str:
    """A plain string of at most ``size`` characters ("" for anything but text/numbers)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split()) if size <= MAX_TEXT else value.strip()
    return text if len(text) <= size else text[: size - 1] + "…"


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _image_text(value: Any) -> str:
    """An image reference as text: its URL, or a note for embedded (``data:``) images."""
    url = value.get("id") if isinstance(value, Mapping) else value
    if not isinstance(url, str) or not url:
        return ""
    if url[:5].lower() == "data:":
        kind = url[5:].split(",", 1)[0].split(";", 1)[0] or _("unknown type")
        return _("embedded image (%(type)s, %(size)s characters; not displayed)",
                 type=clip(kind, 40), size=format_decimal(len(url)))
    return clip(url, 500)


def _subject_text(subject: Any) -> str:
    if not isinstance(subject, Mapping):
        return ""
    parts = []
    name = clip(subject.get("name"))
    if name:
        parts.append(name)
    subject_id = clip(subject.get("id"))
    if subject_id:
        parts.append(subject_id)
    identifiers = subject.get("identifier")
    for ident in (identifiers if isinstance(identifiers, list) else [identifiers])[:3]:
        if not isinstance(ident, Mapping):
            continue
        kind = clip(ident.get("identityType"), 60) or _("identifier")
        if ident.get("hashed") is True:
            parts.append(_("%(kind)s (salted hash; the holder can prove it, it is not shown)",
                           kind=kind))
        else:
            parts.append(f"{kind}: {clip(ident.get('identityHash'), 120)}")
    return "; ".join(parts)


def summarise(credential: Mapping[str, Any] | None, kind: str | None) -> Claims | None:
    """The claims of a parsed credential (None when nothing was parsed)."""
    if not isinstance(credential, Mapping):
        return None
    claims = Claims(kind=str(KIND_LABELS.get(kind or "", "")))
    claims.credential_id = clip(credential.get("id"), 500)
    claims.name = clip(credential.get("name"))
    claims.description = clip(credential.get("description"), MAX_LONG_TEXT)
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        claims.issuer_name = clip(issuer.get("name"))
        claims.issuer_id = clip(issuer.get("id"), 500)
        claims.issuer_url = clip(issuer.get("url"), 500)
        logo = _image_text(issuer.get("image"))
        if logo:
            claims.images.append((_("Issuer image"), logo))
    else:
        claims.issuer_id = clip(issuer, 500)
    claims.valid_from = clip(credential.get("validFrom") or credential.get("issuanceDate"), 60)
    claims.valid_until = clip(credential.get("validUntil")
                              or credential.get("expirationDate"), 60)
    claims.awarded = clip(credential.get("awardedDate"), 60)
    image = _image_text(credential.get("image"))
    if image:
        claims.images.append((_("Credential image"), image))
    subject = _first(credential.get("credentialSubject"))
    claims.subject = _subject_text(subject)
    if isinstance(subject, Mapping):
        achievement = subject.get("achievement")
        if isinstance(achievement, Mapping):
            claims.achievement_name = clip(achievement.get("name"))
            claims.achievement_type = clip(achievement.get("achievementType"), 80)
            claims.achievement_description = clip(achievement.get("description"),
                                                  MAX_LONG_TEXT)
            criteria = achievement.get("criteria")
            if isinstance(criteria, Mapping):
                claims.criteria = clip(criteria.get("narrative"), MAX_LONG_TEXT)
            picture = _image_text(achievement.get("image"))
            if picture:
                claims.images.append((_("Achievement image"), picture))
        if kind == "clr":
            for item in (subject.get("verifiableCredential") or [])[:MAX_ITEMS]:
                if isinstance(item, Mapping):
                    inner = _first(item.get("credentialSubject"))
                    achieved = inner.get("achievement") if isinstance(inner, Mapping) else None
                    title = (clip(achieved.get("name")) if isinstance(achieved, Mapping)
                             else "") or clip(item.get("name"))
                    claims.included.append(title or _("(an unnamed credential)"))
                elif isinstance(item, str):
                    claims.included.append(_("(a credential in VC-JWT form)"))
    return claims
