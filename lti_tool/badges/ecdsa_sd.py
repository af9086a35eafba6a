"""Verification of ``ecdsa-sd-2023`` *derived* (selectively disclosed) proofs, P-256.

https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-sd-2023 (§3.5.7 parseDerivedProofValue,
§3.5.8 createVerifyData, §3.6.2 verify): a holder disclosed part of a credential; the proof
carries the issuer's base signature over (proof hash || ephemeral public key || hash of the
mandatory N-Quads) and one ephemeral-key signature per non-mandatory N-Quad, with blank
nodes relabelled by an HMAC-derived label map. We only verify (MicroCred issues
``eddsa-rdfc-2022``); base proofs (held by the holder only) are not accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from lti_tool.badges.eddsa import canonical_forms
from lti_tool.badges.errors import KeyFormatError, ProofError
from lti_tool.badges.multikey import P256_PUB_PREFIX, PublicKey, key_type_name

CRYPTOSUITE = "ecdsa-sd-2023"
_DERIVED_HEADER = b"\xd9\x5d\x01"
_BASE_HEADER = b"\xd9\x5d\x00"
_MAX_ITEMS = 10_000
_C14N_LABEL = re.compile(r"_:c14n(\d+)")


class _Cbor:
    """Just enough CBOR (RFC 8949) for the derived proof value: ints, bytes, arrays, maps."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ProofError("proofValue CBOR is truncated")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def _argument(self, info: int) -> int:
        if info < 24:
            return info
        sizes = {24: 1, 25: 2, 26: 4, 27: 8}
        if info not in sizes:
            raise ProofError("proofValue CBOR uses an unsupported encoding")
        return int.from_bytes(self._take(sizes[info]), "big")

    def read(self, depth: int = 0) -> Any:
        if depth > 8:
            raise ProofError("proofValue CBOR is nested too deeply")
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        value = self._argument(info)
        if major == 0:
            return value
        if major == 1:
            return -1 - value
        if major == 2:
            return self._take(value)
        if major == 3:
            return self._take(value).decode("utf-8")
        if value > _MAX_ITEMS:
            raise ProofError("proofValue CBOR has too many items")
        if major == 4:
            return [self.read(depth + 1) for _ in range(value)]
        if major == 5:
            return {self.read(depth + 1): self.read(depth + 1) for _ in range(value)}
        raise ProofError("proofValue CBOR uses an unsupported type")


def _parse_derived(proof_value: Any) -> tuple[bytes, bytes, list[bytes], dict[str, str], list[int]]:
    if not isinstance(proof_value, str) or not proof_value.startswith("u"):
        raise ProofError("ecdsa-sd-2023 proofValue must be multibase base64url ('u')")
    body = proof_value[1:]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProofError("ecdsa-sd-2023 proofValue is not base64url") from exc
    if raw.startswith(_BASE_HEADER):
        raise ProofError("this is an ecdsa-sd-2023 base proof, which only the holder should "
                         "have; a verifier needs a derived proof")
    if not raw.startswith(_DERIVED_HEADER):
        raise ProofError("ecdsa-sd-2023 proofValue has an unknown header")
    decoder = _Cbor(raw[3:])
    value = decoder.read()
    if not (isinstance(value, list) and len(value) == 5):
        raise ProofError("ecdsa-sd-2023 derived proofValue must hold five components")
    base_signature, public_key, signatures, label_map, mandatory = value
    if not (isinstance(base_signature, bytes) and isinstance(public_key, bytes)
            and isinstance(signatures, list) and all(isinstance(s, bytes) for s in signatures)
            and isinstance(label_map, dict) and isinstance(mandatory, list)
            and all(isinstance(i, int) for i in mandatory)):
        raise ProofError("ecdsa-sd-2023 derived proofValue components have the wrong types")
    labels: dict[str, str] = {}
    for key, digest in label_map.items():
        if not isinstance(key, int) or not isinstance(digest, bytes):
            raise ProofError("ecdsa-sd-2023 label map is malformed")
        labels[f"c14n{key}"] = "u" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return base_signature, public_key, signatures, labels, mandatory


def _verify_p256(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    if len(signature) != 64:
        return False
    der = utils.encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                     int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify_derived_proof(document: Mapping[str, Any], proof: Mapping[str, Any],
                         public_key: PublicKey) -> None:
    """Raise ProofError unless ``proof`` (ecdsa-sd-2023, derived) verifies."""
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, ec.SECP256R1):
        raise ProofError(f"wrong key type: ecdsa-sd-2023 needs a P-256 key, the verification "
                         f"method holds {key_type_name(public_key)}")
    base_signature, ephemeral, signatures, labels, mandatory = _parse_derived(
        proof.get("proofValue"))
    canonical_proof, canonical_document = canonical_forms(document, proof)
    proof_hash = hashlib.sha256(canonical_proof.encode("utf-8")).digest()

    def relabel(match: re.Match[str]) -> str:
        label = labels.get(f"c14n{match.group(1)}")
        if label is None:
            raise ProofError("ecdsa-sd-2023 label map does not cover every blank node")
        return f"_:{label}"

    quads = sorted(_C14N_LABEL.sub(relabel, line) + "\n"
                   for line in canonical_document.splitlines() if line)
    if any(i < 0 or i >= len(quads) for i in mandatory):
        raise ProofError("ecdsa-sd-2023 mandatory indexes are out of range")
    mandatory_set = set(mandatory)
    mandatory_hash = hashlib.sha256(
        "".join(quads[i] for i in sorted(mandatory_set)).encode("utf-8")).digest()
    non_mandatory = [q for i, q in enumerate(quads) if i not in mandatory_set]
    if len(signatures) != len(non_mandatory):
        raise ProofError("ecdsa-sd-2023 signature count does not match the disclosed "
                         "statements")
    if not ephemeral.startswith(P256_PUB_PREFIX) or len(ephemeral) != 35:
        raise ProofError("ecdsa-sd-2023 ephemeral key is not a P-256 Multikey")
    try:
        ephemeral_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                                     ephemeral[2:])
    except ValueError as exc:
        raise KeyFormatError("ecdsa-sd-2023 ephemeral key is not a valid P-256 point") from exc
    if not _verify_p256(public_key, base_signature, proof_hash + ephemeral + mandatory_hash):
        raise ProofError("ecdsa-sd-2023 base signature does not verify (the disclosed "
                         "credential was changed, or the key is wrong)")
    for signature, quad in zip(signatures, non_mandatory, strict=True):
        if not _verify_p256(ephemeral_key, signature, quad.encode("utf-8")):
            raise ProofError("ecdsa-sd-2023 signature of a disclosed statement does not "
                             "verify")
