"""Pathways in a real browser, in the sandbox LMS (issue 12). Set-up (server side, through
the services): four published micro-credentials of the sandbox's catalog (A, B, C and the
program credential P), and the reviewer role for Terry.

The institution administrator (Avery) builds a pathway in the admin form: a group with a
credit rule (at least 1.5 credits, from A) and a k-of-n group (1 of B and C), adding the
second group with the form's own button; submits it. Terry, another person, reviews it on
the rubric and approves; Avery publishes it (after a confirmation) and opens its public
page. In "Coding for Teachers" (continuing education) Lena holds A; Terry records her last
skill for B in the grid, and the program credential P is awarded at once (route stacked);
it verifies. Lena's page shows the pathway complete: the flowchart with her progress, its
text alternative naming every step with its status, and the steps list saying the same as
the public page. axe-core: no serious or critical violation
on the pathway form, the pathway page, the review form, the public page and Lena's page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.domain.catalog import Action, CatalogRole, Scope
from lti_tool.extensions import session_scope
from lti_tool.models import Award, Context, Issuer, LearnerAccount, Platform
from lti_tool.models.base import utcnow
from lti_tool.services import catalog, issuing, tracking
from lti_tool.services.catalog import Actor
from tests.e2e.conftest import screenshot
from tests.e2e.test_tracking_browser import (
    assert_accessible,
    assert_no_sideways_scroll,
    cell,
    launch,
    notice,
    open_grid,
)

pytestmark = pytest.mark.e2e

CODETEACH = "Coding for Teachers"
INTRO = "Intro to Programming"


def _issuer_and_platform(app: Any) -> tuple[int, int]:
    from lti_tool.sandbox.platform import CLIENT_ID

    with app.app_context(), session_scope(app) as session:
        platform = session.scalars(select(Platform).where(
            Platform.client_id == CLIENT_ID)).one()
        issuer = catalog.issuer_for_platform(session, platform.id, None)
        assert issuer is not None
        return issuer.id, platform.id


def _set_up(app: Any, suffix: str) -> dict[str, str]:
    """Four published credentials (one skill each) and the reviewer role for Terry."""
    issuer_id, platform_id = _issuer_and_platform(app)
    codes = {k: f"E2E{suffix}-{k}" for k in ("A", "B", "C", "P")}
    titles = {"A": f"Care Communication {suffix}", "B": f"Infection Control {suffix}",
              "C": f"Dementia Care {suffix}", "P": f"Care Foundations {suffix}"}
    with app.app_context(), session_scope(app) as session:
        author = Actor("demo:e2e-author", "Erin Author", issuer_id, frozenset(Scope))
        reviewer = Actor("demo:e2e-reviewer", "Rui Reviewer", issuer_id, frozenset(Scope))
        scores = [{"criterion": c.key, "level": "met"}
                  for c in catalog.rubric_for(session, issuer_id)]
        for key, code in codes.items():
            catalog.create_skill(session, author, {"code": f"SK-{code}",
                                                   "name": f"Skill of {titles[key]}"})
            version = catalog.create_credential(session, author, {
                "code": code, "title": titles[key],
                "short_description": f"What {titles[key]} certifies.",
                "learning_outcomes": ["Do the thing safely."], "notional_hours": "20",
                "delivery_modes": ["in_person"], "required_skills": [f"SK-{code}"],
                "allowed_routes": ["integrated", "stand_alone"]})
            catalog.transition(session, author, version.id, Action.SUBMIT)
            catalog.review(session, reviewer, version.id, {"decision": "approve",
                                                           "scores": scores})
            catalog.transition(session, author, version.id, Action.PUBLISH)
        catalog.grant_role(session, author, platform_id, "sandbox-user-instructor",
                           CatalogRole.REVIEWER)
    return {**{f"code_{k}": v for k, v in codes.items()},
            **{f"title_{k}": v for k, v in titles.items()}}


def _lena_holds_a(app: Any, data: dict[str, str]) -> None:
    """Offer A and B in Coding for Teachers; Lena demonstrates A's skill (she earns A)."""
    issuer_id, _platform_id = _issuer_and_platform(app)
    with app.app_context(), session_scope(app) as session:
        course = session.scalars(select(Context).where(Context.title == CODETEACH)).first()
        assert course is not None
        teacher = tracking.Assessor("demo:e2e-teacher", "Terry Teacher")
        for key in ("A", "B"):
            version = catalog.published_version(session, issuer_id, data[f"code_{key}"])
            assert version is not None
            tracking.attach_offering(session, issuer_id=issuer_id, context=course,
                                     credential_id=version.credential_id, by=teacher)
        lena = session.scalars(select(LearnerAccount).where(
            LearnerAccount.sub == "sandbox-user-learner-1")).one()
        skill = catalog.skill_by_code(session, issuer_id, f"SK-{data['code_A']}")
        assert skill is not None
        result = tracking.record_demonstration(
            session, context=course, account=lena, skill=skill, outcome="pass",
            method="observation", demonstrated_at=utcnow() - timedelta(hours=1),
            assessor=teacher)
        assert [a.credential.code for a in result.new_awards] == [data["code_A"]]


def test_build_review_publish_and_a_learner_completes_the_pathway(browser, live_server):
    app = live_server.app
    suffix = uuid.uuid4().hex[:5].upper()
    path_code = f"PW-{suffix}"
    path_title = f"Care pathway {suffix}"

    # -- Avery builds the pathway in the admin form ---------------------------------------
    avery = launch(browser, live_server, INTRO, "Avery Admin")
    data = _set_up(app, suffix)
    avery.goto(avery.url.replace("/app?", "/admin/pathways/new?"))
    expect(avery.get_by_role("heading", level=1)).to_have_text("New pathway")
    assert_accessible(avery, "the pathway form")
    avery.get_by_label("Code", exact=True).fill(path_code)
    avery.get_by_label("Title", exact=True).fill(path_title)
    avery.get_by_label("Program credential awarded on completion").select_option(
        value=data["code_P"])
    avery.get_by_label("External program").fill("Care Aide — College Certificate")
    first = avery.get_by_role("group", name=re.compile("^Group 1"))
    first.get_by_label("Group title").fill("Core")
    first.get_by_label("Rule").select_option(value="credits")
    first.get_by_label("How many (steps, credits or hours)").fill("1.5")
    step = first.get_by_role("group", name="Step 1")
    step.get_by_label("Micro-credential").select_option(value=data["code_A"])
    step.get_by_label(re.compile(r"^Credits\b")).fill("1.5")
    step.get_by_label(re.compile(r"^Course code\b")).fill("CARE-101")
    avery.get_by_role("button", name="Add a group").click()
    # The form comes back with a second group; what was typed is kept.
    second = avery.get_by_role("group", name=re.compile("^Group 2"))
    expect(second).to_be_visible()
    expect(first.get_by_label("Group title")).to_have_value("Core")
    second.get_by_label("Group title").fill("Electives")
    second.get_by_label("Rule").select_option(value="choose")
    second.get_by_label("How many (steps, credits or hours)").fill("1")
    second.get_by_role("group", name="Step 1").get_by_label("Micro-credential") \
        .select_option(value=data["code_B"])
    second.get_by_role("group", name="Step 2").get_by_label("Micro-credential") \
        .select_option(value=data["code_C"])
    avery.get_by_role("button", name="Save", exact=True).click()
    expect(avery.get_by_role("status")).to_contain_text("The draft pathway was created.")
    expect(avery.get_by_role("heading", level=1)).to_contain_text(path_title)
    preview = avery.get_by_role("region", name=re.compile("^Preview"))
    expect(preview).to_contain_text("At least 1.5 credits from these")
    expect(preview).to_contain_text("Choose 1 of 2")
    assert_accessible(avery, "the pathway page")
    screenshot(avery, "admin-pathway-1280")
    avery.get_by_role("button", name="Submit for review").click()
    expect(avery.get_by_role("status")).to_contain_text("Submitted for review.")
    pathway_url = avery.url

    # -- Terry (reviewer role) reviews it --------------------------------------------------
    terry = launch(browser, live_server, INTRO, "Terry Teacher")
    terry.goto(terry.url.replace("/app?", "/admin/reviews?"))
    terry.get_by_role("link", name=f"Review {path_title}").click()
    expect(terry.get_by_role("heading", level=1)).to_contain_text(f"Review “{path_title}”")
    assert_accessible(terry, "the pathway review form")
    groups = terry.locator("fieldset.levels")
    for i in range(groups.count()):
        groups.nth(i).get_by_label("Met", exact=True).check()
    terry.get_by_role("group", name="Overall decision").get_by_label(
        re.compile("^Approve")).check()
    terry.get_by_label("Overall comment").fill("Credit rules confirmed with the registrar.")
    terry.get_by_role("button", name="Submit review").click()
    expect(terry.get_by_role("status")).to_contain_text("approved")

    # -- Avery publishes and opens the public page ----------------------------------------
    avery.goto(pathway_url)
    avery.get_by_role("button", name="Publish").click()
    expect(avery.get_by_role("heading", name="This cannot be undone")).to_be_visible()
    avery.get_by_role("button", name=re.compile("^Publish version 1")).click()
    expect(avery.get_by_role("status")).to_contain_text("Published")
    issuer_id, _ = _issuer_and_platform(app)
    with app.app_context(), session_scope(app) as session:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        issuer_slug = issuer.slug
    public = avery.context.new_page()
    public.goto(f"/c/{issuer_slug}/pathways/{path_code}")
    expect(public.get_by_role("heading", level=1)).to_have_text(path_title)
    public_steps = public.locator("ol.pathway-groups").inner_text()
    assert data["title_A"] in public_steps and "Choose 1 of 2" in public_steps
    assert "exempts from CARE-101" in public_steps
    assert_accessible(public, "the public pathway page")
    public.set_viewport_size({"width": 320, "height": 800})
    assert_no_sideways_scroll(public, "the public pathway page")
    screenshot(public, "public-pathway-320")

    # -- Lena completes it in a continuing-education course -------------------------------
    launch(browser, live_server, CODETEACH, "Lena Learner").context.close()
    terry_ce = launch(browser, live_server, CODETEACH, "Terry Teacher")
    _lena_holds_a(app, data)
    open_grid(terry_ce)
    terry_ce.get_by_label("Credential").select_option(label=data["title_B"])
    terry_ce.get_by_role("button", name="Show").click()
    cell(terry_ce, "Lena Learner", f"Skill of {data['title_B']}").click()
    terry_ce.get_by_label("Demonstrated (pass)").check()
    terry_ce.get_by_role("button", name="Save and back to the grid").click()
    expect(notice(terry_ce)).to_contain_text(f"Lena Learner earned {data['title_B']}")
    with app.app_context(), session_scope(app) as session:
        program = session.scalars(select(Award).join(Award.credential).where(
            Award.route == "stacked")
            .where(Award.credential.has(code=data["code_P"]))).one()
        assert program.context.title == CODETEACH
        record = issuing.issue_for_award(session, program,
                                         vault=app.extensions["lti"].vault,
                                         base_url=live_server.url)
        report = issuing.verify_record(session, record, base_url=live_server.url)
        assert report.result == "valid", report.steps
        program_public_id = program.public_id
    credential_page = avery.context.new_page()
    credential_page.goto(f"/credentials/{program_public_id}")
    expect(credential_page.get_by_role("heading", level=1)).to_contain_text(data["title_P"])

    # -- Lena sees the pathway complete ---------------------------------------------------
    lena = launch(browser, live_server, CODETEACH, "Lena Learner")
    mine = lena.get_by_role("region", name="My pathways")
    expect(mine).to_contain_text(path_title)
    card = mine.locator("li.pathway-card", has_text=path_title)
    expect(card).to_contain_text("Complete.")
    steps = card.locator("ol.pathway-groups")
    if not steps.is_visible():
        card.get_by_text("Steps, rules and credit").click()
    learner_steps = steps.inner_text()
    assert learner_steps.count("Earned") >= 2, learner_steps
    # The learner's list says the same as the public one, plus the statuses.
    for title in (data["title_A"], data["title_B"], data["title_C"], data["title_P"]):
        assert title in learner_steps and title in public_steps
    # The flowchart with her progress, and its text alternative saying the same.
    expect(card.locator("svg.flowchart")).to_have_count(1)
    words = card.locator("section.flowchart-text").inner_text()
    for key in ("A", "B", "C", "P"):
        assert data[f"title_{key}"] in words, words
    svg_text = card.locator("svg.flowchart").text_content() or ""
    assert "Earned" in svg_text and words.count("Earned") >= 3, words  # A, B and P
    assert_accessible(lena, "the learner's page with a pathway")
    screenshot(lena, "learner-pathway-1280")
