"""The learner's own view inside a course: "My skills" (status, when and where, evidence,
history of corrections) and "My credentials" (earned anywhere, in progress with what
remains), only ever their own records, and never a grade."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_tool.models import Award, Demonstration, EvidenceFile
from lti_tool.services import tracking
from tests.support.learning import (
    CODETEACH,
    CODETEACH_TITLE,
    INSTRUCTOR,
    INTROPROG,
    INTROPROG_TITLE,
    TEACHER,
    account_of,
    context_of,
    demonstrate,
    launch,
    make_issuer,
    offer,
    python_catalog,
    skill_block,
)

FOR_CREDIT = {"context_kind": "for-credit"}
CONTINUING = {"context_kind": "continuing-ed"}


@pytest.fixture()
def school(app, db, platform):
    """Northern College: PY-FUND offered in the for-credit INTROPROG course and in the
    continuing-ed CODETEACH course; Sam (sub 4) launched in both, Alex (sub 5) in both."""
    issuer = make_issuer(db, platform)
    catalog, version = python_catalog(db, issuer)
    launch(app, platform, "instructor_claims_INTROPROG.json", custom=FOR_CREDIT)
    launch(app, platform, "instructor_claims_CODETEACH.json", custom=CONTINUING)
    for fixture, custom in ((INTROPROG, FOR_CREDIT), (CODETEACH, CONTINUING)):
        for sub, name in (("4", "Sam Student"), ("5", "Alex Learner")):
            launch(app, platform, fixture, sub=sub, name=name,
                   email=f"student{sub}@example.com", custom=custom)
    intro, codeteach = context_of(db, platform, "2"), context_of(db, platform, "3")
    assert (intro.kind, codeteach.kind) == ("for-credit", "continuing-ed")
    offer(db, issuer, intro, version)
    offer(db, issuer, codeteach, version)
    return {"issuer": issuer, "catalog": catalog, "version": version, "intro": intro,
            "codeteach": codeteach, "sam": account_of(db, platform, "4"),
            "alex": account_of(db, platform, "5")}


def _sam(app, platform, fixture=INTROPROG):
    return launch(app, platform, fixture, sub="4", name="Sam Student",
                  email="student4@example.com")


def test_learner_sees_own_statuses_including_another_course(app, db, platform, school):
    skills = school["catalog"].skills
    demonstrate(db, school["intro"], school["sam"], skills["PY-VAR"],
                evidence_url="https://github.com/sam/variables", days_ago=3)
    demonstrate(db, school["codeteach"], school["sam"], skills["PY-FLOW"], days_ago=2,
                method="observation")
    demonstrate(db, school["intro"], school["sam"], skills["PY-FUNC"], "fail")
    page = _sam(app, platform).page()
    assert page.status == 200
    # The landing page keeps what it showed: course title, user name, role.
    assert INTROPROG_TITLE in page.text and "Sam Student" in page.text
    assert "Learner" in page.text
    variables = skill_block(page, "Variables and types")
    assert "Demonstrated" in variables and INTROPROG_TITLE in variables
    assert 'href="https://github.com/sam/variables"' in variables
    flow = skill_block(page, "Control flow")
    assert "Demonstrated" in flow and CODETEACH_TITLE in flow and "another course" in flow
    assert "Observation" in flow
    functions = skill_block(page, "Functions")
    assert "Attempted, not yet demonstrated" in functions
    debugging = skill_block(page, "Debugging")
    assert "Not yet" in debugging and "Demonstrated on" not in debugging
    # Progress: 2 of 5 (4 required + 1 of 2 optional), what remains in plain words.
    assert "2 of 5 skills demonstrated" in page.text
    assert re.search(r'<progress max="5" value="2"[^>]*>2 of 5 skills</progress>', page.html)
    assert "Still to demonstrate: Functions, Debugging" in page.text
    assert "and 1 of: Testing, Recursion" in page.text


def test_progress_link_opens_the_credential_view(app, db, platform, school):
    skills = school["catalog"].skills
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG"):
        demonstrate(db, school["intro"], school["sam"], skills[code])
    sam = _sam(app, platform)
    home = sam.page()
    assert "4 of 5 skills demonstrated" in home.text
    assert "Still to demonstrate 1 of: Testing, Recursion" in home.text
    href = re.search(r'href="(/me/credentials/PY-FUND\?lt=[^"]+)"', home.html).group(1)
    view = sam.client.get(href.replace("&amp;", "&"))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", view.get_data(as_text=True)))
    assert view.status_code == 200
    assert "Python Programming Fundamentals" in text and "4 of 5 skills" in text
    assert "Testing" in text and "Recursion" in text


def test_credential_earned_in_one_course_shows_as_earned_in_the_other(app, db, platform,
                                                                        school):
    skills = school["catalog"].skills
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-REC"):
        result = demonstrate(db, school["codeteach"], school["sam"], skills[code])
    assert [a.route for a in result.new_awards] == ["stand_alone"]
    for fixture, elsewhere in ((CODETEACH, False), (INTROPROG, True)):
        page = _sam(app, platform, fixture).page()
        earned = page.html.split('id="earned-title"', 1)[1].split('id="progress-title"', 1)[0]
        assert "Python Programming Fundamentals" in earned
        assert "Stand-alone (continuing education)" in earned
        assert CODETEACH_TITLE in earned
        assert ("another course" in earned) is elsewhere
        assert '<dt>Version</dt><dd>1</dd>' in earned
        assert 'href="/c/northern/PY-FUND/v/1"' in earned
        # Not also listed as in progress.
        progress = page.html.split('id="progress-title"', 1)[1]
        assert "of 5 skills" not in progress
    assert db.scalars(select(Award)).one().context_id == school["codeteach"].id


def test_history_shows_corrections_and_superseded_records(app, db, platform, school):
    skills = school["catalog"].skills
    first = demonstrate(db, school["intro"], school["sam"], skills["PY-DEBUG"], days_ago=4)
    demonstrate(db, school["intro"], school["sam"], skills["PY-DEBUG"], "fail", days_ago=3,
                supersedes_id=first.demonstration.id,
                reason="Recorded for the wrong learner: the debugging task was not done.")
    page = _sam(app, platform).page()
    debugging = skill_block(page, "Debugging")
    assert "Attempted, not yet demonstrated" in debugging
    assert "2 records, 1 correction" in debugging
    assert "Recorded for the wrong learner: the debugging task was not done." in debugging
    assert debugging.count('class="history-item superseded"') == 1
    assert "Replaced" in debugging and "no longer counts" in debugging
    # The superseded pass no longer counts toward the credential.
    assert "0 of 5 skills demonstrated" in page.text


def test_revoked_credential_is_shown_with_its_reason(app, db, platform, school):
    skills = school["catalog"].skills
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-TEST"):
        result = demonstrate(db, school["intro"], school["sam"], skills[code])
    award = result.new_awards[0]
    tracking.revoke_award(db, award, reason="Evidence was found to be plagiarised.",
                          by=TEACHER)
    db.commit()
    page = _sam(app, platform).page()
    earned = page.html.split('id="earned-title"', 1)[1].split('id="progress-title"', 1)[0]
    assert "You have not earned a micro-credential yet." in earned, "revoked is not earned"
    assert "Download my learner record" not in earned
    revoked = page.html.split('id="revoked-title"', 1)[1]
    assert "Revoked" in revoked and "Evidence was found to be plagiarised." in revoked
    assert "In a for-credit course" in revoked
    # Still in progress: it can be earned again with a new demonstration.
    progress = page.text.split("In progress", 1)[1].split("Revoked", 1)[0]
    assert "Python Programming Fundamentals" in progress
    assert "A new demonstration of one of its skills can earn it again." in progress


def test_earned_again_after_a_revocation_is_under_earned_and_the_revoked_one_kept(
        app, db, platform, school):
    skills = school["catalog"].skills
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-TEST"):
        result = demonstrate(db, school["intro"], school["sam"], skills[code])
    first = result.new_awards[0]
    tracking.revoke_award(db, first, reason="Recorded for the wrong learner.", by=TEACHER)
    again = demonstrate(db, school["intro"], school["sam"], skills["PY-TEST"], days_ago=0)
    db.commit()
    assert again.new_awards
    page = _sam(app, platform).page()
    earned = page.html.split('id="earned-title"', 1)[1].split('id="progress-title"', 1)[0]
    assert "Python Programming Fundamentals" in earned and "Revoked" not in earned
    assert 'class="badge-picture"' in earned and 'alt="' in earned
    revoked = page.html.split('id="revoked-title"', 1)[1]
    assert "Recorded for the wrong learner." in revoked


def test_each_skill_says_when_it_counts_as_demonstrated(app, db, platform, school):
    page = _sam(app, platform).page()
    block = skill_block(page, "Variables and types")
    assert "Demonstrated when" in block
    assert 'data-open-wide' in block  # a collapsible card (open on wide screens)
    # The earned credentials come before the skills.
    assert page.html.index('id="my-credentials"') < page.html.index('id="my-skills"')


def test_flagged_credential_says_it_is_being_reviewed(app, db, platform, school):
    skills = school["catalog"].skills
    results = [demonstrate(db, school["intro"], school["sam"], skills[c])
               for c in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-TEST")]
    demonstrate(db, school["intro"], school["sam"], skills["PY-TEST"], "fail",
                supersedes_id=results[-1].demonstration.id, reason="Tests did not run.")
    page = _sam(app, platform).page()
    assert "your instructor is reviewing a corrected record" in page.text
    assert "Tests did not run." in page.text


def test_no_other_learners_data_and_no_grades(app, db, platform, school):
    skills = school["catalog"].skills
    demonstrate(db, school["intro"], school["alex"], skills["PY-VAR"],
                evidence_note="ALEX-PRIVATE-NOTE", evidence_url="https://alex.example/secret")
    mine = demonstrate(db, school["intro"], school["sam"], skills["PY-FLOW"],
                       evidence_note="Sam loop exercise")
    sam = _sam(app, platform)
    for response in (sam.get("/app"), sam.get("/me"), sam.get("/me/credentials/PY-FUND"),
                     # Nothing in a URL selects another learner: such parameters are ignored.
                     sam.get("/me", person=school["alex"].person_id,
                             account=school["alex"].id, sub="5")):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "ALEX-PRIVATE-NOTE" not in html and "alex.example" not in html
        assert "Alex" not in html
        assert "Sam loop exercise" in html
        visible = re.sub(r"<[^>]+>", " ", html).lower()
        assert "grade" not in visible and "score" not in visible
    # Sam's own record is there; the skill Alex demonstrated is "not yet" for Sam.
    assert "Not yet" in skill_block(sam.page("/me"), "Variables and types")
    assert mine.demonstration.person_id == school["sam"].person_id


def test_evidence_file_is_downloaded_only_by_its_owner(app, db, platform, school):
    skills = school["catalog"].skills
    stored = EvidenceFile(sha256="0" * 64, filename="loop<script>.html",
                          content_type="text/html", size=27,
                          data=b"<script>alert(1)</script>", uploaded_by="account:teacher")
    db.add(stored)
    db.commit()
    result = demonstrate(db, school["intro"], school["sam"], skills["PY-FLOW"],
                         evidence_file_id=stored.id)
    sam = _sam(app, platform)
    page = sam.page()
    link = re.search(r'href="(/me/evidence/(\d+)\?lt=[^"]+)"', page.html)
    assert link and int(link.group(2)) == result.demonstration.id
    download = sam.client.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.mimetype == "application/octet-stream"  # never rendered as a page
    assert download.data == b"<script>alert(1)</script>"
    alex = launch(app, platform, INTROPROG, sub="5", name="Alex Learner")
    refused = alex.get(f"/me/evidence/{result.demonstration.id}")
    assert refused.status_code == 404
    assert b"alert(1)" not in refused.data


def test_learner_is_refused_instructor_and_admin_routes(app, db, platform, school):
    sam = _sam(app, platform)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', sam.page("/app").html)
    token = csrf.group(1) if csrf else ""
    before = db.scalar(select(Demonstration.id).order_by(Demonstration.id.desc()).limit(1))
    refusals = [sam.get("/admin/settings"), sam.get("/admin/identity"),
                sam.post("/lti/deep-link", {"csrf_token": token, "item": "home"}),
                sam.post("/admin/identity/1/confirm", {"csrf_token": token}),
                sam.get("/course"), sam.get("/course/grid"), sam.get("/course/offerings"),
                sam.get("/course/awards"), sam.get("/course/export/grid.csv"),
                sam.post("/course/cell", {"csrf_token": token, "outcome": "pass",
                                          "method": "observation"})]
    for response in refusals:
        assert response.status_code == 403, response.request.path
    db.expire_all()
    assert db.scalar(select(Demonstration.id).order_by(Demonstration.id.desc())
                     .limit(1)) == before


def test_instructor_cannot_open_the_learner_pages(app, db, platform, school):
    terry = launch(app, platform, "instructor_claims_INTROPROG.json", roles=[INSTRUCTOR])
    assert terry.get("/me").status_code == 403
    assert terry.get("/me/credentials/PY-FUND").status_code == 403


def test_unknown_or_foreign_credential_view_is_not_found(app, db, platform, school):
    sam = _sam(app, platform)
    assert sam.get("/me/credentials/NOPE").status_code == 404
    assert sam.get("/me/credentials/..%2Fetc").status_code == 404


def test_course_without_offerings_says_so(app, db, platform):
    make_issuer(db, platform)
    page = _sam(app, platform).page()
    assert page.status == 200
    assert "No micro-credential is offered in this course yet" in page.text


def test_learner_links_and_page_carry_the_launch_token(app, db, platform, school):
    skills = school["catalog"].skills
    demonstrate(db, school["intro"], school["sam"], skills["PY-VAR"])
    sam = _sam(app, platform)
    page = sam.page()
    internal = re.findall(r'href="(/(?:me|app)[^"]*)"', page.html)
    assert internal and all("lt=" in href for href in internal)
    assert page.response.headers["Cache-Control"].startswith("no-store") or \
        "no-store" in page.response.headers["Cache-Control"]
