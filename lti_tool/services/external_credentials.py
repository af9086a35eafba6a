"""Verifying a credential another institution issued, before it is recognised by transfer.

Input is untrusted: what a learner or a registrar submits (bytes of a file or pasted text,
or the URL of a hosted assertion). Nothing here raises for a bad credential: the answer is
an :class:`ExternalVerification` whose ``reason`` says why it is refused.

* **Open Badges 3.0** (JSON, VC-JWT, baked PNG/SVG): :mod:`lti_tool.badges.verify` with its
  trust rules (:mod:`lti_tool.badges.binding`: a proof counts only when its key is shown to
  be the issuer's; status list; validity dates). Keys and status lists of other issuers
  come from their published documents through :class:`~lti_tool.services.remote_issuers.
  RemoteResolvers` (https, public addresses only, ``HTTP_TIMEOUT_SECONDS`` each, a bounded
  number of fetches); ``did:key`` issuers need no fetch for their key.
* **Open Badges 2.0** (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/
  index.html#Verification): a *hosted* assertion (its URL, or its JSON whose ``id`` is then
  fetched: the copy the issuer hosts is the one that counts) is checked against its
  BadgeClass and issuer Profile, fetched the same guarded way: the assertion must be hosted
  on the issuer's origin (or one its ``verification.allowedOrigins`` lists), not
  ``revoked`` (nor answered 410 Gone), not expired. A *signed* assertion (compact JWS,
  RS256) is verified with the ``CryptographicKey`` its ``verify.creator`` names, which
  must be owned by the issuer and listed in the issuer's ``publicKey``; the issuer's
  ``revocationList`` is consulted.

Whether the credential names the learner (hashed identities) is decided later, against the
learner's known identities (``domain.transfer.recipient_matches``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.badges import baking, jwt_vc
from lti_tool.badges import verify as badge_verify
from lti_tool.badges.errors import BadgeError
from lti_tool.domain.transfer import ExternalClaims, ob2_claims, ob3_claims, parse_datetime
from lti_tool.models import Issuer
from lti_tool.services import issuer_keys, issuing
from lti_tool.services.http_client import HttpClient, total_deadline
from lti_tool.services.remote_issuers import RemoteResolvers

MAX_BYTES = badge_verify.MAX_INPUT_BYTES
#: All the fetches of one verification together (each also has HTTP_TIMEOUT_SECONDS):
#: well under gunicorn's worker timeout (30 s), so a slow issuer cannot take a worker down.
TOTAL_FETCH_SECONDS = 12.0
#: OB 2.0 needs more documents than an OB 3.0 credential: assertion, badge class, issuer,
#: key, revocation list.
OB2_MAX_FETCHES = 6
OB2_CONTEXT = "https://w3id.org/openbadges/v2"

Result = Literal["valid", "warning", "invalid"]


@dataclass
class ExternalVerification:
    result: Result
    reason: str
    standard: str                      # "OB 3.0" | "OB 2.0" | ""
    format: str                        # json | jwt | png | svg | url
    steps: list[dict[str, str]] = field(default_factory=list)
    claims: ExternalClaims | None = None
    revoked: bool = False
    expired: bool = False
    #: the document that was verified (the hosted copy for an OB 2.0 hosted assertion)
    document: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return self.result == "valid"

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "reason": self.reason, "standard": self.standard,
                "format": self.format, "steps": self.steps, "revoked": self.revoked,
                "expired": self.expired}


@dataclass
class Fetcher:
    """How this verification may reach other servers: the tool's client, the test-only
    origins, and the deadline of all its fetches together."""

    http: HttpClient
    allowed_origins: Mapping[str, str] = field(default_factory=dict)
    total_seconds: float = TOTAL_FETCH_SECONDS

    def resolvers(self, max_fetches: int) -> RemoteResolvers:
        return RemoteResolvers(self.http, max_fetches=max_fetches,
                               allowed_origins=self.allowed_origins)


def _refused(reason: str, fmt: str, standard: str = "", **flags: Any) -> ExternalVerification:
    name, _, message = reason.partition(": ")
    return ExternalVerification("invalid", reason, standard, fmt,
                                [{"name": name, "status": "error", "message": message}],
                                **flags)


def looks_like_url(text: str) -> bool:
    text = text.strip()
    return text.startswith(("https://", "http://")) and len(text) <= 2048 and \
        not any(c.isspace() for c in text)


def verify_external(session: Session, data: bytes, *, base_url: str, fetcher: Fetcher,
                    now: datetime | None = None) -> ExternalVerification:
    """Verify untrusted input (OB 3.0 JSON / VC-JWT / PNG / SVG, OB 2.0 assertion JSON,
    JWS or URL). Never raises for a bad credential. Its fetches together take at most
    ``fetcher.total_seconds``."""
    with total_deadline(fetcher.total_seconds):
        return _verify_external(session, data, base_url=base_url, fetcher=fetcher,
                                now=now or datetime.now(UTC))


def _verify_external(session: Session, data: bytes, *, base_url: str, fetcher: Fetcher,
                     now: datetime) -> ExternalVerification:
    if len(data) > MAX_BYTES:
        return _refused(f"input: larger than the {MAX_BYTES // (1024 * 1024)} MB limit",
                        "unknown")
    text = _text(data)
    if text is not None and looks_like_url(text):
        return _ob2_hosted(text.strip(), None, fetcher, now, fmt="url")
    ob2 = _ob2_payload(data, text)
    if ob2 is not None:
        kind, value = ob2
        if kind == "url":
            return _ob2_hosted(str(value), None, fetcher, now, fmt="png")
        if kind == "jws":
            return _ob2_signed(str(value), fetcher, now)
        assert isinstance(value, dict)
        return _ob2_hosted(str(value.get("id") or ""), value, fetcher, now, fmt="json")
    return _ob3(session, data, base_url=base_url, fetcher=fetcher, now=now)


def _text(data: bytes) -> str | None:
    if data.startswith(baking.PNG_SIGNATURE):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _is_ob2(document: Mapping[str, Any]) -> bool:
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    return OB2_CONTEXT in contexts or ("Assertion" in types and "VerifiableCredential"
                                       not in types)


def _ob2_payload(data: bytes, text: str | None) -> tuple[str, Any] | None:
    """("url" | "jws" | "json", value) when the input is an OB 2.0 assertion (also baked
    in a PNG under the 'openbadges' keyword), else None."""
    if data.startswith(baking.PNG_SIGNATURE):
        baked = _ob2_baked_png(data)
        if baked is None:
            return None
        text = baked
        if looks_like_url(text):
            return ("url", text.strip())
    if text is None:
        return None
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            return None
        return ("json", value) if isinstance(value, dict) and _is_ob2(value) else None
    if jwt_vc.looks_like_jwt(stripped):
        try:
            decoded = jwt_vc.decode_jwt(stripped)
        except BadgeError:
            return None
        if _is_ob2(decoded.payload) and "vc" not in decoded.payload:
            return ("jws", stripped)
    return None


def _ob2_baked_png(data: bytes) -> str | None:
    """The text of an OB 2.0 'openbadges' iTXt/tEXt chunk, if the PNG has one."""
    try:
        chunks = baking._png_chunks(data)
    except BadgeError:
        return None
    for chunk in chunks:
        if chunk.type in (b"iTXt", b"tEXt") and \
                baking._itxt_keyword(chunk.data) == baking.OB2_PNG_KEYWORD:
            if chunk.type == b"tEXt":
                return chunk.data.split(b"\0", 1)[1].decode("latin-1")
            try:
                return baking._parse_itxt(chunk.data)
            except BadgeError:
                return None
    return None


# -- Open Badges 3.0 -------------------------------------------------------------------------
def _own_issuer_ids(session: Session, base_url: str) -> set[str]:
    return {issuer_keys.issuer_url(base_url, issuer)
            for issuer in session.scalars(select(Issuer))}


def _ob3(session: Session, data: bytes, *, base_url: str, fetcher: Fetcher,
         now: datetime) -> ExternalVerification:
    remote = fetcher.resolvers(max_fetches=4)
    key_resolver, status_resolver = issuing.resolvers(session, base_url=base_url,
                                                      remote=remote)
    report = badge_verify.verify(data, now=now, key_resolver=key_resolver,
                                 status_resolver=status_resolver, max_bytes=MAX_BYTES)
    steps = [{"name": s.name, "status": s.status, "message": s.message} for s in report.steps]
    credential = report.credential
    claims = ob3_claims(credential) if isinstance(credential, dict) else None
    result: Result = report.result
    reason = report.reason
    if result != "invalid" and report.kind != "ob":
        result, reason = "invalid", ("type: this is not an Open Badge (an OpenBadgeCredential "
                                     "or AchievementCredential)")
        steps.append({"name": "type", "status": "error", "message": reason[6:]})
    if claims is not None and claims.issuer_id in _own_issuer_ids(session, base_url):
        result = "invalid"
        reason = ("issuer: this credential was issued here, not by another institution; "
                  "it is already on the learner's record")
        steps.append({"name": "issuer", "status": "error", "message": reason[8:]})
    return ExternalVerification(result, reason, "OB 3.0", report.format, steps, claims,
                                revoked=report.revoked or report.suspended,
                                expired=report.expired, document=credential)


# -- Open Badges 2.0 -------------------------------------------------------------------------
class _Steps:
    def __init__(self) -> None:
        self.steps: list[dict[str, str]] = []

    def add(self, name: str, status: str, message: str) -> None:
        self.steps.append({"name": name, "status": status, "message": message})

    def first_error(self) -> str | None:
        for step in self.steps:
            if step["status"] == "error":
                return f"{step['name']}: {step['message']}"
        return None

    def warnings(self) -> str:
        return "; ".join(f"{s['name']}: {s['message']}" for s in self.steps
                         if s["status"] == "warn")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _ref(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, Mapping) and isinstance(node.get("id"), str):
        return str(node["id"])
    return ""


def _document(remote: RemoteResolvers, node: Any, what: str, steps: _Steps
              ) -> Mapping[str, Any] | None:
    """The document a node names (fetched from its id; an embedded object is used only
    when it has no http(s) id)."""
    url = _ref(node)
    if url.startswith(("https://", "http://")):
        try:
            return remote.fetch_json(url)
        except BadgeError as exc:
            steps.add(what, "error", f"could not fetch the {what} at {url[:120]}: "
                      f"{exc.message}")
            return None
    if isinstance(node, Mapping):
        return node
    steps.add(what, "error", f"the assertion names no {what}")
    return None


def _finish(steps: _Steps, fmt: str, claims: ExternalClaims | None,
            document: Mapping[str, Any] | None, **flags: Any) -> ExternalVerification:
    error = steps.first_error()
    if error:
        return ExternalVerification("invalid", error, "OB 2.0", fmt, steps.steps, claims,
                                    document=dict(document) if document else None, **flags)
    warnings = steps.warnings()
    return ExternalVerification("warning" if warnings else "valid",
                                warnings or "all checks passed", "OB 2.0", fmt, steps.steps,
                                claims, document=dict(document) if document else None,
                                **flags)


def _check_dates(assertion: Mapping[str, Any], now: datetime, steps: _Steps) -> bool:
    issued = parse_datetime(assertion.get("issuedOn"))
    expires_raw = assertion.get("expires")
    expires = parse_datetime(expires_raw)
    if issued is None:
        steps.add("validity", "error", "issuedOn is missing or not a date-time")
        return False
    if issued > now:
        steps.add("validity", "error", f"not yet valid: issuedOn {assertion['issuedOn']} is "
                  "in the future")
        return False
    if expires_raw is not None and expires is None:
        steps.add("validity", "error", "expires is not a date-time")
        return False
    if expires is not None and expires <= now:
        steps.add("validity", "error", f"expired: expires {expires_raw} has passed")
        return True
    steps.add("validity", "ok", f"issued on {assertion['issuedOn']}"
              + (f", valid until {expires_raw}" if expires else " (no expiry)"))
    return False


def _badge_and_issuer(remote: RemoteResolvers, assertion: Mapping[str, Any], steps: _Steps
                      ) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    badge = _document(remote, assertion.get("badge"), "badge class", steps)
    if badge is None:
        return None
    issuer = _document(remote, badge.get("issuer"), "issuer profile", steps)
    if issuer is None:
        return None
    if _ref(badge.get("issuer")) and issuer.get("id") != _ref(badge.get("issuer")):
        steps.add("issuer profile", "error", "the issuer profile does not describe itself "
                  "under the address it was fetched from")
        return None
    steps.add("badge class", "ok", f"“{str(badge.get('name') or '')[:120]}” by "
              f"{str(issuer.get('name') or issuer.get('id'))[:120]}")
    return badge, issuer


def _ob2_hosted(url: str, given: Mapping[str, Any] | None, fetcher: Fetcher, now: datetime,
                *, fmt: str) -> ExternalVerification:
    steps = _Steps()
    remote = fetcher.resolvers(OB2_MAX_FETCHES)
    if not url.startswith(("https://", "http://")):
        verify = given.get("verify") if given else None
        kind = verify.get("type") if isinstance(verify, Mapping) else None
        steps.add("verify", "error", "this Open Badges 2.0 assertion has no hosted address "
                  "(its id is not an https URL)" if kind not in ("signed", "SignedBadge")
                  else "a signed assertion must be submitted as its signature (the JWS "
                  "text or the baked image), not as plain JSON")
        return _finish(steps, fmt, None, given)
    steps.add("input", "ok", "Open Badges 2.0 hosted assertion")
    try:
        assertion = remote.fetch_json(url)
    except BadgeError as exc:
        if "HTTP 410" in exc.message:
            steps.add("status", "error", "revoked by the issuer (the assertion's address "
                      "answers 410 Gone)")
            return _finish(steps, fmt, None, given, revoked=True)
        steps.add("fetch", "error", f"the hosted assertion could not be fetched: "
                  f"{exc.message}")
        return _finish(steps, fmt, None, given)
    if assertion.get("id") != url:
        steps.add("fetch", "error", "the document at that address is not the assertion it "
                  "claims to be (its id differs)")
        return _finish(steps, fmt, None, assertion)
    if given is not None and given.get("recipient") != assertion.get("recipient"):
        steps.add("fetch", "error", "the submitted copy differs from the one the issuer "
                  "hosts (recipient)")
        return _finish(steps, fmt, None, assertion)
    verify = assertion.get("verify")
    kind = verify.get("type") if isinstance(verify, Mapping) else None
    if kind not in ("hosted", "HostedBadge"):
        steps.add("verify", "error", f"verification type {str(kind)[:40]!r} is not 'hosted'")
        return _finish(steps, fmt, None, assertion)
    steps.add("fetch", "ok", "the issuer hosts this assertion at its own address")
    found = _badge_and_issuer(remote, assertion, steps)
    if found is None:
        return _finish(steps, fmt, None, assertion)
    badge, issuer = found
    claims = ob2_claims(assertion, badge, issuer)
    issuer_origin = _origin(str(issuer.get("id") or ""))
    allowed = {issuer_origin}
    issuer_verification = issuer.get("verification")
    if isinstance(issuer_verification, Mapping):
        origins = issuer_verification.get("allowedOrigins")
        for origin in origins if isinstance(origins, list) else [origins]:
            if isinstance(origin, str):
                allowed.add(origin.lower() if "://" in origin else
                            f"{urlsplit(url).scheme}://{origin.lower()}")
    if _origin(url) not in allowed:
        steps.add("issuer-key", "error", f"the assertion is hosted at {_origin(url)}, which "
                  "is not the issuer's origin nor one it allows: it is not shown to be the "
                  "issuer's")
        return _finish(steps, fmt, claims, assertion)
    steps.add("issuer-key", "ok", f"hosted on the issuer's own origin ({_origin(url)})")
    expired = _check_dates(assertion, now, steps)
    if assertion.get("revoked") is True:
        reason = str(assertion.get("revocationReason") or "")[:200]
        steps.add("status", "error", "revoked by the issuer" + (f" ({reason})" if reason
                                                                 else ""))
        return _finish(steps, fmt, claims, assertion, revoked=True, expired=expired)
    steps.add("status", "ok", "not revoked")
    return _finish(steps, fmt, claims, assertion, expired=expired)


def _ob2_signed(token: str, fetcher: Fetcher, now: datetime) -> ExternalVerification:
    steps = _Steps()
    steps.add("input", "ok", "Open Badges 2.0 signed assertion (JWS)")
    remote = fetcher.resolvers(OB2_MAX_FETCHES)
    try:
        decoded = jwt_vc.decode_jwt(token)
    except BadgeError as exc:
        steps.add("parse", "error", exc.message)
        return _finish(steps, "jwt", None, None)
    assertion = decoded.payload
    verify = assertion.get("verify")
    creator = verify.get("creator") if isinstance(verify, Mapping) else None
    if not isinstance(verify, Mapping) or verify.get("type") not in ("signed", "SignedBadge") \
            or not isinstance(creator, str):
        steps.add("verify", "error", "a signed assertion needs verify.type 'signed' and the "
                  "address of its key (verify.creator)")
        return _finish(steps, "jwt", None, assertion)
    if decoded.header.get("alg") != "RS256":
        steps.add("proof", "error", f"Open Badges 2.0 signatures use RS256, not "
                  f"{str(decoded.header.get('alg'))[:20]!r}")
        return _finish(steps, "jwt", None, assertion)
    try:
        key_document = remote.fetch_json(creator)
        pem = key_document.get("publicKeyPem")
        if not isinstance(pem, str):
            raise BadgeError("the key document has no publicKeyPem")
        public_key = serialization.load_pem_public_key(pem.encode("ascii"))
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise BadgeError("the key is not an RSA key")
        jwt_vc.verify_signature(decoded, public_key)
    except (BadgeError, ValueError, UnicodeEncodeError) as exc:
        message = exc.message if isinstance(exc, BadgeError) else "the key cannot be read"
        steps.add("proof", "error", message)
        return _finish(steps, "jwt", None, assertion)
    steps.add("proof", "ok", "the signature is intact (RS256)")
    found = _badge_and_issuer(remote, assertion, steps)
    if found is None:
        return _finish(steps, "jwt", None, assertion)
    badge, issuer = found
    claims = ob2_claims(assertion, badge, issuer)
    listed = issuer.get("publicKey")
    listed_ids = {_ref(k) for k in (listed if isinstance(listed, list) else [listed])}
    if key_document.get("owner") != issuer.get("id") or creator not in listed_ids:
        steps.add("issuer-key", "error", "signature correct, but the key is not shown to be "
                  "the issuer's (the key's owner and the issuer's publicKey must name each "
                  "other)")
        return _finish(steps, "jwt", claims, assertion)
    steps.add("issuer-key", "ok", f"signed by the issuer: its profile lists the key {creator}")
    expired = _check_dates(assertion, now, steps)
    revocation_url = issuer.get("revocationList")
    if isinstance(revocation_url, str) and revocation_url:
        try:
            revocations = remote.fetch_json(revocation_url)
        except BadgeError as exc:
            steps.add("status", "warn", f"the revocation list could not be read "
                      f"({exc.message}); revocation status unknown")
            return _finish(steps, "jwt", claims, assertion, expired=expired)
        revoked = revocations.get("revokedAssertions")
        for item in revoked if isinstance(revoked, list) else []:
            if _ref(item) == assertion.get("id") or item == assertion.get("uid"):
                reason = str(item.get("revocationReason") or "")[:200] \
                    if isinstance(item, Mapping) else ""
                steps.add("status", "error", "revoked by the issuer"
                          + (f" ({reason})" if reason else ""))
                return _finish(steps, "jwt", claims, assertion, revoked=True,
                               expired=expired)
        steps.add("status", "ok", "not on the issuer's revocation list")
    else:
        steps.add("status", "skipped", "the issuer publishes no revocation list")
    return _finish(steps, "jwt", claims, assertion, expired=expired)
