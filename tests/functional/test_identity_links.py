"""One learner across platforms: two LMSs serve one institution, which links accounts by
email. A learner who opens MicroCred from both gets a link proposal; an institution
administrator confirms it (or dismisses it, or undoes it later); once linked, skills
demonstrated on one platform count on the other. On one platform the same ``sub`` is one
person in every course, with no proposal at all."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lti_tool.domain.catalog import CatalogRole
from lti_tool.models import Award, Demonstration, LinkProposal
from lti_tool.services import catalog as catalog_service
from lti_tool.services.platforms import find_platform
from tests.support.admin import Page
from tests.support.learning import (
    CODETEACH,
    INSTRUCTOR,
    INTROPROG,
    INTROPROG_TITLE,
    account_of,
    admin,
    context_of,
    demonstrate,
    launch,
    make_issuer,
    offer,
    python_catalog,
    second_platform,
    skill_block,
)

EMAIL = "sam.student@northern.example.edu"
B_COURSE_TITLE = "Python for Teachers (Canvas)"


@pytest.fixture()
def campus(app, db, platform, transport):
    """Moodle (A) and Canvas (B) both serve Northern College; an administrator chose
    "link by email" on the settings page. Course A is for-credit, course B continuing-ed;
    both offer "Two Skills" (Variables and Control flow) and Python Fundamentals."""
    issuer = make_issuer(db, platform)
    canvas = second_platform(db, transport, issuer)
    catalog, fundamentals = python_catalog(db, issuer)
    two = catalog.publish("TWO", "Two Skills", required=("PY-VAR", "PY-FLOW"))
    avery = admin(app, platform)
    page = avery.page("/admin/settings")
    saved = avery.client.post("/admin/settings", data={
        **page.form("/admin/settings").data(), "link_identities_by": "email"})
    assert saved.status_code == 303
    launch(app, platform, "instructor_claims_INTROPROG.json",
           custom={"context_kind": "for-credit"})
    launch(app, canvas, "instructor_claims_CODETEACH.json", sub="canvas-teacher",
           custom={"context_kind": "continuing-ed"},
           context={"id": "course-b", "label": "PY4T", "title": B_COURSE_TITLE})
    course_a = context_of(db, platform, "2")
    course_b = context_of(db, canvas, "course-b")
    for course in (course_a, course_b):
        offer(db, issuer, course, two)
        offer(db, issuer, course, fundamentals)
    return {"issuer": issuer, "canvas": canvas, "catalog": catalog, "two": two,
            "a": course_a, "b": course_b, "admin": avery}


def _sam_on_a(app, platform):
    return launch(app, platform, INTROPROG, sub="4", name="Sam Student", email=EMAIL)


def _sam_on_b(app, canvas):
    return launch(app, canvas, CODETEACH, sub="canvas-sam-77", name="Sam Student",
                  email=EMAIL.upper(),  # emails compare without regard to case
                  context={"id": "course-b", "label": "PY4T", "title": B_COURSE_TITLE})


def _proposal_row(page, account_text):
    row = re.search(r"<tr>(?:(?!</tr>).)*" + re.escape(account_text) + r".*?</tr>",
                    page.html, re.S)
    assert row, f"no row for {account_text}"
    return row.group(0)


def test_learner_on_two_platforms_is_linked_after_confirmation(app, db, platform, campus):
    skills = campus["catalog"].skills
    _sam_on_a(app, platform)
    sam_a = account_of(db, platform, "4")
    var = demonstrate(db, campus["a"], sam_a, skills["PY-VAR"])
    _sam_on_b(app, campus["canvas"])
    sam_b = account_of(db, campus["canvas"], "canvas-sam-77")
    assert sam_a.person_id != sam_b.person_id
    flow = demonstrate(db, campus["b"], sam_b, skills["PY-FLOW"])
    assert flow.new_awards == []      # not linked yet: one skill each

    # Before the link, course B knows nothing of what Sam did on Moodle.
    before = _sam_on_b(app, campus["canvas"]).page()
    assert "Not yet" in skill_block(before, "Variables and types")

    avery = campus["admin"]
    page = avery.page("/admin/identity")
    assert page.status == 200
    row = _proposal_row(page, "Canvas test")
    assert "Sam Student" in row and "Moodle test" in row and "Email" in row
    confirmed = avery.client.post(page.form("/confirm").action,
                                  data=page.form("/confirm").data())
    assert confirmed.status_code == 303
    db.expire_all()
    assert account_of(db, campus["canvas"], "canvas-sam-77").person_id == sam_a.person_id
    # Moodle's demonstration now counts toward the award on Sam's one person.
    award = db.scalars(select(Award).where(Award.credential_id == campus["two"].credential_id)
                       ).one()
    assert award.person_id == sam_a.person_id
    assert set(award.demonstration_ids) == {var.demonstration.id, flow.demonstration.id}

    after = _sam_on_b(app, campus["canvas"]).page()
    variables = skill_block(after, "Variables and types")
    assert "Demonstrated" in variables and INTROPROG_TITLE in variables
    assert "another course" in variables
    earned = after.html.split('id="earned-title"', 1)[1].split('id="progress-title"', 1)[0]
    assert "Two Skills" in earned
    listing = avery.page("/admin/identity")
    assert "No proposals waiting" in listing.text
    assert "Undo link" in listing.html


def test_launching_in_another_platforms_course_awards_what_linked_records_satisfy(
        app, db, platform, campus):
    """The credential is attached to course B only after Sam's records on Moodle already
    satisfy it: opening course B awards it (the same engine, once)."""
    skills = campus["catalog"].skills
    extra = campus["catalog"].publish("VAR-ONLY", "Variables Badge", required=("PY-VAR",))
    _sam_on_a(app, platform)
    demonstrate(db, campus["a"], account_of(db, platform, "4"), skills["PY-VAR"])
    _sam_on_b(app, campus["canvas"])
    avery = campus["admin"]
    page = avery.page("/admin/identity")
    avery.client.post(page.form("/confirm").action, data=page.form("/confirm").data())
    offer(db, campus["issuer"], campus["b"], extra)       # attached after the fact
    assert db.scalar(select(func.count()).select_from(Award)
                     .where(Award.credential_id == extra.credential_id)) == 0
    page = _sam_on_b(app, campus["canvas"]).page()
    assert "your demonstrated skills earned you a micro-credential" in page.text
    earned = page.html.split('id="earned-title"', 1)[1].split('id="progress-title"', 1)[0]
    assert "Variables Badge" in earned
    # Opening the page again awards nothing new.
    _sam_on_b(app, campus["canvas"]).page()
    award = db.scalars(select(Award).where(Award.credential_id == extra.credential_id)).one()
    assert award.context_id == campus["b"].id and award.route == "stand_alone"


def test_undo_moves_the_records_back(app, db, platform, campus):
    skills = campus["catalog"].skills
    _sam_on_a(app, platform)
    sam_a = account_of(db, platform, "4")
    demonstrate(db, campus["a"], sam_a, skills["PY-VAR"])
    _sam_on_b(app, campus["canvas"])
    sam_b = account_of(db, campus["canvas"], "canvas-sam-77")
    own_person = sam_b.person_id
    b_demo = demonstrate(db, campus["b"], sam_b, skills["PY-DEBUG"]).demonstration
    avery = campus["admin"]
    page = avery.page("/admin/identity")
    avery.client.post(page.form("/confirm").action, data=page.form("/confirm").data())
    db.expire_all()
    assert db.get(Demonstration, b_demo.id).person_id == sam_a.person_id
    linked = _sam_on_b(app, campus["canvas"]).page()
    assert "Demonstrated" in skill_block(linked, "Variables and types")

    page = avery.page("/admin/identity")
    undone = avery.client.post(page.form("/undo").action, data=page.form("/undo").data())
    assert undone.status_code == 303
    db.expire_all()
    assert account_of(db, campus["canvas"], "canvas-sam-77").person_id == own_person
    assert db.get(Demonstration, b_demo.id).person_id == own_person
    apart = _sam_on_b(app, campus["canvas"]).page()
    assert "Not yet" in skill_block(apart, "Variables and types")
    assert "Demonstrated" in skill_block(apart, "Debugging")
    listing = avery.page("/admin/identity")
    assert "No accounts are linked across platforms" in listing.text
    assert db.scalars(select(LinkProposal.status)).all() == ["undone"]


def test_dismissed_proposal_keeps_accounts_apart(app, db, platform, campus):
    _sam_on_a(app, platform)
    _sam_on_b(app, campus["canvas"])
    avery = campus["admin"]
    page = avery.page("/admin/identity")
    dismissed = avery.client.post(page.form("/dismiss").action,
                                  data=page.form("/dismiss").data())
    assert dismissed.status_code == 303
    db.expire_all()
    assert account_of(db, platform, "4").person_id != \
        account_of(db, campus["canvas"], "canvas-sam-77").person_id
    assert "No proposals waiting" in avery.page("/admin/identity").text


def test_same_sub_on_one_platform_is_one_person_in_every_course(app, db, platform, campus):
    skills = campus["catalog"].skills
    _sam_on_a(app, platform)
    sam = launch(app, platform, CODETEACH, sub="4", name="Sam Student", email=EMAIL)
    codeteach = context_of(db, platform, "3")
    offer(db, campus["issuer"], codeteach, campus["two"])
    demonstrate(db, campus["a"], account_of(db, platform, "4"), skills["PY-VAR"])
    page = sam.page()
    variables = skill_block(page, "Variables and types")
    assert "Demonstrated" in variables and INTROPROG_TITLE in variables
    assert db.scalar(select(func.count()).select_from(LinkProposal)) == 0


def test_stale_reverse_proposal_cannot_be_confirmed(app, db, platform, campus):
    _sam_on_a(app, platform)
    _sam_on_b(app, campus["canvas"])          # proposes: B's account → Sam's Moodle person
    _sam_on_a(app, platform)                  # proposes the other way round too
    assert db.scalar(select(func.count()).select_from(LinkProposal)) == 2
    avery = campus["admin"]
    page = avery.page("/admin/identity")
    b_account = account_of(db, campus["canvas"], "canvas-sam-77")
    forward = db.scalars(select(LinkProposal).where(
        LinkProposal.account_id == b_account.id)).one()
    avery.client.post(f"/admin/identity/{forward.id}/confirm",
                      data=page.form("/confirm").data())
    db.expire_all()
    # Confirming one direction dismisses the reverse proposal (its person is now empty).
    reverse = db.scalars(select(LinkProposal).where(LinkProposal.id != forward.id)).one()
    assert reverse.status == "dismissed"
    refused = avery.client.post(f"/admin/identity/{reverse.id}/confirm",
                                data=page.form("/confirm").data())
    assert refused.status_code == 409
    db.expire_all()
    assert account_of(db, platform, "4").person_id == \
        account_of(db, campus["canvas"], "canvas-sam-77").person_id
    assert db.get(LinkProposal, reverse.id).status == "dismissed"


def test_only_institution_admins_decide_and_every_post_needs_csrf(app, db, platform, campus):
    _sam_on_a(app, platform)
    _sam_on_b(app, campus["canvas"])
    proposal = db.scalars(select(LinkProposal)).one()
    row = find_platform(db, platform.issuer, platform.client_id)
    grant_actor = catalog_service.Actor(
        "cli", "cli", campus["issuer"].id,
        catalog_service.scopes_for_roles([CatalogRole.CATALOG_ADMIN]))
    catalog_service.grant_role(db, grant_actor, row.id, "cat-1", CatalogRole.CATALOG_ADMIN)
    db.commit()
    terry = launch(app, platform, "instructor_claims_INTROPROG.json", roles=[INSTRUCTOR])
    cat = launch(app, platform, "instructor_claims_INTROPROG.json", sub="cat-1",
                 roles=[INSTRUCTOR])
    sam = _sam_on_a(app, platform)
    for who in (terry, cat, sam):
        assert who.get("/admin/identity").status_code == 403
        assert who.get("/admin/settings").status_code == 403
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', who.page("/app").html)
        data = {"csrf_token": csrf.group(1)} if csrf else {}
        assert who.post(f"/admin/identity/{proposal.id}/confirm", data).status_code == 403
        assert who.post(f"/admin/identity/{proposal.id}/dismiss", data).status_code == 403
    # The catalog administrator sees the catalog, without the settings and identity links.
    nav = cat.page("/admin").html
    assert "/admin/settings" not in nav and "/admin/identity" not in nav
    avery = campus["admin"]
    assert "/admin/identity" in avery.page("/admin").html
    forged = avery.post(f"/admin/identity/{proposal.id}/confirm", {})
    assert forged.status_code == 403
    db.expire_all()
    assert db.get(LinkProposal, proposal.id).status == "proposed"


def test_another_institutions_proposal_is_not_found(app, db, platform, campus, transport):
    _sam_on_a(app, platform)
    _sam_on_b(app, campus["canvas"])
    proposal = db.scalars(select(LinkProposal)).one()
    # An administrator from a platform of another institution.
    from tests.conftest import register_platform
    from tests.support.platform import TestPlatform

    other = TestPlatform(issuer="https://other-moodle.test", client_id="other-client",
                         key_name="platform-c")
    register_platform(db, other, transport, name="Other Moodle")
    make_issuer(db, other, slug="southern")
    stranger = admin(app, other, sub="admin-s")
    page = stranger.page("/admin/identity")
    assert page.status == 200 and "Sam Student" not in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.html)
    csrf = token.group(1) if token else re.search(
        r'name="csrf_token" value="([^"]+)"', stranger.page("/admin/settings").html).group(1)
    response = stranger.post(f"/admin/identity/{proposal.id}/confirm", {"csrf_token": csrf})
    assert response.status_code == 404
    db.expire_all()
    assert db.get(LinkProposal, proposal.id).status == "proposed"


def test_person_holding_awards_is_not_merged_away(app, db, platform, campus):
    """Awards pin the person they were issued to: the administrator is told to link the
    other way round, and nothing moves."""
    skills = campus["catalog"].skills
    _sam_on_a(app, platform)
    _sam_on_b(app, campus["canvas"])
    sam_b = account_of(db, campus["canvas"], "canvas-sam-77")
    demonstrate(db, campus["b"], sam_b, skills["PY-VAR"])
    assert demonstrate(db, campus["b"], sam_b, skills["PY-FLOW"]).new_awards
    avery = campus["admin"]
    page = avery.page("/admin/identity")
    refused = avery.client.post(page.form("/confirm").action, data=page.form("/confirm").data())
    assert refused.status_code == 409
    assert "already holds credentials" in Page(refused).text
    db.expire_all()
    assert account_of(db, campus["canvas"], "canvas-sam-77").person_id == sam_b.person_id


def test_learner_role_still_sees_only_their_records_after_linking(app, db, platform, campus):
    skills = campus["catalog"].skills
    _sam_on_a(app, platform)
    launch(app, platform, INTROPROG, sub="5", name="Alex Learner", email="alex@example.edu")
    demonstrate(db, campus["a"], account_of(db, platform, "5"), skills["PY-FLOW"],
                evidence_note="ALEX-ONLY")
    _sam_on_b(app, campus["canvas"])
    avery = campus["admin"]
    page = avery.page("/admin/identity")
    avery.client.post(page.form("/confirm").action, data=page.form("/confirm").data())
    html = _sam_on_b(app, campus["canvas"]).page().html
    assert "ALEX-ONLY" not in html
    assert "Not yet" in skill_block(html, "Control flow")
