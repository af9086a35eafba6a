"""Public credential pages and the verifier (no login anywhere here).

* ``/verify``: anyone uploads (JSON, VC-JWT text, baked PNG or SVG) or pastes a credential and
  gets the step-by-step report of :mod:`lti_tool.badges.verify` plus what the credential
  claims. Input is hostile: at most 2 MB (413 beyond), never rendered (an uploaded SVG is
  parsed, never shown; images named in a credential are shown as URLs, never loaded), its
  cost bounded (too large or too entangled: 422, in milliseconds). Contexts are bundled;
  keys and status lists of our issuers come from our own database (``services.issuing``'s
  resolvers); those of other institutions from their published profile
  (``services.remote_issuers``: https, public addresses only, with timeouts; setting
  ``VERIFY_FETCH_ISSUER_DOCUMENTS``). A key is trusted only when it is shown to be the
  issuer's (``badges.binding``). The HTML form has a signed double-submit CSRF token
  (``public_forms``).
* ``POST /api/v1/verify``: the same for software: the request body is the credential (or a
  multipart ``file``); the answer is the JSON report. No cookies, no token: CSRF-safe, and
  open to other origins (CORS) since it reads no credentials of the caller.
* ``/credentials/<public_id>``: the public page of one award: who earned what (the learner's
  name only when they chose to show it, ``Award.extra["public_name"]``), when, where, what
  it certifies, and its status (valid / revoked on <date> / expired) from *actually
  verifying* the stored credential with our keys and status list. Content negotiation
  (``Vary: Accept``): ``application/ld+json`` or ``application/json`` → the signed
  credential, ``application/vc+jwt`` → the VC-JWT. Downloads beside it: the JSON, and the
  badge baked per OB 3.0 §5.3 into a PNG (drawn locally, ``services.badge_images``) and an
  SVG (``issuing.badge_svg``). The revocation reason stays private unless the issuer's
  setting ``public_revocation_reason`` is true.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from lti_tool.badges import baking, jwt_vc
from lti_tool.badges import verify as badge_verify
from lti_tool.domain.credential_words import BCP47
from lti_tool.domain.labels import label
from lti_tool.domain.pathways import STACKED_ROUTE
from lti_tool.domain.texts import LocalText, localized
from lti_tool.errors import NotFound
from lti_tool.extensions import db_session
from lti_tool.i18n import current_locale, format_date
from lti_tool.lti.runtime import runtime
from lti_tool.models import (
    Award,
    CredentialRecord,
    Demonstration,
    Issuer,
    LearnerAccount,
    Person,
    Skill,
)
from lti_tool.services import badge_images, issuing, public_pathways
from lti_tool.services.catalog import learner_view, localized_version
from lti_tool.services.public_catalog import credential_url, http_url
from lti_tool.services.remote_issuers import RemoteResolvers
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web.common import public_forms
from lti_tool.web.errors import render_error
from lti_tool.web.public.credential_claims import Claims, summarise

log = logging.getLogger(__name__)
bp = Blueprint("credentials", __name__)
bp.app_template_global("public_form_token")(public_forms.form_token)
bp.after_app_request(public_forms.set_cookie)

#: The upload limit of /verify and POST /api/v1/verify (the verifier's own limit).
VERIFY_LIMIT = badge_verify.MAX_INPUT_BYTES
#: Room for the multipart envelope and the other form fields around a 2 MB file.
FORM_OVERHEAD = 64 * 1024
LIMIT_TEXT = f"{VERIFY_LIMIT // (1024 * 1024)} MB"


def limit_text() -> str:
    """The upload limit as the reader writes it (``2 MB`` / ``2 Mo``)."""
    return _("%(size)s MB", size=VERIFY_LIMIT // (1024 * 1024))
PUBLIC_ID_MAX = 64

STEP_LABELS = {
    "input": _l("Input"), "extract": _l("Credential inside the image"),
    "image-safety": _l("Image safety"), "parse": _l("Parsing"),
    "context": _l("JSON-LD contexts"), "type": _l("Credential type"), "issuer": _l("Issuer"),
    "credentialSubject": _l("Subject"), "evidence": _l("Evidence"),
    "json-ld": _l("Every term defined (JSON-LD)"), "schema": _l("1EdTech JSON Schema"),
    "proof": _l("Signature"), "issuer-key": _l("Signed by the issuer"),
    "jwt-claims": _l("JWT claims"), "validity": _l("Validity dates"),
    "status": _l("Revocation status"), "endorsements": _l("Endorsements"),
    "credentials": _l("Credentials in the record"), "size": _l("Size and complexity"),
    "internal": _l("Verifier"),
}
STATUS_TEXT = {"ok": _l("Passed"), "warn": _l("Warning"), "error": _l("Failed"),
               "skipped": _l("Skipped")}
STATUS_SYMBOL = {"ok": "✓", "warn": "!", "error": "✗", "skipped": "-"}


#: What a failed step means, in plain words for the person who asked (the step's own
#: message is technical and goes behind "Technical details").
PLAIN_ERRORS = {
    "input": _l("This is not a credential MicroCred can read: it reads a credential as JSON, "
             "as a VC-JWT (text starting with “ey”), or baked into a badge image (PNG or "
             "SVG)."),
    "extract": _l("This image holds no credential: it is a picture only, or the credential was "
               "removed from it. Ask the learner for the badge image they downloaded, or for "
               "the credential's link."),
    "image-safety": _l("This image could not be read safely, so it was not checked."),
    "parse": _l("The credential inside could not be read: it is damaged or incomplete."),
    "context": _l("This is not an Open Badges 3.0 credential in a form MicroCred can check."),
    "type": _l("This is not an Open Badges 3.0 credential."),
    "issuer": _l("The credential does not say properly who issued it."),
    "credentialSubject": _l("The credential does not say properly who earned it."),
    "evidence": _l("The credential's evidence is not written in the standard form."),
    "json-ld": _l("The credential uses words outside the Open Badges standard, so it cannot be "
               "checked."),
    "schema": _l("The credential is not written in the standard Open Badges 3.0 form."),
    "proof": _l("The signature does not match: the credential was changed after it was issued, "
             "or it was not signed as it claims."),
    "issuer-key": _l("It was not signed with a key the issuer publishes, or the issuer has "
                  "withdrawn that key."),
    "jwt-claims": _l("The signed wrapper and the credential inside it do not agree."),
    "validity": _l("Its dates are not valid."),
    "status": _l("Whether the issuer revoked it could not be confirmed."),
    "endorsements": _l("An endorsement attached to it did not verify."),
    "credentials": _l("A credential inside this learner record did not verify."),
    "size": _l("This file is too large or too complex to check."),
}
PLAIN_WARNINGS = {
    "status": _l("its revocation status could not be checked"),
    "issuer-key": _l("the signing key could not be confirmed with the issuer"),
    "endorsements": _l("an endorsement could not be checked"),
    "credentials": _l("a credential inside it could not be fully checked"),
}


def plain_words(report: badge_verify.VerificationReport) -> str:
    """The outcome in plain words ("This image holds no credential."), for the person who
    asked; the verifier's technical reason and steps stay behind a disclosure."""
    if report.result == "valid":
        return _("This credential is authentic: it was issued by the institution it names, "
                 "it has not been changed since, and it has not been revoked.")
    if report.result == "warning":
        warned = [str(PLAIN_WARNINGS[s.name]) for s in report.steps
                  if s.status == "warn" and s.name in PLAIN_WARNINGS]
        detail = "; ".join(dict.fromkeys(warned)) or _("something could not be fully checked")
        return _("The signature is authentic, but %(detail)s. See the details below.",
                 detail=detail)
    if report.revoked:
        return _("The issuer revoked this credential: it is no longer valid.")
    if report.suspended:
        return _("The issuer has suspended this credential: it is not valid for now.")
    if report.expired:
        return _("This credential has expired.")
    if report.not_yet_valid:
        return _("This credential is not valid yet: its start date is in the future.")
    if report.too_complex:
        return str(PLAIN_ERRORS["size"])
    first = next((step for step in report.steps if step.status == "error"), None)
    if first is not None and first.name == "input" and "empty" in first.message:
        return _("The file is empty.")
    if first is not None and first.name in PLAIN_ERRORS:
        return str(PLAIN_ERRORS[first.name])
    return _("This credential could not be verified.")


class TooLarge(Exception):
    """The upload is over the limit (raised before the verifier sees it)."""


# --- the report, for templates and JSON ---------------------------------------------------


def headline(report: badge_verify.VerificationReport) -> tuple[str, str]:
    """(css/status key, words) for the overall result; words never rely on colour."""
    if report.result == "valid":
        return "valid", _("Valid")
    if report.result == "warning":
        return "warning", _("Valid, with warnings")
    if report.revoked:
        return "revoked", _("Not valid: revoked by the issuer")
    if report.suspended:
        return "revoked", _("Not valid: suspended by the issuer")
    if report.expired:
        return "expired", _("Not valid: expired")
    if report.not_yet_valid:
        return "invalid", _("Not valid yet")
    if report.too_complex:
        return "invalid", _("Not checked: too large or too complex")
    return "invalid", _("Not valid")


def report_view(report: badge_verify.VerificationReport) -> dict[str, Any]:
    key, words = headline(report)
    steps = [{"name": s.name, "label": str(STEP_LABELS.get(s.name, s.name)),
              "status": s.status, "status_text": str(STATUS_TEXT.get(s.status, s.status)),
              "symbol": STATUS_SYMBOL.get(s.status, ""), "message": s.message}
             for s in report.steps]
    return {"key": key, "words": words, "result": report.result, "reason": report.reason,
            "plain": plain_words(report), "format": report.format, "steps": steps,
            "claims": summarise(report.credential, report.kind)}


def report_json(report: badge_verify.VerificationReport) -> dict[str, Any]:
    claims: Claims | None = summarise(report.credential, report.kind)
    return {"result": report.result, "reason": report.reason, "format": report.format,
            "kind": report.kind, "revoked": report.revoked, "suspended": report.suspended,
            "expired": report.expired, "notYetValid": report.not_yet_valid,
            "tooComplex": report.too_complex,
            "steps": [{"name": s.name, "status": s.status, "message": s.message}
                      for s in report.steps],
            "claims": claims.as_dict() if claims else None}


# --- verifying ------------------------------------------------------------------------------


def _base_url() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")


def verify_upload(data: bytes) -> badge_verify.VerificationReport:
    """Verify untrusted bytes: our issuers' keys and status lists from the database, other
    institutions' from their published documents (when the setting allows)."""
    remote = (RemoteResolvers(runtime().http)
              if current_app.config["VERIFY_FETCH_ISSUER_DOCUMENTS"] else None)
    key_resolver, status_resolver = issuing.resolvers(db_session(), base_url=_base_url(),
                                                      remote=remote)
    report = badge_verify.verify(data, key_resolver=key_resolver,
                                 status_resolver=status_resolver, max_bytes=VERIFY_LIMIT)
    # What was checked and the outcome only: never the credential or who it names.
    log.info("verified an upload: %s (%s)", report.result, report.format,
             extra={"event": "verify", "result": report.result, "format": report.format,
                    "size": len(data)})
    return report


def _allow_large_body() -> None:
    # The app-wide limit (MAX_CONTENT_LENGTH) is smaller; this route takes a 2 MB file or a
    # 2 MB pasted text (a non-file multipart field, hence max_form_memory_size too).
    request.max_content_length = VERIFY_LIMIT + FORM_OVERHEAD
    request.max_form_memory_size = VERIFY_LIMIT + 1024


def _read_upload(field_names: tuple[str, ...]) -> bytes | None:
    """The first non-empty uploaded file of these form fields (None if there is none)."""
    for name in field_names:
        upload = request.files.get(name)
        if upload is None or (not upload.filename and not upload.content_length):
            continue
        data = upload.stream.read(VERIFY_LIMIT + 1)
        if len(data) > VERIFY_LIMIT:
            raise TooLarge()
        if data:
            return data
    return None


# --- /verify (HTML) ---------------------------------------------------------------------


def _verify_page(*, report: badge_verify.VerificationReport | None = None,
                 error: str = "", status: int = 200, source: str = "") -> Response:
    html = render_template("credentials/verify.html",
                           report=report_view(report) if report is not None else None,
                           error=error, limit=limit_text(), source=source,
                           fetches_issuer_documents=current_app.config[
                               "VERIFY_FETCH_ISSUER_DOCUMENTS"])
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/verify")
def verify_form() -> ResponseReturnValue:
    return _verify_page()


@bp.post("/verify")
def verify_submit() -> ResponseReturnValue:
    _allow_large_body()
    try:
        if not public_forms.form_token_valid():
            return _verify_page(status=403, error=_(
                "This form had expired or did not come from this page. Choose the file or "
                "paste the credential again, then press “Verify”."))
        public_id = request.form.get("credential_id", "").strip()
        if public_id:
            return _verify_ours(public_id)
        data = _read_upload(("credential_file",))
        source = _("the uploaded file")
        if data is None:
            text = request.form.get("credential_text", "")
            if len(text.encode("utf-8")) > VERIFY_LIMIT:
                raise TooLarge()
            data = text.strip().encode("utf-8") if text.strip() else None
            source = _("the pasted text")
    except (TooLarge, RequestEntityTooLarge):
        return _verify_page(status=413, error=_(
            "That is larger than the %(limit)s limit. A credential, even baked into an "
            "image, is much smaller: check that you chose the right file.", limit=limit_text()))
    if data is None:
        return _verify_page(status=422, error=_(
            "Choose a credential file or paste a credential, then press “Verify”."))
    report = verify_upload(data)
    return _verify_page(report=report, source=source, status=422 if report.too_complex else 200)


def _verify_ours(public_id: str) -> Response:
    """The "verify this credential" button of a credential page: verify our stored
    credential (the same checks an upload gets), no URL fetch involved."""
    found = (issuing.credential_by_public_id(db_session(), public_id)
             if len(public_id) <= PUBLIC_ID_MAX else None)
    if found is None:
        return _verify_page(status=404,
                            error=_("There is no credential with that identifier."))
    _award, record = found
    report = issuing.verify_record(db_session(), record, base_url=_base_url())
    return _verify_page(report=report, source=_("the credential published on this site"))


# --- POST /api/v1/verify (JSON) ---------------------------------------------------------


def _too_large_json() -> ResponseReturnValue:
    return render_error(413, "too_large", _("Too large"),
                        _("The credential is larger than the %(limit)s limit.",
                          limit=limit_text()))


@bp.post("/api/v1/verify")
def verify_api() -> ResponseReturnValue:
    _allow_large_body()
    try:
        if request.mimetype == "multipart/form-data":
            data = _read_upload(("file", "credential"))
            if data is None:
                text = request.form.get("credential", "")
                data = text.encode("utf-8") if text.strip() else None
        else:
            data = request.get_data(cache=False)
            if len(data) > VERIFY_LIMIT:
                raise TooLarge()
    except (TooLarge, RequestEntityTooLarge):
        return _too_large_json()
    if not data or not data.strip():
        return render_error(400, "empty", _("Nothing to verify"),
                            _("Send the credential (JSON, a VC-JWT, or a baked PNG or SVG) as "
                              "the request body, or as a multipart field named 'file'."))
    report = verify_upload(data)
    body = report_json(report)
    if report.too_complex:  # refused before it could cost more than the budget
        body["error"] = {"code": "too_complex", "title": _("Too large or too complex to verify"),
                         "message": report.reason, "request_id": g.get("request_id", "-")}
    response = jsonify(body)
    response.status_code = 422 if report.too_complex else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def _cors(response: Response) -> Response:
    # The verify API reads no cookies or tokens of the caller: any origin may use it.
    if request.path == "/api/v1/verify":
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


# --- /credentials/<public_id> -------------------------------------------------------------

JSON_LD, JSON, VC_JWT, HTML = ("application/ld+json", "application/json",
                               "application/vc+jwt", "text/html")
PAGE_CACHE = "private, no-cache"          # the status can change; the form token is personal
DOCUMENT_CACHE = "public, max-age=300"    # a signed credential never changes
IMAGE_CACHE = "public, max-age=86400"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_SAFE_FILE = re.compile(r"[^A-Za-z0-9._-]+")


def _vault() -> Any:
    return current_app.extensions["lti"].vault


def find_credential(session: Session, public_id: str) -> tuple[Award, CredentialRecord]:
    """The award and its signed credential (issued now if it was not yet; signed again now if
    its key was revoked since). Raises NotFound."""
    if not public_id or len(public_id) > PUBLIC_ID_MAX:
        raise NotFound(_("There is no credential at this address."))
    found = issuing.credential_by_public_id(session, public_id)
    if found is None or issuing.needs_issue(found[1]):
        found = issuing.credential_by_public_id(session, public_id, vault=_vault(),
                                                base_url=_base_url())
        if found is None:
            raise NotFound(_("There is no credential at this address."))
        session.commit()  # issued or re-issued on this read: keep it
    return found


def public_url(award: Award) -> str:
    return issuing.credential_id(_base_url(), award)


def _date(value: datetime | None) -> str:
    """``6 December 2026`` / ``6 décembre 2026``."""
    return format_date(value, "long") if value is not None else ""


def parse_datetime(value: Any) -> datetime | None:
    return jwt_vc.parse_datetime(value) if isinstance(value, str) else None


def _learner_name(session: Session, award: Award) -> str:
    """The learner's name, only when they chose to show it on the public page."""
    if not (award.extra or {}).get("public_name"):
        return ""
    person = session.get(Person, award.person_id)
    if person is not None and person.display_name.strip():
        return person.display_name.strip()
    account = session.scalars(select(LearnerAccount).where(
        LearnerAccount.person_id == award.person_id, LearnerAccount.name != "")
        .order_by(LearnerAccount.id.desc())).first()
    return account.name.strip() if account is not None else ""


def _demonstrated_codes(session: Session, award: Award) -> set[str]:
    ids = list(award.demonstration_ids or [])
    if not ids:
        return set()
    return set(session.scalars(select(Skill.code).join(
        Demonstration, Demonstration.skill_id == Skill.id).where(Demonstration.id.in_(ids))))


@dataclass(frozen=True)
class Status:
    key: str        # valid | warning | revoked | expired | invalid (css and tests)
    words: str      # what the page says
    detail: str     # one more sentence


def credential_status(award: Award, issuer: Issuer, credential: dict[str, Any],
                      report: badge_verify.VerificationReport) -> Status:
    until = parse_datetime(credential.get("validUntil"))
    if report.revoked:
        if award.revoked_at:
            when = _date(award.revoked_at)
            words = _("Revoked on %(date)s", date=when)
            detail = _("%(institution)s revoked this credential on %(date)s; it is no longer "
                       "valid.", institution=issuer.name, date=when)
        else:
            words = _("Revoked")
            detail = _("%(institution)s revoked this credential; it is no longer valid.",
                       institution=issuer.name)
        if (issuer.settings or {}).get("public_revocation_reason") and award.revoked_reason:
            detail += " " + _("Reason given: %(reason)s", reason=award.revoked_reason)
        return Status("revoked", words, detail)
    if report.expired:
        return Status("expired",
                      _("Expired on %(date)s", date=_date(until)) if until else _("Expired"),
                      _("It was valid for a limited time, which has passed."))
    if report.result == "valid":
        detail = (_("Valid until %(date)s.", date=_date(until)) if until
                  else _("It does not expire."))
        return Status("valid", _("Valid"),
                      _("Signature, issuer key and revocation status checked just now.")
                      + " " + detail)
    if report.result == "warning":
        return Status("warning", _("Valid, with warnings"), report.reason)
    return Status("invalid", _("Could not be verified"), report.reason)


def _skills(snapshot: dict[str, Any], demonstrated: set[str]) -> list[dict[str, Any]]:
    skills = [s for s in snapshot.get("skills", []) if isinstance(s, dict)]
    shown = [s for s in skills if s.get("code") in demonstrated] or \
        [s for s in skills if s.get("requirement") == "required"]
    out = []
    for skill in shown:
        alignments = []
        for a in skill.get("alignments", []) or []:
            if isinstance(a, dict):
                alignments.append({**a, "target_url": http_url(a.get("target_url"))})
        out.append({**skill, "alignments": alignments})
    return out


def page_model(session: Session, award: Award, record: CredentialRecord) -> dict[str, Any]:
    issuer = session.get(Issuer, award.issuer_id)
    assert issuer is not None  # foreign key
    credential = record.json
    report = issuing.verify_record(session, record, base_url=_base_url())
    # The page reads in the reader's language (?lang=, cookie, Accept-Language) whatever
    # language the signed credential is in: a French credential can be read in English.
    locale = current_locale()
    snapshot = localized_version(learner_view(award.version), locale)
    title_text = snapshot["title"] if snapshot["title"] else \
        LocalText(award.version.title, "en", False)
    title = title_text.text
    issuer_name = localized(issuer, None, "name", locale)
    achievement = credential.get("credentialSubject", {}).get("achievement", {})
    image = achievement.get("image") if isinstance(achievement, dict) else None
    caption = image.get("caption") if isinstance(image, dict) else None
    alt = str(caption or _("Badge: %(credential)s, issued by %(institution)s",
                           credential=str(title), institution=issuer_name))
    name = _learner_name(session, award)
    earner = name or _("a learner")
    context = award.context
    url = public_url(award)
    status = credential_status(award, issuer, credential, report)
    return {
        "award": award, "issuer": {"name": issuer_name}, "title": title_text,
        "snapshot": snapshot, "credential_lang": BCP47[issuing.credential_record_language(
            record)],
        "credential": credential, "report": report_view(report), "status": status,
        "learner_name": name, "earner": earner, "url": url,
        "route_label": label(award.route), "course": context.title if context else "",
        "awarded": _date(award.awarded_at), "awarded_iso": award.awarded_at.isoformat(),
        "valid_until": _date(parse_datetime(credential.get("validUntil"))),
        "skills": _skills(snapshot, _demonstrated_codes(session, award)),
        "delivery_modes": [label(m) for m in snapshot.get("delivery_modes", [])],
        "catalog_url": credential_url(_base_url(), issuer, award.credential.code,
                                      award.version.version),
        "issuer_url": http_url(issuer.url), "image_alt": alt,
        "pathways": public_pathways.summaries(session, issuer, award.credential_id,
                                              _base_url()),
        "stacked_on": _stacked_on(session, award, issuer),
        "og_image": url + "/image.png",
        "og_description": _("%(credential)s: a verifiable micro-credential issued by "
                            "%(institution)s to %(learner)s on %(date)s.", credential=str(title),
                            institution=issuer_name, learner=earner,
                            date=_date(award.awarded_at)),
    }


def _stacked_on(session: Session, award: Award, issuer: Issuer) -> dict[str, Any] | None:
    """For a program credential (route stacked): the pathway and the credentials it was
    awarded on, each with its own public page (they are its evidence)."""
    extra = award.extra or {}
    if award.route != STACKED_ROUTE or not extra.get("stacked_award_ids"):
        return None
    stacked = session.scalars(select(Award).where(
        Award.id.in_([int(i) for i in extra["stacked_award_ids"]])).order_by(Award.id))
    pathway = extra.get("pathway") or {}
    return {"title": pathway.get("title") or pathway.get("code", ""),
            "url": public_pathways.pathway_url(_base_url(), issuer,
                                               str(pathway.get("code", ""))),
            "awards": [{"title": a.version.title, "url": public_url(a)} for a in stacked]}


def _wanted_type() -> str:
    accept = request.accept_mimetypes
    best = accept.best_match([HTML, JSON_LD, JSON, VC_JWT], default=HTML)
    if best != HTML and accept[best] <= accept[HTML]:
        return HTML  # a tie (e.g. */*) goes to the page
    return best or HTML


def _document(body: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = DOCUMENT_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/credentials/<public_id>")
def credential_page(public_id: str) -> ResponseReturnValue:
    session = db_session()
    award, record = find_credential(session, public_id)
    wanted = _wanted_type()
    if wanted in (JSON_LD, JSON):
        return _document(json.dumps(record.json, ensure_ascii=False), wanted)
    if wanted == VC_JWT:
        return _document(record.jwt, VC_JWT)
    html = render_template("credentials/credential.html", **page_model(session, award, record))
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = PAGE_CACHE
    response.vary.add("Accept")
    response.headers["Link"] = (f'<{public_url(award)}>; rel="alternate"; type="{JSON_LD}", '
                                f'<{public_url(award)}>; rel="alternate"; type="{VC_JWT}"')
    return response


def _file_name(award: Award, suffix: str) -> str:
    code = _SAFE_FILE.sub("-", award.credential.code).strip("-") or "credential"
    return f"{code}-{award.public_id}{suffix}"


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = DOCUMENT_CACHE
    if mimetype == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_CSP
    response.add_etag()
    return response.make_conditional(request)


def title_and_issuer(record: CredentialRecord) -> tuple[str, str]:
    achievement = record.json.get("credentialSubject", {}).get("achievement", {})
    issuer = record.json.get("issuer", {})
    return str(achievement.get("name", "")), str(issuer.get("name", ""))


def badge_png(record: CredentialRecord) -> bytes:
    """The badge picture of a signed credential: its title, issuer and fixed word in the
    credential's language (``achievement.inLanguage``)."""
    return badge_images.badge_png(*title_and_issuer(record),
                                  issuing.credential_record_language(record))


def baked_png(record: CredentialRecord) -> bytes:
    return baking.bake_png(badge_png(record), record.json)


def baked_svg(record: CredentialRecord) -> bytes:
    return baking.bake_svg(issuing.badge_svg(record), record.json)


@bp.get("/credentials/<public_id>/credential.json")
def download_json(public_id: str) -> ResponseReturnValue:
    award, record = find_credential(db_session(), public_id)
    body = json.dumps(record.json, ensure_ascii=False, indent=2)
    return _download(body, JSON_LD, _file_name(award, ".json"))


@bp.get("/credentials/<public_id>/badge.png")
def download_png(public_id: str) -> ResponseReturnValue:
    award, record = find_credential(db_session(), public_id)
    return _download(baked_png(record), "image/png", _file_name(award, ".png"))


@bp.get("/credentials/<public_id>/badge.svg")
def download_svg(public_id: str) -> ResponseReturnValue:
    award, record = find_credential(db_session(), public_id)
    return _download(baked_svg(record), "image/svg+xml", _file_name(award, ".svg"))


def _image(body: bytes | str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = IMAGE_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    if mimetype == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_CSP
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/credentials/<public_id>/image.svg")
def image_svg(public_id: str) -> ResponseReturnValue:
    """The badge as shown on the page (not baked: the download is)."""
    _award, record = find_credential(db_session(), public_id)
    return _image(issuing.badge_svg(record), "image/svg+xml")


@bp.get("/credentials/<public_id>/image.png")
def image_png(public_id: str) -> ResponseReturnValue:
    """The badge as a PNG for link previews (Open Graph images cannot be SVG)."""
    _award, record = find_credential(db_session(), public_id)
    return _image(badge_png(record), "image/png")
