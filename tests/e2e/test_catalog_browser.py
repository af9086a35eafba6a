"""The catalog in a real browser, in the sandbox LMS: the institution administrator (Avery)
creates a skill and a micro-credential through the admin UI and submits it; grants the
reviewer role to the instructor (Terry) on the People & roles page after Terry's first
launch; Terry reviews it on the rubric and approves although one criterion is not met (the
form asks him to confirm it); Avery publishes it (after a confirmation page) and opens its
public page. The skill is chosen with the skill picker's search. axe-core runs on the
catalog list, the credential form (also showing errors), the credential page, the review
form (also asking to confirm), the publish confirmation and the public page: no serious or
critical violation.
The credential page and the review form are also checked (and photographed) at 320 px."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

FRAME = 'iframe[name="tool-frame"]'
BLOCKING_IMPACTS = ("serious", "critical")
NARROW = 320


def assert_accessible(target: Any, label: str) -> None:
    results = Axe().run(target)
    if results.violations_count:
        print(f"\naxe on {label}:\n{results.generate_report()}")
    blocking = [f"{v['id']} ({v['impact']}): {v['help']}"
                for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {label}: {blocking}"


def at_width(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})


WIDE_ELEMENTS = """() => [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
    .slice(0, 8).map(el => `${el.tagName.toLowerCase()}.${el.className}#${el.id}`)"""


def assert_fits(page: Any, label: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW + 1, (f"{label} scrolls sideways at {NARROW} px ({width}); "
                                 f"too wide: {page.evaluate(WIDE_ELEMENTS)}")


def launch_top_level(context: Any, course: str, person: str) -> Any:
    """Launch from the sandbox into the tool frame, then open the tool page in its own tab
    (as its 'Open in a new window' link does), returning that tab."""
    sandbox = context.new_page()
    sandbox.goto("/sandbox")
    sandbox.get_by_role("list", name=course, exact=True).get_by_role(
        "link", name=re.compile("^Launch as " + re.escape(person))).click()
    frame = sandbox.frame_locator(FRAME)
    expect(frame.get_by_role("banner")).to_contain_text(person)
    url = sandbox.frame(name="tool-frame").url
    assert "/app?lt=" in url
    tab = context.new_page()
    tab.goto(url)
    sandbox.close()
    return tab


def test_create_review_publish_and_open_the_public_page(browser, live_server, page):
    suffix = uuid.uuid4().hex[:6].upper()
    code = f"WEB-{suffix}"
    skill_code = f"HTML-{suffix}"
    title = f"Accessible Web Pages {suffix}"
    avery_context = page.context

    # -- Avery, institution administrator: from the LMS frame into the catalog -------------
    page.goto("/sandbox")
    page.get_by_role("list", name="Intro to Programming", exact=True).get_by_role(
        "link", name=re.compile("^Launch as Avery Admin")).click()
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", level=1)).to_have_text("MicroCred administration")
    frame.get_by_role("link", name=re.compile("Open the catalog|Set up your institution")) \
        .click()
    expect(frame.get_by_role("heading", level=1)).to_have_text(
        re.compile("Micro-credential catalog|Set up your institution"))
    avery = avery_context.new_page()
    avery.goto(page.frame(name="tool-frame").url)

    if avery.get_by_role("heading", name="Set up your institution").count():
        avery.get_by_label("Institution name, English").fill("Sandbox College")
        avery.get_by_label("Short name for web addresses (slug)").fill("sandbox-college")
        avery.get_by_label("Website").fill("https://college.example.org")
        avery.get_by_label("Contact email").fill("registrar@college.example.org")
        avery.get_by_role("button", name="Create the institution catalog").click()
        expect(avery.get_by_role("status")).to_contain_text("Your institution is set up")
    expect(avery.get_by_role("heading", level=1)).to_have_text("Micro-credential catalog")
    assert_accessible(avery, "the catalog list")
    screenshot(avery, "admin-catalog-1024")

    # -- a skill ---------------------------------------------------------------------------
    avery.get_by_role("navigation", name="Catalog administration").get_by_role(
        "link", name="Skills").click()
    avery.get_by_role("link", name="New skill").click()
    avery.get_by_label("Code", exact=True).fill(skill_code)
    avery.get_by_label("Name, English", exact=True).fill("Semantic HTML")
    avery.get_by_label("Name, Français").fill("HTML sémantique")
    avery.get_by_label("Demonstration criteria, English").fill(
        "Marks up a page with headings in order, landmarks and labelled form fields.")
    avery.get_by_label("Tags").fill("web, accessibility")
    avery.get_by_role("button", name="Create skill").click()
    expect(avery.get_by_role("status")).to_contain_text("The skill was created.")

    # -- the credential form: errors first, then a good save -------------------------------
    avery.get_by_role("navigation", name="Catalog administration").get_by_role(
        "link", name="Catalog").click()
    avery.get_by_role("link", name="New micro-credential").click()
    expect(avery.get_by_role("heading", level=1)).to_have_text("New micro-credential")
    assert_accessible(avery, "the credential form")
    avery.get_by_label("Code", exact=True).fill(code)
    avery.get_by_label("Notional learning hours").fill("5000")
    avery.get_by_role("button", name="Create draft").click()
    summary = avery.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Title: This is required.")
    title_input = avery.get_by_label("Title, English", exact=True)
    expect(title_input).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name=re.compile("^Title")).click()
    expect(title_input).to_be_focused()
    assert_accessible(avery, "the credential form with errors")
    screenshot(avery, "admin-credential-form-errors-1024")

    title_input.fill(title)
    avery.get_by_label("Short description, English").fill(
        "Build web pages that everyone can use, with a keyboard or a screen reader.")
    avery.get_by_role("textbox", name="Learning outcomes, English").fill(
        "Structure a page with landmarks and headings\nLabel every form field\n"
        "Check a page with an automated accessibility tool")
    avery.get_by_label("Notional learning hours").fill("24")
    avery.get_by_role("group", name="Delivery modes").get_by_label(
        "Online, asynchronous").check()
    avery.get_by_role("group", name="Routes allowed").get_by_label(
        re.compile("^Stand-alone")).check()
    # The skill picker: a search, one page of results, "Add the ticked skills" (saves
    # nothing, keeps what was typed).
    picker = avery.get_by_role("group", name="Find skills to add")
    picker.get_by_label("Code, name or words of the description").fill(skill_code)
    picker.get_by_role("button", name="Search skills").click()
    expect(avery.locator("#picker-count")).to_contain_text(f"1 skill matches “{skill_code}”")
    expect(avery.locator("#picker-count")).to_be_focused()
    picker.get_by_role("checkbox", name=re.compile(
        "^Add as required: Semantic HTML " + skill_code)).check()
    picker.get_by_role("button", name="Add the ticked skills").click()
    required = avery.get_by_role("group", name="Required skills (1)")
    expect(required.get_by_label(f"Semantic HTML {skill_code}")).to_be_checked()
    expect(avery.get_by_label("Title, English", exact=True)).to_have_value(title)  # kept
    avery.get_by_role("button", name="Create draft").click()
    expect(avery.get_by_role("heading", level=1)).to_contain_text(title)
    expect(avery.get_by_role("status")).to_contain_text("The draft micro-credential was created")
    expect(avery.get_by_text("To earn it, demonstrate Semantic HTML.")).to_be_visible()
    assert_accessible(avery, "the credential page")
    screenshot(avery, "admin-credential-1024")
    at_width(avery, NARROW)
    assert_fits(avery, "the credential page")
    assert_accessible(avery, f"the credential page at {NARROW} px")
    screenshot(avery, f"admin-credential-{NARROW}")
    at_width(avery, 1024)

    avery.get_by_role("button", name="Submit for review").click()
    expect(avery.get_by_role("status")).to_contain_text("Submitted for review.")
    expect(avery.get_by_text("You cannot review this version because you wrote or edited it")) \
        .to_be_visible()
    credential_url = avery.url

    # -- Terry launches once, so Avery can find him; Avery grants him the reviewer role ----
    terry_context = browser.new_context(base_url=live_server.url,
                                        viewport={"width": 1024, "height": 800})
    terry_context.set_default_timeout(15_000)
    terry = launch_top_level(terry_context, "Intro to Programming", "Terry Teacher")
    expect(terry.get_by_role("heading", level=1)).to_contain_text("Intro to Programming")
    expect(terry.get_by_role("link", name="Open the catalog")).to_have_count(0)

    avery.get_by_role("navigation", name="Catalog administration").get_by_role(
        "link", name="People & roles").click()
    avery.get_by_label("Person", exact=True).select_option(
        label="Terry Teacher — terry.teacher@sandbox.test")
    avery.get_by_role("group", name="Role").get_by_label(re.compile("^Reviewer")).check()
    avery.get_by_role("button", name="Grant role").click()
    expect(avery.get_by_role("status")).to_contain_text("The role was granted.")
    expect(avery.get_by_role("region", name="People with a catalog role")).to_contain_text(
        "Terry Teacher")

    # -- Terry reviews on the rubric and approves --------------------------------------------
    terry.reload()
    expect(terry.get_by_role("heading", name="Institution catalog")).to_be_visible()
    terry.get_by_role("link", name="Waiting for review").click()
    terry.get_by_role("link", name=f"Review {title}, version 1").click()
    expect(terry.get_by_role("heading", level=1)).to_contain_text(f"Review “{title}”")
    assert_accessible(terry, "the review form")
    screenshot(terry, "admin-review-1024")
    at_width(terry, NARROW)
    assert_fits(terry, "the review form")
    assert_accessible(terry, f"the review form at {NARROW} px")
    screenshot(terry, f"admin-review-{NARROW}")
    at_width(terry, 1024)
    groups = terry.locator("fieldset.levels")
    assert groups.count() >= 3
    for i in range(groups.count()):
        groups.nth(i).get_by_label("Met", exact=True).check()
    groups.nth(0).get_by_label("Not met", exact=True).check()
    terry.get_by_role("group", name="Overall decision").get_by_label(
        re.compile("^Approve")).check()
    terry.get_by_label("Overall comment").fill("Clear outcomes and a valid assessment.")
    terry.get_by_role("button", name="Submit review").click()
    # Approving with a criterion not met asks first; the scores and comment are kept.
    confirm = terry.locator(".confirm-panel")
    expect(confirm).to_be_focused()
    expect(confirm).to_contain_text("Approve although a criterion is not met?")
    expect(groups.nth(0).get_by_label("Not met", exact=True)).to_be_checked()
    expect(terry.get_by_label("Overall comment")).to_have_value(
        "Clear outcomes and a valid assessment.")
    assert_accessible(terry, "the review form asking to confirm a criterion not met")
    confirm.get_by_label(re.compile("^I approve although")).check()
    confirm.get_by_role("button", name="Submit review").click()
    expect(terry.get_by_role("status")).to_contain_text("approved")
    terry_context.close()

    # -- Avery publishes and opens the public page -------------------------------------------
    avery.goto(credential_url)
    expect(avery.get_by_text("Approved", exact=True).first).to_be_visible()
    expect(avery.get_by_role("region", name="Review history")).to_contain_text(
        "by Terry Teacher")
    avery.get_by_role("button", name="Publish").click()
    # Publishing asks first, saying what cannot be undone.
    expect(avery.get_by_role("heading", level=1)).to_contain_text(f"Publish “{title}”")
    expect(avery.get_by_role("note")).to_contain_text("This cannot be undone")
    assert_accessible(avery, "the publish confirmation")
    avery.get_by_role("button", name="Publish version 1").click()
    expect(avery.get_by_role("status")).to_contain_text("Published.")
    public_href = avery.get_by_role("link", name=re.compile("Open the public page")) \
        .get_attribute("href")
    assert public_href and public_href.startswith("/c/") and public_href.endswith("/" + code)

    public = avery_context.new_page()
    public.goto(public_href)
    expect(public.get_by_role("heading", level=1)).to_contain_text(title)
    expect(public.get_by_text("Label every form field")).to_be_visible()
    expect(public.get_by_text("Semantic HTML").first).to_be_visible()
    assert_accessible(public, "the public credential page")
    screenshot(public, "public-credential-1024")
    at_width(public, NARROW)
    assert_fits(public, "the public credential page")


def test_every_admin_page_is_accessible_and_fits_a_narrow_screen(browser, live_server, page):
    """axe-core and a 320 px check on each admin page (in the demo catalog), including a
    token's one-time display and a diff between two versions."""
    page.close()
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1024, "height": 800})
    context.set_default_timeout(15_000)
    avery = launch_top_level(context, "Intro to Programming", "Avery Admin")
    avery.get_by_role("link", name=re.compile("Open the catalog|Set up your institution")) \
        .click()
    if avery.get_by_role("heading", name="Set up your institution").count():
        pytest.skip("the sandbox has no demo catalog in this build")
    nav = avery.get_by_role("navigation", name="Catalog administration")
    pages = {}
    for name in ("Catalog", "Reviews", "Skills", "Rubric", "API tokens", "People & roles",
                 "Import & export", "Institution", "Platforms"):
        pages[name] = nav.get_by_role("link", name=name, exact=True).get_attribute("href")

    def check(label: str) -> None:
        assert_accessible(avery, label)
        at_width(avery, NARROW)
        assert_fits(avery, label)
        assert_accessible(avery, f"{label} at {NARROW} px")
        at_width(avery, 1024)

    for name, href in pages.items():
        avery.goto(href)
        check(f"the {name} page")

    avery.goto(pages["Skills"])
    avery.get_by_role("link", name="New skill").click()
    check("the skill form")

    avery.goto(pages["API tokens"])
    avery.get_by_label("Name", exact=True).fill("Browser test token")
    avery.get_by_role("button", name="Create token").click()
    expect(avery.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
    expect(avery.get_by_role("region", name=re.compile("Your new token"))).to_be_focused()
    check("the new token page")
    screenshot(avery, "admin-token-created-1024")

    avery.goto(pages["Catalog"])
    avery.get_by_role("link", name="Python Programming Fundamentals").click()
    if avery.get_by_role("button", name="Show changes").count():
        avery.get_by_role("button", name="Show changes").click()
        expect(avery.get_by_role("heading", level=1)).to_contain_text("Changes from version")
        check("the diff page")
        screenshot(avery, "admin-diff-1024")
    context.close()
