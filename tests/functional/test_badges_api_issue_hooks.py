"""Credentials are issued as soon as an award is made, wherever it is made: the instructor's
grid, the demonstrations API and a CSV import through the API. Their URLs are the tool's
PUBLIC_BASE_URL, so a credential earned in the sandbox points at the running demo."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import func, select

from lti_tool.badges.multikey import encode_ed25519_public_key
from lti_tool.models import Award, CredentialRecord, Demonstration, IssuerSigningKey
from lti_tool.services import api_tokens, issuer_keys, issuing
from lti_tool.services.keys import KeyVault
from tests.support.admin import Page
from tests.support.api import Api
from tests.support.demonstrations import add_learners, awards_of, csv_text, make_course
from tests.support.instructor import attach, intro_course, record
from tests.support.issuing import BASE

SKILLS = ("py.vars", "py.loops", "py.funcs")


def records_of(db, awards: list[Award]) -> list[CredentialRecord]:
    return list(db.scalars(select(CredentialRecord).where(
        CredentialRecord.award_id.in_([a.id for a in awards]))))


def test_an_award_on_the_instructors_grid_is_issued_at_once_and_revoked_there(app, db,
                                                                             platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="pass")
    record(s.terry, s.lena_id, s.skill("PY-CTRL"), outcome="pass")
    (award,) = db.scalars(select(Award)).all()
    (credential,) = records_of(db, [award])
    assert credential.json["id"] == f"{BASE}/credentials/{award.public_id}"
    assert credential.json["issuer"]["id"] == f"{BASE}/issuers/{s.issuer.slug}"
    assert credential.json["credentialSubject"]["achievement"]["name"] == "Python Basics"
    assert issuing.verify_record(db, credential, base_url=BASE).result == "valid"

    # Revoking on the Awards page flips the credential's status bit in the same transaction.
    form = s.terry.page(f"/course/awards/{award.id}/revoke").form(
        f"/course/awards/{award.id}/revoke")
    assert Page(s.terry.submit(form, reason="")).status == 422
    assert issuing.verify_record(db, credential, base_url=BASE).result == "valid"
    assert s.terry.submit(form, reason="Academic integrity case 12.").status_code == 303
    db.expire_all()
    report = issuing.verify_record(db, credential, base_url=BASE)
    assert report.revoked and report.result == "invalid"


def token(db, issuer) -> str:
    _row, plaintext = api_tokens.create_token(db, issuer.id, "autograder",
                                              ("demonstrations:write", "awards:read"),
                                              created_by="test")
    db.commit()
    return plaintext


def test_awards_made_through_the_api_are_issued_at_once(client, db, platform):
    course = make_course(db, platform)
    (learner,) = add_learners(db, course, 1)
    api = Api(client, token(db, course.issuer))
    for skill in SKILLS:
        response = api.post("/api/v1/demonstrations", json={
            "offering_id": course.offering_id, "learner": {"platform_user_id": learner.sub},
            "skill_code": skill, "outcome": "pass"})
        assert response.status_code == 201, response.get_json()
    (award,) = awards_of(db, learner.person_id)
    assert response.get_json()["awards"][0]["public_id"] == award.public_id
    (credential,) = records_of(db, [award])
    assert credential.json["credentialSubject"]["source"]["name"].startswith(
        course.context.title)


def test_awards_made_by_a_csv_import_are_issued_at_once(client, db, platform):
    course = make_course(db, platform)
    learners = add_learners(db, course, 3)
    api = Api(client, token(db, course.issuer))
    rows = [[learner.sub, skill, "pass", "2025-03-01", ""] for learner in learners
            for skill in SKILLS]
    url = f"/api/v1/demonstrations/import?offering_id={course.offering_id}"
    dry = api.post(url + "&dry_run=1", data=csv_text(rows), content_type="text/csv")
    assert dry.status_code == 200 and db.scalars(select(CredentialRecord)).first() is None
    done = api.post(url, data=csv_text(rows), content_type="text/csv")
    assert done.status_code == 200, done.get_json()
    awards = [a for learner in learners for a in awards_of(db, learner.person_id)]
    assert len(awards) == 3
    issued = records_of(db, awards)
    assert len(issued) == 3
    assert len({r.status_list_index for r in issued}) == 3


def test_an_award_is_never_committed_without_its_credential(app, client, db, platform,
                                                            monkeypatch):
    """The credential is signed in the award's transaction: when it cannot be (the issuer's
    key was encrypted with another secret), the demonstration that would complete the
    award is not saved either; once signing works again, the same request awards and
    signs together."""
    course = make_course(db, platform)
    (learner,) = add_learners(db, course, 1)
    api = Api(client, token(db, course.issuer))
    # The issuer's key as another installation (another KEY_ENCRYPTION_KEY) stored it.
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    db.add(IssuerSigningKey(issuer_id=course.issuer.id,
                            public_multibase=encode_ed25519_public_key(private.public_key()),
                            private_encrypted=KeyVault("another secret").encrypt(seed),
                            status=issuer_keys.ACTIVE))
    db.commit()

    def post(skill: str):
        return api.post("/api/v1/demonstrations", json={
            "offering_id": course.offering_id, "learner": {"platform_user_id": learner.sub},
            "skill_code": skill, "outcome": "pass"})

    for skill in SKILLS[:2]:
        assert post(skill).status_code == 201
    failed = post(SKILLS[2])
    assert failed.status_code == 500
    db.expire_all()
    assert awards_of(db, learner.person_id) == []
    assert db.scalar(select(func.count()).select_from(Demonstration)) == 2

    # The operator recovers (here: a new key the tool can decrypt, as `keys rotate-issuer`).
    issuer_keys.rotate(db, app.extensions["lti"].vault, course.issuer, by="test")
    db.commit()
    assert post(SKILLS[2]).status_code == 201
    (award,) = awards_of(db, learner.person_id)
    assert len(records_of(db, [award])) == 1
