"""Prior learning assessment and recognition (PLAR) in a real browser, in the sandbox LMS:
Avery (institution administrator) publishes the demo's approved "Data Analysis with
Spreadsheets" (4 skills; stand-alone and PLAR routes), sets the PLAR policy, fee and
turnaround and makes Terry its assessor; Lena, in "Coding for Teachers" (continuing
education), reads them and asks for recognition with a narrative per skill, a file and a
link; Terry asks for more evidence, Lena answers with another file; Terry grants three
skills by portfolio review, schedules a challenge exam for the fourth, then grants it. Lena
earns the credential through the PLAR route: her request says so, the public credential
page says "Prior learning assessment (PLAR)", its "verify" reports it valid and the
independent verifier (Digital Bazaar's libraries, tests/interop) verifies the downloaded
credential. E-mails reach a local SMTP server (aiosmtpd). axe-core finds no serious or
critical violation on any of these pages; the learner's pages do not scroll sideways at
320 px.

This module runs its own server (its own database, and SMTP_* set to the local server), so
the demo catalog is as seeded whatever other browser tests change."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, screenshot, serve
from tests.e2e.test_tracking_browser import (
    CODETEACH,
    NARROW,
    assert_accessible,
    assert_no_sideways_scroll,
    launch,
    notice,
)

pytestmark = pytest.mark.e2e
LENA, TERRY, AVERY = "Lena Learner", "Terry Teacher", "Avery Admin"
SHEETS = "Data Analysis with Spreadsheets"
SKILLS = ("Cleaning and structuring data", "Spreadsheet formulas and functions",
          "Summarising data with pivot tables", "Communicating with charts")
CHALLENGED = SKILLS[3]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[LiveServer]:
    """This module's own server (overrides the session's), mailing to the local inbox."""
    with serve(tmp_path_factory.mktemp("e2e-plar"), SMTP_HOST="127.0.0.1",
               SMTP_PORT=inbox.port, SMTP_TLS="none",  # type: ignore[attr-defined]
               SMTP_FROM="MicroCred <microcred@lakeshore.test>",
               SMTP_TIMEOUT_SECONDS=5) as server:
        yield server


def skill_card(tab: Any, skill: str) -> Any:
    return tab.locator("li.skill-status", has=tab.get_by_role("heading", name=re.compile(
        "^" + re.escape(skill))))


def decide(terry: Any, skill: str, method: str, rationale: str) -> None:
    card = skill_card(terry, skill)
    card.get_by_label("Demonstrated", exact=True).check()
    card.get_by_label("Method", exact=True).select_option(label=method)
    card.get_by_label("Rationale (the learner reads it)").fill(rationale)
    card.get_by_role("button", name=re.compile("^Record the decision")).click()
    expect(notice(terry)).to_contain_text("The decision was recorded.")


def test_learner_earns_a_credential_through_plar(browser, live_server, inbox, tmp_path):
    # Everyone has launched once (Terry's account exists for Avery to choose).
    launch(browser, live_server, CODETEACH, TERRY).context.close()

    # -- Avery: PLAR settings and Terry as assessor ----------------------------------------
    avery = launch(browser, live_server, CODETEACH, AVERY)
    # The demo's approved "Data Analysis with Spreadsheets" (4 skills, stand-alone and PLAR
    # routes) is published first.
    avery.goto(avery.url.replace("/app?", "/admin?"))
    avery.get_by_role("link", name=SHEETS).first.click()
    avery.get_by_role("button", name="Publish").click()
    avery.get_by_role("button", name="Publish version 1").click()
    expect(avery.get_by_role("status")).to_contain_text("Published.")
    avery.goto(avery.url.split("/admin")[0] + "/admin/plar?" + avery.url.split("?", 1)[1])
    expect(avery.get_by_role("heading", level=1)).to_have_text(
        "Prior learning assessment (PLAR)")
    avery.get_by_label("Policy (English)").fill(
        "Lakeshore assesses prior learning against the same criteria as its courses.")
    avery.get_by_label("Fee note (English)").fill("The PLAR fee is $120 per micro-credential.")
    avery.get_by_label("Expected turnaround (days)").fill("10")
    avery.get_by_role("button", name="Save PLAR settings").click()
    expect(notice(avery)).to_contain_text("The settings were saved.")
    avery.get_by_label("Person", exact=True).select_option(
        label="Terry Teacher (terry.teacher@sandbox.test)")
    avery.get_by_label("Micro-credential", exact=True).select_option(label=f"{SHEETS} (SHEETS)")
    avery.get_by_role("button", name="Make assessor").click()
    expect(avery.get_by_role("table", name="Who assesses which micro-credential")
           ).to_contain_text(TERRY)
    assert_accessible(avery, "the PLAR settings page")
    avery.context.close()

    # -- Lena asks for recognition ----------------------------------------------------------
    lena = launch(browser, live_server, CODETEACH, LENA)
    lena.get_by_role("link", name="Prior learning assessment (PLAR)").click()
    expect(lena.get_by_role("heading", level=1)).to_have_text(
        "Recognition of prior learning (PLAR)")
    assert_accessible(lena, "Lena's PLAR page")
    lena.get_by_role("link", name=re.compile(r"^Ask for recognition\W+" + SHEETS)).click()
    policy = lena.get_by_role("region", name="Before you ask")
    expect(policy).to_contain_text("same criteria as its courses")
    expect(policy).to_contain_text("$120 per micro-credential")
    expect(policy).to_contain_text("within 10 days")
    for skill in SKILLS:
        lena.get_by_label(f"How you learned and used “{skill}”").fill(
            f"Five years of monthly reports at the food bank: {skill.lower()} every week.")
    portfolio = tmp_path / "portfolio.pdf"
    portfolio.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    lena.get_by_label("Files").set_input_files(str(portfolio))
    lena.get_by_label("Link 1", exact=True).fill("drive.example.org/lena/food-bank-reports")
    assert_accessible(lena, "the PLAR request form")
    lena.set_viewport_size({"width": NARROW, "height": 800})
    assert_no_sideways_scroll(lena, "the PLAR request form")
    lena.set_viewport_size({"width": 1280, "height": 900})
    lena.get_by_role("button", name="Send my request").click()
    expect(notice(lena)).to_contain_text("Your request was sent.")
    expect(lena.locator("#status ~ p .plar-state")).to_have_text("Submitted")
    request_url = lena.url

    # -- Terry asks for more evidence -------------------------------------------------------
    terry = launch(browser, live_server, CODETEACH, TERRY)
    expect(terry.get_by_role("region", name="Prior learning assessments (PLAR)")
           ).to_contain_text("1 open request waits in your queue.")
    terry.get_by_role("link", name="Open the PLAR queue").click()
    queue = terry.get_by_role("table")
    expect(queue).to_contain_text(LENA)
    expect(queue).to_contain_text(SHEETS)
    assert_accessible(terry, "the PLAR queue")
    terry.get_by_role("link", name=LENA).click()
    expect(terry.get_by_role("link", name="portfolio.pdf")).to_be_visible()
    terry.get_by_label("Ask the learner for more evidence: say what is missing").fill(
        "Please add an example of a cleaned dataset, before and after.")
    terry.get_by_role("button", name="Ask for more evidence").click()
    expect(notice(terry)).to_contain_text("The learner was asked for more evidence.")
    assert_accessible(terry, "the assessment page")

    # -- Lena answers -----------------------------------------------------------------------
    lena.goto(request_url)
    expect(lena.locator("#status ~ p .plar-state")).to_have_text("More evidence needed")
    expect(lena.get_by_role("region", name="Messages")).to_contain_text(
        "Please add an example of a cleaned dataset")
    log = tmp_path / "cleaning-notes.txt"
    log.write_text("Before: 1,204 rows with duplicates and blank dates. After: 1,150 rows.\n")
    lena.get_by_label("Message to your assessor").fill("Here are my notes on a cleaning job.")
    lena.get_by_label("Files").set_input_files(str(log))
    lena.get_by_role("button", name="Send", exact=True).click()
    expect(notice(lena)).to_contain_text("Your answer was sent to your assessor.")
    expect(lena.locator("#status ~ p .plar-state")).to_have_text("In assessment")

    # -- Terry: three skills by portfolio, a challenge exam for Debugging -------------------
    terry.reload()
    expect(terry.get_by_role("link", name="cleaning-notes.txt")).to_be_visible()
    for skill in SKILLS[:3]:
        decide(terry, skill, "Portfolio review",
               f"The portfolio shows {skill.lower()} used correctly in working scripts.")
    card = skill_card(terry, CHALLENGED)
    card.get_by_text(re.compile("^Schedule a challenge exam")).click()
    card.get_by_label("What to schedule").select_option(label="Challenge exam")
    card.get_by_label("Date").fill("2026-12-21")
    card.get_by_label("Time (UTC)").fill("14:30")
    card.get_by_label("Place, or the link of the online meeting").fill(
        "Room B-204, Lakeshore campus")
    card.get_by_role("button", name=re.compile("^Schedule and tell the learner")).click()
    expect(notice(terry)).to_contain_text("The assessment was scheduled")
    lena.reload()
    expect(skill_card(lena, CHALLENGED)).to_contain_text("Room B-204")
    expect(skill_card(lena, CHALLENGED)).to_contain_text("Challenge exam")
    decide(terry, CHALLENGED, "Challenge exam",
           "Built three clear charts from the sales dataset during the challenge exam.")
    expect(notice(terry)).to_contain_text("The learner earned the micro-credential through PLAR.")
    terry.context.close()

    # -- Lena: decided, earned through PLAR -------------------------------------------------
    lena.reload()
    expect(lena.locator("#status ~ p .plar-state")).to_have_text("Decided")
    expect(lena.get_by_text(
        "You earned this micro-credential through prior learning assessment (PLAR).")
           ).to_be_visible()
    expect(skill_card(lena, CHALLENGED)).to_contain_text("three clear charts")
    assert_accessible(lena, "the decided request")
    screenshot(lena, "plar-decided")
    lena.set_viewport_size({"width": NARROW, "height": 800})
    assert_no_sideways_scroll(lena, "the decided request")
    lena.set_viewport_size({"width": 1280, "height": 900})
    lena.get_by_role("link", name="See it in My credentials").click()
    earned = lena.get_by_role("list", name="Earned")
    expect(earned).to_contain_text(SHEETS)
    card = earned.get_by_role("listitem").filter(has_text=SHEETS).first

    # -- the public page says PLAR; /verify and the independent verifier agree --------------
    with lena.context.expect_page() as opened:
        card.get_by_role("link", name=re.compile("^Public credential page")).click()
    public = opened.value
    public.wait_for_load_state()
    expect(public.get_by_role("heading", level=1)).to_have_text(SHEETS)
    expect(public.locator(".status-line")).to_contain_text("Valid")
    expect(public.get_by_text(re.compile("Prior learning assessment \\(PLAR\\)")).first
           ).to_be_visible()
    assert_accessible(public, "the public credential page of a PLAR award")
    with public.expect_download() as info:
        public.get_by_role("link", name="Download the credential (JSON)").click()
    as_json = tmp_path / "plar-credential.json"
    info.value.save_as(as_json)
    credential = json.loads(as_json.read_text())
    assert "Prior learning assessment (PLAR)" in credential["credentialSubject"]["source"][
        "name"]
    public.get_by_role("button", name="Verify this credential step by step").click()
    expect(public.get_by_role("heading", name=re.compile("^Result:"))).to_have_text(
        re.compile(r"Result: Valid$"))
    _independently_verified(as_json, live_server)

    # -- e-mails reached the SMTP server ----------------------------------------------------
    to_lena = [data for rcpt, data in inbox.messages if "lena.learner@sandbox.test" in rcpt]
    subjects = [str(message_from_bytes(m, policy=default)["Subject"]) for m in to_lena]
    assert any("was received" in s for s in subjects)
    assert any("More evidence needed" in s for s in subjects)
    assert any(s.startswith("Decision on your PLAR request") for s in subjects)
    assert any("terry.teacher@sandbox.test" in rcpt for rcpt, _ in inbox.messages)


def _independently_verified(path: Path, server: LiveServer) -> None:
    from tests.interop.test_independent_verifier import independent_verify

    results = independent_verify([{"name": "plar", "form": "json",
                                   "data": path.read_text()}], server)
    assert results["plar"]["verified"] is True, results["plar"]["errors"]
    assert results["plar"]["errors"] == [] and results["plar"]["revoked"] is False
