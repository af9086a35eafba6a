"""Hostile input to the verifier: each gets a clear reason, no exception escapes, and no
network call is made (the autouse ``no_network`` fixture fails any socket use)."""

from __future__ import annotations

import json
import socket
import zlib

import pytest

from lti_tool.badges import baking, contexts, eddsa
from lti_tool.badges.errors import BakingError, CanonicalizationError, ContextNotAllowedError
from lti_tool.badges.rdfc import PoisonedDatasetError
from lti_tool.badges.verify import MAX_INPUT_BYTES, verify

from . import builders
from .conftest import NOW, TINY_SVG, NetworkUsed, cpu_seconds, tiny_png


def test_the_network_guard_is_active() -> None:
    with pytest.raises(NetworkUsed):
        socket.create_connection(("example.com", 443))


def _itxt(text: bytes, keyword: bytes = b"openbadgecredential") -> tuple[bytes, bytes]:
    return b"iTXt", keyword + b"\0\0\0\0\0" + text


def _reason(data: bytes | str) -> str:
    report = verify(data, now=NOW)
    assert report.result == "invalid"
    return report.reason


def test_oversized_input() -> None:
    assert "limit is 2,097,152 bytes" in _reason(b"{" + b" " * MAX_INPUT_BYTES + b"}")


@pytest.mark.parametrize(("data", "fragment"), [
    (b"", "input is empty"),
    (b"hello world", "not JSON, a JWT, a PNG or an SVG"),
    (b"\xff\xfe\x00binary", "not JSON, a JWT, a PNG or an SVG"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2, 3]", "not an object"),
    (b'{"a": NaN}', "not valid JSON"),
    (b"eyJhbGciOiJub25lIn0.e30.", "no @context"),
    (b"abc.def.ghi", "not JSON"),
])
def test_garbage(data: bytes, fragment: str) -> None:
    assert fragment in _reason(data)


def test_deep_nesting_json() -> None:
    assert "nested" in _reason(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert "nested deeper than 64" in _reason(
        json.dumps({"a": json.loads("[" * 80 + "]" * 80)}).encode())


@pytest.mark.parametrize("url", [
    "https://evil.example/context.jsonld",
    "http://169.254.169.254/latest/meta-data/",
    "file:///etc/passwd",
])
def test_remote_or_unknown_contexts_are_refused_never_fetched(url: str) -> None:
    credential = builders.credential()
    credential["@context"].append(url)
    report = verify(json.dumps(credential), now=NOW)
    assert report.result == "invalid"
    assert "never fetched" in report.step("context").message
    assert report.step("proof").status == "error"


def test_inline_contexts_are_refused_before_any_json_ld_work() -> None:
    """Terms of its own (even importing a remote context) or a scoped context hidden in a
    node: only the standard contexts are accepted, so nothing is processed or fetched."""
    credential = builders.credential()
    credential["@context"].append({"@import": "https://evil.example/ctx.jsonld", "x": "urn:x"})
    report = verify(json.dumps(credential), now=NOW)
    assert report.result == "invalid"
    assert "defines terms of its own" in report.reason
    assert report.step("json-ld").status == "skipped"
    nested = builders.credential()
    nested["credentialSubject"]["@context"] = {"p": {"@id": "urn:p", "@context": {}}}
    report = verify(json.dumps(nested), now=NOW)
    assert "carries its own @context" in report.reason
    assert report.step("proof").status == "error"


def test_document_loader_refuses_unknown_urls() -> None:
    with pytest.raises(ContextNotAllowedError, match="never fetched"):
        contexts.document_loader("https://evil.example/ctx")
    with pytest.raises(ContextNotAllowedError):
        eddsa.canonicalize({"@context": "https://evil.example/ctx", "@id": "urn:x"})


def test_png_without_credential_chunk() -> None:
    assert "no 'openbadgecredential' iTXt chunk" in _reason(tiny_png())


def test_png_with_several_credential_chunks() -> None:
    png = tiny_png([_itxt(b'{"a":1}'), _itxt(b'{"b":2}')])
    assert "2 'openbadgecredential' iTXt chunks" in _reason(png)


def test_png_with_ob2_assertion() -> None:
    png = tiny_png([(b"iTXt", b"openbadges\0\0\0\0\0{}")])
    assert "Open Badges 2.0" in _reason(png)


def test_png_with_bad_crc_or_truncated() -> None:
    png = bytearray(baking.bake_png(tiny_png(), {"a": 1}))
    png[-20] ^= 0xFF
    assert "CRC" in _reason(bytes(png)) or "malformed" in _reason(bytes(png))
    assert "truncated" in _reason(tiny_png()[:30])


def test_png_compressed_bomb_is_bounded() -> None:
    bomb = zlib.compress(b"{" + b" " * (10 * 1024 * 1024) + b"}", 9)
    png = tiny_png([(b"iTXt", b"openbadgecredential\0\1\0\0\0" + bomb)])
    assert "too large" in _reason(png)


def test_svg_with_script_is_reported_and_never_run() -> None:
    credential = json.dumps(builders.credential())
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" '
           b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" onload="alert(1)">'
           b'<script>alert(document.cookie)</script>'
           b"<openbadges:credential><![CDATA[" + credential.encode() + b"]]>"
           b"</openbadges:credential></svg>")
    report = verify(svg, now=NOW)
    safety = report.step("image-safety")
    assert safety is not None and safety.message == "SVG contains script; not rendered"
    assert report.step("extract").status == "ok"


def test_svg_entity_expansion_is_refused() -> None:
    svg = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
           b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
           b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>')
    assert "entities" in _reason(svg)


def test_svg_external_entity_is_refused() -> None:
    svg = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "http://evil.example/x">]>'
           b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>')
    assert "entities" in _reason(svg)


def test_svg_without_or_with_several_credentials() -> None:
    assert "no <openbadges:credential>" in _reason(TINY_SVG)
    two = TINY_SVG.replace(
        b"<title>", b'<ob:credential xmlns:ob="https://purl.imsglobal.org/ob/v3p0">{}'
                    b'</ob:credential><ob:credential xmlns:ob="https://purl.imsglobal.org/ob/v3p0">'
                    b"{}</ob:credential><title>")
    assert "2 <openbadges:credential> elements" in _reason(two)


def test_svg_deep_nesting_and_malformed() -> None:
    deep = b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * 5000 + b"</g>" * 5000 \
        + b"</svg>"
    assert "nested deeper" in _reason(deep)
    assert "not well-formed" in _reason(b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>")
    assert "not an SVG" in _reason(b"<html><body/></html>")


def test_bake_svg_refuses_an_svg_that_already_has_a_credential() -> None:
    baked = baking.bake_svg(TINY_SVG, {"a": 1})
    with pytest.raises(BakingError, match="already"):
        baking.bake_svg(baked, {"a": 1})


def test_cdata_terminator_inside_json_survives_baking() -> None:
    baked = baking.bake_svg(TINY_SVG, {"name": "x]]>y"})
    assert json.loads(baking.extract_svg(baked).payload) == {"name": "x]]>y"}


def test_wrong_key_types_in_multikey_and_jwk() -> None:
    from lti_tool.badges.errors import KeyFormatError
    from lti_tool.badges.jwt_vc import public_key_from_jwk
    from lti_tool.badges.multikey import decode_multikey, multibase_b58_encode

    with pytest.raises(KeyFormatError, match="unsupported Multikey type"):
        decode_multikey(multibase_b58_encode(b"\xe7\x01" + b"\x02" * 33))  # secp256k1
    with pytest.raises(KeyFormatError, match="unsupported EC curve"):
        public_key_from_jwk({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"})
    with pytest.raises(KeyFormatError, match="unsupported JWK key type"):
        public_key_from_jwk({"kty": "oct", "k": "AA"})


def test_status_list_resolver_garbage_is_a_warning_not_a_crash() -> None:
    credential = builders.credential()
    key = builders.issuer_key()
    from lti_tool.badges import ob

    signed = eddsa.sign(credential, key, ob.verification_method_id(builders.ISSUER_ID,
                                                                   key.public_key()))
    for garbage in (b"not json", b"[]", b"{}", "{" * 5000):
        report = verify(json.dumps(signed), now=NOW, status_resolver=lambda _, g=garbage: g)
        assert report.step("status").status in ("warn", "error"), garbage


def test_resolver_that_crashes_does_not_escape() -> None:
    def broken(_: str):
        raise RuntimeError("database down")

    from lti_tool.badges import ob

    key = builders.issuer_key()
    signed = eddsa.sign(builders.credential(), key, ob.verification_method_id(
        builders.ISSUER_ID, key.public_key()))
    report = verify(json.dumps(signed), now=NOW, key_resolver=broken)
    assert report.result == "invalid"
    assert "could not be looked up" in report.reason


# --- bounded cost (issue 8): refused in milliseconds, never hours ------------------------


def _with_wellformed_proof(credential: dict) -> dict:
    """A proof with a 64-byte signature, so the verifier must canonicalize to check it."""
    from lti_tool.badges import ob
    from lti_tool.badges.multikey import multibase_b58_encode

    key = builders.issuer_key()
    signed = dict(credential)
    signed["proof"] = [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                        "created": "2026-09-01T00:00:00Z", "proofPurpose": "assertionMethod",
                        "verificationMethod": ob.verification_method_id(builders.ISSUER_ID,
                                                                        key.public_key()),
                        "proofValue": multibase_b58_encode(bytes(range(64)))}]
    return signed


def test_poison_graph_is_refused_quickly_with_a_reason() -> None:
    poisoned = _with_wellformed_proof(builders.poison_credential())
    data = json.dumps(poisoned).encode()
    assert len(data) < 12_000
    report, seconds = cpu_seconds(lambda: verify(data, now=NOW))
    assert seconds < 1.0
    assert report.result == "invalid"
    assert report.step("proof").status == "error"
    assert "too entangled to canonicalize" in report.step("proof").message
    with pytest.raises(PoisonedDatasetError):
        eddsa.canonicalize(builders.poison_credential())


def test_ten_thousand_alignments_are_refused_before_any_work() -> None:
    padded = _with_wellformed_proof(builders.padded_credential(10_000))
    data = json.dumps(padded).encode()
    assert 1_400_000 < len(data) < MAX_INPUT_BYTES
    report, seconds = cpu_seconds(lambda: verify(data, now=NOW))
    assert seconds < 1.0
    assert report.result == "invalid"
    assert report.reason.startswith("size: the credential has more than 12,000 JSON values")
    assert [s.name for s in report.steps] == ["input", "parse", "size"]


def test_too_many_statements_or_blank_nodes_are_refused() -> None:
    with pytest.raises(CanonicalizationError, match="more than 6,000 statements"):
        eddsa.canonicalize(builders.padded_credential(1_100))
    unnamed = builders.credential()
    unnamed["evidence"] = [{"type": ["Evidence"], "narrative": f"n{i}"} for i in range(1_600)]
    with pytest.raises(CanonicalizationError, match="unnamed nodes"):
        eddsa.canonicalize(unnamed)


def test_known_contexts_nested_deep_in_odd_orders_are_capped() -> None:
    """Standard contexts, but re-applied at 30 depths in rotating orders (each defeats the
    processed-context cache): refused by the term-definition cap, not processed for ~1 s."""
    from lti_tool.badges import contexts as known

    orders = [[known.VC_V2, known.OB_V3P0], [known.VC_V2, known.CLR_V2P0, known.OB_V3P0],
              [known.OB_V3P0, known.VC_V2]]
    node: dict = {"type": ["Profile"], "name": "x"}
    for depth in range(30):
        node = {"@context": orders[depth % 3], "type": ["Profile"], "name": "x",
                "parentOrg": node}
    credential = builders.credential()
    credential["credentialSubject"]["source"] = node
    data = json.dumps(_with_wellformed_proof(credential))
    report, seconds = cpu_seconds(lambda: verify(data, now=NOW))
    assert seconds < 1.0
    assert report.result == "invalid" and report.too_complex
    assert "too much JSON-LD work" in report.reason
