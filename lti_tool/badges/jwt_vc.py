"""VC-JWT: the OB 3.0 "JSON Web Token Proof Format" (compact JWS).

https://www.imsglobal.org/spec/ob/v3p0/#jwt-proof

* JOSE header: ``alg`` (RS256 is the interoperable minimum; we also do ES256 and EdDSA),
  ``typ`` "JWT", and ``kid`` (a URI the verifier can dereference to the public key) or
  ``jwk`` (the public key itself; never a private ``d``). No other headers.
* Payload (OB 3.0 with VCDM 2.0): the OpenBadgeCredential itself, plus the claims
  ``iss`` = issuer.id, ``jti`` = id, ``sub`` = credentialSubject.id, ``nbf`` = validFrom,
  ``exp`` = validUntil. Credentials made under VCDM 1.1 carry the credential in a ``vc``
  claim instead (the spec's verification note, and ``fixtures/ob30/simple-jwt_v1.*``); we
  read both and write the ``vc`` form only for VCDM 1.1 documents.
* Verify (https://www.imsglobal.org/spec/ob/v3p0/#jwt-verify): check the JWS with the key
  ``kid`` names (a did:key, or a key a resolver establishes) or the header ``jwk``, then
  check that the claims match the credential. A ``jwk`` header is a key the token brings
  with it: it can check the signature, never show who signed
  (:mod:`lti_tool.badges.binding`).

The JWS is implemented on ``cryptography`` directly so every failure has a precise reason
and the registered claims are compared with the credential, not just validated.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from lti_tool.badges import binding
from lti_tool.badges.binding import KeyResolver, ResolvedKey
from lti_tool.badges.contexts import VC_V1
from lti_tool.badges.errors import JwtError, KeyFormatError
from lti_tool.badges.multikey import (
    PublicKey,
    ed25519_public_key_bytes,
    key_type_name,
)

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

SUPPORTED_ALGS = ("RS256", "ES256", "EdDSA")
REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
_ALLOWED_HEADERS = {"alg", "kid", "jwk", "typ"}
MAX_TOKEN_CHARS = 2 * 1024 * 1024


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c in text for c in "=+/ \n"):
        raise JwtError("JWS segment is not base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise JwtError("JWS segment is not base64url") from exc


def looks_like_jwt(text: str) -> bool:
    parts = text.strip().split(".")
    return len(parts) == 3 and all(parts[:2]) and all(
        c.isalnum() or c in "-_" for c in "".join(parts))


# --- keys --------------------------------------------------------------------------


def _int_from_b64(value: Any, name: str) -> int:
    if not isinstance(value, str):
        raise KeyFormatError(f"JWK member {name!r} is missing")
    try:
        return int.from_bytes(b64url_decode(value), "big")
    except JwtError as exc:
        raise KeyFormatError(f"JWK member {name!r} is not base64url") from exc


def public_key_from_jwk(jwk: Any) -> PublicKey:
    """Public key from a JWK (RSA, EC P-256, OKP Ed25519). Refuses private JWKs."""
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("jwk must be a JSON object")
    if "d" in jwk:
        raise KeyFormatError("the JWK contains a private key ('d'); refusing it")
    kty = jwk.get("kty")
    if kty == "RSA":
        numbers = rsa.RSAPublicNumbers(_int_from_b64(jwk.get("e"), "e"),
                                       _int_from_b64(jwk.get("n"), "n"))
        try:
            return numbers.public_key()
        except ValueError as exc:
            raise KeyFormatError("invalid RSA JWK") from exc
    if kty == "EC":
        if jwk.get("crv") != "P-256":
            raise KeyFormatError(f"unsupported EC curve {jwk.get('crv')!r} (only P-256)")
        try:
            return ec.EllipticCurvePublicNumbers(
                _int_from_b64(jwk.get("x"), "x"), _int_from_b64(jwk.get("y"), "y"),
                ec.SECP256R1()).public_key()
        except ValueError as exc:
            raise KeyFormatError("invalid EC JWK (point not on P-256)") from exc
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise KeyFormatError(f"unsupported OKP curve {jwk.get('crv')!r} (only Ed25519)")
        try:
            raw = b64url_decode(str(jwk.get("x", "")))
            return ed25519.Ed25519PublicKey.from_public_bytes(raw)
        except (JwtError, ValueError) as exc:
            raise KeyFormatError("invalid Ed25519 JWK") from exc
    raise KeyFormatError(f"unsupported JWK key type {kty!r}")


def jwk_from_public_key(key: PublicKey, *, kid: str | None = None) -> dict[str, str]:
    """The public JWK of a key (for the ``jwk`` header or a JWKS document)."""
    jwk: dict[str, str]
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        jwk = {"kty": "RSA", "n": _b64_uint(numbers.n), "e": _b64_uint(numbers.e)}
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyFormatError("only P-256 EC keys are supported")
        point = key.public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": _b64_fixed(point.x, 32),
               "y": _b64_fixed(point.y, 32)}
    elif isinstance(key, ed25519.Ed25519PublicKey):
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(ed25519_public_key_bytes(key))}
    else:
        raise KeyFormatError(f"unsupported key type {key_type_name(key)}")
    if kid:
        jwk["kid"] = kid
    return jwk


def _b64_uint(value: int) -> str:
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _b64_fixed(value: int, size: int) -> str:
    return b64url_encode(value.to_bytes(size, "big"))


def alg_for_key(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise JwtError("only P-256 EC keys are supported (ES256)")
        return "ES256"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise JwtError(f"unsupported key type {key_type_name(key)}")


# --- claims ------------------------------------------------------------------------


def _issuer_id(credential: Mapping[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


def _subject_id(credential: Mapping[str, Any]) -> Any:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return subject.get("id") if isinstance(subject, Mapping) else None


def parse_datetime(value: Any) -> datetime | None:
    """An XML Schema dateTime as an aware datetime (naive values are taken as UTC)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _valid_from(credential: Mapping[str, Any]) -> Any:
    return credential.get("validFrom", credential.get("issuanceDate"))


def _valid_until(credential: Mapping[str, Any]) -> Any:
    return credential.get("validUntil", credential.get("expirationDate"))


def jwt_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The registered claims OB 3.0 derives from a credential."""
    claims: dict[str, Any] = {}
    issuer_id = _issuer_id(credential)
    if not isinstance(issuer_id, str):
        raise JwtError("credential has no issuer id (needed for the 'iss' claim)")
    claims["iss"] = issuer_id
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    subject_id = _subject_id(credential)
    if isinstance(subject_id, str):
        claims["sub"] = subject_id
    valid_from = parse_datetime(_valid_from(credential))
    if valid_from is None:
        raise JwtError("credential has no valid validFrom (needed for the 'nbf' claim)")
    claims["nbf"] = int(valid_from.timestamp())
    valid_until = parse_datetime(_valid_until(credential))
    if valid_until is not None:
        claims["exp"] = int(valid_until.timestamp())
    return claims


def check_claims(payload: Mapping[str, Any], credential: Mapping[str, Any]) -> list[str]:
    """Problems between the JWT claims and the credential (empty list: consistent).

    ``sub`` is compared only when present: OB 3.0 subjects may have no ``id`` (they are
    identified by ``identifier``), and the 1EdTech JWT samples omit it.
    """
    problems: list[str] = []
    if payload.get("iss") != _issuer_id(credential):
        problems.append("'iss' claim does not match issuer.id")
    if "jti" in payload and payload.get("jti") != credential.get("id"):
        problems.append("'jti' claim does not match the credential id")
    if "sub" in payload and payload.get("sub") != _subject_id(credential):
        problems.append("'sub' claim does not match credentialSubject.id")
    nbf = payload.get("nbf")
    valid_from = parse_datetime(_valid_from(credential))
    if not isinstance(nbf, int | float) or isinstance(nbf, bool):
        problems.append("'nbf' claim is missing")
    elif valid_from is not None and int(nbf) != int(valid_from.timestamp()):
        problems.append("'nbf' claim does not match validFrom")
    exp = payload.get("exp")
    valid_until = parse_datetime(_valid_until(credential))
    if exp is not None:
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            problems.append("'exp' claim is not a NumericDate")
        elif valid_until is not None and int(exp) != int(valid_until.timestamp()):
            problems.append("'exp' claim does not match validUntil")
    return problems


# --- sign ----------------------------------------------------------------------------


def _signing_input(header: Mapping[str, Any], payload: Mapping[str, Any]) -> bytes:
    def encode(obj: Mapping[str, Any]) -> str:
        return b64url_encode(json.dumps(obj, separators=(",", ":"),
                                        ensure_ascii=False).encode("utf-8"))

    return f"{encode(header)}.{encode(payload)}".encode("ascii")


def _raw_sign(key: PrivateKey, alg: str, data: bytes) -> bytes:
    if alg == "RS256" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise JwtError(f"key type {key_type_name(key)} cannot sign {alg}")


def sign_jwt(credential: Mapping[str, Any], private_key: PrivateKey, *,
             kid: str | None = None, include_jwk: bool = False,
             issued_at: datetime | None = None) -> str:
    """Compact JWS of ``credential`` (OB 3.0 §8.2).

    ``kid`` should be a URL the verifier can dereference (our controller document / JWKS);
    without it the public key goes into the ``jwk`` header.
    """
    alg = alg_for_key(private_key)
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    if include_jwk or not kid:
        header["jwk"] = jwk_from_public_key(private_key.public_key())
    claims = jwt_claims(credential)
    if issued_at is not None:
        claims["iat"] = int(issued_at.timestamp())
    context = credential.get("@context")
    first_context = context[0] if isinstance(context, list) and context else context
    if first_context == VC_V1:
        payload: dict[str, Any] = {"vc": dict(credential), **claims}
    else:
        payload = {**credential, **claims}
    signing_input = _signing_input(header, payload)
    signature = _raw_sign(private_key, alg, signing_input)
    return signing_input.decode("ascii") + "." + b64url_encode(signature)


# --- verify --------------------------------------------------------------------------


@dataclass
class DecodedJwt:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def credential(self) -> dict[str, Any]:
        """The credential: the ``vc`` claim (VCDM 1.1) or the payload minus JWT claims."""
        vc = self.payload.get("vc")
        if isinstance(vc, dict):
            return vc
        return {k: v for k, v in self.payload.items() if k not in REGISTERED_CLAIMS}

    @property
    def uses_vc_claim(self) -> bool:
        return isinstance(self.payload.get("vc"), dict)


def decode_jwt(token: str) -> DecodedJwt:
    """Split and decode a compact JWS without verifying it. Raises JwtError."""
    if not isinstance(token, str):
        raise JwtError("a JWT must be text")
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise JwtError("JWT is too large")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError("not a compact JWS (expected three dot-separated parts)")
    header = _json_object(b64url_decode(parts[0]), "JOSE header")
    payload = _json_object(b64url_decode(parts[1]), "JWT payload")
    return DecodedJwt(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"),
                      b64url_decode(parts[2]))


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JwtError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise JwtError(f"{what} is not a JSON object")
    return value


@dataclass
class VerifiedJwt:
    decoded: DecodedJwt
    key: ResolvedKey
    notes: list[str] = field(default_factory=list)


def resolve_jwt_key(decoded: DecodedJwt, resolver: KeyResolver | None) -> ResolvedKey:
    """The key that checks the token's signature, and who controls it (OB 3.0 §8.2.4.2):
    ``kid`` names a verification method (did:key, or one a resolver knows); a ``jwk``
    header alone is a key the token brings with it, the issuer's only when the issuer is a
    did:key of that key (:func:`lti_tool.badges.binding.jwk_key`). Raises BadgeError."""
    header = decoded.header
    kid = header.get("kid")
    jwk = header.get("jwk")
    if kid is not None and not isinstance(kid, str):
        raise JwtError("'kid' header must be a string")
    if isinstance(kid, str):
        resolved = binding.resolve(kid, resolver)
        if jwk is not None and public_key_from_jwk(jwk) != resolved.key:
            raise JwtError("the header 'jwk' differs from the key 'kid' names")
        return resolved
    if jwk is not None:
        return binding.jwk_key(public_key_from_jwk(jwk), decoded.payload.get("iss"))
    raise JwtError("JOSE header has neither 'kid' nor 'jwk', so there is no key to verify "
                   "with")


def verify_signature(decoded: DecodedJwt, key: PublicKey) -> None:
    alg = decoded.header.get("alg")
    if alg not in SUPPORTED_ALGS:
        raise JwtError(f"unsupported JWS algorithm {alg!r} (supported: "
                       f"{', '.join(SUPPORTED_ALGS)})")
    expected = {"RS256": rsa.RSAPublicKey, "ES256": ec.EllipticCurvePublicKey,
                "EdDSA": ed25519.Ed25519PublicKey}[alg]
    if not isinstance(key, expected):
        raise JwtError(f"wrong key type: {alg} needs a {expected.__name__.removesuffix('Key')} "
                       f"key, got {key_type_name(key)}")
    data, signature = decoded.signing_input, decoded.signature
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(key.curve, ec.SECP256R1) or len(signature) != 64:
                raise JwtError("ES256 needs a P-256 key and a 64-byte signature")
            der = utils.encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                             int.from_bytes(signature[32:], "big"))
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data)
    except InvalidSignature as exc:
        raise JwtError("JWS signature does not verify (the token was changed or the key is "
                       "wrong)") from exc


def verify_jwt(token: str, resolver: KeyResolver | None = None) -> VerifiedJwt:
    """Decode, obtain the key and verify the JWS signature of a VC-JWT.

    Raises JwtError / KeyFormatError with a reason. Claim-vs-credential consistency is
    left to :func:`check_claims` so a verifier can report it as its own step.
    """
    decoded = decode_jwt(token)
    extra = set(decoded.header) - _ALLOWED_HEADERS
    if "crit" in extra:
        raise JwtError("JOSE header has 'crit' extensions this verifier does not understand")
    key = resolve_jwt_key(decoded, resolver)
    verify_signature(decoded, key.key)
    notes = []
    if extra:
        notes.append(f"extra JOSE headers {sorted(extra)} (OB 3.0 allows none)")
    typ = decoded.header.get("typ")
    if typ is not None and typ != "JWT":
        notes.append(f"'typ' header is {typ!r}, OB 3.0 says \"JWT\"")
    return VerifiedJwt(decoded, key, notes)
