"""Multikey (multibase base58btc + multicodec) keys and ``did:key`` identifiers.

* Ed25519 public key: ``z`` + base58btc(0xed 0x01 + 32 bytes) -> ``z6Mk...``
* Ed25519 secret key: ``z`` + base58btc(0x80 0x26 + 32 bytes) -> ``z3u2...``
* P-256 public key (compressed point): ``z`` + base58btc(0x80 0x24 + 33 bytes) -> ``zDna...``
* ``did:key:<multikey>`` resolves to the key itself (optionally ``#<multikey>``).

Specs: https://www.w3.org/TR/controller-document/#multikey ,
https://www.w3.org/TR/vc-di-eddsa/#multikey , https://w3c-ccg.github.io/did-key-spec/ ,
https://github.com/multiformats/multicodec/blob/master/table.csv
"""

from __future__ import annotations

from typing import TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from lti_tool.badges.errors import KeyFormatError

PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"
P256_PUB_PREFIX = b"\x80\x24"

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
#: Longest base58 string we decode: keys and signatures are < 100 characters; this bounds
#: the quadratic big-int work a hostile input could cause.
_B58_MAX_LEN = 512


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58 (the ``z`` multibase without its prefix)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    if len(text) > _B58_MAX_LEN:
        raise KeyFormatError("base58 value is too long")
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise KeyFormatError(f"invalid base58btc character {char!r}")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_b58_encode(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_b58_decode(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise KeyFormatError("multibase value must be base58btc (start with 'z')")
    return b58decode(value[1:])


# --- Ed25519 -------------------------------------------------------------------------


def ed25519_public_key_bytes(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_ed25519_public_key(key: ed25519.Ed25519PublicKey | bytes) -> str:
    """``publicKeyMultibase`` (``z6Mk...``) for an Ed25519 public key."""
    raw = key if isinstance(key, bytes) else ed25519_public_key_bytes(key)
    if len(raw) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    return multibase_b58_encode(ED25519_PUB_PREFIX + raw)


def encode_ed25519_private_key(key: ed25519.Ed25519PrivateKey, *,
                               include_public: bool = False) -> str:
    """``secretKeyMultibase`` for an Ed25519 private key (keep it secret).

    ``include_public`` appends the 32 public-key bytes (the 64-byte form the OB 3.0 test
    vectors publish); the default is the 32-byte seed form of the Multikey spec.
    """
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    if include_public:
        raw += ed25519_public_key_bytes(key.public_key())
    return multibase_b58_encode(ED25519_PRIV_PREFIX + raw)


def decode_ed25519_private_key(value: str) -> ed25519.Ed25519PrivateKey:
    """Ed25519 private key from a secretKeyMultibase (32-byte seed or 64-byte seed+public)."""
    data = multibase_b58_decode(value)
    if not data.startswith(ED25519_PRIV_PREFIX) or len(data) not in (34, 66):
        raise KeyFormatError("not an Ed25519 secretKeyMultibase (0x8026 + 32 or 64 bytes)")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(data[2:34])
    if len(data) == 66 and ed25519_public_key_bytes(key.public_key()) != data[34:]:
        raise KeyFormatError("secretKeyMultibase public half does not match its seed")
    return key


def decode_multikey(value: str) -> PublicKey:
    """Public key from a ``publicKeyMultibase``: Ed25519 (``z6Mk``) or P-256 (``zDna``).

    Raises KeyFormatError with a reason naming the key type when it is not one we verify.
    """
    data = multibase_b58_decode(value)
    if data.startswith(ED25519_PUB_PREFIX):
        if len(data) != 34:
            raise KeyFormatError("Ed25519 Multikey must hold exactly 32 key bytes")
        return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])
    if data.startswith(P256_PUB_PREFIX):
        if len(data) != 35:
            raise KeyFormatError("P-256 Multikey must hold a 33-byte compressed point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyFormatError("P-256 Multikey is not a valid curve point") from exc
    raise KeyFormatError(
        "unsupported Multikey type (expected Ed25519 0xed01 or P-256 0x8024 multicodec)")


def encode_p256_public_key(key: ec.EllipticCurvePublicKey) -> str:
    if not isinstance(key.curve, ec.SECP256R1):
        raise KeyFormatError("not a P-256 key")
    point = key.public_bytes(serialization.Encoding.X962,
                             serialization.PublicFormat.CompressedPoint)
    return multibase_b58_encode(P256_PUB_PREFIX + point)


def encode_public_key(key: PublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return encode_ed25519_public_key(key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return encode_p256_public_key(key)
    raise KeyFormatError("RSA keys have no Multikey form here; publish them as a JWK")


def key_type_name(key: object) -> str:
    """Human name of a key type for error messages."""
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "Ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    return type(key).__name__


# --- did:key -------------------------------------------------------------------------


def did_key_from_public_key(key: PublicKey) -> str:
    return "did:key:" + encode_public_key(key)


def did_key_verification_method(key: PublicKey) -> str:
    """``did:key:z6Mk...#z6Mk...``: the verification method id of a did:key key."""
    multikey = encode_public_key(key)
    return f"did:key:{multikey}#{multikey}"


def public_key_from_did_key(did_url: str) -> PublicKey:
    """Decode a ``did:key`` (or ``did:key:...#fragment``) into its public key."""
    if not did_url.startswith("did:key:"):
        raise KeyFormatError("not a did:key identifier")
    identifier, _, fragment = did_url[len("did:key:"):].partition("#")
    if fragment and fragment != identifier:
        raise KeyFormatError("did:key fragment does not match the key")
    return decode_multikey(identifier)


def generate_ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()
