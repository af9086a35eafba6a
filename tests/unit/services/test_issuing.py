"""Issuing OB 3.0 credentials for awards: what the signed credential says, that it is valid
against the 1EdTech schemas, and that our own verifier (with our published keys and status
lists as its only sources, never the network) says valid / revoked / expired / tampered.

Every award comes from the real award engine (launch records, published catalog version,
demonstrations)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from pyld import jsonld
from sqlalchemy import func, select

from lti_tool.badges import contexts, eddsa, jwt_vc, ob, schemas, status_list
from lti_tool.badges.verify import verify, verify_credential
from lti_tool.errors import NotFound, ValidationFailed
from lti_tool.models import AuditEvent, CredentialRecord, IssuerSigningKey, StatusList
from lti_tool.models.base import utcnow
from lti_tool.services import issuer_keys, issuing
from lti_tool.services.tracking import Assessor
from tests.support.issuing import BASE, earn, refuse_network, vault_of

TEACHER = Assessor(ref="account:teacher", name="Tess Teacher")
CREDIT = {"credit_bearing": True, "credit_value": "1.50",
          "credit_system": "College credits (1 credit = 14 hours)"}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signing and verifying use bundled contexts and our database only."""
    refuse_network(monkeypatch)


def issue(app, db, award):
    return issuing.issue_for_award(db, award, vault=vault_of(app), base_url=BASE)


@pytest.mark.parametrize("credit", [True, False])
def test_credential_is_schema_valid_and_says_what_the_award_is(app, db, credit):
    earned = earn(db, email="Lena.Learner@Example.edu", expiry_months=24,
                  image_alt="", **(CREDIT if credit else {}))
    record = issue(app, db, earned.award)
    credential = record.json
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL_PLAIN) == []
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL) == []

    slug, code = earned.campus.issuer.slug, earned.version.credential.code
    assert credential["id"] == f"{BASE}/credentials/{earned.award.public_id}"
    assert credential["issuer"]["id"] == f"{BASE}/issuers/{slug}"
    assert credential["issuer"]["email"] == earned.campus.issuer.email
    awarded = earned.award.awarded_at
    assert credential["validFrom"] == awarded.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["validUntil"] == awarded.replace(year=awarded.year + 2).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    subject = credential["credentialSubject"]
    (identity,) = subject["identifier"]
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    assert ob.identity_matches(identity, "lena.learner@example.edu")
    assert "Lena" not in str(credential) and "Learner " not in str(credential)
    assert subject["result"][0]["value"] == "Pass"
    assert subject["source"]["name"] == f"{earned.course.title} (In a for-credit course)"

    achievement = subject["achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["id"] == f"{BASE}/c/{slug}/{code}/v/1"
    assert achievement["humanCode"] == code and achievement["version"] == "1"
    assert achievement["inLanguage"] == "en" and achievement["tag"] == ["test"]
    assert achievement["fieldOfStudy"] == "Testing"
    assert "notionalLearningHours" not in achievement  # standard vocabulary only
    narrative = achievement["criteria"]["narrative"]
    assert "Notional learning hours: 12." in narrative
    assert "Delivery: Online, asynchronous." in narrative
    assert ("creditsAvailable" in achievement) is credit
    assert ("creditsEarned" in subject) is credit
    if credit:
        assert achievement["creditsAvailable"] == 1.5
    narrative = achievement["criteria"]["narrative"]
    assert "1. Explain the first thing." in narrative and "Earning rule:" in narrative
    assert achievement["image"] == {
        "id": f"{BASE}/issuers/{slug}/badges/{code}.svg", "type": "Image",
        "caption": f"Badge: {earned.version.title}, issued by {earned.campus.issuer.name}"}
    aligned = {(a["targetName"], a.get("targetFramework")) for a in achievement["alignment"]}
    assert {("Skill VAR", f"{earned.campus.issuer.name} skills"), ("ESCO VAR", "ESCO"),
            ("Skill LOOP", f"{earned.campus.issuer.name} skills"),
            ("ESCO LOOP", "ESCO")} == aligned

    evidence = credential["evidence"]
    assert len(evidence) == len(earned.award.demonstration_ids) == 2
    assert all("Outcome: demonstrated (pass). Method: Observation. Date: " in e["narrative"]
               for e in evidence)
    assert all("id" not in e for e in evidence)  # "summary" evidence: no URLs

    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"] == f"{BASE}/issuers/{slug}/status/1"
    assert entry["statusListIndex"] == str(record.status_list_index)
    (proof,) = credential["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"] == (
        f"{BASE}/issuers/{slug}#{record.key.public_multibase}")


def test_catalog_image_and_alt_text_are_used_when_the_catalog_has_one(app, db):
    earned = earn(db, email="a@example.edu", image_url="https://cdn.example.edu/py.png",
                  image_alt="Blue hexagon with a python")
    image = issue(app, db, earned.award).json["credentialSubject"]["achievement"]["image"]
    assert image == {"id": "https://cdn.example.edu/py.png", "type": "Image",
                     "caption": "Blue hexagon with a python"}


def test_no_expiry_policy_means_no_valid_until(app, db):
    earned = earn(db, email="a@example.edu")
    assert "validUntil" not in issue(app, db, earned.award).json


def test_evidence_urls_only_when_the_issuer_allows_full_evidence(app, db):
    earned = earn(db, email="a@example.edu", evidence_url="https://lms.example.edu/work/7")
    earned.campus.issuer.settings = {**earned.campus.issuer.settings, "evidence_detail": "full"}
    db.flush()
    evidence = issue(app, db, earned.award).json["evidence"]
    assert [e["id"] for e in evidence] == ["https://lms.example.edu/work/7"] * 2
    summary = earn(db, email="b@example.edu", evidence_url="https://lms.example.edu/work/8")
    assert "lms.example.edu" not in str(issue(app, db, summary.award).json)


def test_without_email_the_subject_is_the_hashed_institutional_then_platform_id(app, db):
    by_sis = issue(app, db, earn(db, sourcedid="SIS-000123").award).json
    (identity,) = by_sis["credentialSubject"]["identifier"]
    assert identity["identityType"] == "lisSourcedId"
    assert identity["identityHash"] == ob.hashed_identifier(
        "SIS-000123", "lisSourcedId", identity["salt"])["identityHash"]
    by_sub = issue(app, db, earn(db, sub="moodle-user-42").award).json
    (identity,) = by_sub["credentialSubject"]["identifier"]
    assert identity["identityType"] == "ltiUserId"
    assert identity["identityHash"] == ob.hashed_identifier(
        "moodle-user-42", "ltiUserId", identity["salt"])["identityHash"]
    assert "SIS-000123" not in str(by_sis) and "moodle-user-42" not in str(by_sub)
    for credential in (by_sis, by_sub):
        assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL_PLAIN) == []


def test_each_credential_gets_its_own_salt(app, db):
    first = earn(db, email="same@example.edu")
    second = earn(db, campus=first.campus, email="same@example.edu", sub="other-account")
    hashes = {issue(app, db, e.award).json["credentialSubject"]["identifier"][0]["identityHash"]
              for e in (first, second)}
    assert len(hashes) == 2  # two credentials of one person cannot be linked by the hash


def test_issuing_is_idempotent_and_audited(app, db):
    earned = earn(db, email="a@example.edu")
    first = issue(app, db, earned.award)
    assert issue(app, db, earned.award).id == first.id
    assert issuing.issue_new_awards(db, [earned.award.id], vault=vault_of(app),
                                    base_url=BASE)[0].id == first.id
    assert db.scalar(select(func.count()).select_from(CredentialRecord).where(
        CredentialRecord.award_id == earned.award.id)) == 1
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "credential.issued",
        AuditEvent.subject_id == str(earned.award.id))) == 1


def test_status_indexes_are_consecutive_and_distinct_per_issuer(app, db):
    first = earn(db, email="a@example.edu")
    records = [issue(app, db, first.award)]
    for n in range(3):
        records.append(issue(app, db, earn(db, campus=first.campus,
                                           email=f"x{n}@example.edu").award))
    assert [r.status_list_index for r in records] == [0, 1, 2, 3]
    other_campus = issue(app, db, earn(db, email="z@example.edu").award)
    assert other_campus.status_list_index == 0  # every issuer has lists of its own
    assert other_campus.status_list_id != records[0].status_list_id


def test_a_full_list_continues_in_a_new_one(app, db):
    earned = earn(db, email="a@example.edu")
    first = issue(app, db, earned.award)
    first.status_list.next_index = first.status_list.size  # as if 131,072 were issued
    db.flush()
    nxt = issue(app, db, earn(db, campus=earned.campus, email="b@example.edu").award)
    assert nxt.status_list.list_id == "2" and nxt.status_list_index == 0
    assert nxt.json["credentialStatus"]["statusListCredential"].endswith("/status/2")
    assert issuing.verify_record(db, nxt, base_url=BASE).result == "valid"


def test_sign_verify_round_trip_json_and_jwt_with_our_resolvers_only(app, db):
    earned = earn(db, email="a@example.edu", expiry_months=12)
    record = issue(app, db, earned.award)
    for form in ("json", "jwt"):
        report = issuing.verify_record(db, record, base_url=BASE, form=form)
        assert report.result == "valid", (form, report.reason, report.steps)
        assert report.step("issuer-key").message.startswith(  # our key, not the fragment
            f"signed by the issuer: the key is {earned.campus.issuer.name}'s: "
            f"{earned.campus.issuer.name} lists it in its profile at")
        assert report.step("status").status == "ok"
    assert jwt_vc.decode_jwt(record.jwt).header["alg"] == "EdDSA"


def test_a_changed_credential_does_not_verify(app, db):
    record = issue(app, db, earn(db, email="a@example.edu").award)
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    forged = copy.deepcopy(record.json)
    forged["credentialSubject"]["achievement"]["name"] = "Advanced Python Mastery"
    report = verify_credential(forged, key_resolver=key_resolver,
                               status_resolver=status_resolver)
    assert report.result == "invalid" and report.reason.startswith("proof:")


def test_a_key_we_never_published_is_refused_not_taken_from_the_fragment(app, db):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from lti_tool.badges import eddsa

    earned = earn(db, email="a@example.edu")
    record = issue(app, db, earned.award)
    impostor = ed25519.Ed25519PrivateKey.generate()
    unsigned = {k: v for k, v in record.json.items() if k != "proof"}
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    for controller in (issuer_keys.issuer_url(BASE, earned.campus.issuer),
                       issuer_keys.legacy_keys_url(BASE, earned.campus.issuer)):
        forged = eddsa.sign(unsigned, impostor,
                            ob.verification_method_id(controller, impostor.public_key()))
        report = verify_credential(forged, key_resolver=key_resolver,
                                   status_resolver=status_resolver)
        assert report.result == "invalid"
        assert f"{earned.campus.issuer.name} publishes no such key" in report.reason


def test_revoking_sets_the_bit_and_verification_says_revoked(app, db):
    earned = earn(db, email="a@example.edu")
    record = issue(app, db, earned.award)
    bystander = issue(app, db, earn(db, campus=earned.campus, email="b@example.edu").award)
    before = dict(record.status_list.signed or {})
    with pytest.raises(ValidationFailed):
        issuing.revoke(db, earned.award, reason="  ", by=TEACHER, vault=vault_of(app),
                       base_url=BASE)
    assert earned.award.status == "active"
    issuing.revoke(db, earned.award, reason="Evidence was plagiarised.", by=TEACHER,
                   vault=vault_of(app), base_url=BASE)
    assert earned.award.status == "revoked"
    lst = record.status_list
    assert lst.signed != before
    assert status_list.StatusList.decode(lst.signed["credentialSubject"]["encodedList"]).get(
        record.status_list_index)
    for form in ("json", "jwt"):
        report = issuing.verify_record(db, record, base_url=BASE, form=form)
        assert report.result == "invalid" and report.revoked, report.steps
        assert report.reason.startswith("status: revoked")
    assert issuing.verify_record(db, bystander, base_url=BASE).result == "valid"
    # Idempotent: revoking again changes nothing.
    signed = lst.signed
    issuing.revoke(db, earned.award, reason="again", by=TEACHER, vault=vault_of(app),
                   base_url=BASE)
    assert lst.signed == signed and earned.award.revoked_reason == "Evidence was plagiarised."


def test_an_award_revoked_before_issue_gets_a_revoked_credential(app, db):
    from lti_tool.services import tracking

    earned = earn(db, email="a@example.edu")
    tracking.revoke_award(db, earned.award, reason="Issued in error.", by=TEACHER)
    record = issue(app, db, earned.award)
    assert issuing.verify_record(db, record, base_url=BASE).revoked


def test_an_expired_credential_verifies_as_expired(app, db):
    earned = earn(db, email="a@example.edu", expiry_months=1, awarded_days_ago=70)
    record = issue(app, db, earned.award)
    report = issuing.verify_record(db, record, base_url=BASE)
    assert report.result == "invalid" and report.expired
    assert report.reason.startswith("validity: expired")
    assert report.step("proof").status == "ok"
    earlier = issuing.verify_record(db, record, base_url=BASE,
                                    now=utcnow() - timedelta(days=60))
    assert not earlier.expired and earlier.step("validity").status == "ok"


def test_add_months_clamps_to_the_end_of_the_month():
    from datetime import UTC, datetime

    assert issuing.add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC)
    assert issuing.add_months(datetime(2027, 12, 31, tzinfo=UTC), 2) == datetime(
        2028, 2, 29, tzinfo=UTC)
    assert issuing.add_months(datetime(2026, 5, 15, tzinfo=UTC), 24) == datetime(
        2028, 5, 15, tzinfo=UTC)


def test_key_rotation_keeps_old_credentials_verifying(app, db):
    earned = earn(db, email="a@example.edu")
    issuer = earned.campus.issuer
    old = issue(app, db, earned.award)
    old_key = old.key
    new_key = issuing.rotate_issuer_key(db, issuer, vault=vault_of(app), base_url=BASE,
                                        by="test")
    assert new_key.id != old_key.id and old_key.status == "retired"
    new = issue(app, db, earn(db, campus=earned.campus, email="b@example.edu").award)
    assert new.key_id == new_key.id
    assert old.json["proof"][0]["verificationMethod"] != new.json["proof"][0][
        "verificationMethod"]
    for record in (old, new):
        for form in ("json", "jwt"):
            report = issuing.verify_record(db, record, base_url=BASE, form=form)
            assert report.result == "valid", (form, report.reason)
    # The status list was signed again with the new key, and still checks out.
    assert old.status_list.signed["proof"][0]["verificationMethod"].endswith(
        new_key.public_multibase)
    profile = issuing.issuer_document(db, issuer, BASE)
    assert [m["publicKeyMultibase"] for m in profile["verificationMethod"]] == [
        old_key.public_multibase, new_key.public_multibase]
    assert profile["assertionMethod"] == [m["id"] for m in profile["verificationMethod"]]
    # Revoking an old credential after the rotation still works.
    issuing.revoke(db, earned.award, reason="Test", by=TEACHER, vault=vault_of(app),
                   base_url=BASE)
    assert issuing.verify_record(db, old, base_url=BASE).revoked


def test_private_keys_are_encrypted_at_rest_and_loaded_once(app, db):
    earned = earn(db, email="a@example.edu")
    key = issue(app, db, earned.award).key
    seed = issuer_keys.private_key(vault_of(app), key).private_bytes_raw()
    assert seed not in key.private_encrypted
    issuer_keys._loaded.clear()
    loaded = issuer_keys.private_key(vault_of(app), key)
    assert issuer_keys.private_key(vault_of(app), key) is loaded  # cached, not decrypted again
    assert loaded.private_bytes_raw() == seed
    from lti_tool.errors import ConfigurationError
    from lti_tool.services.keys import KeyVault

    issuer_keys._loaded.clear()
    with pytest.raises(ConfigurationError):
        issuer_keys.private_key(KeyVault("another secret"), key)


def test_jwt_kid_resolves_through_the_issuers_jwks(app, db):
    earned = earn(db, email="a@example.edu")
    record = issue(app, db, earned.award)
    decoded = jwt_vc.decode_jwt(record.jwt)
    kid = decoded.header["kid"]
    assert kid == record.json["proof"][0]["verificationMethod"]
    jwks = issuing.jwks_document(db, earned.campus.issuer, BASE)
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    jwt_vc.verify_signature(decoded, jwt_vc.public_key_from_jwk(
        {k: v for k, v in jwk.items() if k in ("kty", "crv", "x")}))
    assert decoded.payload["iss"] == record.json["issuer"]["id"]
    assert decoded.payload["jti"] == record.json["id"]
    assert "proof" not in decoded.payload  # the JWS is the proof


def test_issuer_documents_are_complete_json_ld(app, db):
    earned = earn(db, email="a@example.edu")
    issue(app, db, earned.award)
    issuer = earned.campus.issuer
    for document in (issuing.issuer_document(db, issuer, BASE),
                     issuing.legacy_keys_document(db, issuer, BASE),
                     earned.award and db.scalars(select(StatusList)).first().signed):
        dropped: list[str] = []
        jsonld.expand(document, {"documentLoader": contexts.document_loader},
                      on_property_dropped=dropped.append)
        assert dropped == [], dropped
    profile = issuing.issuer_document(db, issuer, BASE)
    assert profile["id"] == f"{BASE}/issuers/{issuer.slug}" and "Profile" in profile["type"]
    assert profile["assertionMethod"] == [m["id"] for m in profile["verificationMethod"]]


def test_clr_holds_the_active_credentials_signed_and_schema_valid(app, db):
    first = earn(db, email="lena@example.edu", code="PYF", **CREDIT)
    campus, course, learner = first.campus, first.course, first.learner
    from tests.support.issuing import publish
    from tests.support.tracking_engine import record

    second_version = publish(campus, "SQL", ("SEL", "JOIN"))
    third_version = publish(campus, "GIT", ("COMMIT",))
    for version in (second_version, third_version):
        campus.offer(course, version)
    awards = [first.award]
    for code in ("SEL", "JOIN", "COMMIT"):
        awards += record(db, course, learner, campus.skill(code)).new_awards
    assert len(awards) == 3
    issue(app, db, awards[0])  # one issued before, two issued by build_clr
    issuing.revoke(db, awards[2], reason="Issued in error.", by=TEACHER, vault=vault_of(app),
                   base_url=BASE)
    clr = issuing.build_clr(db, learner.person_id, vault=vault_of(app), base_url=BASE)
    assert schemas.schema_errors(clr, schemas.CLR_CREDENTIAL) == []
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    subject = clr["credentialSubject"]
    assert [c["id"] for c in subject["verifiableCredential"]] == [
        f"{BASE}/credentials/{a.public_id}" for a in awards[:2]]  # revoked one left out
    assert [a["humanCode"] for a in subject["achievement"]] == ["PYF", "SQL"]
    assert "association" not in subject  # no pathway links these achievements
    assert ob.identity_matches(subject["identifier"][0], "lena@example.edu")
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    report = verify_credential(clr, key_resolver=key_resolver, status_resolver=status_resolver)
    assert report.result == "valid", report.steps
    assert report.kind == "clr"
    for embedded in subject["verifiableCredential"]:
        assert verify_credential(embedded, key_resolver=key_resolver,
                                 status_resolver=status_resolver).result == "valid"
    assert "each of the 2 credential(s) in the record verifies" in report.step(
        "credentials").message
    forged = copy.deepcopy(clr)
    forged["credentialSubject"]["achievement"][0]["name"] = "Something else"
    assert verify_credential(forged, key_resolver=key_resolver).result == "invalid"
    # A record made before one of its credentials was revoked no longer verifies as a whole.
    issuing.revoke(db, awards[1], reason="Issued in error.", by=TEACHER, vault=vault_of(app),
                   base_url=BASE)
    stale = verify_credential(clr, key_resolver=key_resolver, status_resolver=status_resolver)
    assert stale.result == "invalid"
    assert stale.reason.startswith("credentials: credential 2") and "revoked" in stale.reason


def test_clr_is_per_issuer_and_needs_a_credential(app, db):
    from lti_tool.errors import NotFound

    earned = earn(db, email="a@example.edu")
    with pytest.raises(NotFound):
        issuing.build_clr(db, earned.learner.person_id, vault=vault_of(app), base_url=BASE,
                          issuer_id=earned.campus.issuer.id + 1000)
    issuing.revoke(db, earned.award, reason="gone", by=TEACHER, vault=vault_of(app),
                   base_url=BASE)
    with pytest.raises(NotFound):
        issuing.build_clr(db, earned.learner.person_id, vault=vault_of(app), base_url=BASE)


def test_credential_by_public_id_issues_lazily_when_it_can(app, db):
    earned = earn(db, email="a@example.edu")
    assert issuing.credential_by_public_id(db, earned.award.public_id) is None
    found = issuing.credential_by_public_id(db, earned.award.public_id, vault=vault_of(app),
                                            base_url=BASE)
    assert found is not None and found[0].id == earned.award.id
    assert issuing.credential_by_public_id(db, earned.award.public_id) == found
    assert issuing.credential_by_public_id(db, "no-such-id") is None
    assert issuing.credential_by_public_id(db, "x" * 200) is None


def test_issue_new_awards_issues_at_most_the_eager_limit(app, db):
    first = earn(db, email="a@example.edu")
    second = earn(db, campus=first.campus, email="b@example.edu")
    issued = issuing.issue_new_awards(db, [first.award, second.award.id], vault=vault_of(app),
                                      base_url=BASE, limit=1)
    assert [r.award_id for r in issued] == [first.award.id]
    assert issuing.get_record(db, second.award) is None


def test_generated_badge_svg_is_accessible_and_inert(app, db):
    svg = issuing.badge_svg_for('Python <script>alert("x")</script> & Data Fundamentals',
                                "Lakeshore College of Applied Arts and Technology")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="badge-title">Python &lt;script&gt;' in svg
    assert "<script" not in svg and "href" not in svg
    assert "Lakeshore College" in svg and "MICRO-CREDENTIAL" in svg
    from defusedxml.ElementTree import fromstring

    fromstring(svg)  # well-formed XML
    earned = earn(db, email="a@example.edu")
    record = issue(app, db, earned.award)
    assert earned.version.title in issuing.badge_svg(record)
    assert issuing.badge_svg(earned.award) == issuing.badge_svg(record)


def test_keys_are_published_for_ever(app, db):
    earned = earn(db, email="a@example.edu")
    issuer = earned.campus.issuer
    issue(app, db, earned.award)
    for _ in range(2):
        issuing.rotate_issuer_key(db, issuer, vault=vault_of(app), base_url=BASE)
    keys = db.scalars(select(IssuerSigningKey).where(
        IssuerSigningKey.issuer_id == issuer.id)).all()
    assert sorted(k.status for k in keys) == ["active", "retired", "retired"]
    assert len(issuing.jwks_document(db, issuer, BASE)["keys"]) == 3


# -- key revocation (issue 8) -------------------------------------------------------------------


def test_revoking_a_compromised_key_reissues_what_it_signed(app, db):
    earned = earn(db, email="a@example.edu")
    issuer = earned.campus.issuer
    record = issue(app, db, earned.award)
    other = issue(app, db, earn(db, campus=earned.campus, email="b@example.edu").award)
    old_copy, old_jwt, bad = copy.deepcopy(record.json), record.jwt, record.key
    since = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    issuing.revoke_issuer_key(db, issuer, bad.public_multibase, compromised_since=since,
                              reason="Laptop stolen", vault=vault_of(app), base_url=BASE,
                              by="test")
    assert bad.status == "revoked" and bad.compromised_since == since
    active = issuer_keys.active_key(db, issuer)
    assert active is not None and active.id != bad.id
    # The profile still describes the key (revoked) but no longer authorizes it.
    profile = issuing.issuer_document(db, issuer, BASE)
    bad_vm = issuer_keys.verification_method(BASE, issuer, bad)
    (described,) = [m for m in profile["verificationMethod"] if m["id"] == bad_vm]
    assert "revoked" in described and bad_vm not in profile["assertionMethod"]
    assert issuer_keys.verification_method(BASE, issuer, active) in profile["assertionMethod"]
    assert bad_vm not in {k["kid"] for k in issuing.jwks_document(db, issuer, BASE)["keys"]}
    # Everything the key signed, re-signed with the active key: same id, same claims.
    assert issuing.reissue_signed_by(db, bad, vault=vault_of(app), base_url=BASE) == 2
    assert issuing.reissue_signed_by(db, bad, vault=vault_of(app), base_url=BASE) == 0
    for reissued in (record, other):
        assert reissued.key_id == active.id and reissued.reissued_at is not None
        for form in ("json", "jwt"):
            report = issuing.verify_record(db, reissued, base_url=BASE, form=form)
            assert report.result == "valid", (form, report.reason)
    assert record.json["id"] == old_copy["id"]
    assert eddsa.unsecured_document(record.json) == eddsa.unsecured_document(old_copy)
    # The status list is signed with the active key too.
    assert record.status_list.signed["proof"][0]["verificationMethod"].endswith(
        active.public_multibase)
    # An old copy says why it no longer counts and where the valid one is.
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    for stale in (verify_credential(old_copy, key_resolver=key_resolver,
                                    status_resolver=status_resolver),
                  verify(old_jwt, key_resolver=key_resolver, status_resolver=status_resolver)):
        assert stale.result == "invalid" and stale.step("proof").status == "ok"
        assert stale.reason.startswith(
            f"issuer-key: {issuer.name} withdrew the key that signed this copy on ")
        assert "(Laptop stolen)" in stale.reason and "2026-11-01 08:30 UTC" in stale.reason
        assert f"the valid copy is at {old_copy['id']}" in stale.reason


def test_revoking_is_idempotent_and_checks_its_input(app, db):
    earned = earn(db, email="a@example.edu")
    issuer = earned.campus.issuer
    key = issue(app, db, earned.award).key
    with pytest.raises(ValidationFailed) as refused:
        issuing.revoke_issuer_key(db, issuer, key.public_multibase, reason=" ",
                                  compromised_since=utcnow() + timedelta(days=1),
                                  vault=vault_of(app), base_url=BASE)
    assert set(refused.value.errors) == {"reason", "compromised_since"}
    assert key.status == "active"
    with pytest.raises(NotFound):
        issuing.revoke_issuer_key(db, issuer, "z6MkNotOurs", reason="x",
                                  compromised_since=utcnow(), vault=vault_of(app),
                                  base_url=BASE)
    for _ in range(2):
        issuing.revoke_issuer_key(db, issuer, key.public_multibase, reason="Leaked",
                                  compromised_since=utcnow(), vault=vault_of(app),
                                  base_url=BASE)
    assert key.status == "revoked"
    assert [k.status for k in issuer_keys.published_keys(db, issuer)] == ["revoked", "active"]


def test_a_copy_read_before_the_batch_reaches_it_is_reissued_on_read(app, db):
    earned = earn(db, email="a@example.edu")
    record = issue(app, db, earned.award)
    bad = record.key
    issuing.revoke_issuer_key(db, earned.campus.issuer, bad.public_multibase,
                              reason="Leaked", compromised_since=utcnow(),
                              vault=vault_of(app), base_url=BASE)
    found = issuing.credential_by_public_id(db, earned.award.public_id, vault=vault_of(app),
                                            base_url=BASE)
    assert found is not None and found[1].key_id != bad.id
    assert issuing.verify_record(db, found[1], base_url=BASE).result == "valid"


def test_outdated_records_are_found_and_reissued_in_batches(app, db):
    """Records from earlier versions (the retired MicroCred context; keys named
    <issuer>/keys#...) are re-issued in standard form; current ones are left alone."""
    earned = earn(db, email="a@example.edu", notional_hours="12")
    issuer = earned.campus.issuer
    extension = issue(app, db, earned.award)
    legacy_id = issue(app, db, earn(db, campus=earned.campus, email="b@example.edu").award)
    current = issue(app, db, earn(db, campus=earned.campus, email="c@example.edu").award)
    legacy_vm = issuer_keys.legacy_verification_method(BASE, issuer, extension.key)
    # as earlier versions stored them (the extension one cannot be signed any more: its
    # context is not loadable, which is the point)
    unsigned = eddsa.unsecured_document(extension.json)
    unsigned["@context"] = [*unsigned["@context"], "https://purl.microcred.org/ns/v1"]
    unsigned["credentialSubject"]["achievement"]["notionalLearningHours"] = "12"
    extension.json = {**unsigned, "proof": [{**extension.json["proof"][0],
                                             "verificationMethod": legacy_vm}]}
    key = issuer_keys.private_key(vault_of(app), legacy_id.key)
    legacy_id.json = eddsa.sign(eddsa.unsecured_document(legacy_id.json), key, legacy_vm)
    db.flush()
    assert issuing.verify_record(db, extension, base_url=BASE).result == "invalid"
    assert issuing.verify_record(db, legacy_id, base_url=BASE).result == "valid"  # ours reads it
    before = copy.deepcopy(current.json)
    status_before = copy.deepcopy(extension.json["credentialStatus"])
    done, after = 0, 0
    while after is not None:
        reissued, after = issuing.reissue_outdated(db, issuer, vault=vault_of(app),
                                                   base_url=BASE, after_id=after, batch=2)
        done += reissued
    assert done == 2
    assert current.json == before  # nothing to fix: untouched
    for record in (extension, legacy_id):
        assert issuing.verify_record(db, record, base_url=BASE).result == "valid"
        assert record.json["proof"][0]["verificationMethod"] == \
            issuer_keys.verification_method(BASE, issuer, record.key)
    achievement = extension.json["credentialSubject"]["achievement"]
    assert "notionalLearningHours" not in achievement
    assert "Notional learning hours: 12." in achievement["criteria"]["narrative"]
    assert extension.json["credentialStatus"] == status_before
