"""Occupations in a real browser, in the sandbox LMS (the demo college with its sample of
NOC 2021 occupations): the institution administrator opens Occupations and the design aid
of "Nurse aides, orderlies and patient service associates" — statuses in words, what to
build next; a learner with a demonstrated skill sees where it leads on their page. axe-core
finds no serious or critical violation on either, at 1024 px and at 320 px (where nothing
scrolls sideways but the tables' own scroll regions)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.extensions import session_scope
from lti_tool.models import Context, Issuer, LearnerAccount, Skill
from lti_tool.services import tracking
from lti_tool.services.demo import DEMO_SLUG
from tests.e2e.conftest import screenshot
from tests.e2e.test_catalog_browser import (
    FRAME,
    NARROW,
    assert_accessible,
    at_width,
)

pytestmark = pytest.mark.e2e

FITS = """() => [...document.querySelectorAll("body *")]
    .filter(el => !el.closest('.table-scroll') && el.getBoundingClientRect().right > innerWidth + 1)
    .slice(0, 8).map(el => `${el.tagName.toLowerCase()}.${el.className}`)"""


def _tab(page: Any, person: str) -> Any:
    page.goto("/sandbox")
    page.get_by_role("list", name="Intro to Programming", exact=True).get_by_role(
        "link", name=re.compile("^Launch as " + re.escape(person))).click()
    expect(page.frame_locator(FRAME).get_by_role("banner")).to_contain_text(person)
    tab = page.context.new_page()
    tab.goto(page.frame(name="tool-frame").url)
    return tab


def test_design_aid_and_learner_outlook(browser, live_server, page):
    admin = _tab(page, "Avery Admin")
    admin.get_by_role("link", name=re.compile("Open the catalog")).click()
    admin.get_by_role("navigation", name="Catalog administration").get_by_role(
        "link", name="Occupations").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Occupations")
    expect(admin.get_by_role("table")).to_contain_text("Home support workers")
    assert_accessible(admin, "the occupations list")
    admin.get_by_role("link", name="Nurse aides, orderlies and patient service associates") \
        .click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        "Nurse aides, orderlies and patient service associates")
    table = admin.get_by_role("table", name="Each required skill and what in your catalog "
                                            "covers it")
    row = table.get_by_role("row", name=re.compile("Infection prevention and control"))
    expect(row).to_contain_text("Gap: no skill in the catalog")
    row = table.get_by_role("row", name=re.compile("Safe body mechanics"))
    expect(row).to_contain_text("aligned to the framework item")
    expect(admin.get_by_role("heading", name="What to build next")).to_be_visible()
    assert_accessible(admin, "the design aid")
    screenshot(admin, "occupation-design-aid-1024")
    at_width(admin, NARROW)
    assert not admin.evaluate(FITS), admin.evaluate(FITS)
    assert_accessible(admin, "the design aid at 320 px")
    screenshot(admin, "occupation-design-aid-320")

    # -- a learner with one demonstrated skill ------------------------------------------------
    learner_page = page.context.browser.new_context(base_url=live_server.url,
                                                    viewport={"width": 1024, "height": 800})
    lena_sandbox = learner_page.new_page()
    lena = _tab(lena_sandbox, "Lena Learner")
    with session_scope(live_server.app) as session:
        account = session.scalars(select(LearnerAccount).where(
            LearnerAccount.sub == "sandbox-user-learner-1")).one()
        issuer = session.scalars(select(Issuer).where(Issuer.slug == DEMO_SLUG)).one()
        skill = session.scalars(select(Skill).where(Skill.issuer_id == issuer.id,
                                                    Skill.code == "PSW-BODYMECH")).one()
        context = session.scalars(select(Context).order_by(Context.id)).first()
        tracking.record_demonstration(
            session, context=context, account=account, skill=skill, outcome="pass",
            method="observation", assessor=tracking.Assessor(ref="e2e", name="Ivy Instructor",
                                                             launch_id="e2e"))
    lena.reload()
    section = lena.get_by_role("region", name="Where your skills lead")
    expect(section).to_contain_text("Nurse aides, orderlies and patient service associates")
    expect(section).to_contain_text("Safe body mechanics")
    expect(section).to_contain_text("Still to learn")
    assert_accessible(lena, "the learner page with occupations")
    screenshot(lena, "learner-occupations-1024")
    at_width(lena, NARROW)
    assert not lena.evaluate(FITS), lena.evaluate(FITS)
    assert_accessible(lena, "the learner page at 320 px")
    learner_page.close()
