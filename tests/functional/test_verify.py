"""/verify and POST /api/v1/verify with credentials issued elsewhere and hostile input: the
1EdTech samples are read in every form (JSON, JWT, baked PNG and SVG) and their signatures
check, but their example issuers publish no keys, so they are not shown to be the issuers'
(issue 8); a did:key issuer's credential is valid; every bad input gets a clear reason
(never a 500), nothing from the upload is rendered or fetched (the test profile turns the
lookup of other institutions' documents off; a test turns it on to see it go through the
network guard), the form is CSRF-protected and the 2 MB limit answers 413."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lti_tool.badges import baking, eddsa, ob
from lti_tool.badges.multikey import did_key_verification_method, multibase_b58_encode
from lti_tool.web.public.credentials import VERIFY_LIMIT
from tests.support.credentials import (
    OB30,
    form_token,
    needs_conformance,
    no_outbound_network_fixture,  # noqa: F401 - the no_outbound_network fixture
    result_of,
    text_of,
    verify_file,
    verify_text,
)
from tests.unit.badges import builders
from tests.unit.badges.conftest import TINY_SVG, tiny_png


def _signed(credential: dict | None = None, vm: str | None = None) -> dict:
    key = builders.issuer_key()
    credential = credential or builders.credential()
    method = vm or did_key_verification_method(key.public_key())
    return eddsa.sign(credential, key, method)


def _itxt(text: bytes) -> tuple[bytes, bytes]:
    return b"iTXt", b"openbadgecredential\0\0\0\0\0" + text


# --- the page and its form ------------------------------------------------------------------


def test_verify_page_is_public_and_explains_what_it_accepts(client):
    response = client.get("/verify")
    assert response.status_code == 200
    text = text_of(response)
    assert "Verify a credential" in text
    assert "JSON, a VC-JWT, or a badge image" in text
    assert "Up to 2 MB" in text
    assert "mc_form=" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    html = response.get_data(as_text=True)
    assert '<label for="credential_file">' in html and '<label for="credential_text">' in html
    assert "<script" not in html


def test_form_without_or_with_a_forged_token_is_refused(client):
    form_token(client)  # the browser has its cookie
    for token in ("", "0" * 64):
        response = client.post("/verify", data={"form_token": token, "credential_text": "{}"})
        assert response.status_code == 403
        assert "form had expired" in text_of(response)
        assert "Result:" not in text_of(response)


def test_a_token_from_another_browser_is_refused(app, client):
    token = form_token(client)
    other = app.test_client()
    form_token(other)  # its own cookie, not the one the token was made for
    response = other.post("/verify", data={"form_token": token, "credential_text": "{}"})
    assert response.status_code == 403


def test_nothing_chosen_asks_for_a_file(client):
    response = verify_text(client, "   ")
    assert response.status_code == 422
    assert "Choose a credential file or paste a credential" in text_of(response)


# --- credentials issued elsewhere (1EdTech samples) --------------------------------------


@needs_conformance
@pytest.mark.parametrize(("name", "why"), [
    ("simple.json", "the key that made it is not shown to be Example Corp's"),
    ("simple-json.png", "the key that made it is not shown to be Example Corp's"),
    ("simple-json.svg", "the key that made it is not shown to be Example Corp's"),
    ("simple-jwt.png", "it came from the token's own header"),
    ("simple-jwt.svg", "it came from the token's own header"),
    ("simple-did-key-method.json", "the key belongs to did:key:"),
])
def test_1edtech_samples_are_read_but_their_keys_are_not_the_issuers(
        client, no_outbound_network, name, why):
    response = verify_file(client, (OB30 / name).read_bytes(), name)
    assert response.status_code == 200
    assert result_of(response) == "Not valid", text_of(response)[:2000]
    text = text_of(response)
    assert "Verification steps" in text
    assert re.search(r"Passed Signature the signature is intact", text)
    assert re.search(r"Failed Signed by the issuer", text)
    assert why in text
    assert no_outbound_network == []


def test_a_did_key_issuers_credential_is_valid(client, no_outbound_network):
    key = builders.issuer_key()
    vm = did_key_verification_method(key.public_key())
    credential = builders.credential()
    credential["issuer"]["id"] = vm.partition("#")[0]
    response = verify_file(client, json.dumps(eddsa.sign(credential, key, vm)).encode())
    # (its status list is on an example host, not checked: a warning)
    assert result_of(response) in ("Valid", "Valid, with warnings"), text_of(response)[:2000]
    assert re.search(r"Passed Signed by the issuer signed by the issuer: the key is Example "
                     r"College's: the did:key identifier did:key:z6Mk", text_of(response))
    assert no_outbound_network == []


def test_other_institutions_documents_are_looked_up_through_the_guard(
        app, client, no_outbound_network):
    """With the lookup on (production's default), an https issuer's profile is fetched:
    here the test's network guard stops it, and the report says so."""
    key = builders.issuer_key()
    vm = ob.verification_method_id("https://badges.elsewhere.example/issuer", key.public_key())
    credential = builders.credential()
    credential["issuer"]["id"] = "https://badges.elsewhere.example/issuer"
    app.config["VERIFY_FETCH_ISSUER_DOCUMENTS"] = True
    try:
        response = verify_file(client, json.dumps(eddsa.sign(credential, key, vm)).encode())
    finally:
        app.config["VERIFY_FETCH_ISSUER_DOCUMENTS"] = False
    assert result_of(response) == "Not valid"
    assert "published keys could not be looked up" in text_of(response)
    assert "badges.elsewhere.example" in no_outbound_network  # stopped, and reported
    no_outbound_network.clear()


@needs_conformance
def test_report_is_an_ordered_list_with_words_and_the_claims(client):
    response = verify_file(client, (OB30 / "simple.json").read_bytes())
    assert "it is <strong>not</strong> confirmed" in response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    steps = re.search(r'<ol class="verify-steps"[^>]*>(.*?)</ol>', html, re.S)
    assert steps
    items = re.findall(r"<li class=\"verify-step step-(\w+)\">(.*?)</li>", steps.group(1), re.S)
    assert len(items) >= 8
    for status, body in items:
        words = {"ok": "Passed", "warn": "Warning", "error": "Failed", "skipped": "Skipped"}
        assert words[status] in body  # said in words, not by colour alone
    credential = json.loads((OB30 / "simple.json").read_text())
    text = text_of(response)
    assert "What the credential claims" in text
    assert credential["issuer"]["name"] in text
    assert credential["credentialSubject"]["achievement"]["name"] in text
    assert credential["validFrom"] in text


@needs_conformance
def test_pasted_jwt_and_json_are_read(client):
    jwt = baking.extract_png((OB30 / "simple-jwt.png").read_bytes()).payload
    for text in (jwt, (OB30 / "simple.json").read_text()):
        response = verify_text(client, text)
        assert re.search(r"Passed Signature the signature is intact", text_of(response))
        assert "not shown to be Example Corp's" in text_of(response)


@needs_conformance
@pytest.mark.parametrize(("name", "words", "reason"), [
    ("simple-err-expired.json", "Not valid: expired", "not shown to be"),
    ("simple-err-proof-value.json", "Not valid", "proof"),
    ("simple-err-context.json", "Not valid", "context"),
    ("simple-noproof.json", "Not valid", "not signed"),
])
def test_1edtech_invalid_samples_say_why(client, name, words, reason):
    response = verify_file(client, (OB30 / name).read_bytes(), name)
    assert response.status_code == 200
    assert result_of(response) == words
    assert reason in re.search(r"Reason: (.*?) (Passed|Failed|Warning|Skipped) ",
                               text_of(response)).group(1)


@needs_conformance
def test_1edtech_sample_with_an_outdated_context_says_so(client):
    response = verify_file(client, (OB30 / "simple_v1.json").read_bytes())
    assert re.search(r"Warning JSON-LD contexts VCDM 1.1 context", text_of(response))


# --- hostile input ------------------------------------------------------------------------


def test_the_outcome_is_said_in_plain_words_with_the_technical_detail_behind_a_disclosure(
        client, no_outbound_network):
    """What a person reads first is plain; the verifier's reason and steps are one click
    away (a <details> element)."""
    cases = [
        (tiny_png(), "This image holds no credential"),
        (TINY_SVG, "This image holds no credential"),
        (b"hello world", "This is not a credential MicroCred can read"),
    ]
    tampered = _signed()
    tampered["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    cases.append((json.dumps(tampered).encode(), "The signature does not match"))
    for data, plain in cases:
        response = verify_file(client, data, "x")
        html = response.get_data(as_text=True)
        first = re.search(r'<p class="verify-plain">(.*?)</p>', html, re.S)
        assert first and plain in first.group(1), html[:3000]
        technical = re.search(r'<details class="verify-technical">(.*?)</details>', html, re.S)
        assert technical and "Reason:" in technical.group(1)
        assert '<ol class="verify-steps"' in technical.group(1)
        assert html.index('class="verify-plain"') < html.index('class="verify-technical"')


@pytest.mark.parametrize(("data", "reason"), [
    (b"hello world", "input is not JSON, a JWT, a PNG or an SVG"),
    (b"\xff\xfe\x00\x01binary", "binary data that is not a PNG"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON is not an object"),
    (b'{"a": NaN}', "not valid JSON"),
    (b'{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested"),
    (b"eyJhbGciOiJub25lIn0.e30.", "no @context"),
])
def test_garbage_gets_a_reason_never_a_500(client, no_outbound_network, data, reason):
    response = verify_file(client, data, "x.txt")
    assert response.status_code == 200
    assert result_of(response) == "Not valid"
    assert reason in text_of(response)
    assert no_outbound_network == []


@pytest.mark.parametrize("url", ["https://evil.example/context.jsonld",
                                 "http://169.254.169.254/latest/meta-data/",
                                 "http://127.0.0.1:6379/"])
def test_remote_and_unknown_contexts_are_refused_never_fetched(client, no_outbound_network,
                                                               url):
    credential = _signed()
    credential["@context"] = [*credential["@context"], url]
    response = verify_file(client, json.dumps(credential).encode())
    assert result_of(response) == "Not valid"
    text = text_of(response)
    assert "remote contexts are never fetched" in text
    assert "Failed JSON-LD contexts" in text
    assert no_outbound_network == []


def test_the_network_guard_really_catches_a_connection(no_outbound_network):
    import socket

    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("example.com", 443), timeout=1)
    assert no_outbound_network == ["example.com"]
    no_outbound_network.clear()


def test_unknown_remote_verification_method_without_a_key_in_it(client, no_outbound_network):
    credential = _signed(vm="https://keys.elsewhere.example/issuer/keys#key-1")
    response = verify_file(client, json.dumps(credential).encode())
    assert result_of(response) == "Not valid"
    assert "could not be obtained: no published list of keys includes it" in text_of(response)
    assert no_outbound_network == []


def test_did_web_key_is_not_looked_up(client, no_outbound_network):
    credential = _signed(vm="did:web:elsewhere.example#key-1")
    response = verify_file(client, json.dumps(credential).encode())
    assert result_of(response) == "Not valid"
    assert "keys of 'did:web' identifiers cannot be looked up" in text_of(response)
    assert no_outbound_network == []


def test_a_key_written_into_the_credential_proves_nothing(client, no_outbound_network):
    """The [controller]#[publicKeyMultibase] convention: the signature checks, the key is
    not the issuer's (the form of forgery (a) of issue 8 against another issuer)."""
    key = builders.issuer_key()
    vm = ob.verification_method_id("https://badges.elsewhere.example/issuer", key.public_key())
    credential = eddsa.sign(builders.credential(), key, vm)
    response = verify_file(client, json.dumps(credential).encode())
    text = text_of(response)
    assert result_of(response) == "Not valid"
    assert re.search(r"Passed Signature the signature is intact", text)
    assert "a key written into the credential, which anyone can do" in text
    assert no_outbound_network == []


def test_wrong_key_types(client):
    # A P-256 key where eddsa-rdfc-2022 needs Ed25519.
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    credential = _signed(vm=did_key_verification_method(p256))
    text = text_of(verify_file(client, json.dumps(credential).encode()))
    assert "wrong key type" in text and "needs an Ed25519 key" in text
    # A did:key of a key type nobody supports (secp256k1).
    k1 = multibase_b58_encode(b"\xe7\x01" + b"\x02" * 33)
    text = text_of(verify_file(client, json.dumps(_signed(vm=f"did:key:{k1}")).encode()))
    assert "unsupported Multikey type" in text
    # A VC-JWT whose header carries a symmetric key.
    header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "HS256", "typ": "JWT", "jwk": {"kty": "oct", "k": "AAAA"}}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(builders.credential()).encode()).rstrip(b"=")
    response = verify_text(client, (header + b"." + payload + b".c2ln").decode())
    assert response.status_code == 200
    assert result_of(response) == "Not valid"
    assert re.search(r"Failed Signature", text_of(response))


def test_png_without_or_with_several_credential_chunks(client):
    text = text_of(verify_file(client, tiny_png(), "badge.png"))
    assert "PNG has no 'openbadgecredential' iTXt chunk" in text
    two = tiny_png([_itxt(b'{"a":1}'), _itxt(b'{"b":2}')])
    response = verify_file(client, two, "badge.png")
    assert response.status_code == 200
    assert "PNG has 2 'openbadgecredential' iTXt chunks" in text_of(response)
    broken = tiny_png()[:-6]
    assert "PNG is truncated" in text_of(verify_file(client, broken, "badge.png"))


def test_svg_with_script_is_never_rendered(client):
    hostile = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
               b'<script>alert(document.cookie)</script>'
               b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">'
               b'<img src="https://tracker.example/x.png"/></div></foreignObject>'
               b'<circle r="4"/></svg>')
    baked = baking.bake_svg(hostile, _signed())
    response = verify_file(client, baked, "badge.svg")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "alert(" not in html and "tracker.example" not in html and "<svg" not in html
    assert "SVG contains script; not rendered" in text_of(response)
    # Unbaked, or with entities: a clear reason.
    assert "no <openbadges:credential> element" in text_of(
        verify_file(client, TINY_SVG, "badge.svg"))
    bomb = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>')
    assert "declares XML entities" in text_of(verify_file(client, bomb, "badge.svg"))


def test_html_in_a_credential_is_escaped_and_its_images_are_not_loaded(client):
    credential = builders.credential()
    credential["name"] = '<script>alert("x")</script>'
    credential["credentialSubject"]["achievement"]["name"] = '<img src=x onerror="alert(1)">'
    credential["image"] = {"id": "https://tracker.example/pixel.png", "type": "Image"}
    credential["issuer"]["image"] = {"id": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
                                     "type": "Image"}
    response = verify_file(client, json.dumps(_signed(credential)).encode())
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "https://tracker.example/pixel.png" in text_of(response)  # as text
    assert not re.search(r"<img[^>]+tracker\.example", html)
    assert "embedded image (image/svg+xml" in text_of(response)
    assert len(re.findall(r"<img\b", html)) == 1  # only our own logo in the header


def test_tampered_credential_names_the_failed_signature(client):
    credential = _signed()
    credential["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    response = verify_file(client, json.dumps(credential).encode())
    assert result_of(response) == "Not valid"
    assert "signature does not match" in text_of(response)


# --- size limit -----------------------------------------------------------------------------


def test_oversized_file_is_413_with_a_page(client):
    data = b"{" + b" " * VERIFY_LIMIT + b"}"
    response = verify_file(client, data, "big.json")
    assert response.status_code == 413
    assert "larger than the 2 MB limit" in text_of(response)
    assert '<form method="post"' in response.get_data(as_text=True)  # try again from here


def test_a_file_just_under_the_limit_is_read(client):
    data = b'{"a": "' + b"x" * (VERIFY_LIMIT - 20) + b'"}'
    assert len(data) < VERIFY_LIMIT
    response = verify_file(client, data, "big.json")
    assert response.status_code == 200
    assert result_of(response) == "Not valid"


def test_oversized_pasted_text_is_413(client):
    response = client.post("/verify", data={"form_token": form_token(client),
                                            "credential_text": "x" * (VERIFY_LIMIT + 10)})
    assert response.status_code == 413
    assert "larger than the 2 MB limit" in text_of(response)


def test_huge_body_is_refused_before_it_is_read(client):
    body = io.BytesIO(b"x" * (5 * 1024 * 1024))
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    response = client.post("/verify", data=b"x" * (3 * 1024 * 1024),
                           content_type="multipart/form-data; boundary=zz")
    assert response.status_code == 413
    assert "2 MB limit" in text_of(response)


# --- the JSON API -------------------------------------------------------------------------


@needs_conformance
def test_api_verifies_a_body_and_answers_json(client, no_outbound_network):
    response = client.post("/api/v1/verify", data=(OB30 / "simple.json").read_bytes(),
                           content_type="application/json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["result"] == "invalid" and body["tooComplex"] is False
    assert body["reason"].startswith("issuer-key: the signature is correct, but the key that "
                                     "made it is not shown to be Example Corp's")
    assert body["format"] == "json" and body["kind"] == "ob"
    assert [s["name"] for s in body["steps"]][:3] == ["input", "parse", "context"]
    assert body["claims"]["issuer"]["name"] == "Example Corp"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert no_outbound_network == []


@needs_conformance
def test_api_takes_png_jwt_and_multipart(client):
    png = (OB30 / "simple-jwt.png").read_bytes()

    def signature_step(body: dict) -> str:
        return next(s["status"] for s in body["steps"] if s["name"] == "proof")

    as_png = client.post("/api/v1/verify", data=png, content_type="image/png").get_json()
    assert as_png["format"] == "png" and signature_step(as_png) == "ok"
    jwt = baking.extract_png(png).payload
    body = client.post("/api/v1/verify", data=jwt, content_type="application/vc+jwt").get_json()
    assert body["format"] == "jwt" and signature_step(body) == "ok"
    response = client.post("/api/v1/verify", data={"file": (io.BytesIO(png), "b.png")},
                           content_type="multipart/form-data")
    assert response.get_json()["reason"] == as_png["reason"]
    assert "it came from the token's own header" in as_png["reason"]


def test_api_bad_input_is_a_report_or_a_clear_error(client):
    response = client.post("/api/v1/verify", data=b"", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "empty"
    response = client.post("/api/v1/verify", data=b"<svg", content_type="image/svg+xml")
    assert response.status_code == 200
    body = response.get_json()
    assert body["result"] == "invalid" and "SVG" in body["reason"]
    assert body["claims"] is None


def test_api_needs_no_token_and_allows_other_origins(client):
    preflight = client.options("/api/v1/verify", headers={
        "Origin": "https://wallet.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert client.get("/api/v1/verify").status_code == 405
