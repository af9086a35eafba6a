"""/verify with credentials MicroCred issued: checked against OUR published keys and status
list straight from the database (no HTTP request to ourselves, no network at all): valid,
tampered (the failed step named), revoked, still valid after a key rotation, and a key the
issuer never published refused."""

from __future__ import annotations

import json

import pytest

from lti_tool.badges import eddsa, ob
from lti_tool.badges.multikey import generate_ed25519_key
from lti_tool.models import Issuer
from lti_tool.services import issuing
from tests.support.credentials import (
    build_school,
    earn,
    no_outbound_network_fixture,  # noqa: F401 - the no_outbound_network fixture
    result_of,
    text_of,
    verify_file,
    verify_text,
)
from tests.support.learning import TEACHER

BASE = "http://tool.test"


@pytest.fixture()
def award(app, db, platform):
    return earn(app, db, build_school(app, db, platform))


def _record(db, award):
    return issuing.get_record(db, award)


def test_our_credential_verifies_with_our_published_key(client, db, award,
                                                        no_outbound_network):
    record = _record(db, award)
    response = verify_file(client, json.dumps(record.json).encode())
    assert result_of(response) == "Valid"
    text = text_of(response)
    assert "Passed Signature the signature is intact: nothing in the credential has changed " \
        "since it was signed (eddsa-rdfc-2022)" in text
    assert "Passed Signed by the issuer signed by the issuer: the key is Northern College's: " \
        f"Northern College lists it in its profile at {BASE}/issuers/northern" in text
    assert "verified with the key from" not in text  # the garbled text of issue 8
    assert "not revoked" in text
    assert "Northern College" in text and "Python Programming Fundamentals" in text
    assert no_outbound_network == []  # not even to tool.test, our own host


def test_our_vc_jwt_verifies(client, db, award, no_outbound_network):
    response = verify_text(client, _record(db, award).jwt)
    assert result_of(response) == "Valid"
    assert "has changed since it was signed (EdDSA VC-JWT)" in text_of(response)
    assert "signed by the issuer: the key is Northern College's" in text_of(response)
    assert no_outbound_network == []


def test_tampered_credential_is_invalid_with_the_reason(client, db, award):
    credential = json.loads(json.dumps(_record(db, award).json))
    credential["validUntil"] = "2099-01-01T00:00:00Z"
    response = verify_file(client, json.dumps(credential).encode())
    assert result_of(response) == "Not valid"
    text = text_of(response)
    assert "Reason: proof:" in text and "signature does not match" in text
    assert "not confirmed, because the credential did not verify" in text


def test_revoked_credential_says_revoked(app, client, db, award):
    issuing.revoke(db, award, reason="Issued by mistake", by=TEACHER,
                   vault=app.extensions["lti"].vault, base_url=BASE)
    db.commit()
    response = verify_file(client, json.dumps(_record(db, award).json).encode())
    assert result_of(response) == "Not valid: revoked by the issuer"
    assert "Reason: status: revoked by the issuer" in text_of(response)
    body = client.post("/api/v1/verify", data=_record(db, award).jwt,
                       content_type="application/vc+jwt").get_json()
    assert body["result"] == "invalid" and body["revoked"] is True


def test_old_credentials_still_verify_after_key_rotation(app, client, db, award):
    issuer = db.get(Issuer, award.issuer_id)
    issuing.rotate_issuer_key(db, issuer, vault=app.extensions["lti"].vault, base_url=BASE)
    db.commit()
    response = verify_file(client, json.dumps(_record(db, award).json).encode())
    assert result_of(response) == "Valid"


@pytest.mark.parametrize("controller", [f"{BASE}/issuers/northern",
                                        f"{BASE}/issuers/northern/keys"])
def test_a_key_our_issuer_never_published_is_refused(client, db, award, no_outbound_network,
                                                     controller):
    """Someone signs a credential naming our issuer's key URL with a key of their own: the
    fragment convention must not vouch for it, because we know the issuer's keys."""
    forger = generate_ed25519_key()
    vm = ob.verification_method_id(controller, forger.public_key())
    unsigned = {k: v for k, v in _record(db, award).json.items() if k != "proof"}
    forged = eddsa.sign(unsigned, forger, vm)
    response = verify_file(client, json.dumps(forged).encode())
    assert result_of(response) == "Not valid"
    assert "Northern College publishes no such key" in text_of(response)
    assert no_outbound_network == []


def test_api_verifies_our_credential(client, db, award):
    body = client.post("/api/v1/verify", data=json.dumps(_record(db, award).json),
                       content_type="application/ld+json").get_json()
    assert body["result"] == "valid"
    assert body["claims"]["issuer"]["id"] == f"{BASE}/issuers/northern"
    assert body["claims"]["subject"].startswith("emailAddress (salted hash")
