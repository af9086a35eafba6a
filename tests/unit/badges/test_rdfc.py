"""RDFC-1.0 (``lti_tool.badges.rdfc``): the W3C test suite byte for byte, the poison graph
refused within the work cap, and agreement with PyLD's URDNA2015 on every credential shape
MicroCred issues (an independent second implementation of the same algorithm)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pyld import jsonld

from lti_tool.badges import contexts, eddsa, linked_data, rdfc
from lti_tool.badges.errors import CanonicalizationError

from . import builders
from .conftest import cpu_seconds

SUITE = Path(__file__).parent / "rdfc10"
_MANIFEST = list(csv.DictReader((SUITE / "manifest.csv").open(encoding="utf-8")))
_POSITIVE = [row for row in _MANIFEST if row["rdfc10"] == "TRUE"]
_WITH_MAP = [row for row in _MANIFEST if row["rdfc10map"] == "TRUE"]
assert len(_WITH_MAP) == len(list(SUITE.glob("*-rdfc10map.json")))


def _canonicalize(row: dict[str, str], **options: int) -> rdfc.Canonicalized:
    text = (SUITE / f"{row['test']}-in.nq").read_text("utf-8")
    return rdfc.canonicalize(rdfc.parse_nquads(text),
                             hash_algorithm=(row["hashAlgorithm"] or "sha256").lower(),
                             **options)


def test_the_suite_is_complete() -> None:
    assert len(_POSITIVE) == 64 and len(_WITH_MAP) == 21
    assert [row["test"] for row in _MANIFEST if row["rdfc10"] == "RDFC10NegativeEvalTest"] \
        == ["test074"]


@pytest.mark.parametrize("row", _POSITIVE, ids=[row["test"] for row in _POSITIVE])
def test_w3c_canonical_nquads_byte_for_byte(row: dict[str, str]) -> None:
    expected = (SUITE / f"{row['test']}-rdfc10.nq").read_bytes()
    assert _canonicalize(row).nquads.encode("utf-8") == expected


@pytest.mark.parametrize("row", _WITH_MAP, ids=[row["test"] for row in _WITH_MAP])
def test_w3c_issued_identifier_maps(row: dict[str, str]) -> None:
    expected = json.loads((SUITE / f"{row['test']}-rdfc10map.json").read_text("utf-8"))
    assert _canonicalize(row).issued == expected


def test_poison_clique_is_refused_quickly() -> None:
    row = next(r for r in _MANIFEST if r["test"] == "test074")

    def refuse() -> None:
        with pytest.raises(rdfc.PoisonedDatasetError, match="too entangled"):
            _canonicalize(row)

    _, seconds = cpu_seconds(refuse)
    assert seconds < 0.5


def test_hardest_accepted_suite_tests_fit_the_default_budget() -> None:
    row = next(r for r in _MANIFEST if r["test"] == "test044")
    result = _canonicalize(row)
    assert 0 < result.work < rdfc.DEFAULT_MAX_WORK
    with pytest.raises(rdfc.PoisonedDatasetError):
        _canonicalize(row, max_work=result.work - 1)


def test_literal_escaping_follows_rdfc_section_4_3() -> None:
    assert rdfc.literal("a\tb\bc\fd\ne\rf\"g\\h") == '"a\\tb\\bc\\fd\\ne\\rf\\"g\\\\h"'
    assert rdfc.literal("\x00\x0b\x1f\x7f é") == '"\\u0000\\u000B\\u001F\\u007F é"'
    assert rdfc.literal("x", "http://www.w3.org/2001/XMLSchema#string") == '"x"'
    assert rdfc.literal("x", language="fr-CA") == '"x"@fr-CA'


def test_malformed_nquads_are_refused() -> None:
    with pytest.raises(CanonicalizationError, match="line 1"):
        rdfc.parse_nquads("<urn:a> <urn:b> .\n")


# --- the credentials MicroCred issues: our canonical form equals PyLD's URDNA2015 --------


def _pyld_nquads(document: dict) -> str:
    result = jsonld.normalize(document, {"algorithm": "URDNA2015",
                                         "format": "application/n-quads",
                                         "documentLoader": contexts.document_loader})
    assert isinstance(result, str)
    return result


def _shapes() -> list[dict]:
    credential = builders.credential()
    no_credit = builders.credential(credit_bearing=False, number=2)
    proof = {"@context": credential["@context"], "type": "DataIntegrityProof",
             "cryptosuite": "eddsa-rdfc-2022", "created": "2026-09-01T00:00:00Z",
             "verificationMethod": builders.ISSUER_ID + "#z6Mk", "proofPurpose": "assertionMethod"}
    key = builders.issuer_key()
    signed = eddsa.sign(credential, key, builders.ISSUER_ID + "#key")
    clr = {"@context": ["https://www.w3.org/ns/credentials/v2",
                        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
                        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
           "id": "urn:uuid:7e1d1f0e-1111-4c3a-9a6b-0f0e0d0c0b0a",
           "type": ["VerifiableCredential", "ClrCredential"],
           "issuer": builders.issuer_profile(), "name": "Learner record",
           "validFrom": "2026-09-01T00:00:00Z",
           "credentialSubject": {"type": ["ClrSubject"],
                                 "identifier": credential["credentialSubject"]["identifier"],
                                 "verifiableCredential": [signed],
                                 "achievement": [credential["credentialSubject"]
                                                 ["achievement"]]}}
    twins = builders.credential(number=3)
    # two evidence entries with identical content: blank nodes only Hash N-Degree Quads
    # can tell apart
    twins["evidence"] = [twins["evidence"][0], dict(twins["evidence"][0])]
    return [credential, no_credit, proof, signed, clr, twins]


@pytest.mark.parametrize("index", range(6))
def test_same_canonical_form_as_pyld_for_our_shapes(index: int) -> None:
    document = _shapes()[index]
    assert linked_data.canonical_nquads(document) == _pyld_nquads(document)


def test_process_context_cache_does_not_change_results_across_documents() -> None:
    first, second = builders.credential(number=5), builders.credential(number=6)
    second["credentialSubject"]["achievement"]["name"] = "Another name"
    for document in (first, second, first):
        assert linked_data.canonical_nquads(document) == _pyld_nquads(document)
