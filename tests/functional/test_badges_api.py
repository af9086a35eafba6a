"""The credentials API as an integrator uses it: the signed credential by Accept (JSON-LD,
JSON or VC-JWT), revocation with a reason, the learner's CLR; token scopes; another
institution's awards and learners are 404."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_tool.badges import jwt_vc, schemas
from lti_tool.badges.verify import verify, verify_credential
from lti_tool.models import AuditEvent, CredentialRecord
from lti_tool.services import issuing
from lti_tool.services.tracking import Assessor
from tests.support.api import Api, make_token
from tests.support.issuing import BASE, earn, refuse_network, vault_of

READ, REVOKE = ("awards:read",), ("awards:read", "awards:revoke")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch)


@pytest.fixture()
def earned(db):
    result = earn(db, email="lena@example.edu", expiry_months=36)
    db.commit()
    return result


def api_for(client, db, earned, scopes=READ) -> Api:
    return Api(client, make_token(db, earned.campus.issuer, scopes))


def credential_path(earned) -> str:
    return f"/api/v1/awards/{earned.award.id}/credential"


def test_credentials_need_a_token_with_the_scope(client, db, earned):
    assert Api(client, None).get(credential_path(earned)).status_code == 401
    catalog_only = Api(client, make_token(db, earned.campus.issuer, ("catalog:read",)))
    response = catalog_only.get(credential_path(earned))
    assert response.status_code == 403
    assert 'scope="awards:read"' in response.headers["WWW-Authenticate"]
    revoke = api_for(client, db, earned).post(f"/api/v1/awards/{earned.award.id}/revoke",
                                              json={"reason": "x"})
    assert revoke.status_code == 403
    assert 'scope="awards:revoke"' in revoke.headers["WWW-Authenticate"]
    assert earned.award.status == "active"
    assert api_for(client, db, earned).get(
        f"/api/v1/learners/{earned.learner.person_id}/clr").status_code == 200


def test_the_credential_is_issued_on_first_read_and_served_by_accept(client, db, earned):
    api = api_for(client, db, earned)
    assert issuing.get_record(db, earned.award) is None  # not issued yet
    default = api.get(credential_path(earned))
    assert default.status_code == 200 and default.mimetype == "application/ld+json"
    assert "Accept" in default.headers["Vary"]
    credential = default.get_json(force=True)
    assert credential["id"] == f"{BASE}/credentials/{earned.award.public_id}"
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL_PLAIN) == []
    record = issuing.get_record(db, earned.award)
    assert record is not None and record.json == credential

    by_public_id = api.get(f"/api/v1/awards/{earned.award.public_id}/credential",
                           headers={"Accept": "application/json"})
    assert by_public_id.mimetype == "application/json"
    assert by_public_id.get_json() == credential

    jwt = api.get(credential_path(earned), headers={"Accept": "application/vc+jwt"})
    assert jwt.status_code == 200 and jwt.mimetype == "application/vc+jwt"
    assert jwt.get_data(as_text=True) == record.jwt
    assert jwt_vc.decode_jwt(jwt.get_data(as_text=True)).payload["jti"] == credential["id"]

    etag = default.headers["ETag"]
    assert api.get(credential_path(earned), headers={"If-None-Match": etag}).status_code == 304
    refused = api.get(credential_path(earned), headers={"Accept": "text/html"})
    assert refused.status_code == 406
    assert refused.get_json()["error"]["code"] == "not_acceptable"
    assert db.scalar(select(func.count()).select_from(CredentialRecord).where(
        CredentialRecord.award_id == earned.award.id)) == 1


def test_served_credentials_verify_offline_with_our_documents(client, db, earned):
    api = api_for(client, db, earned)
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    for accept in ("application/ld+json", "application/vc+jwt"):
        body = api.get(credential_path(earned), headers={"Accept": accept}).get_data()
        report = verify(body, key_resolver=key_resolver, status_resolver=status_resolver)
        assert report.result == "valid", (accept, report.reason)


def test_revoke_needs_a_reason_then_verification_says_revoked(client, db, earned):
    api = api_for(client, db, earned, REVOKE)
    path = f"/api/v1/awards/{earned.award.id}/revoke"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 7},
                 {"reason": "ok", "extra": 1}, {"reason": "x" * 2001}):
        response = api.post(path, json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["fields"]
    assert api.post(path, data="reason=x", headers={
        "Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    db.refresh(earned.award)
    assert earned.award.status == "active"
    assert issuing.get_record(db, earned.award) is None  # nothing happened

    response = api.post(path, json={"reason": "The evidence was not the learner's work."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["award"]["status"] == "revoked"
    assert body["award"]["revoked_reason"] == "The evidence was not the learner's work."
    assert body["credential"]["status"] == "revoked"
    record = issuing.get_record(db, earned.award)
    assert record is not None
    assert body["credential"]["status_list_index"] == record.status_list_index
    served = api.get(credential_path(earned)).get_json(force=True)
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    report = verify_credential(served, key_resolver=key_resolver,
                               status_resolver=status_resolver)
    assert report.revoked and report.result == "invalid"
    # Idempotent: a retry is 200 and changes nothing.
    again = api.post(path, json={"reason": "retry"})
    assert again.status_code == 200
    assert again.get_json()["award"]["revoked_reason"] == (
        "The evidence was not the learner's work.")
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "award.revoked",
        AuditEvent.subject_id == str(earned.award.id))) == 1


def test_another_institutions_awards_and_learners_are_404(client, db, earned):
    other = earn(db, email="someone@example.edu")
    db.commit()
    api = api_for(client, db, other, REVOKE)  # a token of the OTHER institution
    for path in (credential_path(earned), f"/api/v1/awards/{earned.award.public_id}/credential",
                 f"/api/v1/learners/{earned.learner.person_id}/clr",
                 "/api/v1/awards/999999/credential", "/api/v1/learners/999999/clr"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
    assert api.post(f"/api/v1/awards/{earned.award.id}/revoke",
                    json={"reason": "not yours"}).status_code == 404
    db.refresh(earned.award)
    assert earned.award.status == "active"
    assert issuing.get_record(db, earned.award) is None


def test_clr_of_a_learner_is_signed_and_valid(client, db, earned):
    api = api_for(client, db, earned)
    response = api.get(f"/api/v1/learners/{earned.learner.person_id}/clr")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    clr = response.get_json(force=True)
    assert schemas.schema_errors(clr, schemas.CLR_CREDENTIAL) == []
    (embedded,) = clr["credentialSubject"]["verifiableCredential"]
    assert embedded["id"] == f"{BASE}/credentials/{earned.award.public_id}"
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    assert verify_credential(clr, key_resolver=key_resolver,
                             status_resolver=status_resolver).result == "valid"
    as_json = api.get(f"/api/v1/learners/{earned.learner.person_id}/clr",
                      headers={"Accept": "application/json"})
    assert as_json.mimetype == "application/json"
    assert api.get(f"/api/v1/learners/{earned.learner.person_id}/clr",
                   headers={"Accept": "application/vc+jwt"}).status_code == 406
    # After revoking the only credential there is nothing left to put in a record.
    issuing.revoke(db, earned.award, reason="gone", by=Assessor("t", "T"),
                   vault=vault_of(client.application), base_url=BASE)
    db.commit()
    assert api.get(f"/api/v1/learners/{earned.learner.person_id}/clr").status_code == 404


def test_openapi_lists_the_credential_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    credential = paths["/api/v1/awards/{award_id}/credential"]["get"]
    assert set(credential["responses"]["200"]["content"]) == {
        "application/ld+json", "application/json", "application/vc+jwt"}
    assert paths["/api/v1/awards/{award_id}/revoke"]["post"]["x-required-scope"] == (
        "awards:revoke")
    assert paths["/api/v1/learners/{person_id}/clr"]["get"]["x-required-scope"] == (
        "awards:read")
