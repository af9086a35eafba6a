"""Open Badges 3.0 credentials in a real browser, in the sandbox LMS: learner 1 (Lena Learner)
earns "Python Programming Fundamentals" in "Intro to Programming" (her instructor Terry
marks her five skills in the grid, reusing the steps of test_tracking_browser), opens the
credential's public page from "My credentials", downloads the credential as JSON and as a
baked PNG, and uploads both to /verify, which reports them valid. axe-core finds no serious
or critical violation on the credential page, on /verify with a report shown, and on the
learner's page; the credential page and /verify do not scroll sideways at 320 px.

This module runs its own server (its own database): Lena earning the credential here must
not change what test_tracking_browser, which makes her earn it, sees on the shared one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, screenshot, serve
from tests.e2e.test_tracking_browser import (
    INTRO,
    NARROW,
    PYFUND,
    PYFUND_SKILLS,
    assert_accessible,
    assert_no_sideways_scroll,
    cell,
    launch,
    notice,
    offer_pyfund,
    open_grid,
)

pytestmark = pytest.mark.e2e
LENA = "Lena Learner"


def earned_list(tab: Any) -> Any:
    return tab.get_by_role("list", name="Earned")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's own server (overrides the session's)."""
    with serve(tmp_path_factory.mktemp("e2e-badges")) as server:
        yield server


def terry_marks_lena_for_pyfund(browser: Any, live_server: Any) -> None:
    launch(browser, live_server, INTRO, LENA).context.close()  # Lena joins the roster
    terry = launch(browser, live_server, INTRO, "Terry Teacher")
    offer_pyfund(terry)
    for skill in PYFUND_SKILLS:
        open_grid(terry)
        terry.get_by_label("Credential").select_option(label=PYFUND)
        terry.get_by_role("button", name="Show").click()
        cell(terry, LENA, skill).click()
        terry.get_by_label("Demonstrated (pass)").check()
        terry.get_by_role("button", name="Save and back to the grid").click()
        expect(notice(terry)).to_contain_text(f"{skill} — demonstrated.")
    expect(notice(terry)).to_contain_text(f"{LENA} earned {PYFUND}.")
    terry.context.close()


def download(page: Any, link_name: str | re.Pattern[str], folder: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def verify_upload(page: Any, file: Path) -> None:
    page.goto("/verify")
    page.get_by_label("Credential file").set_input_files(str(file))
    page.get_by_role("button", name="Verify", exact=True).click()


def test_learner_shares_and_anyone_verifies_the_credential(browser, live_server, tmp_path):
    terry_marks_lena_for_pyfund(browser, live_server)

    # -- Lena, in her course: "My credentials" with the actions ----------------------------
    lena = launch(browser, live_server, INTRO, LENA)
    lena.context.grant_permissions(["clipboard-read", "clipboard-write"])
    earned = earned_list(lena)
    expect(earned).to_contain_text(PYFUND)
    card = earned.get_by_role("listitem").filter(has_text=PYFUND).first
    linkedin = card.get_by_role("link", name=re.compile("^Add to LinkedIn profile"))
    expect(linkedin).to_have_attribute("href", re.compile(
        r"^https://www\.linkedin\.com/profile/add\?startTask=CERTIFICATION_NAME&name=Python"))
    copy = card.get_by_role("button", name=re.compile("^Copy link"))
    expect(copy).to_be_visible()  # the script showed it
    copy.click()
    expect(card.get_by_role("status").first).to_have_text(
        re.compile("Link copied|Select the link and copy it"))
    clr = re.compile("^Download my learner record")
    expect(card.get_by_role("link", name=clr)).to_have_count(0)  # once, for all credentials
    expect(lena.get_by_role("link", name=clr)).to_be_visible()
    assert_accessible(lena, "Lena's credentials with their actions")
    screenshot(lena, "learner-credential-actions")

    # -- the public credential page (opens in a new tab) -----------------------------------
    with lena.context.expect_page() as opened:
        card.get_by_role("link", name=re.compile("^Public credential page")).click()
    public = opened.value
    public.wait_for_load_state()
    assert re.search(r"/credentials/[A-Za-z0-9_-]+$", public.url)
    expect(public.get_by_role("heading", level=1)).to_have_text(PYFUND)
    expect(public.locator(".status-line")).to_contain_text("Valid")
    expect(public.get_by_text("Earned by a learner at")).to_be_visible()
    expect(public.get_by_role("img", name=re.compile(f"^Badge: {PYFUND}"))).to_be_visible()
    assert_accessible(public, "the public credential page")
    screenshot(public, "credential-page")
    public.set_viewport_size({"width": NARROW, "height": 800})
    assert_no_sideways_scroll(public, "the credential page")
    public.set_viewport_size({"width": 1280, "height": 900})

    as_json = download(public, "Download the credential (JSON)", tmp_path)
    as_png = download(public, re.compile(r"^Download the badge image .*\(PNG\)"), tmp_path)
    assert as_json.suffix == ".json" and as_png.read_bytes().startswith(b"\x89PNG")

    # -- /verify: anyone uploads both ------------------------------------------------------
    verifier = public.context.browser.new_context(base_url=live_server.url,
                                                  viewport={"width": 1280, "height": 900})
    page = verifier.new_page()
    for file in (as_json, as_png):
        verify_upload(page, file)
        expect(page.get_by_role("heading", name=re.compile("^Result:"))).to_have_text(
            re.compile(r"Result: Valid$"))
        # Plain words first; the verifier's reason and steps behind a disclosure.
        expect(page.get_by_text(re.compile("^This credential is authentic"))).to_be_visible()
        expect(page.get_by_text("Reason: all checks passed")).to_be_hidden()
        page.locator("details.verify-technical > summary").click()
        expect(page.get_by_text("Reason: all checks passed")).to_be_visible()
        steps = page.locator("ol.verify-steps > li")
        assert steps.count() >= 9
        expect(page.locator("ol.verify-steps")).to_contain_text("Passed Signature")
        expect(page.locator("ol.verify-steps")).to_contain_text("Passed Revocation status")
    expect(page.locator(".claims")).to_contain_text(PYFUND)
    assert_accessible(page, "/verify with a report")
    screenshot(page, "verify-report")
    page.set_viewport_size({"width": NARROW, "height": 800})
    assert_no_sideways_scroll(page, "/verify with a report")

    # The page's own "verify" button does the same without a download.
    public.get_by_role("button", name="Verify this credential step by step").click()
    expect(public.get_by_role("heading", name=re.compile("^Result:"))).to_have_text(
        re.compile(r"Result: Valid$"))
    verifier.close()
    lena.context.close()
