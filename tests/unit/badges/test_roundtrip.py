"""Build -> sign -> verify round trips for MicroCred credentials, and what breaks them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lti_tool.badges import baking, eddsa, jwt_vc, ob, schemas, status_list
from lti_tool.badges.binding import IssuerKey
from lti_tool.badges.errors import BadgeError
from lti_tool.badges.multikey import decode_multikey, did_key_verification_method
from lti_tool.badges.verify import verify, verify_credential

from . import builders
from .conftest import NOW, TINY_SVG, tiny_png

LATER = datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture()
def key():
    return builders.issuer_key()


@pytest.fixture()
def vm(key) -> str:
    return ob.verification_method_id(builders.ISSUER_ID, key.public_key())


def _owned(public_key, controller: str = builders.ISSUER_ID, **flags) -> IssuerKey:
    return IssuerKey(public_key, controller, "listed in Example College's profile", **flags)


def _resolver_for(*keys, withdrawn=()):
    """Our issuer's published keys (its profile), old and new; ``withdrawn`` ones marked
    revoked. For a controller we own, an unpublished key is refused."""
    table = {ob.verification_method_id(builders.ISSUER_ID, k.public_key()): k for k in keys}

    def resolve(vm: str):
        if vm in table:
            key = table[vm]
            gone = key in withdrawn
            return _owned(key.public_key(), withdrawn="Example College withdrew this key"
                          if gone else None, reissued=gone)
        if vm.startswith(builders.ISSUER_ID + "#"):
            raise BadgeError("this key is not published by the issuer")
        return None

    return resolve


def _status_resolver(revoked: set[int] | None = None, key=None):
    bits = status_list.StatusList()
    for index in revoked or set():
        bits.set(index)
    key = key or builders.issuer_key()
    unsigned = status_list.build_status_list_credential(
        builders.STATUS_URL, builders.ISSUER_ID, bits, valid_from="2026-01-01T00:00:00Z")
    signed = eddsa.sign(unsigned, key, ob.verification_method_id(builders.ISSUER_ID,
                                                                  key.public_key()))
    return {builders.STATUS_URL: signed}.get


@pytest.mark.parametrize("credit_bearing", [True, False])
def test_built_credentials_validate_against_both_1edtech_schemas(credit_bearing: bool) -> None:
    credential = builders.credential(credit_bearing=credit_bearing)
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL) == []
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL_PLAIN) == []
    achievement = credential["credentialSubject"]["achievement"]
    assert ("creditsAvailable" in achievement) is credit_bearing


def test_credential_shape_follows_the_brief() -> None:
    credential = builders.credential()
    assert credential["@context"][:2] == ["https://www.w3.org/ns/credentials/v2",
                                          "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                      "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                                      "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]
    subject = credential["credentialSubject"]
    identity = subject["identifier"][0]
    assert identity["hashed"] is True and identity["identityHash"].startswith("sha256$")
    assert ob.identity_matches(identity, " learner.one@example.EDU ")
    assert not ob.identity_matches(identity, "someone.else@example.edu")
    result = subject["result"][0]
    description = subject["achievement"]["resultDescription"][0]
    assert result["resultDescription"] == description["id"]
    assert (result["value"], description["requiredValue"]) == ("Pass", "Pass")
    assert subject["achievement"]["achievementType"] == "MicroCredential"


def test_sign_then_verify_is_valid_with_the_issuers_published_key(key, vm) -> None:
    signed = eddsa.sign(builders.credential(), key, vm, created=NOW)
    report = verify(json.dumps(signed).encode(), now=LATER, key_resolver=_resolver_for(key),
                    status_resolver=_status_resolver())
    assert report.result == "valid", report.steps
    assert "nothing in the credential has changed" in report.step("proof").message
    assert report.step("issuer-key").message == (
        "signed by the issuer: the key is Example College's: listed in Example College's "
        "profile")
    assert report.step("status").message.startswith("not revoked")


def test_without_the_issuers_keys_a_correct_signature_is_not_enough(key, vm) -> None:
    """What a verifier that trusts the fragment convention would accept: the key is only
    written in the credential, so it is not shown to be the issuer's."""
    signed = eddsa.sign(builders.credential(), key, vm)
    report = verify_credential(signed, now=LATER)
    assert report.step("proof").status == "ok"
    assert report.result == "invalid"
    assert report.reason.startswith("issuer-key: the signature is correct, but the key that "
                                    "made it is not shown to be Example College's")


def test_tampering_makes_it_invalid_with_a_reason(key, vm) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    report = verify_credential(tampered, now=LATER, key_resolver=_resolver_for(key))
    assert report.result == "invalid"
    assert report.reason.startswith("proof:") and "signature does not match" in report.reason
    assert report.step("issuer-key").status == "skipped"


def test_a_forger_with_their_own_key_under_our_issuer_url_is_refused(key) -> None:
    """Forgery (a) of issue 8: the issuer's URL with a fresh key in the fragment."""
    forger = builders.issuer_key(9)
    forged_vm = ob.verification_method_id(builders.ISSUER_ID, forger.public_key())
    signed = eddsa.sign(builders.credential(), forger, forged_vm)
    report = verify_credential(signed, now=LATER, key_resolver=_resolver_for(key))
    assert report.result == "invalid"
    assert "not published by the issuer" in report.reason


def test_a_did_key_signature_on_a_credential_naming_our_issuer_is_refused(key) -> None:
    """Forgery (c) of issue 8: a valid did:key signature, but the DID is not the issuer."""
    forger = builders.issuer_key(9)
    signed = eddsa.sign(builders.credential(), forger,
                        did_key_verification_method(forger.public_key()))
    report = verify_credential(signed, now=LATER, key_resolver=_resolver_for(key),
                               status_resolver=_status_resolver())
    assert report.step("proof").status == "ok"
    assert report.result == "invalid"
    assert report.reason.startswith("issuer-key: the key belongs to did:key:z6Mk")
    assert "not to the issuer the credential names (Example College)" in report.reason


def test_a_key_another_controller_publishes_is_not_the_issuers(key, vm) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    report = verify_credential(signed, now=LATER, key_resolver=lambda _: _owned(
        key.public_key(), controller="https://other.example/issuer"))
    assert report.reason.startswith("issuer-key: the key belongs to https://other.example")


def test_a_key_published_but_not_for_credentials_does_not_count(key, vm) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    report = verify_credential(signed, now=LATER, key_resolver=lambda _: _owned(
        key.public_key(), for_credentials=False))
    assert "not for signing credentials" in report.reason


def test_a_withdrawn_key_says_why_and_where_the_fresh_copy_is(key, vm) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    report = verify_credential(signed, now=LATER, key_resolver=_resolver_for(
        key, withdrawn=(key,)), status_resolver=_status_resolver())
    assert report.result == "invalid" and report.step("proof").status == "ok"
    assert report.reason == (
        "issuer-key: Example College withdrew this key. Example College has signed it again "
        "with a current key: the valid copy is at "
        "https://tool.example.edu/credentials/00000001.")


def test_fragment_key_that_disagrees_with_the_published_key_is_refused(key, vm) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    other = builders.issuer_key(3).public_key()
    report = verify_credential(signed, now=LATER, key_resolver=lambda _: _owned(other))
    assert "differs from the key its controller publishes" in report.reason


def test_expired_credential_is_invalid(key, vm) -> None:
    signed = eddsa.sign(builders.credential(valid_until=datetime(2026, 10, 1, tzinfo=UTC)),
                        key, vm)
    report = verify_credential(signed, now=LATER, key_resolver=_resolver_for(key),
                               status_resolver=_status_resolver())
    assert report.result == "invalid" and report.expired
    assert report.reason.startswith("validity: expired")


def test_revoked_via_status_list(key, vm) -> None:
    signed = eddsa.sign(builders.credential(index=42), key, vm)
    report = verify_credential(signed, now=LATER, key_resolver=_resolver_for(key),
                               status_resolver=_status_resolver(revoked={42}))
    assert report.result == "invalid" and report.revoked
    assert report.reason.startswith("status: revoked")
    other = verify_credential(eddsa.sign(builders.credential(index=41), key, vm), now=LATER,
                              key_resolver=_resolver_for(key),
                              status_resolver=_status_resolver(revoked={42}))
    assert other.result == "valid", other.steps


def test_a_forged_status_list_does_not_count(key, vm) -> None:
    signed = eddsa.sign(builders.credential(index=42), key, vm)
    forged = _status_resolver(key=builders.issuer_key(5))
    report = verify_credential(signed, now=LATER, key_resolver=_resolver_for(key),
                               status_resolver=forged)
    assert report.step("status").status == "warn"
    assert "does not verify" in report.step("status").message
    assert report.result == "warning"


def test_key_rotation_keeps_old_credentials_verifiable(key, vm) -> None:
    old_signed = eddsa.sign(builders.credential(number=1), key, vm)
    new_key = builders.issuer_key(2)
    new_vm = ob.verification_method_id(builders.ISSUER_ID, new_key.public_key())
    new_signed = eddsa.sign(builders.credential(number=2), new_key, new_vm)
    resolver = _resolver_for(key, new_key)  # controller document lists retired keys too
    for signed in (old_signed, new_signed):
        report = verify_credential(signed, now=LATER, key_resolver=resolver,
                                   status_resolver=_status_resolver())
        assert report.result == "valid", report.steps
    methods = [ob.verification_method(m, builders.ISSUER_ID, k.public_key())
               for m, k in ((vm, key), (new_vm, new_key))]
    document = ob.controller_document(builders.ISSUER_ID, methods, [vm, new_vm])
    assert document["assertionMethod"] == [vm, new_vm]
    assert {m["controller"] for m in document["verificationMethod"]} == {builders.ISSUER_ID}


def test_did_key_issuer_roundtrip(key) -> None:
    did = did_key_verification_method(key.public_key())
    credential = builders.credential()
    credential["issuer"]["id"] = did.partition("#")[0]
    signed = eddsa.sign(credential, key, did)
    report = verify_credential(signed, now=LATER)
    assert report.step("proof").status == "ok"
    assert report.step("issuer-key").status == "ok"
    assert "did:key" in report.step("issuer-key").message


def test_wrong_key_type_for_eddsa_is_a_clear_reason(key) -> None:
    signed = eddsa.sign(builders.credential(), key, builders.ISSUER_ID + "#key-1")
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    report = verify_credential(signed, now=LATER, key_resolver=lambda _: _owned(p256))
    assert report.result == "invalid"
    assert "wrong key type" in report.reason and "Ed25519" in report.reason
    with pytest.raises(Exception, match="Ed25519"):
        eddsa.create_proof(builders.credential(), ec.generate_private_key(ec.SECP256R1()),
                           builders.ISSUER_ID + "#key-1")


@pytest.mark.parametrize("form", ["json", "jwt"])
def test_bake_png_extract_verify(key, vm, form: str) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    payload = signed if form == "json" else jwt_vc.sign_jwt(builders.credential(), key, kid=vm)
    baked = baking.bake_png(tiny_png(), payload)
    assert baking.extract_png(baked).kind == form
    report = verify(baked, now=LATER, key_resolver=_resolver_for(key),
                    status_resolver=_status_resolver())
    assert report.format == "png"
    assert report.result == "valid", report.steps
    rebaked = baking.bake_png(baked, payload)  # re-baking replaces, never duplicates
    assert baking.extract_png(rebaked).payload == baking.extract_png(baked).payload


@pytest.mark.parametrize("form", ["json", "jwt"])
def test_bake_svg_extract_verify(key, vm, form: str) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    payload = signed if form == "json" else jwt_vc.sign_jwt(builders.credential(), key, kid=vm)
    baked = baking.bake_svg(TINY_SVG, payload)
    assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in baked
    report = verify(baked, now=LATER, key_resolver=_resolver_for(key),
                    status_resolver=_status_resolver())
    assert report.format == "svg"
    assert report.result == "valid", report.steps


def test_tampered_baked_png_is_invalid(key, vm) -> None:
    signed = eddsa.sign(builders.credential(), key, vm)
    signed["name"] = "Forged name"
    report = verify(baking.bake_png(tiny_png(), signed), now=LATER,
                    key_resolver=_resolver_for(key))
    assert report.result == "invalid" and report.reason.startswith("proof:")


@pytest.mark.parametrize("make_key", [
    lambda: builders.issuer_key(),
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    lambda: ec.generate_private_key(ec.SECP256R1()),
], ids=["EdDSA", "RS256", "ES256"])
def test_jwt_sign_verify(make_key) -> None:
    private = make_key()
    kid = "https://tool.example.edu/issuers/college/jwks#key-1"
    token = jwt_vc.sign_jwt(builders.credential(), private, kid=kid)
    decoded = jwt_vc.decode_jwt(token)
    assert decoded.header["typ"] == "JWT" and decoded.header["kid"] == kid
    assert "jwk" not in decoded.header
    assert decoded.payload["iss"] == builders.ISSUER_ID
    assert decoded.payload["jti"] == builders.credential()["id"]
    assert decoded.payload["nbf"] == int(datetime(2026, 9, 1, tzinfo=UTC).timestamp())
    assert decoded.payload["exp"] == int(datetime(2031, 9, 1, tzinfo=UTC).timestamp())
    assert "vc" not in decoded.payload  # OB 3.0 with VCDM 2.0: the payload is the credential
    status_key = _resolver_for(builders.issuer_key())  # the status list's signer

    def resolver(vm: str):
        return _owned(private.public_key()) if vm == kid else status_key(vm)

    report = verify(token, now=LATER, key_resolver=resolver, status_resolver=_status_resolver())
    assert report.result == "valid", report.steps
    assert jwt_vc.verify_jwt(token, resolver).key.owner is not None


def test_jwt_with_only_a_header_jwk_is_not_the_issuers(key) -> None:
    """Forgery (b) of issue 8: the token brings its own key."""
    token = jwt_vc.sign_jwt(builders.credential(), builders.issuer_key(9))
    assert "jwk" in jwt_vc.decode_jwt(token).header
    report = verify(token, now=LATER, key_resolver=_resolver_for(key),
                    status_resolver=_status_resolver())
    assert report.step("proof").status == "ok"
    assert report.result == "invalid"
    assert report.reason.startswith("issuer-key: the signature is correct, but the key that "
                                    "made it is not shown to be Example College's: it came "
                                    "from the token's own header")


def test_jwt_header_jwk_counts_for_a_did_key_issuer_of_that_key(key) -> None:
    credential = builders.credential()
    credential["issuer"]["id"] = did_key_verification_method(key.public_key()).partition("#")[0]
    report = verify(jwt_vc.sign_jwt(credential, key), now=LATER)
    assert report.step("issuer-key").status == "ok"


def test_tampered_jwt_is_invalid(key) -> None:
    token = jwt_vc.sign_jwt(builders.credential(), key)
    header, payload, signature = token.split(".")
    claims = json.loads(jwt_vc.b64url_decode(payload))
    claims["name"] = "Forged"
    forged = ".".join([header, jwt_vc.b64url_encode(json.dumps(claims).encode()), signature])
    report = verify(forged, now=LATER)
    assert report.result == "invalid" and "JWS signature does not verify" in report.reason


def test_jwt_claims_must_match_the_credential(key) -> None:
    credential = builders.credential()
    token = jwt_vc.sign_jwt(credential, key)
    decoded = jwt_vc.decode_jwt(token)
    altered = dict(decoded.payload, iss="https://evil.example/issuer")
    assert "'iss' claim does not match issuer.id" in jwt_vc.check_claims(altered, credential)


def test_jwt_wrong_key_type_is_a_clear_reason(key) -> None:
    token = jwt_vc.sign_jwt(builders.credential(), key, kid="https://x.example/k")
    rsa_public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    report = verify(token, now=LATER, key_resolver=lambda _: _owned(rsa_public))
    assert report.result == "invalid"
    assert "wrong key type: EdDSA needs" in report.reason


def test_jwt_with_private_jwk_is_refused(key) -> None:
    header = {"alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}}
    token = (jwt_vc.b64url_encode(json.dumps(header).encode()) + "."
             + jwt_vc.b64url_encode(b'{"iss":"x"}') + ".AAAA")
    report = verify(token, now=LATER)
    assert report.result == "invalid"
    assert "private key" in report.step("proof").message


def test_vcdm11_credentials_go_in_the_vc_claim(key) -> None:
    legacy = {"@context": ["https://www.w3.org/2018/credentials/v1"], "id": "urn:x:1",
              "type": ["VerifiableCredential"], "issuer": "https://i.example",
              "issuanceDate": "2020-01-01T00:00:00Z", "credentialSubject": {"id": "did:x:1"}}
    decoded = jwt_vc.decode_jwt(jwt_vc.sign_jwt(legacy, key))
    assert decoded.uses_vc_claim and decoded.credential == legacy


def test_multikey_p256_and_did_key_roundtrip() -> None:
    from lti_tool.badges import multikey

    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    encoded = multikey.encode_public_key(p256)
    assert encoded.startswith("zDna")
    assert decode_multikey(encoded) == p256
    ed = builders.issuer_key().public_key()
    assert multikey.public_key_from_did_key(multikey.did_key_from_public_key(ed)) == ed
    assert multikey.did_key_from_public_key(ed).startswith("did:key:z6Mk")
