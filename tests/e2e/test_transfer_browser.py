"""Transfer and the registrar's record in a real browser, in the sandbox LMS, on a server of
its own (test profile: the SSRF guard lets it reach the other institution served on
127.0.0.1, and nothing else). Another institution (its own did:key; its status list on a
real local server) issued Lena a credential.

Avery (institution administrator) drafts the equivalency on the Equivalencies page; she
cannot approve her own entry, Terry (granted the registrar role) approves it. Lena, in her
course, submits a forged copy (refused, with the reason) and the real file (accepted at
once: what it certifies is shown). Avery opens the transfer request, the registrar's record
of the term and Lena's record. axe-core runs on each page (no serious or critical
violation); the learner's page and the record fit a 320 px phone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.domain.catalog import CatalogRole, LifecycleState
from lti_tool.extensions import session_scope
from lti_tool.models import Issuer, Platform
from lti_tool.services import catalog as catalog_service
from tests.e2e.conftest import CHROMIUM_ARGS, screenshot  # noqa: F401
from tests.e2e.test_catalog_browser import (
    FRAME,
    assert_accessible,
    assert_fits,
    at_width,
    launch_top_level,
)
from tests.support.catalog import CatalogBuilder, actor, skill_data
from tests.support.live_server import serve
from tests.support.other_issuers import FRAMEWORK, Ob3Issuer
from tests.support.other_issuers import serve as serve_site

pytestmark = pytest.mark.e2e
LENA_EMAIL = "lena.learner@sandbox.test"


def _set_up_institution(context: Any) -> Any:
    page = context.new_page()
    page.goto("/sandbox")
    page.get_by_role("list", name="Intro to Programming", exact=True).get_by_role(
        "link", name=re.compile("^Launch as Avery Admin")).click()
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", level=1)).to_have_text("MicroCred administration")
    avery = context.new_page()
    avery.goto(page.frame(name="tool-frame").url)
    page.close()
    avery.get_by_role("link", name=re.compile("Open the catalog|Set up your institution")) \
        .click()
    if avery.get_by_role("heading", name="Set up your institution").count():
        avery.get_by_label("Institution name").fill("Sandbox College")
        avery.get_by_label("Short name for web addresses (slug)").fill("sandbox-college")
        avery.get_by_label("Website").fill("https://college.example.org")
        avery.get_by_label("Contact email").fill("registrar@college.example.org")
        avery.get_by_role("button", name="Create the institution catalog").click()
        expect(avery.get_by_role("status")).to_contain_text("Your institution is set up")
    return avery


def _seed_catalog(app: Any) -> None:
    """Two skills aligned to the framework and a published, credit-bearing credential that
    allows the transfer route; Terry gets the registrar role."""
    with app.app_context(), session_scope(app) as session:
        issuer = session.scalars(select(Issuer)).one()
        builder = CatalogBuilder(session, issuer)
        for code, target in (("DA1", "DA.1"), ("DA2", "DA.2")):
            catalog_service.create_skill(session, builder.author, skill_data(
                code, name=f"Data analysis {target}", alignments=[{
                    "framework": FRAMEWORK, "target_url": f"https://framework.example/{target}",
                    "target_code": target, "target_name": f"Skill {target}"}]))
        builder.credential("DATA", LifecycleState.PUBLISHED, required=("DA1", "DA2"),
                           title="Data Analysis", credit_bearing=True, credit_value="3",
                           credit_system="College credits", notional_hours="45",
                           allowed_routes=["integrated", "transfer"])
        platform = session.scalars(select(Platform)).first()
        assert platform is not None
        catalog_service.grant_role(session, actor(issuer), platform.id,
                                   "sandbox-user-instructor", CatalogRole.REGISTRAR)


def test_a_transfer_is_recognised_and_the_registrar_reads_the_record(browser,
                                                                     tmp_path: Path):
    with serve_site() as site, serve(tmp_path, ENV="test", RATE_LIMIT_ENABLED=False,
                                     TEST_REMOTE_FETCH_ORIGINS={site.origin: ""}) as server:
        other = Ob3Issuer(site)
        genuine = tmp_path / "data-analysis.json"
        genuine.write_text(json.dumps(other.credential(email=LENA_EMAIL)))
        forged_credential = other.credential(email=LENA_EMAIL, index=6)
        forged_credential["credentialSubject"]["achievement"]["name"] = "Advanced Data Science"
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps(forged_credential))
        context = browser.new_context(base_url=server.url,
                                      viewport={"width": 1024, "height": 800})
        context.set_default_timeout(15_000)
        try:
            _run(context, server, other, genuine, forged)
        finally:
            context.close()


def _run(context: Any, server: Any, other: Ob3Issuer, genuine: Path, forged: Path) -> None:
    avery = _set_up_institution(context)
    _seed_catalog(server.app)

    # -- Avery drafts the equivalency ------------------------------------------------------
    avery.reload()
    nav = avery.get_by_role("navigation", name="Catalog administration")
    nav.get_by_role("link", name="Equivalencies").click()
    expect(avery.get_by_role("heading", level=1)).to_have_text("Equivalency table")
    avery.get_by_label("Issuer id").fill(other.issuer_id)
    avery.get_by_label("Issuer name").fill(other.name)
    avery.get_by_label("Achievement id").fill(other.achievement_id)
    avery.get_by_label("Achievement name").fill("Data Analysis Basics")
    avery.get_by_role("combobox", name=re.compile("^Micro-credential")).select_option(
        label="Data Analysis (DATA)")
    avery.get_by_label("Issued within (months)").fill("60")
    avery.get_by_role("button", name="Save as a draft").click()
    expect(avery.get_by_role("status")).to_contain_text("saved as a draft")
    assert_accessible(avery, "the equivalency table")
    avery.get_by_role("button", name=re.compile("^Approve")).click()
    expect(avery.get_by_role("alert")).to_contain_text("someone else must approve it")

    # -- Terry, registrar, approves it -----------------------------------------------------
    terry = launch_top_level(context, "Intro to Programming", "Terry Teacher")
    terry.get_by_role("link", name="Open the catalog").click()
    terry.get_by_role("navigation", name="Catalog administration").get_by_role(
        "link", name="Equivalencies").click()
    terry.get_by_role("button", name=re.compile("^Approve")).click()
    expect(terry.get_by_role("status")).to_contain_text("Approved")
    terry.close()

    # -- Lena submits a forged copy, then the real one -------------------------------------
    lena = launch_top_level(context, "Intro to Programming", "Lena Learner")
    lena.get_by_role("link", name="Submit it for recognition").click()
    expect(lena.get_by_role("heading", level=1)).to_have_text(
        "Credentials from another institution")
    assert_accessible(lena, "the learner's transfer page")
    lena.get_by_label("Credential file").set_input_files(str(forged))
    lena.get_by_role("button", name="Check and submit").click()
    refused = lena.locator("li.card").filter(has_text="Advanced Data Science")
    expect(refused).to_contain_text("Refused: does not verify")
    expect(refused).to_contain_text("proof:")
    lena.get_by_label("Credential file").set_input_files(str(genuine))
    lena.get_by_role("button", name="Check and submit").click()
    accepted = lena.locator("li.card").filter(has_text="Data Analysis Basics")
    expect(accepted).to_contain_text("Accepted")
    expect(accepted).to_contain_text("It completed 1 micro-credential")
    expect(accepted).to_contain_text("Northern Polytechnic")
    assert_accessible(lena, "the learner's transfer page with decisions")
    at_width(lena, 320)
    assert_fits(lena, "the learner's transfer page")
    screenshot(lena, "transfer-learner-320")
    lena.close()

    # -- Avery reads the request and the registrar's record --------------------------------
    avery.get_by_role("navigation", name="Catalog administration").get_by_role(
        "link", name="Transfers").click()
    avery.get_by_role("link", name="Accepted").click()
    avery.get_by_role("link", name=re.compile("Lena Learner")).first.click()
    expect(avery.get_by_role("heading", level=2, name="Accepted")).to_be_visible()
    expect(avery.get_by_text("Accepted automatically")).to_be_visible()
    assert_accessible(avery, "a transfer request")
    avery.get_by_role("navigation", name="Catalog administration").get_by_role(
        "link", name="Registrar's record").click()
    expect(avery.get_by_role("table")).to_contain_text("Transfer (recognised from another")
    expect(avery.get_by_role("table")).to_contain_text("Data Analysis (DATA) — micro-credential")
    assert_accessible(avery, "the registrar's record")
    avery.get_by_role("table").get_by_role("link", name="Lena Learner").click()
    expect(avery.get_by_role("heading", level=1)).to_have_text("Record of Lena Learner")
    assert_accessible(avery, "a learner's record")
    at_width(avery, 320)
    assert_fits(avery, "a learner's record")
    screenshot(avery, "registrar-record-320")
