"""Data Integrity ``eddsa-rdfc-2022`` proofs (Ed25519 over RDFC-1.0 canonical N-Quads).

Create (https://www.w3.org/TR/vc-di-eddsa/#create-proof-eddsa-rdfc-2022):

1. proof config = the proof options (type ``DataIntegrityProof``, cryptosuite, created,
   verificationMethod, proofPurpose) with the document's ``@context``;
2. canonicalize the document *without* ``proof`` and the proof config with RDFC-1.0
   (JSON-LD to RDF by PyLD, :mod:`lti_tool.badges.linked_data`; RDFC-1.0 by our own
   :mod:`lti_tool.badges.rdfc`, which caps the work a hostile document can cause);
3. hash data = SHA-256(canonical proof config) || SHA-256(canonical document);
4. proofValue = multibase base58btc (``z...``) of the Ed25519 signature of the hash data.

Verify is the same transformation and an Ed25519 verification. Two legacy forms use the
identical algorithm and are accepted for old credentials (the verifier reports them as
outdated): cryptosuite ``eddsa-2022`` and proof type ``Ed25519Signature2020``
(https://www.w3.org/TR/vc-di-eddsa/ , https://w3c-ccg.github.io/di-eddsa-2020/).

Contexts come only from :mod:`lti_tool.badges.contexts`; nothing is fetched.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from lti_tool.badges import linked_data
from lti_tool.badges.errors import KeyFormatError, ProofError
from lti_tool.badges.multikey import (
    PublicKey,
    key_type_name,
    multibase_b58_decode,
    multibase_b58_encode,
)

CRYPTOSUITE = "eddsa-rdfc-2022"
LEGACY_CRYPTOSUITE = "eddsa-2022"
PROOF_TYPE = "DataIntegrityProof"
LEGACY_PROOF_TYPE = "Ed25519Signature2020"
PROOF_PURPOSE = "assertionMethod"

def canonicalize(document: Mapping[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, using bundled contexts only.

    Raises ContextNotAllowedError for an unknown/remote context, CanonicalizationError
    for any other JSON-LD failure, a document past the size limits, or one whose blank
    nodes would take too much work to canonicalize (:mod:`lti_tool.badges.rdfc`).
    """
    return linked_data.canonical_nquads(document)


def unsecured_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its ``proof`` (what every proof in a proof set signs)."""
    return {k: v for k, v in document.items() if k != "proof"}


def proof_config(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The proof options without ``proofValue`` and with the document's ``@context``."""
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = copy.deepcopy(document.get("@context"))
    return config


def canonical_forms(document: Mapping[str, Any], proof: Mapping[str, Any], *,
                    cache: dict[str, str] | None = None) -> tuple[str, str]:
    """(canonical proof config, canonical document) as N-Quads strings. ``cache`` (one per
    document) keeps the canonical document between the proofs of a proof set, which all
    sign the same unsecured document."""
    proof_context = proof.get("@context")
    doc = unsecured_document(document)
    if proof_context is not None:
        # VC DI 1.0 §4.4 step 4: the proof's context must prefix the document's context.
        doc_context = _as_list(document.get("@context"))
        wanted = _as_list(proof_context)
        if doc_context[: len(wanted)] != wanted:
            raise ProofError("the proof's @context does not match the document's @context")
        doc["@context"] = proof_context
    cache_key = repr(doc.get("@context"))
    canonical_document = cache.get(cache_key) if cache is not None else None
    if canonical_document is None:
        canonical_document = canonicalize(doc)
        if cache is not None:
            cache[cache_key] = canonical_document
    return canonicalize(proof_config(doc, proof)), canonical_document


def hash_data(document: Mapping[str, Any], proof: Mapping[str, Any], *,
              cache: dict[str, str] | None = None) -> bytes:
    """SHA-256(canonical proof config) || SHA-256(canonical document): the signed bytes."""
    canonical_proof, canonical_document = canonical_forms(document, proof, cache=cache)
    return (hashlib.sha256(canonical_proof.encode("utf-8")).digest()
            + hashlib.sha256(canonical_document.encode("utf-8")).digest())


def format_datetime(moment: datetime) -> str:
    """XML Schema dateTimeStamp in UTC with second precision (``2024-01-01T00:00:00Z``)."""
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_proof(document: Mapping[str, Any], private_key: ed25519.Ed25519PrivateKey,
                 verification_method: str, *, created: datetime | None = None,
                 proof_purpose: str = PROOF_PURPOSE) -> dict[str, Any]:
    """An ``eddsa-rdfc-2022`` DataIntegrityProof over ``document`` (its proof excluded).

    Raises ProofError if the key is not Ed25519, ContextNotAllowedError /
    CanonicalizationError if the document cannot be canonicalized offline.
    """
    if not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise ProofError(f"eddsa-rdfc-2022 needs an Ed25519 key, got {key_type_name(private_key)}")
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "created": format_datetime(created or datetime.now(UTC)),
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": proof_purpose,
    }
    signature = private_key.sign(hash_data(document, proof))
    proof["proofValue"] = multibase_b58_encode(signature)
    return proof


def sign(document: Mapping[str, Any], private_key: ed25519.Ed25519PrivateKey,
         verification_method: str, *, created: datetime | None = None) -> dict[str, Any]:
    """A copy of ``document`` with an eddsa-rdfc-2022 proof added (``proof`` is a list)."""
    signed = copy.deepcopy(dict(document))
    proof = create_proof(signed, private_key, verification_method, created=created)
    existing = signed.get("proof")
    signed["proof"] = [*_as_list(existing), proof] if existing else [proof]
    return signed


def verify_proof(document: Mapping[str, Any], proof: Mapping[str, Any],
                 public_key: PublicKey, *, cache: dict[str, str] | None = None) -> None:
    """Check one embedded proof against ``public_key``.

    Raises ProofError with a reason (unsupported suite, wrong key type, malformed
    proofValue, signature mismatch), or the canonicalization errors above.
    """
    proof_type = proof.get("type")
    cryptosuite = proof.get("cryptosuite")
    if proof_type == PROOF_TYPE:
        if cryptosuite not in (CRYPTOSUITE, LEGACY_CRYPTOSUITE):
            raise ProofError(f"unsupported cryptosuite {cryptosuite!r} "
                             f"(this verifier supports {CRYPTOSUITE})")
    elif proof_type != LEGACY_PROOF_TYPE:
        raise ProofError(f"unsupported proof type {proof_type!r}")
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise ProofError(f"wrong key type: {cryptosuite or proof_type} needs an Ed25519 key, "
                         f"the verification method holds {key_type_name(public_key)}")
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        raise ProofError("proof has no proofValue")
    try:
        signature = multibase_b58_decode(proof_value)
    except KeyFormatError as exc:
        raise ProofError(f"proofValue is not multibase base58btc: {exc.message}") from exc
    if len(signature) != 64:
        raise ProofError("proofValue is not a 64-byte Ed25519 signature")
    try:
        public_key.verify(signature, hash_data(document, proof, cache=cache))
    except InvalidSignature as exc:
        raise ProofError("signature does not match the credential "
                         "(the credential was changed after signing, or the key is wrong)") \
            from exc


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
