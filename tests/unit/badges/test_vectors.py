"""The spec's eddsa-rdfc-2022 test vectors (OB 3.0 and CLR 2.0), reproduced byte for byte:
canonical N-Quads, hashes, signature, proofValue and the published key encodings."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from lti_tool.badges import eddsa, multikey
from lti_tool.badges.verify import verify

from .conftest import NOW, VECTORS, needs_conformance

pytestmark = needs_conformance


def _load(vector: str, name: str) -> dict:
    return json.loads((VECTORS / vector / name).read_text("utf-8"))


@pytest.fixture(params=["obv3p0", "clrv2p0"])
def vector(request: pytest.FixtureRequest) -> str:
    return request.param


def _private_key(expected: dict) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex(expected["keyPair"]["privateKeyHex"][:64]))


def test_canonical_nquads_match_the_published_files_byte_for_byte(vector: str) -> None:
    credential = _load(vector, "credential.json")
    options = _load(vector, "proof-options.json")
    proof_canon, document_canon = eddsa.canonical_forms(credential, options)
    assert document_canon.encode() == (VECTORS / vector / "document-canon.txt").read_bytes()
    assert proof_canon.encode() == (VECTORS / vector / "proof-canon.txt").read_bytes()


def test_hashes_and_data_to_sign_match(vector: str) -> None:
    expected = _load(vector, "expected.json")
    data = eddsa.hash_data(_load(vector, "credential.json"), _load(vector, "proof-options.json"))
    assert data[:32].hex() == expected["proofHashHex"]
    assert data[32:].hex() == expected["documentHashHex"]
    assert data.hex() == expected["dataToSignHex"]
    assert hashlib.sha256((VECTORS / vector / "document-canon.txt").read_bytes()).hexdigest() \
        == expected["documentHashHex"]


def test_signing_reproduces_the_published_proof_value(vector: str) -> None:
    expected = _load(vector, "expected.json")
    options = _load(vector, "proof-options.json")
    proof = eddsa.create_proof(_load(vector, "credential.json"), _private_key(expected),
                               options["verificationMethod"],
                               created=datetime.fromisoformat(options["created"]))
    assert proof["proofValue"] == expected["proofValue"]
    assert multikey.multibase_b58_decode(proof["proofValue"]).hex() == expected["signatureHex"]
    assert {k: v for k, v in proof.items() if k != "proofValue"} == options


def test_key_encodings_match(vector: str) -> None:
    expected = _load(vector, "expected.json")
    key = _private_key(expected)
    pair = expected["keyPair"]
    assert multikey.encode_ed25519_public_key(key.public_key()) == pair["publicKeyMultibase"]
    assert multikey.encode_ed25519_private_key(key, include_public=True) \
        == pair["secretKeyMultibase"]
    decoded = multikey.decode_ed25519_private_key(pair["secretKeyMultibase"])
    assert multikey.encode_ed25519_private_key(decoded) \
        == multikey.encode_ed25519_private_key(key)
    assert multikey.ed25519_public_key_bytes(key.public_key()).hex() == pair["publicKeyHex"]


def test_signed_credential_verifies(vector: str) -> None:
    signed = _load(vector, "signed-credential.json")
    proof = signed["proof"][0] if isinstance(signed["proof"], list) else signed["proof"]
    key = multikey.decode_multikey(_load(vector, "expected.json")["keyPair"]["publicKeyMultibase"])
    eddsa.verify_proof(signed, proof, key)  # raises on failure
    report = verify((VECTORS / vector / "signed-credential.json").read_bytes(), now=NOW)
    assert report.step("proof").status == "ok", report.steps
