"""Prior learning assessment and recognition through the LMS pages: a learner in a
continuing-education shell asks for recognition (policy, fee and turnaround shown first; a
narrative per skill; a file and a link), an assessor assigned to the credential asks for
more evidence, schedules a challenge, grants skills, and the credential is awarded through
the PLAR route, recorded as such in the signed credential; separation of duties, the second
assessor, bad input and other people's requests."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import routes_available
from lti_tool.models import (
    AuditEvent,
    Award,
    CredentialRecord,
    Demonstration,
    EvidenceFile,
    Notification,
    PlarRequest,
)
from lti_tool.services import plar as plar_service
from tests.support.admin import Page
from tests.support.learning import CODETEACH, INSTRUCTOR, INTROPROG, account_of, launch
from tests.support.plar import (
    CONTINUING,
    FOR_CREDIT,
    PDF,
    REQUIRED,
    decide,
    make_plar_school,
    only_request,
    post_form,
    skill_ids,
    submit_request,
)


@pytest.fixture()
def plar_school(app, db, platform):
    return make_plar_school(app, db, platform)


def test_plar_is_offered_as_a_route_now_that_it_awards():
    assert "plar" in routes_available()


def test_learner_reads_policy_fee_and_turnaround_before_submitting(plar_school):
    page = plar_school["sam"].page("/plar/new/DATA-B")
    assert page.status == 200
    text = page.text
    assert "Prior learning is assessed against the same criteria" in text
    assert "$95 per micro-credential" in text
    assert "within 15 days" in text
    # The policy comes before the form.
    assert page.html.index("$95") < page.html.index('name="narrative_')
    home = plar_school["sam"].page("/plar")
    assert "Data Basics" in home.text and "Ask for recognition" in home.text


def test_full_plar_flow_awards_through_the_plar_route(app, db, plar_school):
    school = plar_school
    response = submit_request(school)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    req = only_request(db)
    assert req.state == "submitted" and len(req.skills) == 4
    assert req.due_at.date() == (req.submitted_at.date().fromordinal(
        req.submitted_at.date().toordinal() + 15))
    kinds = sorted(e.kind for e in req.evidence)
    assert kinds == ["file", "link"]
    link = next(e for e in req.evidence if e.kind == "link")
    assert link.url == "https://github.com/sam/data-work"
    stored = db.get(EvidenceFile, next(e for e in req.evidence if e.kind == "file")
                    .evidence_file_id)
    assert stored.content_type == "application/pdf" and stored.filename == "portfolio.pdf"
    # The learner sees the state; the assessor has it in the queue with its due date.
    detail = school["sam"].page(f"/plar/requests/{req.id}")
    assert "Submitted" in detail.text and "Your request was sent" not in detail.text
    queue = school["pat"].page("/plar/queue")
    assert queue.status == 200 and "Sam Student" in queue.text and "Data Basics" in queue.text
    # The assessor can download the learner's file; nobody else can.
    file_url = f"/plar/files/{stored.id}"
    download = school["pat"].get(file_url)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    # More evidence, with a message the learner reads.
    assess = school["pat"].page(f"/plar/assess/{req.id}")
    form = assess.form("/more-evidence")
    response = post_form(school["pat"], form, message="Please add a sample of your debugging.")
    assert response.status_code == 303
    req = only_request(db)
    assert req.state == "more_evidence" and req.assessor_name == "Pat Assessor"
    detail = school["sam"].page(f"/plar/requests/{req.id}")
    assert "More evidence needed" in detail.text
    assert "Please add a sample of your debugging." in detail.text
    answer = detail.form("/answer")
    data = answer.data()
    data["message"] = "Here is a debugging log from work."
    data.setlist("files", [(io.BytesIO(b"Traceback (most recent call last):\n  fixed\n"),
                            "debug-log.txt")])
    response = school["sam"].client.post(answer.action, data=data,
                                         content_type="multipart/form-data")
    assert response.status_code == 303
    req = only_request(db)
    assert req.state == "in_assessment" and len(req.evidence) == 3
    # Three skills by portfolio; a challenge exam scheduled for the fourth, then granted.
    for code in REQUIRED[:3]:
        assert decide(school, req, code).status_code == 303
    debug_id = school["catalog"].skills["PY-DEBUG"].id
    page = school["pat"].page(f"/plar/assess/{req.id}")
    form = page.form("/schedule", containing=str(debug_id))
    response = post_form(school["pat"], form, method="challenge_exam", date="2026-12-20",
                                    time="14:30", place="Room B-204, Lakeshore campus")
    assert response.status_code == 303
    detail = school["sam"].page(f"/plar/requests/{req.id}")
    assert "Challenge exam" in detail.text and "Room B-204" in detail.text
    assert db.scalars(select(Award)).first() is None
    response = decide(school, only_request(db), "PY-DEBUG", method="challenge_exam",
                       rationale="Passed the challenge exam: found and fixed all 3 bugs.")
    assert response.status_code == 303
    req = only_request(db)
    assert req.state == "decided" and req.award_id is not None
    award = db.get(Award, req.award_id)
    assert award.route == "plar" and award.credential_id == school["version"].credential_id
    demos = db.scalars(select(Demonstration).where(Demonstration.id.in_(
        award.demonstration_ids))).all()
    assert {(d.method, d.route, d.outcome) for d in demos} == {("plar", "plar", "pass")}
    assert len(demos) == 4
    # The signed credential says it was earned through PLAR.
    record = db.scalars(select(CredentialRecord).where(
        CredentialRecord.award_id == award.id)).one()
    source = record.json["credentialSubject"]["source"]
    assert "Prior learning assessment (PLAR)" in source["name"]
    assert "Prior learning assessment (PLAR)" in source["description"]
    assert {e["genre"] for e in record.json["evidence"]} == {"Prior learning assessment (PLAR)"}
    # Nothing private travels in it: no narrative, rationale or file name.
    text = str(record.json)
    assert "every day for three years" not in text and "found and fixed" not in text
    assert "portfolio.pdf" not in text
    # The learner sees the decision, the rationale and the award.
    detail = school["sam"].page(f"/plar/requests/{req.id}")
    assert "Decided" in detail.text and "found and fixed all 3 bugs" in detail.text
    assert "You earned this micro-credential through prior learning assessment" in detail.text
    again = school["sam"].page("/plar/new/DATA-B")
    assert "You already hold this micro-credential." in again.text
    assert not again.has_form("/plar/new/DATA-B")
    # Every step is in the audit trail.
    actions = [a for a in db.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_type == "plar_request", AuditEvent.subject_id == str(req.id)))]
    for expected in ("plar.submitted", "plar.more_evidence", "plar.in_assessment",
                     "plar.scheduled", "plar.skill_decided", "plar.decided"):
        assert expected in actions
    # Notifications were written for the learner (submitted, more evidence, scheduled,
    # decided) and the assessor (new request, answered).
    kinds = [n.kind for n in db.scalars(select(Notification).order_by(Notification.id))]
    assert kinds[:2] == ["plar.submitted", "plar.new_request"]
    assert {"plar.more_evidence", "plar.learner_answered", "plar.scheduled",
            "plar.decided"} <= set(kinds)


def test_missing_narrative_and_html_file_are_refused_with_nothing_stored(db, plar_school):
    ids = skill_ids(plar_school)
    response = submit_request(plar_school, narratives={"PY-VAR": "   "},
                       files=[(io.BytesIO(b"<html><script>alert(1)</script></html>"),
                               "cv.html")])
    assert response.status_code == 422
    page = Page(response)
    assert f"f-narrative_{ids['PY-VAR']}" in page.summary_links()
    assert "f-files" in page.summary_links()
    assert "HTML, SVG and XML files cannot be uploaded" in page.text
    assert page.is_invalid(f"narrative_{ids['PY-VAR']}")
    # What was typed is kept.
    assert "I used PY-FLOW every day" in page.html
    db.expire_all()
    assert db.scalars(select(PlarRequest)).first() is None
    assert db.scalars(select(EvidenceFile)).first() is None


def test_a_second_open_request_for_the_same_credential_is_refused(db, plar_school):
    assert submit_request(plar_school).status_code == 303
    page = plar_school["sam"].page("/plar/new/DATA-B")
    assert "You already have an open request" in page.text
    assert not page.has_form("/plar/new/DATA-B")  # the notice links to it instead
    # A form posted from an older page: refused, nothing added.
    response = plar_school["sam"].client.post("/plar/new/DATA-B", data={
        "lt": plar_school["sam"].lt, "csrf_token": _csrf(plar_school["sam"]),
        f"skill_{skill_ids(plar_school)['PY-VAR']}": "1",
        f"narrative_{skill_ids(plar_school)['PY-VAR']}": "Again."})
    assert response.status_code == 409
    assert len(db.scalars(select(PlarRequest)).all()) == 1


def test_only_assigned_assessors_see_the_queue_and_never_their_own_request(
        app, db, platform, plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    # Sam is a learner, not an assessor.
    assert plar_school["sam"].get("/plar/queue").status_code == 403
    assert plar_school["sam"].get(f"/plar/assess/{req.id}").status_code == 403
    # Another instructor, not assigned.
    other = launch(app, platform, CODETEACH, sub="10", name="Olga Other", roles=[INSTRUCTOR],
                   custom=CONTINUING)
    assert other.get("/plar/queue").status_code == 403
    # Sam is made an assessor of the same credential: still cannot assess his own request.
    plar_service.grant_assessor(db, issuer_id=plar_school["issuer"].id,
                                credential_id=req.credential_id,
                                account=account_of(db, platform, "4"), by=None)
    db.commit()
    queue = plar_school["sam"].page("/plar/queue")
    assert queue.status == 200 and "Sam Student" not in queue.text.split("Filter")[-1]
    response = plar_school["sam"].get(f"/plar/assess/{req.id}")
    assert response.status_code == 403
    assert "cannot assess your own request" in response.get_data(as_text=True)


def test_another_learner_cannot_see_or_answer_a_request(app, db, platform, plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    alex = launch(app, platform, CODETEACH, sub="5", name="Alex Learner", custom=CONTINUING)
    assert alex.get(f"/plar/requests/{req.id}").status_code == 404
    page = plar_school["sam"].page(f"/plar/requests/{req.id}")
    form = page.form("/answer")
    data = form.data()
    data["lt"] = alex.lt
    data["message"] = "hijack"
    response = alex.client.post(form.action, data=data)
    assert response.status_code in (403, 404)
    file_id = next(e.evidence_file_id for e in only_request(db).evidence if e.kind == "file")
    assert alex.get(f"/plar/files/{file_id}").status_code == 404


def test_forms_need_the_csrf_token(db, plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    page = plar_school["pat"].page(f"/plar/assess/{req.id}")
    form = page.form("/more-evidence")
    response = post_form(plar_school["pat"], form, csrf_token="forged", message="x")
    assert response.status_code == 403
    assert only_request(db).state == "submitted"


def test_second_assessor_confirms_on_credit_bearing_credentials(app, db, platform,
                                                                  plar_school):
    school = plar_school
    issuer = school["issuer"]
    issuer.settings = {**issuer.settings, "plar": {**issuer.settings["plar"],
                                                   "second_assessor_for_credit": True}}
    version = school["version"]
    version.credit_bearing = True
    db.commit()
    assert submit_request(school).status_code == 303
    req = only_request(db)
    for code in REQUIRED:
        assert decide(school, req, code).status_code == 303
    req = only_request(db)
    assert req.state == "in_assessment" and req.award_id is None
    assert db.scalars(select(Demonstration)).first() is None
    queue = school["pat"].page("/plar/queue").text
    assert "0 of 4" in queue and "4 wait for a second assessor" in queue
    # The first assessor cannot confirm their own decisions.
    skill_id = skill_ids(school)["PY-VAR"]
    response = school["pat"].client.post(f"/plar/assess/{req.id}/confirm", data={
        "lt": school["pat"].lt, "csrf_token": school["pat"].page(f"/plar/assess/{req.id}")
        .form("/more-evidence").value("csrf_token"), "skill": str(skill_id)})
    assert response.status_code == 403
    # A second assessor confirms each.
    quinn = launch(app, platform, CODETEACH, sub="11", name="Quinn Second", roles=[INSTRUCTOR],
                   custom=CONTINUING)
    plar_service.grant_assessor(db, issuer_id=issuer.id, credential_id=req.credential_id,
                                account=account_of(db, platform, "11"), by=None)
    db.commit()
    for code in REQUIRED:
        page = quinn.page(f"/plar/assess/{req.id}")
        form = page.form("/confirm", containing=str(skill_ids(school)[code]))
        assert post_form(quinn, form).status_code == 303
    req = only_request(db)
    assert req.state == "decided" and req.award_id is not None
    assert all(s.confirmed_by_name == "Quinn Second" for s in req.skills)


def test_not_yet_decisions_close_the_request_without_an_award(db, plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    csrf = plar_school["pat"].page(f"/plar/assess/{req.id}").form("/decide").value("csrf_token")
    for code in REQUIRED:
        assert decide(plar_school, req, code, decision="not_yet",
                       rationale="No evidence of independent work yet.").status_code == 303
    req = only_request(db)
    assert req.state == "decided" and req.award_id is None
    assert db.scalars(select(Demonstration)).first() is None
    # A decided request offers no decision form any more, and a posted one is refused.
    page = plar_school["pat"].page(f"/plar/assess/{req.id}")
    assert not page.has_form("/decide")
    response = plar_school["pat"].client.post(f"/plar/assess/{req.id}/decide", data={
        "lt": plar_school["pat"].lt, "csrf_token": csrf,
        "skill": str(skill_ids(plar_school)["PY-VAR"]),
        "decision": "demonstrated", "method": "interview", "rationale": "Changed my mind."})
    assert response.status_code == 409
    assert db.scalars(select(Demonstration)).first() is None


def test_decision_needs_a_rationale(db, plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    response = decide(plar_school, req, "PY-VAR", rationale="  ")
    assert response.status_code == 422
    assert "give the reasons" in Page(response).text
    assert all(not s.decision for s in only_request(db).skills)


def test_learner_withdraws(db, platform, plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    page = plar_school["sam"].page(f"/plar/requests/{req.id}")
    form = page.form("/withdraw")
    assert post_form(plar_school["sam"], form).status_code == 422   # not confirmed
    # Pat took the request first: he is told it was withdrawn.
    pat = account_of(db, platform, "9")
    plar_service.start_assessment(db, only_request(db), plar_service.PlarActor(
        account_id=pat.id, person_id=pat.person_id, platform_id=pat.platform_id, sub="9",
        name="Pat Assessor"))
    db.commit()
    assert post_form(plar_school["sam"], form, confirm="1").status_code == 303
    assert only_request(db).state == "withdrawn"
    told = db.scalars(select(Notification).where(Notification.kind == "plar.withdrawn")).one()
    assert told.to_address == "pat@example.edu" and "withdrew" in told.subject
    page = plar_school["pat"].page(f"/plar/assess/{req.id}")
    assert not page.has_form("/decide")


def test_plar_shell_lists_credentials_a_for_credit_course_only_offered(app, db, platform,
                                                                         plar_school):
    """A for-credit course lists only the PLAR credentials it offers (none here)."""
    sam = launch(app, platform, INTROPROG, sub="4", name="Sam Student", custom=FOR_CREDIT)
    assert sam.get("/plar/new/DATA-B").status_code == 404
    assert "Data Basics" not in sam.page("/plar").text.split("can ask recognition for")[-1]


def test_french_policy_is_shown_to_a_french_launch(app, db, platform, plar_school):
    from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION

    skill = plar_school["catalog"].skills["PY-VAR"]
    skill.translations = {"fr": {"name": "Variables et types"}}
    db.commit()
    sam_fr = launch(app, platform, CODETEACH, sub="4", name="Sam Student", custom=CONTINUING,
                    **{CLAIM_LAUNCH_PRESENTATION: {"locale": "fr-CA"}})
    page = sam_fr.page("/plar/new/DATA-B")
    assert "Les acquis sont évalués" in page.text
    assert "Avant de faire votre demande" in page.text and "Envoyer ma demande" in page.text
    # Bilingual catalog content: the French skill name where there is one.
    assert "Variables et types" in page.text and "Control flow" in page.text
    assert "dans les 15 jours suivant votre demande" in page.text
    # The fee note has no French text: the English one is shown, marked.
    assert re.search(r'<span lang="en">The assessment fee is \$95', page.html)


def test_administrator_sets_policy_and_assigns_assessors(app, db, platform, plar_school):
    from tests.support.learning import admin

    avery = admin(app, platform)
    page = avery.page("/admin/plar")
    assert page.status == 200 and "Prior learning assessment (PLAR)" in page.text
    form = page.form("/admin/plar")
    # Bad turnaround: refused with the field named, nothing saved.
    response = post_form(avery, form, turnaround_days="0", policy="New policy")
    assert response.status_code == 422
    assert Page(response).field_error("turnaround_days")
    db.expire_all()
    assert plar_service.settings_of(plar_school["issuer"]).turnaround_days == 15
    response = post_form(avery, form, turnaround_days="10", policy="New policy",
                         policy_fr="Nouvelle politique", fee_note="Free",
                         second_assessor_for_credit="1")
    assert response.status_code == 303
    db.expire_all()
    settings = plar_service.settings_of(plar_school["issuer"])
    assert (settings.policy, settings.turnaround_days, settings.second_assessor_for_credit) \
        == ("New policy", 10, True)
    assert settings.translations == {"fr": {"policy": "Nouvelle politique"}}
    assert db.scalars(select(AuditEvent).where(
        AuditEvent.action == "plar.settings_changed")).first() is not None
    # Make Olga an assessor of Data Basics; she then has the queue.
    olga = launch(app, platform, CODETEACH, sub="10", name="Olga Other", roles=[INSTRUCTOR],
                  custom=CONTINUING)
    assert olga.get("/plar/queue").status_code == 403
    page = avery.page("/admin/plar", q="Olga")
    grant = next(f for f in page.forms if f.action == "/admin/plar/assessors")
    response = post_form(avery, grant, account=str(account_of(db, platform, "10").id),
                         credential=str(plar_school["version"].credential_id))
    assert response.status_code == 303
    assert olga.get("/plar/queue").status_code == 200
    assert "Olga Other" in avery.page("/admin/plar").text
    # Removing Pat's grant closes his queue.
    page = avery.page("/admin/plar")
    revoke = next(f for f in page.forms if f.action == "/admin/plar/assessors/revoke"
                  and "Pat Assessor" in page.html)
    pat_grant = next(g for g in plar_service.assessor_grants(db, plar_school["issuer"].id)
                     if g.sub == "9")
    assert post_form(avery, revoke, grant=str(pat_grant.id)).status_code == 303
    assert plar_school["pat"].get("/plar/queue").status_code == 403
    # A learner or an instructor cannot open the page.
    assert plar_school["sam"].get("/admin/plar").status_code == 403
    assert plar_school["pat"].get("/admin/plar").status_code == 403


def _plar_rules(app, prefix):
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix):
            path = re.sub(r"<int:[a-z_]+>", "{id}", rule.rule)
            rules.append((path, set(rule.methods or ()) & {"GET", "POST"}))
    return rules


def test_every_assessor_route_refuses_people_who_do_not_assess(app, db, platform, plar_school):
    """Sam (a learner) and Olga (an instructor not assigned) get 403 on every assessor page
    and action, and nothing changes; without a launch, every PLAR route is refused."""
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    olga = launch(app, platform, CODETEACH, sub="10", name="Olga Other", roles=[INSTRUCTOR],
                  custom=CONTINUING)
    rules = _plar_rules(app, "/plar/assess") + _plar_rules(app, "/plar/queue")
    assert len(rules) >= 6
    before = (len(db.scalars(select(AuditEvent)).all()), req.state, req.row_version)
    skill = str(skill_ids(plar_school)["PY-VAR"])
    for person in (plar_school["sam"], olga):
        for path, methods in rules:
            path = path.format(id=req.id)
            if "GET" in methods:
                assert person.get(path).status_code == 403, (person.sub, path)
            if "POST" in methods:
                response = person.client.post(path, data={
                    "lt": person.lt, "skill": skill, "decision": "demonstrated",
                    "method": "portfolio_review", "rationale": "x", "message": "x"})
                assert response.status_code == 403, (person.sub, path)
    db.expire_all()
    req = only_request(db)
    assert (len(db.scalars(select(AuditEvent)).all()), req.state, req.row_version) == before
    anonymous = app.test_client()
    for path, methods in _plar_rules(app, "/plar"):
        if path.startswith("/plar/start/"):
            continue  # the public page's way in: explains how to sign in (tested below)
        path = path.replace("<code>", "DATA-B").format(id=req.id)
        if "GET" in methods:
            assert anonymous.get(path).status_code in (400, 401, 403), path


def test_learner_pages_are_for_learners(app, db, plar_school):
    """The request form is a learner's: an instructor launch gets 403."""
    assert plar_school["pat"].get("/plar").status_code == 403
    assert plar_school["pat"].get("/plar/new/DATA-B").status_code == 403


def test_public_page_leads_a_signed_in_learner_to_the_request_form(app, db, plar_school):
    public = app.test_client().get("/c/northern/DATA-B")
    assert public.status_code == 200
    html = public.get_data(as_text=True)
    assert "Ask for recognition of prior learning" in html
    assert 'href="/plar/start/northern/DATA-B"' in html
    # Nobody signed in: how to sign in first.
    anonymous = app.test_client().get("/plar/start/northern/DATA-B")
    assert anonymous.status_code == 200
    assert "open MicroCred from one of your courses" in anonymous.get_data(as_text=True)
    # Sam's browser carries his launch (the cookie): straight to the form.
    response = plar_school["sam"].client.get("/plar/start/northern/DATA-B")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/plar/new/DATA-B?lt=")
    form = plar_school["sam"].client.get(response.headers["Location"])
    assert form.status_code == 200 and "Send my request" in form.get_data(as_text=True)
    # Staff are told that learners ask.
    staff = plar_school["pat"].client.get("/plar/start/northern/DATA-B")
    assert staff.status_code == 200 and "as staff" in staff.get_data(as_text=True)


def _csrf(person):
    """The launch's CSRF token, from a page that has a form (the answer form)."""
    page = person.page("/plar")
    link = re.search(r'href="(/plar/requests/\d+)\?', page.html)
    return person.page(link.group(1)).form("/answer").value("csrf_token")


def _python_fundamentals(db):
    from lti_tool.models import CredentialVersion

    return db.scalars(select(CredentialVersion).where(
        CredentialVersion.title == "Python Programming Fundamentals")).one()


def test_a_credential_the_learner_holds_is_evidence_with_its_public_page(app, db, platform,
                                                                       plar_school):
    """Sam holds Python Programming Fundamentals (earned in class); he cites it, and a link
    to an Open Badge from elsewhere. Someone else's award cannot be cited."""
    from tests.support.learning import demonstrate, offer

    school = plar_school
    codeteach = school["codeteach"]
    offer(db, school["issuer"], codeteach, _python_fundamentals(db))
    sam_account = account_of(db, platform, "4")
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-TEST"):
        demonstrate(db, codeteach, sam_account, school["catalog"].skills[code])
    held = db.scalars(select(Award).where(Award.person_id == sam_account.person_id)).one()
    page = school["sam"].page("/plar/new/DATA-B")
    form = page.form("/plar/new/DATA-B")
    assert str(held.id) in form.options["award_ids"]
    # His four skills are demonstrated already: said so, and not ticked for him.
    assert page.text.count("Already demonstrated on") == 4
    assert not [n for n, _ in form.fields if n.startswith("skill_")]
    # He asks anyway (ticking them), citing the credential and a badge from elsewhere.
    ticked = {f"skill_{sid}": "1" for sid in skill_ids(school).values()}
    response = submit_request(school, award_ids=str(held.id),
                              credential_url="badges.example.org/assertions/42", **ticked)
    assert response.status_code == 303
    req = only_request(db)
    cited = {(e.kind, e.award_id, e.url) for e in req.evidence}
    assert ("credential", held.id, "") in cited
    assert ("credential", None, "https://badges.example.org/assertions/42") in cited
    assess = school["pat"].page(f"/plar/assess/{req.id}")
    assert f'href="/credentials/{held.public_id}"' in assess.html
    assert "Credential held elsewhere" in assess.text and "not verified by MicroCred" in \
        assess.text


def test_citing_someone_elses_award_is_refused(app, db, platform, plar_school):
    from tests.support.learning import demonstrate, offer

    school = plar_school
    launch(app, platform, CODETEACH, sub="5", name="Alex Learner", custom=CONTINUING)
    offer(db, school["issuer"], school["codeteach"], _python_fundamentals(db))
    alex_account = account_of(db, platform, "5")
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-TEST"):
        demonstrate(db, school["codeteach"], alex_account, school["catalog"].skills[code])
    alex_award = db.scalars(select(Award).where(Award.person_id == alex_account.person_id)
                            ).one()
    response = submit_request(school, award_ids=str(alex_award.id))
    assert "Already demonstrated" not in Page(response).text  # Sam's skills are not Alex's
    assert response.status_code == 422
    assert "choose credentials you hold" in Page(response).text
    assert db.scalars(select(PlarRequest)).first() is None


def test_learner_landing_page_shows_plar_where_it_applies(app, db, platform, plar_school):
    home = plar_school["sam"].page("/app")
    assert "Recognition of prior learning" in home.text
    assert submit_request(plar_school).status_code == 303
    # The notice of the change is on the LMS landing page until the request is opened.
    home = plar_school["sam"].page("/app")
    assert "Your PLAR request for Data Basics was received" in home.text
    plar_school["sam"].get(f"/plar/requests/{only_request(db).id}")
    assert "was received" not in plar_school["sam"].page("/app").text
    # A for-credit course offering nothing PLAR, for a learner with no request: no panel.
    alex = launch(app, platform, INTROPROG, sub="5", name="Alex Learner", custom=FOR_CREDIT)
    assert "Recognition of prior learning" not in alex.page("/app").text


def _ids(html):
    found = re.findall(r'\sid="([^"]+)"', html)
    return found, {i for i in found if found.count(i) > 1}


def test_scheduling_needs_a_date_and_a_place_and_errors_point_to_their_fields(db,
                                                                              plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    page = plar_school["pat"].page(f"/plar/assess/{req.id}")
    _found, duplicated = _ids(page.html)
    assert not duplicated
    skill = str(skill_ids(plar_school)["PY-DEBUG"])
    form = page.form("/schedule", containing=skill)
    response = post_form(plar_school["pat"], form, method="interview", date="", time="",
                         place=" ")
    assert response.status_code == 422
    page = Page(response)
    found, duplicated = _ids(page.html)
    assert not duplicated
    assert set(page.summary_links()) == {"f-scheduled_at", "f-scheduled_place"}
    assert {"f-scheduled_at", "f-scheduled_place"} <= set(found)
    assert page.is_invalid("scheduled_place")
    assert all(s.scheduled_at is None for s in only_request(db).skills)
    # A decision without a rationale: its errors point into that skill's form only.
    response = decide(plar_school, req, "PY-VAR", rationale=" ")
    page = Page(response)
    _found, duplicated = _ids(page.html)
    assert response.status_code == 422 and not duplicated
    assert page.summary_links() == ["f-rationale"] and page.is_invalid("rationale")


def test_learner_pages_have_unique_ids(db, plar_school):
    for path in ("/plar", "/plar/new/DATA-B"):
        assert not _ids(plar_school["sam"].page(path).html)[1], path
    assert submit_request(plar_school).status_code == 303
    detail = plar_school["sam"].page(f"/plar/requests/{only_request(db).id}")
    assert not _ids(detail.html)[1]
    assert not _ids(plar_school["pat"].page("/plar/queue").html)[1]


def test_a_scheduled_assessment_goes_into_a_calendar(app, db, platform, plar_school):
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    skill = str(skill_ids(plar_school)["PY-DEBUG"])
    page = plar_school["pat"].page(f"/plar/assess/{req.id}")
    post_form(plar_school["pat"], page.form("/schedule", containing=skill),
              method="challenge_exam", date="2026-12-21", time="14:30",
              place="Room B-204; Lakeshore campus, north wing")
    url = f"/plar/calendar/{req.id}/{skill}.ics"
    assert f'href="{url}?lt=' in plar_school["sam"].page(f"/plar/requests/{req.id}").html
    for person in (plar_school["sam"], plar_school["pat"]):
        response = person.get(url)
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        text = response.get_data(as_text=True)
        assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
        assert "DTSTART:20261221T143000Z\r\n" in text and "DTEND:20261221T153000Z" in text
        assert "LOCATION:Room B-204\\; Lakeshore campus\\, north wing" in text
        assert "SUMMARY:Challenge exam: Debugging" in text
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    # Nothing scheduled for another skill; nobody else gets it.
    other = str(skill_ids(plar_school)["PY-VAR"])
    assert plar_school["sam"].get(f"/plar/calendar/{req.id}/{other}.ics").status_code == 404
    alex = launch(app, platform, CODETEACH, sub="5", name="Alex Learner", custom=CONTINUING)
    assert alex.get(url).status_code == 404


def test_what_a_learner_types_is_shown_as_text_and_an_empty_request_for_evidence_refused(
        db, plar_school):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert submit_request(plar_school, narratives={"PY-VAR": hostile}).status_code == 303
    req = only_request(db)
    page = plar_school["pat"].page(f"/plar/assess/{req.id}")
    assert hostile not in page.html and "&lt;script&gt;alert(" in page.html
    form = page.form("/more-evidence")
    response = post_form(plar_school["pat"], form, message="   ")
    assert response.status_code == 422
    assert Page(response).summary_links() == ["f-message"]
    assert only_request(db).state == "submitted" and not only_request(db).messages


def test_a_french_learner_is_written_to_in_french_and_assessors_in_both(app, db, platform,
                                                                       plar_school):
    from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION
    from lti_tool.models import CredentialVersion

    version = db.get(CredentialVersion, plar_school["version"].id)
    version.content = {**version.content,
                       "translations": {"fr": {"title": "Données de base"}}}
    db.commit()
    plar_school["sam"] = launch(app, platform, CODETEACH, sub="4", name="Sam Student",
                                email="sam@example.com", custom=CONTINUING,
                                **{CLAIM_LAUNCH_PRESENTATION: {"locale": "fr-CA"}})
    assert submit_request(plar_school).status_code == 303
    to_sam = db.scalars(select(Notification).where(Notification.kind == "plar.submitted")).one()
    assert to_sam.subject == "Votre demande de RDA pour Données de base a été reçue"
    from babel.dates import format_date

    due = format_date(only_request(db).due_at, "long", locale="fr_CA")
    assert f"une décision est prévue d'ici le {due}" in to_sam.body
    to_pat = db.scalars(select(Notification).where(Notification.kind == "plar.new_request")
                        ).one()
    assert to_pat.subject == ("New PLAR request: Data Basics / "
                              "Nouvelle demande de RDA : Données de base")
    assert "--- Français ---" in to_pat.body
