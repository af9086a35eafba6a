"""What a learner can do with one of their own credentials (the links their page shows):
open its public page, download it (JSON; PNG and SVG badges with the credential baked in),
add it to their LinkedIn profile, and whether their name shows on the public page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app, url_for
from sqlalchemy.orm import Session

from lti_tool.domain.tracking import AwardStatus
from lti_tool.models import Award, CredentialRecord, Issuer
from lti_tool.services import issuing
from lti_tool.translate import gettext as _
from lti_tool.web.public.credentials import parse_datetime, public_url, title_and_issuer

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def linkedin_url(award: Award, record: CredentialRecord, issuer_name: str) -> str:
    """LinkedIn's "Add licence or certification" form, pre-filled
    (https://addtoprofile.linkedin.com/): name, issuing organisation, issue and expiry
    month, the public credential URL and its id, in the credential's language (the
    learner's: the title and issuer name as signed, the page opened in that language)."""
    title, signed_issuer = title_and_issuer(record)
    issuer_name = signed_issuer or issuer_name
    issued = parse_datetime(record.json.get("validFrom")) or award.awarded_at
    params: dict[str, str] = {"startTask": "CERTIFICATION_NAME", "name": title,
                              "organizationName": issuer_name,
                              "issueYear": str(issued.year), "issueMonth": str(issued.month)}
    until = parse_datetime(record.json.get("validUntil"))
    if until is not None:
        params.update(expirationYear=str(until.year), expirationMonth=str(until.month))
    # The credential's language (the learner's): its title above, and the page it links to.
    lang = issuing.credential_record_language(record)
    params.update(certUrl=f"{public_url(award)}?lang={lang}", certId=award.public_id)
    return f"{LINKEDIN_ADD}?{urlencode(params)}"


@dataclass(frozen=True)
class LearnerActions:
    """What the learner can do with one of their credentials (links for the template)."""

    public_id: str
    url: str
    json_url: str
    png_url: str
    svg_url: str
    linkedin_url: str
    public_name: bool
    revoked: bool
    image_url: str = ""      # the badge picture, as the public page shows it
    image_alt: str = ""


def learner_actions(session: Session, award: Award) -> LearnerActions:
    """Issues (or re-issues, after a key revocation) the credential first if needed, and
    commits then."""
    record = issuing.get_record(session, award)
    if record is None or issuing.needs_issue(record):
        record = issuing.issue_for_award(session, award, vault=current_app.extensions["lti"].vault,
                                         base_url=current_app.config["PUBLIC_BASE_URL"])
        session.commit()
    issuer = session.get(Issuer, award.issuer_id)
    public_id = award.public_id
    title, _issuer_name = title_and_issuer(record)
    achievement = record.json.get("credentialSubject", {}).get("achievement", {})
    image = achievement.get("image") if isinstance(achievement, dict) else None
    caption = image.get("caption") if isinstance(image, dict) else None
    return LearnerActions(
        public_id=public_id, url=public_url(award),
        json_url=url_for("credentials.download_json", public_id=public_id),
        png_url=url_for("credentials.download_png", public_id=public_id),
        svg_url=url_for("credentials.download_svg", public_id=public_id),
        linkedin_url=linkedin_url(award, record, issuer.name if issuer else ""),
        public_name=bool((award.extra or {}).get("public_name")),
        revoked=award.status == AwardStatus.REVOKED.value,
        image_url=url_for("credentials.image_svg", public_id=public_id),
        image_alt=str(caption or _("Badge: %(credential)s", credential=title)))
