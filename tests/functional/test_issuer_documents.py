"""The issuer's public documents as a verifier or wallet fetches them: the Profile (the
keys' controller document), the older key ids, the JWKS, the signed status list (cacheable,
revalidated by ETag) and the generated badge image; ``microcred keys rotate-issuer`` keeping
old keys published, ``revoke-issuer-key`` withdrawing one and re-issuing what it signed, and
``reissue-credentials``.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from defusedxml.ElementTree import fromstring

from lti_tool import create_app
from lti_tool.badges import eddsa, jwt_vc, status_list
from lti_tool.badges.multikey import decode_multikey
from lti_tool.badges.verify import verify_credential
from lti_tool.cli import main
from lti_tool.extensions import session_scope
from lti_tool.models import Award, CredentialRecord
from lti_tool.services import issuing
from lti_tool.services.tracking import Assessor
from tests.conftest import REDIS_URL
from tests.support.issuing import BASE, earn, vault_of

TEACHER = Assessor(ref="account:teacher", name="Tess Teacher")


def issued(app, db, **kwargs):
    earned = earn(db, email="lena@example.edu", **kwargs)
    record = issuing.issue_for_award(db, earned.award, vault=vault_of(app), base_url=BASE)
    db.commit()
    return earned, record


def test_issuer_profile_is_json_ld_and_lists_the_keys(app, db, client):
    earned, record = issued(app, db)
    slug = earned.campus.issuer.slug
    response = client.get(f"/issuers/{slug}")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    profile = response.get_json(force=True)
    assert profile["id"] == record.json["issuer"]["id"] == f"{BASE}/issuers/{slug}"
    assert profile["type"] == ["Profile"]
    assert profile["name"] == earned.campus.issuer.name
    assert profile["email"] == earned.campus.issuer.email
    assert profile["url"] == earned.campus.issuer.url
    vm = record.json["proof"][0]["verificationMethod"]
    assert [m["id"] for m in profile["verificationMethod"]] == [vm]
    assert profile["verificationMethod"][0]["controller"] == profile["id"]
    assert profile["assertionMethod"] == [vm]
    # DID v1 first: Data Integrity libraries read assertionMethod without JSON-LD framing
    assert profile["@context"][0] == "https://www.w3.org/ns/did/v1"
    as_json = client.get(f"/issuers/{slug}", headers={"Accept": "application/json"})
    assert as_json.mimetype == "application/json" and as_json.get_json() == profile
    assert "Accept" in as_json.headers["Vary"]


def test_unknown_issuer_and_list_are_404(app, db, client):
    earned, _record = issued(app, db)
    slug = earned.campus.issuer.slug
    for path in ("/issuers/nobody", "/issuers/nobody/keys", "/issuers/nobody/jwks.json",
                 f"/issuers/{slug}/status/99", f"/issuers/{slug}/status/{'9' * 100}",
                 f"/issuers/{slug}/badges/NOPE.svg", f"/issuers/{'x' * 300}"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


def test_the_issuer_profile_resolves_the_proofs_verification_method(app, db, client):
    """W3C Controlled Identifiers 1.0 "Retrieve Verification Method", as a Data Integrity
    verifier does it: the document at the URL without the fragment is the issuer profile,
    it lists the method, whose controller is the credential's issuer, under
    assertionMethod."""
    earned, record = issued(app, db)
    vm = record.json["proof"][0]["verificationMethod"]
    controller_url, _, fragment = vm.partition("#")
    assert controller_url == record.json["issuer"]["id"] == \
        f"{BASE}/issuers/{earned.campus.issuer.slug}"
    response = client.get(controller_url.removeprefix(BASE))
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    document = response.get_json(force=True)
    assert document["id"] == controller_url
    (method,) = [m for m in document["verificationMethod"] if m["id"] == vm]
    assert method["type"] == "Multikey" and method["controller"] == controller_url
    assert method["publicKeyMultibase"] == fragment
    assert vm in document["assertionMethod"]
    # What a verifier does with it: the published key verifies the proof.
    eddsa.verify_proof(record.json, record.json["proof"][0],
                       decode_multikey(method["publicKeyMultibase"]))
    # The ids older credentials name (<issuer>/keys#...) still resolve, controlled by the
    # issuer.
    legacy = client.get(f"{controller_url.removeprefix(BASE)}/keys").get_json(force=True)
    assert legacy["id"] == f"{controller_url}/keys"
    assert [m["id"] for m in legacy["verificationMethod"]] == [f"{controller_url}/keys#{fragment}"]
    assert legacy["verificationMethod"][0]["controller"] == controller_url


def test_jwks_carries_the_vc_jwt_kid(app, db, client):
    earned, record = issued(app, db)
    response = client.get(f"/issuers/{earned.campus.issuer.slug}/jwks.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    decoded = jwt_vc.decode_jwt(record.jwt)
    (jwk,) = [k for k in response.get_json()["keys"] if k["kid"] == decoded.header["kid"]]
    assert jwk["alg"] == "EdDSA" and "d" not in jwk
    jwt_vc.verify_signature(decoded, jwt_vc.public_key_from_jwk(
        {k: jwk[k] for k in ("kty", "crv", "x")}))


def test_status_list_is_signed_cacheable_and_changes_on_revocation(app, db, client):
    earned, record = issued(app, db)
    url = record.json["credentialStatus"]["statusListCredential"]
    path = url.removeprefix(BASE)
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    assert etag
    listed = response.get_json(force=True)
    assert listed["id"] == url and "BitstringStatusListCredential" in listed["type"]
    key_resolver, _ = issuing.resolvers(db, base_url=BASE)
    assert verify_credential(listed, key_resolver=key_resolver).result == "valid"
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304

    issuing.revoke(db, earned.award, reason="Plagiarised evidence.", by=TEACHER,
                   vault=vault_of(app), base_url=BASE)
    db.commit()
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    bits = status_list.StatusList.decode(
        again.get_json(force=True)["credentialSubject"]["encodedList"])
    assert bits.get(record.status_list_index)

    # A verifier holding only the served documents now says "revoked".
    def served(url: str):
        reply = client.get(url.removeprefix(BASE))
        return reply.get_json(force=True) if reply.status_code == 200 else None

    report = verify_credential(record.json, key_resolver=key_resolver, status_resolver=served)
    assert report.revoked and report.result == "invalid"


def test_generated_badge_image_is_an_accessible_svg(app, db, client):
    earned, record = issued(app, db)
    path = record.json["credentialSubject"]["achievement"]["image"]["id"].removeprefix(BASE)
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    root = fromstring(response.data)
    assert root.attrib["role"] == "img"
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == earned.version.title
    assert b"<script" not in response.data


def test_cli_rotates_an_issuers_key_and_old_credentials_keep_verifying(tmp_path: Path):
    env = {"MICROCRED_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'keys.sqlite3'}",
           "REDIS_URL": REDIS_URL, "MICROCRED_INSTANCE_PATH": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    app = create_app({"ENV": "test", "DATABASE_URL": env["DATABASE_URL"],
                      "REDIS_URL": REDIS_URL, "INSTANCE_PATH": str(tmp_path)})
    with session_scope(app) as db:
        earned = earn(db, email="lena@example.edu")
        later = earn(db, campus=earned.campus, email="omar@example.edu")  # issued after
        old = issuing.issue_for_award(db, earned.award, vault=vault_of(app), base_url=BASE)
        slug, old_vm = earned.campus.issuer.slug, old.json["proof"][0]["verificationMethod"]
        award_id, later_id = earned.award.id, later.award.id

    result = run("keys", "rotate-issuer", "--issuer", slug)
    assert result.exit_code == 0, result.output
    assert f"New signing key for issuer {slug}: {BASE}/issuers/{slug}#z6Mk" in result.output
    assert "retired" in result.output and "active" in result.output

    client = app.test_client()
    methods = client.get(f"/issuers/{slug}").get_json(force=True)["verificationMethod"]
    assert len(methods) == 2 and old_vm in [m["id"] for m in methods]
    with session_scope(app) as db:
        record = db.query(CredentialRecord).filter_by(award_id=award_id).one()
        assert issuing.verify_record(db, record, base_url=BASE).result == "valid"
        later_award = db.get(Award, later_id)
        assert later_award is not None
        fresh = issuing.issue_for_award(db, later_award, vault=vault_of(app), base_url=BASE)
        new_vm = fresh.json["proof"][0]["verificationMethod"]
        assert new_vm != old_vm and new_vm in [m["id"] for m in methods]
        assert issuing.verify_record(db, fresh, base_url=BASE).result == "valid"

    unknown = runner.invoke(main, ["keys", "rotate-issuer", "--issuer", "nope"], env=env)
    assert unknown.exit_code == 2
    assert unknown.stderr.strip().startswith("error: no issuer with slug 'nope'")


def test_cli_revokes_a_compromised_key_and_reissues_what_it_signed(tmp_path: Path):
    env = {"MICROCRED_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'keys.sqlite3'}",
           "REDIS_URL": REDIS_URL, "MICROCRED_INSTANCE_PATH": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env=env)

    assert run("db", "upgrade").exit_code == 0
    app = create_app({"ENV": "test", "DATABASE_URL": env["DATABASE_URL"],
                      "REDIS_URL": REDIS_URL, "INSTANCE_PATH": str(tmp_path)})
    with session_scope(app) as db:
        earned = earn(db, email="lena@example.edu")
        other = earn(db, campus=earned.campus, email="omar@example.edu")
        first = issuing.issue_for_award(db, earned.award, vault=vault_of(app), base_url=BASE)
        issuing.issue_for_award(db, other.award, vault=vault_of(app), base_url=BASE)
        slug, key = earned.campus.issuer.slug, first.key.public_multibase
        old_copy, public_id = first.json, earned.award.public_id

    refused = run("keys", "revoke-issuer-key", "--issuer", slug, "--key", key,
                  "--compromised-since", "2026-12-01 08:00", "--reason", "Laptop stolen")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == ("error: --compromised-since needs a time zone (e.g. "
                                      "2026-12-01T08:00:00Z)")
    result = run("keys", "revoke-issuer-key", "--issuer", slug, "--key", key,
                 "--compromised-since", "2026-12-01T08:00:00Z", "--reason", "Laptop stolen")
    assert result.exit_code == 0, result.output
    assert f"Key {key} of issuer {slug} is revoked" in result.output
    assert "Done: 2 credential(s) it signed were re-issued" in result.output
    again = run("keys", "revoke-issuer-key", "--issuer", slug, "--key", key,
                "--compromised-since", "2026-12-01T08:00:00Z", "--reason", "Laptop stolen")
    assert again.exit_code == 0 and "Done: 0 credential(s)" in again.output  # idempotent

    client = app.test_client()
    profile = client.get(f"/issuers/{slug}").get_json(force=True)
    bad_vm = f"{BASE}/issuers/{slug}#{key}"
    assert bad_vm not in profile["assertionMethod"]
    assert next(m for m in profile["verificationMethod"] if m["id"] == bad_vm)["revoked"]
    # The learner's link serves the re-issued copy, which verifies; the old copy says why not.
    served = client.get(f"/credentials/{public_id}",
                        headers={"Accept": "application/ld+json"}).get_json(force=True)
    assert served["id"] == old_copy["id"] and served["proof"] != old_copy["proof"]
    report = client.post("/api/v1/verify", data=json.dumps(served),
                         content_type="application/ld+json").get_json()
    assert report["result"] == "valid", report["reason"]
    stale = client.post("/api/v1/verify", data=json.dumps(old_copy),
                        content_type="application/ld+json").get_json()
    assert stale["result"] == "invalid"
    assert "withdrew the key that signed this copy" in stale["reason"]
    assert "(Laptop stolen)" in stale["reason"] and "2026-12-01 08:00 UTC" in stale["reason"]
    assert f"the valid copy is at {old_copy['id']}" in stale["reason"]

    unknown = run("keys", "revoke-issuer-key", "--issuer", slug, "--key", "z6MkNope",
                  "--compromised-since", "2026-12-01T08:00:00Z", "--reason", "x")
    assert unknown.exit_code == 2 and "has no key z6MkNope" in unknown.stderr
    assert run("keys", "reissue-credentials", "--issuer", slug).output.startswith(
        f"Re-issued 0 credential(s) of issuer {slug}")
