"""Transfer between institutions, through the services: a credential another institution
issued (made here, with its own did:key or an https profile served by a real local TLS
server) is verified through the SSRF guard, matched by an approved equivalency and
recognised: demonstrations with method and route "transfer" (the credential kept verbatim
as evidence) and an award via the transfer route whose OB 3.0 credential says so. Forged,
revoked, expired, unbindable and not-the-learner's credentials are refused or queued with
the reason; equivalencies need a second person; a registrar decides the rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import Scope
from lti_tool.errors import Conflict, Forbidden, ValidationFailed
from lti_tool.models import AuditEvent, Award, Demonstration, EvidenceFile
from lti_tool.services import issuing, transfer
from lti_tool.services.catalog import Actor
from lti_tool.services.external_credentials import Fetcher
from lti_tool.services.http_client import HttpClient
from lti_tool.services.remote_issuers import fetch_allowance_for_tests
from tests.support.issuing import vault_of
from tests.support.other_issuers import FRAMEWORK, Ob2Issuer, Ob3Issuer, serve
from tests.support.tracking_engine import Campus, count

EMAIL = "ada@learners.example"
BASE = "http://tool.test"


@pytest.fixture()
def campus(app, db):
    return Campus.create(db)


@pytest.fixture()
def site():
    with serve() as site:
        yield site


@pytest.fixture()
def tls_site(tmp_path: Path):
    with serve(tmp_path) as site:
        yield site


def fetcher(*sites) -> Fetcher:
    allowed = fetch_allowance_for_tests({"ENV": "test", "TEST_REMOTE_FETCH_ORIGINS": {
        s.origin: s.ca_file for s in sites}})
    return Fetcher(HttpClient(timeout=3), allowed)


def registrar(campus, ref="account:900", name="Rita Registrar") -> Actor:
    return Actor(ref=ref, name=name, issuer_id=campus.issuer.id,
                 scopes=frozenset({Scope.TRANSFER, Scope.RECORDS_READ, Scope.CATALOG_READ}))


def by(actor: Actor) -> transfer.Submitter:
    return transfer.Submitter(actor.ref, actor.name)


def setup(db, campus, *, routes=("integrated", "transfer")):
    version = campus.credential("DATA", required=("DA1", "DA2"), routes=routes)
    course = campus.course("TR-1", "for-credit")
    learner = campus.learner("ada", course, email=EMAIL)
    return version, learner


def approved(db, campus, **data):
    author, second = registrar(campus), registrar(campus, "account:901", "Sam Second")
    eq = transfer.create_equivalency(db, author, data)
    return transfer.approve_equivalency(db, second, eq.id)


def submit(db, campus, learner, data: bytes, fetch: Fetcher):
    return transfer.submit(db, issuer_id=campus.issuer.id, account=learner, data=data,
                           by=transfer.Submitter(f"account:{learner.id}", "Ada"),
                           base_url=BASE, fetcher=fetch)


def test_did_key_credential_matched_by_an_approved_equivalency_is_recognised(
        app, db, campus, site):
    version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    eq = approved(db, campus, external_issuer_id=other.issuer_id,
                  external_issuer_name=other.name, match_by="achievement",
                  achievement_id=other.achievement_id, target_kind="credential",
                  credential_id=str(version.credential_id), valid_months="60",
                  min_version="2")
    credential = other.credential(email=EMAIL)
    data = json.dumps(credential).encode()

    request = submit(db, campus, learner, data, fetcher(site))
    db.commit()

    assert request.result == "valid", request.report
    assert request.state == "accepted" and request.auto
    assert request.recipient_match == "e-mail"
    assert request.equivalency_id == eq.id
    assert request.claims["achievementName"] == "Data Analysis Basics"
    assert request.claims["issuerName"] == "Northern Polytechnic"
    assert {a["code"] for a in request.claims["alignments"]} == {"DA.1", "DA.2"}
    demos = db.scalars(select(Demonstration).where(
        Demonstration.id.in_(request.demonstration_ids))).all()
    assert sorted(d.skill.code for d in demos) == ["DA1", "DA2"]
    assert {(d.method, d.route, d.outcome, d.context_id) for d in demos} == {
        ("transfer", "transfer", "pass", None)}
    evidence = db.get(EvidenceFile, demos[0].evidence_file_id)
    assert evidence.data == data  # kept verbatim
    [award] = db.scalars(select(Award).where(Award.person_id == learner.person_id)).all()
    assert award.route == "transfer" and award.context_id is None
    assert request.award_ids == [award.id]
    assert sorted(award.demonstration_ids) == sorted(request.demonstration_ids)
    # the credential we issue says "transfer" in standard vocabulary, and verifies
    record = issuing.issue_for_award(db, award, vault=vault_of(app), base_url=BASE)
    source = record.json["credentialSubject"]["source"]
    assert source["name"] == "Transfer (recognised from another institution)"
    assert issuing.verify_record(db, record, base_url=BASE).result == "valid"
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"transfer.equivalency.created", "transfer.equivalency.approved",
            "transfer.submitted", "transfer.accepted", "award.created"} <= actions


def test_https_issuer_served_over_tls_is_verified_through_its_profile(app, db, campus,
                                                                      tls_site):
    version, learner = setup(db, campus)
    other = Ob3Issuer(tls_site, https_profile=True, name="Southern Institute")
    approved(db, campus, external_issuer_id=other.issuer_id, match_by="alignment",
             alignments=[{"framework": FRAMEWORK, "code": "DA.1"},
                         {"framework": FRAMEWORK, "code": "DA.2"}],
             target_kind="credential", credential_id=str(version.credential_id))
    request = submit(db, campus, learner, other.jwt(other.credential(email=EMAIL)).encode(),
                     fetcher(tls_site))
    assert request.result == "valid", request.report
    assert "/issuer" in tls_site.requests and "/status/1" in tls_site.requests
    assert request.state == "accepted"
    [award] = db.scalars(select(Award).where(Award.person_id == learner.person_id)).all()
    assert award.route == "transfer"


def test_without_the_test_allowance_the_guard_refuses_local_servers(app, db, campus,
                                                                    tls_site):
    _version, learner = setup(db, campus)
    other = Ob3Issuer(tls_site, https_profile=True)
    request = submit(db, campus, learner, json.dumps(other.credential(email=EMAIL)).encode(),
                     Fetcher(HttpClient(timeout=3)))
    assert request.state == "refused"
    assert "not a public internet address" in request.reason
    assert tls_site.requests == []
    # and the allowance is honoured by the test profile only
    assert fetch_allowance_for_tests({"ENV": "production", "TEST_REMOTE_FETCH_ORIGINS": {
        tls_site.origin: ""}}) == {}


def test_a_forged_credential_is_refused_with_the_reason(app, db, campus, site):
    _version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    credential = other.credential(email=EMAIL)
    credential["credentialSubject"]["achievement"]["name"] = "Advanced Data Science"
    request = submit(db, campus, learner, json.dumps(credential).encode(), fetcher(site))
    db.commit()
    assert request.state == "refused" and request.result == "invalid"
    assert request.reason.startswith("proof:"), request.reason
    assert count(db, Demonstration, Demonstration.method == "transfer") == 0


def test_a_revoked_credential_is_refused_with_the_reason(app, db, campus, site):
    version, learner = setup(db, campus)
    other = Ob3Issuer(site, revoked={5})
    approved(db, campus, external_issuer_id=other.issuer_id, match_by="achievement",
             achievement_id=other.achievement_id, target_kind="credential",
             credential_id=str(version.credential_id))
    request = submit(db, campus, learner, json.dumps(other.credential(email=EMAIL)).encode(),
                     fetcher(site))
    assert request.state == "refused"
    assert request.reason.startswith("status: revoked by the issuer"), request.reason
    assert count(db, Award, Award.person_id == learner.person_id) == 0


def test_an_expired_credential_is_refused(app, db, campus, site):
    _version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    credential = other.credential(email=EMAIL, valid_until=datetime(2026, 7, 1, tzinfo=UTC))
    request = submit(db, campus, learner, json.dumps(credential).encode(), fetcher(site))
    assert request.state == "refused" and "expired" in request.reason


def test_an_https_issuer_whose_profile_does_not_list_the_key_is_refused(app, db, campus,
                                                                        tls_site):
    _version, learner = setup(db, campus)
    other = Ob3Issuer(tls_site, https_profile=True)
    credential = other.credential(email=EMAIL)
    tls_site.documents["/issuer"]["assertionMethod"] = []
    request = submit(db, campus, learner, json.dumps(credential).encode(), fetcher(tls_site))
    assert request.state == "refused"
    assert request.reason.startswith("issuer-key:"), request.reason


def test_someone_elses_credential_waits_for_a_registrar(app, db, campus, site):
    version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    approved(db, campus, external_issuer_id=other.issuer_id, match_by="achievement",
             achievement_id=other.achievement_id, target_kind="credential",
             credential_id=str(version.credential_id))
    request = submit(db, campus, learner,
                     json.dumps(other.credential(email="someone@else.example")).encode(),
                     fetcher(site))
    assert request.state == "pending" and request.recipient_match == ""
    assert any("does not name this learner" in r
               for r in transfer.automatic_blockers(db, request))


def test_conditions_not_met_wait_for_a_registrar_who_decides(app, db, campus, site):
    version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    eq = approved(db, campus, external_issuer_id=other.issuer_id, match_by="achievement",
                  achievement_id=other.achievement_id, target_kind="credential",
                  credential_id=str(version.credential_id), valid_months="12",
                  min_version="3")
    issued = datetime.now(UTC) - timedelta(days=800)
    request = submit(db, campus, learner,
                     json.dumps(other.credential(email=EMAIL, issued=issued)).encode(),
                     fetcher(site))
    assert request.state == "pending"
    blockers = transfer.automatic_blockers(db, request)
    assert any("more than 12 months ago" in b for b in blockers)
    assert any("version 3 or later is required" in b for b in blockers)
    rita = registrar(campus)
    with pytest.raises(ValidationFailed):
        transfer.decide(db, rita, request.id, accept=False, by=by(rita))  # no reason
    with pytest.raises(Forbidden):  # the learner cannot decide their own request
        transfer.decide(db, rita, request.id, accept=True, equivalency_id=eq.id,
                        by=transfer.Submitter(f"account:{learner.id}", "Ada"))
    transfer.decide(db, rita, request.id, accept=True, equivalency_id=eq.id, by=by(rita),
                    note="Version 2 covers the same outcomes; checked with the program.")
    assert request.state == "accepted" and not request.auto
    assert count(db, Award, Award.person_id == learner.person_id,
                 Award.route == "transfer") == 1
    with pytest.raises(Conflict):
        transfer.decide(db, rita, request.id, accept=False, note="no", by=by(rita))


def test_a_registrar_declines_with_a_reason(app, db, campus, site):
    _version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    request = submit(db, campus, learner, json.dumps(other.credential(email=EMAIL)).encode(),
                     fetcher(site))
    assert request.state == "pending"  # no equivalency at all
    rita = registrar(campus)
    transfer.decide(db, rita, request.id, accept=False, by=by(rita),
                    note="Not equivalent to any of our credentials.")
    assert request.state == "declined"
    assert count(db, Demonstration, Demonstration.method == "transfer") == 0


def test_skills_only_equivalency_awards_when_the_rest_was_earned(app, db, campus, site):
    _version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    approved(db, campus, external_issuer_id=other.issuer_id, match_by="alignment",
             alignments=[{"framework": FRAMEWORK, "code": "DA.1"}], target_kind="skills",
             skill_ids=[str(campus.skill("DA1").id)])
    request = submit(db, campus, learner, json.dumps(other.credential(email=EMAIL)).encode(),
                     fetcher(site))
    assert request.state == "accepted"
    assert count(db, Award, Award.person_id == learner.person_id) == 0  # DA2 still missing


def test_a_credential_that_does_not_allow_transfer_is_not_awarded(app, db, campus, site):
    _version, learner = setup(db, campus, routes=("integrated",))
    other = Ob3Issuer(site)
    approved(db, campus, external_issuer_id=other.issuer_id, match_by="achievement",
             achievement_id=other.achievement_id, target_kind="skills",
             skill_ids=[str(campus.skill("DA1").id), str(campus.skill("DA2").id)])
    request = submit(db, campus, learner, json.dumps(other.credential(email=EMAIL)).encode(),
                     fetcher(site))
    assert request.state == "accepted" and request.award_ids == []


def test_equivalencies_need_a_second_person(app, db, campus):
    version = campus.credential("DATA", required=("DA1",), routes=("transfer",))
    rita = registrar(campus)
    eq = transfer.create_equivalency(db, rita, {
        "external_issuer_id": "https://other.example/issuer", "match_by": "achievement",
        "achievement_id": "https://other.example/a/1", "target_kind": "credential",
        "credential_id": str(version.credential_id)})
    assert eq.state == "draft"
    with pytest.raises(Forbidden):
        transfer.approve_equivalency(db, rita, eq.id)
    with pytest.raises(ValidationFailed) as bad:
        transfer.create_equivalency(db, rita, {"external_issuer_id": "ftp://x",
                                               "match_by": "alignment",
                                               "target_kind": "skills", "valid_months": "0"})
    assert set(bad.value.errors) >= {"external_issuer_id", "alignments", "skill_ids",
                                     "valid_months"}
    no_scope = Actor(ref="account:5", name="Cat", issuer_id=campus.issuer.id,
                     scopes=frozenset({Scope.CATALOG_WRITE}))
    with pytest.raises(Forbidden):
        transfer.create_equivalency(db, no_scope, {})


def test_suggestions_come_from_shared_alignment_codes(app, db, campus, site):
    from lti_tool.services import catalog as catalog_service

    _version, learner = setup(db, campus)
    skill = campus.skill("DA1")
    catalog_service.update_skill(db, Actor("account:1", "A", campus.issuer.id,
                                           frozenset({Scope.CATALOG_WRITE})), skill.id, {
        "code": "DA1", "name": "Analyse data", "alignments": [
            {"framework": FRAMEWORK, "target_url": "https://framework.example/DA.1",
             "target_code": "DA.1", "target_name": "Skill DA.1"}]}, skill.row_version)
    other = Ob3Issuer(site)
    request = submit(db, campus, learner, json.dumps(other.credential(email=EMAIL)).encode(),
                     fetcher(site))
    [(suggested, shared)] = transfer.skill_suggestions(db, campus.issuer.id,
                                                       transfer.claims_of(request))
    assert suggested.id == skill.id and shared[0].code == "DA.1"


# -- Open Badges 2.0 -------------------------------------------------------------------------
def test_ob2_hosted_assertion_by_url_is_verified_and_shows_what_it_certifies(
        app, db, campus, site):
    _version, learner = setup(db, campus)
    other = Ob2Issuer(site)
    other.assertion("/assertions/1", email=EMAIL)
    request = submit(db, campus, learner, site.url("/assertions/1").encode(), fetcher(site))
    assert request.result == "valid", request.report
    assert request.standard == "OB 2.0" and request.recipient_match == "e-mail"
    assert request.claims["achievementName"] == "Spreadsheet Skills"
    assert request.claims["issuerName"] == "Lakeside College"
    assert request.state == "pending"  # no equivalency yet


def test_ob2_revoked_and_gone_assertions_are_refused(app, db, campus, site):
    _version, learner = setup(db, campus)
    other = Ob2Issuer(site)
    other.assertion("/assertions/2", email=EMAIL, revoked=True)
    request = submit(db, campus, learner, site.url("/assertions/2").encode(), fetcher(site))
    assert request.state == "refused"
    assert request.reason == "status: revoked by the issuer (Academic misconduct)"
    site.gone.add("/assertions/3")
    request = submit(db, campus, learner, site.url("/assertions/3").encode(), fetcher(site))
    assert request.state == "refused" and "410 Gone" in request.reason


def test_ob2_signed_assertion_verifies_and_a_tampered_one_does_not(app, db, campus, site):
    _version, learner = setup(db, campus)
    other = Ob2Issuer(site)
    assertion = other.assertion("/assertions/9", email=EMAIL, hosted=False)
    token = other.signed(assertion)
    request = submit(db, campus, learner, token.encode(), fetcher(site))
    assert request.result == "valid", request.report
    head, _payload, signature = token.split(".")
    from lti_tool.badges import jwt_vc

    forged = dict(assertion, issuedOn="2020-01-01T00:00:00Z")
    tampered = f"{head}.{jwt_vc.b64url_encode(json.dumps(forged).encode())}.{signature}"
    request = submit(db, campus, learner, tampered.encode(), fetcher(site))
    assert request.state == "refused" and request.reason.startswith("proof:")
    other.publish(revoked=(site.url("/assertions/9"),))
    request = submit(db, campus, learner, token.encode(), fetcher(site))
    assert request.state == "refused" and "revoked by the issuer" in request.reason


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (29, 78, 137)).save(out, format="PNG")
    return out.getvalue()


def test_a_baked_ob3_png_and_svg_are_read_and_verified(app, db, campus, site):
    from lti_tool.badges import baking

    _version, learner = setup(db, campus)
    other = Ob3Issuer(site)
    credential = other.credential(email=EMAIL)
    png = baking.bake_png(_png(), credential)
    request = submit(db, campus, learner, png, fetcher(site))
    assert request.result == "valid" and request.report["format"] == "png", request.report
    assert request.original == png and request.original_type == "image/png"
    svg = baking.bake_svg('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
                          '<title>Badge</title></svg>',
                          other.jwt(credential))
    request = submit(db, campus, learner, svg, fetcher(site))
    assert request.result == "valid" and request.report["format"] == "svg", request.report


def test_a_baked_ob2_png_holding_the_assertion_address_is_verified(app, db, campus, site):
    import zlib

    _version, learner = setup(db, campus)
    other = Ob2Issuer(site)
    other.assertion("/assertions/7", email=EMAIL)
    png = _png()
    text = b"openbadges\x00" + site.url("/assertions/7").encode()
    chunk = b"tEXt" + text
    import struct

    baked = png[:-12] + struct.pack(">I", len(text)) + chunk + \
        struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF) + png[-12:]
    request = submit(db, campus, learner, baked, fetcher(site))
    assert request.result == "valid", request.report
    assert request.standard == "OB 2.0" and request.claims["achievementName"] == \
        "Spreadsheet Skills"


def test_our_own_credentials_and_garbage_are_refused(app, db, campus):
    from tests.support.issuing import earn

    _version, learner = setup(db, campus)
    earned = earn(db, campus=campus, email=EMAIL, code="OWN")
    record = issuing.issue_for_award(db, earned.award, vault=vault_of(app), base_url=BASE)
    request = submit(db, campus, learner, json.dumps(record.json).encode(),
                     Fetcher(HttpClient(timeout=3)))
    assert request.state == "refused"
    assert request.reason.startswith("issuer: this credential was issued here")
    request = submit(db, campus, learner, b"hello", Fetcher(HttpClient(timeout=3)))
    assert request.state == "refused" and request.reason.startswith("input:")
    with pytest.raises(ValidationFailed):
        submit(db, campus, learner, b"   ", Fetcher(HttpClient(timeout=3)))


def test_a_draft_is_changed_and_whoever_changed_it_cannot_approve_it(app, db, campus):
    version = campus.credential("DATA", required=("DA1",), routes=("transfer",))
    rita, sam = registrar(campus), registrar(campus, "account:901", "Sam Second")
    tess = registrar(campus, "account:902", "Tess Third")
    data = {"external_issuer_id": "https://other.example/issuer", "match_by": "achievement",
            "achievement_id": "https://other.example/a/1", "target_kind": "credential",
            "credential_id": str(version.credential_id)}
    eq = transfer.create_equivalency(db, rita, data)
    with pytest.raises(Conflict):  # stale
        transfer.update_equivalency(db, sam, eq.id, {**data, "valid_months": "24"},
                                    eq.row_version - 1)
    transfer.update_equivalency(db, sam, eq.id, {**data, "valid_months": "24"},
                                eq.row_version)
    assert eq.valid_months == 24 and eq.contributors == [rita.ref, sam.ref]
    with pytest.raises(Forbidden):
        transfer.approve_equivalency(db, sam, eq.id)
    transfer.approve_equivalency(db, tess, eq.id)
    with pytest.raises(Conflict):  # an approved entry is retired and written again
        transfer.update_equivalency(db, rita, eq.id, data)
    actions = [e.action for e in db.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == "transfer_equivalency").order_by(AuditEvent.id))]
    assert actions == ["transfer.equivalency.created", "transfer.equivalency.updated",
                       "transfer.equivalency.approved"]


def test_all_fetches_of_one_verification_share_one_deadline(app, db, campus, site):
    """A slow issuer cannot hold a worker: the fetches of one verification stop together
    at the total deadline (12 s in production; 1 s here), with the reason."""
    import time

    _version, learner = setup(db, campus)
    other = Ob2Issuer(site)
    other.assertion("/assertions/8", email=EMAIL)
    for path in ("/assertions/8", "/badges/spreadsheets", "/issuer"):
        site.delays[path] = 0.6  # each one alone is within the 3 s per-call deadline
    slow = fetcher(site)
    slow.total_seconds = 1.0
    started = time.monotonic()
    request = submit(db, campus, learner, site.url("/assertions/8").encode(), slow)
    assert time.monotonic() - started < 2.0
    assert request.state == "refused"
    assert "could not fetch the" in request.reason and "did not answer" in request.reason


def test_recipients_hashed_as_written_or_lower_cased_both_match():
    import hashlib

    from lti_tool.domain.transfer import Identity, recipient_matches

    def hashed(value: str) -> Identity:
        return Identity("email", "sha256$" + hashlib.sha256((value + "s").encode()).hexdigest(),
                        True, "s")

    assert recipient_matches([hashed("Ada.L@Example.edu")], emails=["Ada.L@Example.edu"])
    assert recipient_matches([hashed("ada.l@example.edu")], emails=["Ada.L@Example.edu"])
    assert recipient_matches([hashed("bo@example.edu")], emails=["Ada.L@Example.edu"]) is None
    assert recipient_matches([Identity("lisSourcedId", "300123")],
                             sourcedids=["300123"]) == "institutional id"
