"""Hardened validation of an LTI 1.3 launch (the OIDC id_token POSTed to /lti/launch).

pylti1p3 2.0.0 never consumes a nonce, ignores ``azp``, compares only the first ``aud``, has
no clock leeway and fetches keys without a timeout, so the checks are done here, in the
order below, each with its own error code and a message a person can act on:

1. shape: id_token and state present, a three-part JWS, JSON header and claims;
2. algorithm: exactly RS256 (``none``, HS*, ES*, PS* refused before any key is looked up);
3. registration: ``iss`` + client (``aud``/``azp``, OIDC Core §3.1.3.7) is a known platform;
4. signature with the platform's key named by ``kid`` (unknown kid → one rate-limited
   JWKS refetch);
5. time: ``exp`` required and not past, ``iat`` required and near now, ``nbf`` not future,
   with CLOCK_SKEW_SECONDS leeway;
6. text: identifying claims (iss, sub, aud, azp, nonce, deployment, course, link, e-mail,
   institutional id) holding a NUL character or a lone UTF-16 surrogate are refused; other
   text (names, titles, custom parameters) is cleaned: NUL removed, a lone surrogate
   replaced by U+FFFD. Neither can be stored (PostgreSQL refuses NUL; UTF-8 has no lone
   surrogates), and JSON lets a platform send both. The claims are walked only when the
   token's JSON text holds an escape or byte sequence that can decode to one (rare);
7. LTI claims: version 1.3.0, supported message_type, ``sub`` (anonymous resource-link
   launches excepted, LTI 1.3 §5.3.6), ``deployment_id`` registered, ``target_link_uri``
   ours and the one the login named, resource link id / deep-linking settings present,
   then pylti1p3's own message validators;
8. one-time use (atomic, shared by all workers): the id_token not seen before, the state
   issued by us, bound to this browser when a cookie could be set, and consumed; the nonce
   issued by us, for this login, and not used before; the deployment the login named; and,
   when our cookie was blocked and the platform offered storage (lti_storage_target), the
   secret kept in the platform's storage frame at login.

Nothing is written unless every check passes, except the consumption of the state itself.
Spec: https://www.imsglobal.org/spec/security/v1p0/#authentication-response-validation
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pylti1p3.exception import LtiException
from pylti1p3.message_validators import get_validators
from sqlalchemy.orm import Session

from lti_tool.domain import lti as claims
from lti_tool.errors import LaunchError, ReplayedLaunch, UnknownPlatform
from lti_tool.lti.platform_keys import PlatformKeyCache
from lti_tool.lti.storage import LaunchStore, LoginState
from lti_tool.models import Deployment, Platform
from lti_tool.services import platforms as platform_service
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l

MAX_ID_TOKEN_BYTES = 64 * 1024
ACCEPTED_ALG = "RS256"


@dataclass(frozen=True)
class ValidatorSettings:
    base_url: str
    launch_url: str
    clock_skew: int
    max_iat_age: int
    login_ttl: int


@dataclass
class ValidatedLaunch:
    body: dict[str, Any]
    platform: Platform
    deployment: Deployment | None  # None only until a new deployment is accepted
    login: LoginState
    anonymous: bool


def _fail(code: str, message: str, log_detail: str = "") -> LaunchError:
    return LaunchError(message, code=code, log_detail=log_detail)


def _b64u_decode(segment: str) -> bytes:
    if not segment or any(c in segment for c in "+/="):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class DecodedToken(NamedTuple):
    header: dict[str, Any]
    body: dict[str, Any]
    signing_input: bytes
    signature: bytes
    # The claims' JSON holds no escape or byte sequence that decodes to a NUL or a lone
    # surrogate, so no claim needs ``clean_claims`` (the usual case: no walk of the claims).
    storable: bool


# What in JSON text can decode to a NUL or a lone surrogate: the escapes \u0000 and
# \uD800-\uDFFF, and UTF-8-encoded surrogates (json.loads decodes bytes with
# "surrogatepass"). A raw NUL cannot be in valid JSON. A match only means "look closer".
_MAYBE_UNSTORABLE = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def decode_unverified(id_token: str) -> DecodedToken:
    """The header, claims, signing input and signature of a compact JWS. Raises
    LaunchError."""
    parts = id_token.split(".")
    if len(parts) != 3:
        raise _fail("malformed_id_token", _("The launch's id_token is not a signed JWT."))
    try:
        header = json.loads(_b64u_decode(parts[0]))
        payload = _b64u_decode(parts[1])
        body = json.loads(payload)
        # An unsecured JWS (alg "none") has an empty signature: decode it so the algorithm
        # check below refuses it as such (RFC 7515 §A.5), not as an undecodable token.
        signature = _b64u_decode(parts[2]) if parts[2] else b""
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _fail("malformed_id_token",
                    _("The launch's id_token could not be decoded.")) from None
    if not isinstance(header, dict) or not isinstance(body, dict):
        raise _fail("malformed_id_token", _("The launch's id_token is not a JSON object."))
    return DecodedToken(header, body, f"{parts[0]}.{parts[1]}".encode("ascii"), signature,
                        _MAYBE_UNSTORABLE.search(payload) is None)


#: Claims that identify someone or something: changing their text would change who or what.
_IDENTIFYING = ("iss", "sub", "aud", "azp", "nonce", "email", claims.CLAIM_DEPLOYMENT_ID,
                claims.CLAIM_TARGET_LINK_URI)
_IDENTIFYING_MEMBERS = ((claims.CLAIM_CONTEXT, "id"), (claims.CLAIM_RESOURCE_LINK, "id"),
                        (claims.CLAIM_LIS, "person_sourcedid"))


def _unstorable(text: str) -> bool:
    """A NUL character or a lone surrogate (which UTF-8 cannot encode)."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _clean_text(text: str) -> str:
    text = text.replace("\x00", "")
    if not text.isascii():
        # Round-trip through UTF-16: a well-formed pair survives, a lone half becomes U+FFFD.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value) if _unstorable(value) else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {(_clean(k) if isinstance(k, str) else k): _clean(v) for k, v in value.items()}
    return value


def _contains_unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return _unstorable(value)
    if isinstance(value, list):
        return any(_contains_unstorable(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_unstorable(k) or _contains_unstorable(v)
                   for k, v in value.items())
    return False


def clean_claims(body: dict[str, Any]) -> dict[str, Any]:
    """The claims with storable text (see step 6 of the module docstring). Raises
    LaunchError ``unstorable_characters`` naming an identifying claim that holds a NUL or a
    lone surrogate. Returns ``body`` itself when nothing needed cleaning (the usual case)."""
    if not _contains_unstorable(body):
        return body
    for name in _IDENTIFYING:
        if _contains_unstorable(body.get(name)):
            raise _unstorable_claim(name)
    for parent, member in _IDENTIFYING_MEMBERS:
        value = body.get(parent)
        if isinstance(value, dict) and _contains_unstorable(value.get(member)):
            raise _unstorable_claim(f"{parent.rsplit('/', 1)[-1]}.{member}")
    cleaned: dict[str, Any] = _clean(body)
    return cleaned


def _unstorable_claim(name: str) -> LaunchError:
    return _fail("unstorable_characters",
                 _("The launch's %(claim)s contains a character MicroCred cannot store (a NUL "
                   "character or an invalid Unicode sequence). Ask the platform's "
                   "administrator to correct it.", claim=name), log_detail=name)


def is_our_url(url: str, base_url: str) -> bool:
    target, base = urlsplit(url), urlsplit(base_url)
    if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return False
    base_path = base.path.rstrip("/")
    return target.path == base_path or target.path.startswith(base_path + "/")


class PlatformStorageCheck(Exception):
    """The launch must first prove, via the platform's storage frame, that it comes from the
    browser that logged in (our cookie was blocked). Nothing was consumed."""

    def __init__(self, login: LoginState) -> None:
        self.login = login
        super().__init__("platform storage check needed")


class UnboundLaunch(LaunchError):
    """The launch cannot be tied to the browser that logged in: our cookie did not come
    back and the platform keeps no storage for us. Nothing was consumed, so the same login
    may continue in a new window (``lti.login.restart_params``)."""

    code = "launch_not_bound"
    title = _l("Open MicroCred in a new window")
    public_message = _l(
        "Your browser did not let MicroCred recognise you inside the course page (it blocks "
        "cookies set by tools embedded in other sites), so this launch could not be tied to "
        "you. Continue in a new window, where it works, or allow cookies for MicroCred.")

    def __init__(self, login: LoginState) -> None:
        self.login = login
        super().__init__(log_detail="no cookie and no platform storage")


class LaunchValidator:
    def __init__(self, session: Session, store: LaunchStore, keys: PlatformKeyCache,
                 settings: ValidatorSettings) -> None:
        self.session = session
        self.store = store
        self.keys = keys
        self.settings = settings

    # -- 3. registration ------------------------------------------------------------------
    def _find_platform(self, body: Mapping[str, Any]) -> tuple[Platform, str]:
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise _fail("missing_iss", _("The launch does not say which platform sent it (iss)."))
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not audiences or not all(
            isinstance(a, str) and a for a in audiences
        ):
            raise _fail("bad_aud", _("The launch's audience (aud) is missing or malformed."))
        azp = body.get("azp")
        if azp is not None and not isinstance(azp, str):
            raise _fail("bad_azp", _("The launch's authorized party (azp) is malformed."))
        if azp is not None and azp not in audiences:
            raise _fail("azp_not_in_aud",
                        _("The launch's authorized party (azp) is not one of its audiences."))
        if len(audiences) > 1 and azp is None:
            raise _fail("azp_required",
                        _("The launch names several audiences but no authorized party (azp)."))
        client_id = azp if azp is not None else audiences[0]
        # Read only (columns), here and in the launch's completion: the shared instance.
        platform = platform_service.find_platform(self.session, iss, client_id,
                                                  read_only=True)
        if platform is None:
            if platform_service.issuer_known(self.session, iss):
                raise UnknownPlatform(
                    _("The platform %(issuer)s is registered, but not with client id "
                      "%(client_id)s. Check the client id in MicroCred's platform settings.",
                      issuer=iss, client_id=client_id),
                    code="unknown_client_id")
            raise UnknownPlatform(
                _("The platform %(issuer)s is not registered with MicroCred. An administrator "
                  "must register it first (see the installation guide).", issuer=iss),
                code="unknown_issuer")
        return platform, client_id

    # -- 4. signature -----------------------------------------------------------------------
    def _check_signature(self, platform: Platform, header: Mapping[str, Any],
                         signing_input: bytes, signature: bytes) -> None:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _fail("missing_kid", _("The launch's id_token does not name its signing key."))
        key = self.keys.key_for(platform.id, platform.jwks_url, platform.static_jwks, kid)
        if key is None:
            raise _fail("unknown_signing_key",
                        _("The launch was signed with a key the platform does not publish."))
        if key.alg != ACCEPTED_ALG:
            raise _fail("bad_alg", _("The platform's key is not an RS256 key."))
        try:
            key.key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise _fail("bad_signature", _("The launch's signature is not valid: it may have "
                                           "been altered.")) from None

    # -- 5. time ----------------------------------------------------------------------------
    def _check_times(self, body: Mapping[str, Any], now: float) -> None:
        skew = self.settings.clock_skew
        exp, iat, nbf = body.get("exp"), body.get("iat"), body.get("nbf")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise _fail("missing_exp", _("The launch has no expiry time (exp)."))
        if exp + skew < now:
            raise _fail("expired", _("This launch has expired. Go back to your course and open "
                                   "the tool again."))
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise _fail("missing_iat", _("The launch has no issue time (iat)."))
        if iat > now + skew:
            raise _fail("iat_in_future", _("The launch says it was issued in the future; the "
                                         "platform's clock may be wrong."))
        if now - iat > self.settings.max_iat_age:
            raise _fail("iat_too_old", _("The launch was issued too long ago."))
        if nbf is not None:
            if not isinstance(nbf, int | float) or isinstance(nbf, bool):
                raise _fail("bad_nbf", _("The launch's not-before time (nbf) is malformed."))
            if nbf > now + skew:
                raise _fail("not_yet_valid", _("The launch is not valid yet (nbf)."))

    # -- 6. LTI claims ------------------------------------------------------------------------
    def _check_message(self, body: dict[str, Any]) -> bool:
        if body.get(claims.CLAIM_VERSION) != claims.LTI_VERSION:
            raise _fail("bad_version", _("The launch is not an LTI 1.3.0 message."))
        message_type = body.get(claims.CLAIM_MESSAGE_TYPE)
        if message_type not in claims.SUPPORTED_MESSAGE_TYPES:
            raise _fail("bad_message_type",
                        _("MicroCred does not handle this kind of LTI message."))
        sub = body.get("sub")
        anonymous = False
        if sub is None and message_type == claims.MESSAGE_RESOURCE_LINK:
            anonymous = True  # LTI 1.3 §5.3.6: a platform may launch without a user
        elif not isinstance(sub, str) or not sub or len(sub) > 255:
            raise _fail("missing_sub", _("The launch does not identify the user (sub)."))
        if not isinstance(body.get(claims.CLAIM_ROLES, []), list):
            raise _fail("bad_roles", _("The launch's roles claim is malformed."))
        target = body.get(claims.CLAIM_TARGET_LINK_URI)
        if not isinstance(target, str) or not is_our_url(target, self.settings.base_url):
            raise _fail("bad_target_link_uri",
                        _("The launch is addressed to another tool (target_link_uri)."))
        if message_type == claims.MESSAGE_RESOURCE_LINK:
            link = body.get(claims.CLAIM_RESOURCE_LINK)
            if not isinstance(link, dict) or not link.get("id"):
                raise _fail("missing_resource_link", _("The launch has no resource link id."))
        else:
            settings = body.get(claims.CLAIM_DL_SETTINGS)
            if not isinstance(settings, dict) or not isinstance(
                settings.get("deep_link_return_url"), str
            ):
                raise _fail("missing_deep_linking_settings",
                            _("The deep-linking request has no return URL."))
        if not anonymous:
            try:
                for validator in get_validators():  # type: ignore[no-untyped-call]
                    if validator.can_validate(body):
                        validator.validate(body)
            except LtiException as exc:
                raise _fail("bad_message", _("The launch message is incomplete."),
                            log_detail=str(exc)) from None
        return anonymous

    def _find_deployment(self, platform: Platform, body: Mapping[str, Any]) -> Deployment | None:
        deployment_id = body.get(claims.CLAIM_DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id or len(deployment_id) > 255:
            raise _fail("missing_deployment_id", _("The launch has no deployment id."))
        deployment = platform_service.find_deployment(self.session, platform.id, deployment_id,
                                                      read_only=True)
        platform_service.check_usable(platform, deployment)
        if deployment is None and not platform.accept_new_deployments:
            raise _fail("unknown_deployment",
                        _("Deployment %(deployment)s of this platform is not registered with "
                          "MicroCred.", deployment=deployment_id))
        return deployment

    # -- 7. one-time use ------------------------------------------------------------------------
    def _consume(self, id_token: str, state: str, body: Mapping[str, Any],
                 platform: Platform, client_id: str, browser_cookie: str | None,
                 storage_proof: str = "") -> LoginState:
        nonce = body.get("nonce")
        facts = self.store.launch_facts(state, nonce if isinstance(nonce, str) else None,
                                        id_token)
        if facts.token_used:
            raise ReplayedLaunch(code="id_token_replayed")
        login = facts.login
        if login is None:
            if facts.state_used:
                raise ReplayedLaunch(code="state_replayed")
            raise _fail("state_unknown", _("This launch does not match a login started by "
                        "MicroCred (unknown or expired state). Open the tool again."))
        cookie_matches = False
        if login.browser_binding and browser_cookie is not None:
            if hashlib.sha256(browser_cookie.encode()).hexdigest() != login.browser_binding:
                raise _fail("state_mismatch",
                            _("This launch was started in another browser session."))
            cookie_matches = True
        if login.platform_id != platform.id or login.client_id != client_id:
            raise _fail("state_platform_mismatch",
                        _("This launch comes from a different platform than its login."))
        if body.get(claims.CLAIM_TARGET_LINK_URI) != login.target_link_uri:
            raise _fail("target_link_uri_mismatch",
                        _("The launch's target_link_uri differs from the login's."))
        if login.deployment_hint and \
                body.get(claims.CLAIM_DEPLOYMENT_ID) != login.deployment_hint:
            # LTI 1.3 §4.1.2: lti_deployment_id at login must be the launch's deployment_id.
            raise _fail("deployment_mismatch",
                        _("The launch's deployment differs from the one its login named."))
        if not isinstance(nonce, str) or not nonce:
            raise _fail("missing_nonce", _("The launch has no nonce."))
        if facts.nonce_used:
            raise ReplayedLaunch(code="nonce_replayed")
        owner = facts.nonce_owner
        if owner is None:
            raise _fail("nonce_unknown", _("The launch's nonce was not issued by MicroCred."))
        if owner != LaunchStore.hash_state(state) or nonce != login.nonce:
            raise _fail("nonce_mismatch", _("The launch's nonce was issued for a different login."))
        if login.storage_binding and not cookie_matches:
            # Our cookie was blocked: the secret kept in the platform's storage frame at login
            # proves this is the same browser (LTI Client Side postMessages, lti.get_data).
            if not storage_proof:
                raise PlatformStorageCheck(login)
            if hashlib.sha256(storage_proof.encode()).hexdigest() != login.storage_binding:
                raise _fail("storage_proof_invalid",
                            _("This launch could not be tied to the browser that started it."))
        elif not cookie_matches:
            raise UnboundLaunch(login)
        # All checks passed: consume the state, the nonce and the id_token in one atomic
        # step. A concurrent twin finds one of them used and is refused as a replay.
        exp = body.get("exp")
        token_ttl = int(exp - time.time()) + self.settings.clock_skew if isinstance(
            exp, int | float) else self.settings.login_ttl
        taken, used = self.store.consume(
            state, nonce, id_token, state_ttl=self.settings.login_ttl,
            nonce_ttl=self.settings.login_ttl + self.settings.max_iat_age,
            token_ttl=max(token_ttl, self.settings.max_iat_age))
        if taken is None or used == "state":
            raise ReplayedLaunch(code="state_replayed")
        if used:
            raise ReplayedLaunch(code=f"{used}_replayed")
        return taken

    def validate(self, form: Mapping[str, str], browser_cookie: str | None,
                 now: float | None = None) -> ValidatedLaunch:
        now = time.time() if now is None else now
        id_token = form.get("id_token") or ""
        state = form.get("state") or ""
        if form.get("error"):
            raise _fail("platform_error", _(
                "The platform refused the login: %(error)s",
                error=str(form.get("error_description") or form.get("error"))[:200]))
        if not id_token:
            raise _fail("missing_id_token", _("The launch carries no id_token."))
        if len(id_token) > MAX_ID_TOKEN_BYTES:
            raise _fail("id_token_too_large", _("The launch's id_token is too large."))
        if not state:
            raise _fail("state_missing", _("The launch carries no state: it did not start with "
                        "a login through MicroCred."))
        header, body, signing_input, signature, storable = decode_unverified(id_token)
        if header.get("alg") != ACCEPTED_ALG:
            raise _fail("bad_alg", _("The launch is signed with an algorithm MicroCred does "
                                     "not accept (%(alg)s); only RS256 is allowed.",
                                     alg=str(header.get("alg"))[:20]))
        if header.get("crit") is not None:
            raise _fail("bad_header", _("The launch's id_token uses unsupported header fields."))
        platform, client_id = self._find_platform(body)
        self._check_signature(platform, header, signing_input, signature)
        self._check_times(body, now)
        if not storable:
            body = clean_claims(body)
        anonymous = self._check_message(body)
        deployment = self._find_deployment(platform, body)
        login = self._consume(id_token, state, body, platform, client_id, browser_cookie,
                              str(form.get("lti_storage_proof") or "")[:200])
        return ValidatedLaunch(body=body, platform=platform, deployment=deployment,
                               login=login, anonymous=anonymous)
