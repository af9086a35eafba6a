"""Transfer and the registrar's record through the pages, as people use them: a registrar
drafts an equivalency and a second one approves it; a learner submits, from inside their
course, a credential another institution issued to them (made here with its own did:key,
its status list served by a real local server reached through the tool's own HTTP client
and SSRF guard); it is verified, matched and recognised, and the learner sees what it
certified. A forged one is refused with the reason. The registrar's export of the term
lists the award with its route, credit, student number and notation; the CLR verifies."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lti_tool.badges import verify as badge_verify
from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.lti import CLAIM_LIS
from lti_tool.models import Award, TransferEquivalency, TransferRequest
from lti_tool.services import catalog as catalog_service
from lti_tool.services import issuing
from lti_tool.services.http_client import DeadlineHTTPAdapter
from tests.support.admin import Page
from tests.support.catalog import CatalogBuilder, skill_data
from tests.support.learning import INSTITUTION_ADMIN, INSTRUCTOR, admin, launch, make_issuer
from tests.support.other_issuers import FRAMEWORK, Ob2Issuer, Ob3Issuer, serve

EMAIL = "student1@example.com"  # the Moodle capture's learner
STUDENT_NUMBER = "300123456"


@pytest.fixture()
def site(app, monkeypatch):
    with serve() as site:
        # The tool's own client reaches this server (the suite's fake transport answers
        # every other address); the SSRF guard lets it through only by the test setting.
        http = app.extensions["lti"].http
        http.session.mount(site.origin + "/", DeadlineHTTPAdapter(5))
        monkeypatch.setitem(app.config, "TEST_REMOTE_FETCH_ORIGINS", {site.origin: ""})
        yield site
        http.session.adapters.pop(site.origin + "/", None)


@pytest.fixture()
def college(app, db, platform):
    issuer = make_issuer(db, platform)
    builder = CatalogBuilder(db, issuer)
    for code, target in (("DA1", "DA.1"), ("DA2", "DA.2")):
        catalog_service.create_skill(db, builder.author, skill_data(code, alignments=[
            {"framework": FRAMEWORK, "target_url": f"https://framework.example/{target}",
             "target_code": target, "target_name": f"Skill {target}"}]))
    version = builder.credential("DATA", LifecycleState.PUBLISHED, required=("DA1", "DA2"),
                                 title="Data Analysis", credit_bearing=True,
                                 credit_value="3", credit_system="College credits",
                                 notional_hours="45",
                                 allowed_routes=["integrated", "transfer"])
    db.commit()
    return issuer, version


def learner(app, platform):
    return launch(app, platform, sub="4", email=EMAIL,
                  **{CLAIM_LIS: {"person_sourcedid": STUDENT_NUMBER}})


def registrars(app, platform):
    return (admin(app, platform, "reg-1", "Rita Registrar"),
            admin(app, platform, "reg-2", "Sam Second"))


def approve_equivalency(app, platform, other, version):
    rita, sam = registrars(app, platform)
    page = rita.page("/admin/equivalencies")
    assert page.status == 200
    form = page.form("/admin/equivalencies")
    data = form.data()
    for name, value in {"external_issuer_id": other.issuer_id,
                        "external_issuer_name": other.name, "match_by": "achievement",
                        "achievement_id": other.achievement_id,
                        "achievement_name": "Data Analysis Basics",
                        "target_kind": "credential",
                        "credential_id": str(version.credential_id),
                        "valid_months": "60"}.items():
        data.setlist(name, [value])
    response = rita.client.post(form.action, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    # the author cannot approve their own entry
    page = rita.page("/admin/equivalencies")
    approve = next(f for f in page.forms if f.action.endswith("/approve"))
    refused = rita.client.post(approve.action, data=approve.data())
    assert refused.status_code == 403
    assert "someone else must approve it" in refused.get_data(as_text=True)
    page = sam.page("/admin/equivalencies")
    approve = next(f for f in page.forms if f.action.endswith("/approve"))
    assert sam.client.post(approve.action, data=approve.data()).status_code == 303
    return rita, sam


def submit_file(person, data: bytes, name: str = "badge.json"):
    page = person.page("/me/transfer")
    assert page.status == 200
    form = page.form("/me/transfer")
    payload = dict(form.data().items())
    payload["credential_file"] = (io.BytesIO(data), name)
    return person.client.post(form.action, data=payload, content_type="multipart/form-data")


def test_a_credential_from_another_institution_is_recognised_and_exported(
        app, db, platform, college, site):
    issuer, version = college
    other = Ob3Issuer(site)
    ada = learner(app, platform)
    rita, _sam = approve_equivalency(app, platform, other, version)

    response = submit_file(ada, json.dumps(other.credential(email=EMAIL)).encode())
    assert response.status_code == 303
    page = Page(ada.client.get(response.headers["Location"]))
    assert page.status == 200
    text = page.html
    assert "Accepted" in text and "Data Analysis Basics" in text
    assert "Northern Polytechnic" in text and "DA.1" in text
    [award] = db.scalars(select(Award).where(Award.issuer_id == issuer.id)).all()
    assert award.route == "transfer"
    home = ada.get("/me")  # the award is among "My credentials", earned by transfer
    assert home.status_code == 200 and "Data Analysis" in home.get_data(as_text=True)

    # the learner's credential page lists it; the registrar's export lists it
    export = rita.get("/admin/records/export.csv", **{"from": "2026-01-01",
                                                       "to": datetime.now(UTC).date().isoformat()})
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    [row] = rows
    assert row["route"] == "transfer" and row["credits"] == "3" and row["hours"] == "45"
    assert row["student_number"] == STUDENT_NUMBER and row["credit_bearing"] == "yes"
    assert row["notation_en"].startswith("Data Analysis (DATA) — micro-credential, 3 credit")
    assert "transfert" in row["notation_fr"]
    # the learner's record, and their CLR, which verifies
    person_page = rita.page(f"/admin/records/people/{award.person_id}")
    assert person_page.status == 200 and "Transfer (recognised from another institution)" \
        in person_page.html
    clr = rita.get(f"/admin/records/people/{award.person_id}/clr.json")
    assert clr.status_code == 200
    key_resolver, status_resolver = issuing.resolvers(db, base_url="http://tool.test")
    report = badge_verify.verify(clr.get_data(), key_resolver=key_resolver,
                                 status_resolver=status_resolver)
    assert report.kind == "clr" and report.result == "valid", report.reason
    assert report.step("schema").status == "ok"  # CLR 2.0 schema (conformance copy)


def test_a_forged_credential_is_refused_with_the_reason_the_learner_reads(
        app, db, platform, college, site):
    _issuer, _version = college
    other = Ob3Issuer(site)
    ada = learner(app, platform)
    credential = other.credential(email=EMAIL)
    credential["credentialSubject"]["achievement"]["name"] = "Advanced Data Science"
    response = submit_file(ada, json.dumps(credential).encode())
    page = Page(ada.client.get(response.headers["Location"]))
    assert "Refused: does not verify" in page.html
    assert "proof:" in page.html
    assert db.scalars(select(Award)).all() == []


def test_a_revoked_ob2_assertion_is_refused_and_a_valid_one_waits_for_the_registrar(
        app, db, platform, college, site):
    _issuer, _version = college
    other = Ob2Issuer(site)
    other.assertion("/assertions/1", email=EMAIL)
    other.assertion("/assertions/2", email=EMAIL, revoked=True)
    ada = learner(app, platform)
    page = ada.page("/me/transfer")
    form = page.form("/me/transfer")
    for path, expected in (("/assertions/2", "revoked by the issuer (Academic misconduct)"),
                           ("/assertions/1", "Waiting for a registrar")):
        response = ada.client.post(form.action, data={**dict(form.data().items()),
                                                      "credential_text": site.url(path)})
        assert response.status_code == 303
        assert expected in ada.client.get(response.headers["Location"]).get_data(as_text=True)
    pending = db.scalars(select(TransferRequest).where(
        TransferRequest.state == "pending")).one()
    # a registrar decides: recognise DA1 by the suggestion, with a note
    rita, _sam = registrars(app, platform)
    page = rita.page(f"/admin/transfers/{pending.id}")
    assert page.status == 200 and "Spreadsheet Skills" in page.html
    assert "suggested" in page.html  # DA1 shares the alignment code DA.1
    decide = page.form(f"/admin/transfers/{pending.id}/decide")
    data = decide.data()
    data.setlist("decision", ["accept"])
    data.setlist("equivalency_id", [""])
    data.setlist("skill_ids", [])
    data.setlist("note", [""])
    missing = rita.client.post(decide.action, data=data)
    assert missing.status_code == 422  # no skills, no note: nothing recorded
    assert db.get(TransferRequest, pending.id).state == "pending"
    skill_id = next(v for v in decide.options["skill_ids"])
    data.setlist("skill_ids", [skill_id])
    data.setlist("note", ["Same outcomes as our DA1."])
    assert rita.client.post(decide.action, data=data).status_code == 303
    db.expire_all()
    assert db.get(TransferRequest, pending.id).state == "accepted"


def test_transfer_pages_need_the_registrar_role(app, db, platform, college):
    teacher = launch(app, platform, "instructor_claims_INTROPROG.json", sub="t-1",
                     roles=[INSTRUCTOR])
    for path in ("/admin/transfers", "/admin/equivalencies", "/admin/records",
                 "/admin/records/export.csv"):
        assert teacher.get(path).status_code == 403, path
    ada = learner(app, platform)
    assert ada.get("/admin/transfers").status_code == 403
    boss = launch(app, platform, "instructor_claims_INTROPROG.json", sub="b-1",
                  roles=[INSTITUTION_ADMIN])
    assert boss.get("/admin/transfers").status_code == 200


def test_the_learner_reads_the_transfer_page_in_french(app, db, platform, college, site):
    other = Ob3Issuer(site)
    lena = launch(app, platform, sub="4", email=EMAIL, **{
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {"locale": "fr-CA"}})
    response = submit_file(lena, json.dumps(other.credential(email=EMAIL)).encode())
    html = lena.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h1>Titres de compétences d'un autre établissement</h1>" in html
    assert "En attente du registraire" in html  # no equivalency: waits
    assert 'lang="fr-CA"' in html


def test_a_registrar_submits_for_a_learner_and_another_decides(app, db, platform, college,
                                                                site):
    other = Ob2Issuer(site)
    other.assertion("/assertions/5", email=EMAIL)
    learner(app, platform)  # Lena has launched, so the registrar can find her
    rita, sam = registrars(app, platform)
    page = rita.page("/admin/transfers", q=STUDENT_NUMBER)
    assert page.status == 200
    form = page.form("/admin/transfers")
    [person] = form.options["person"]
    response = rita.client.post(form.action, data={
        **dict(form.data().items()), "person": person,
        "credential_text": site.url("/assertions/5")}, content_type="multipart/form-data")
    assert response.status_code == 303
    own = Page(rita.client.get(response.headers["Location"]))
    assert "Spreadsheet Skills" in own.html and "Waiting for a registrar" in own.html
    assert "another registrar decides it" in own.html and not own.has_form("/decide")
    request_id = db.scalars(select(TransferRequest.id)).one()
    # nobody chosen, nothing given: 422, nothing recorded
    empty = rita.client.post(form.action, data=dict(form.data().items()),
                             content_type="multipart/form-data")
    assert empty.status_code == 422 and db.scalars(select(TransferRequest)).all() != []
    assert len(db.scalars(select(TransferRequest)).all()) == 1
    decide = sam.page(f"/admin/transfers/{request_id}").form(
        f"/admin/transfers/{request_id}/decide")
    data = decide.data()
    data.setlist("decision", ["decline"])
    data.setlist("note", ["Spreadsheets are not part of our Data Analysis outcomes."])
    assert sam.client.post(decide.action, data=data).status_code == 303
    db.expire_all()
    assert db.get(TransferRequest, request_id).state == "declined"
    lena_page = learner(app, platform).page("/me/transfer")
    assert "Spreadsheets are not part of our Data Analysis outcomes." in lena_page.html


def test_a_draft_equivalency_is_changed_on_its_page(app, db, platform, college):
    _issuer, _version = college
    rita, sam = registrars(app, platform)
    page = rita.page("/admin/equivalencies")
    form = page.form("/admin/equivalencies")
    data = form.data()
    for name, value in {"external_issuer_id": "https://other.example/issuer",
                        "match_by": "alignment", "alignment-0-framework": FRAMEWORK,
                        "alignment-0-code": "DA.1", "target_kind": "skills"}.items():
        data.setlist(name, [value])
    data.setlist("skill_ids", form.options["skill_ids"][:1])
    assert rita.client.post(form.action, data=data).status_code == 303
    eq_id = db.scalars(select(TransferEquivalency.id)).one()
    edit = sam.page(f"/admin/equivalencies/{eq_id}/edit")
    assert edit.status == 200
    form = edit.form(f"/admin/equivalencies/{eq_id}/edit")
    assert form.value("alignment-0-code") == "DA.1"
    data = form.data()
    data.setlist("min_version", ["2"])
    assert sam.client.post(form.action, data=data).status_code == 303
    stale = sam.client.post(form.action, data=data)  # the row_version it was read at
    assert stale.status_code == 409
    db.expire_all()
    assert db.get(TransferEquivalency, eq_id).min_version == "2"


def test_a_baked_badge_above_the_app_wide_body_limit_is_accepted(app, db, platform, college,
                                                                   site):
    """Baked images are larger than JSON: up to 2 MB, like /verify (the app-wide limit is
    1 MB); a larger file is refused with the reason, nothing recorded."""
    from lti_tool.badges import baking

    other = Ob3Issuer(site)
    ada = learner(app, platform)
    credential = other.credential(email=EMAIL)
    big_svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><title>Badge'
               '</title><desc>' + "x" * 1_300_000 + "</desc></svg>")
    baked = baking.bake_svg(big_svg, other.jwt(credential))
    assert 1024 * 1024 < len(baked) < 2 * 1024 * 1024
    response = submit_file(ada, baked, "badge.svg")
    assert response.status_code == 303
    [request] = db.scalars(select(TransferRequest)).all()
    assert request.report["format"] == "svg" and request.result == "valid", request.reason
    too_big = submit_file(ada, b"{" + b" " * (2 * 1024 * 1024 + 10) + b"}", "huge.json")
    assert too_big.status_code in (413, 422)
    assert len(db.scalars(select(TransferRequest)).all()) == 1
