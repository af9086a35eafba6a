"""The sandbox LMS in a real browser: launches into the tool frame as an instructor and a
learner, the deep-linking round trip, keyboard-only use, a 320 px wide screen, and axe-core
on every page a person sees (no "serious" or "critical" violation)."""

from __future__ import annotations

import re
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
    """Run axe-core on a page or frame; fail on serious or critical violations and print
    every violation found (the minor ones too, so they are seen)."""
    results = Axe().run(target)
    assert results.response["url"] == target.url, "axe ran on another document"
    if results.violations_count:
        print(f"\naxe on {label}:\n{results.generate_report()}")
    blocking = [f"{v['id']} ({v['impact']}): {v['help']}"
                for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {label}: {blocking}"


def assert_fits_narrow_screen(page: Any, label: str) -> None:
    page.set_viewport_size({"width": NARROW, "height": 800})
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= NARROW + 1, (f"{label} scrolls sideways at {NARROW} px "
                                        f"({scroll_width}): {overflowing(page)}")


def overflowing(page: Any) -> list[str]:
    """The elements reaching past the viewport's right edge (innermost first): what to fix."""
    return page.evaluate("""() => {
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > window.innerWidth + 1 && ![...el.children].some(
              c => c.getBoundingClientRect().right > window.innerWidth + 1)) {
          out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}` +
                   `${el.className && typeof el.className === 'string' ? '.' +
                     el.className.trim().split(/\\s+/).join('.') : ''} ` +
                   `(${Math.round(r.right)} px)`);
        }
      }
      return out.slice(0, 8);
    }""")


def course_buttons(page: Any, course_title: str) -> Any:
    """The launch buttons of one sandbox course (the list is labelled by the course)."""
    return page.get_by_role("list", name=course_title, exact=True)


def launch(page: Any, course_title: str, button: str) -> Any:
    course_buttons(page, course_title).get_by_role("link", name=re.compile("^" + re.escape(
        button))).click()
    return page.frame_locator(FRAME)


def tool_frame_url(page: Any) -> str:
    frame = page.frame(name="tool-frame")
    assert frame is not None
    assert "/app?lt=" in frame.url, frame.url
    return str(frame.url)


def open_top_level(page: Any, url: str) -> Any:
    """Open a tool page (its URL carries the launch token) in its own tab, as the
    'Open in a new window' link does."""
    tab = page.context.new_page()
    tab.goto(url)
    return tab


def test_sandbox_page_is_accessible_at_full_and_narrow_width(page):
    page.goto("/sandbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox LMS")
    expect(page.get_by_title("MicroCred, launched from the sandbox LMS")).to_be_visible()
    assert_accessible(page, "the sandbox page")
    screenshot(page, "sandbox-1024")

    assert_fits_narrow_screen(page, "the sandbox page")
    assert_accessible(page, f"the sandbox page at {NARROW} px")
    screenshot(page, f"sandbox-{NARROW}")


def test_keyboard_alone_reaches_and_activates_the_first_launch_button(page):
    page.goto("/sandbox")
    first_button = course_buttons(page, "Intro to Programming").get_by_role("link").first
    expect(first_button).to_contain_text("Launch as Terry Teacher")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    for _ in range(3):
        page.keyboard.press("Tab")
        if first_button.evaluate("el => el === document.activeElement"):
            break
    expect(first_button).to_be_focused()
    outline = first_button.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth]; }")
    assert outline[0] != "none" and outline[1] != "0px", f"no visible focus: {outline}"

    page.keyboard.press("Enter")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", level=1)).to_contain_text("Intro to Programming")
    expect(frame.get_by_role("banner")).to_contain_text("Terry Teacher")


def test_instructor_launch_shows_the_course_the_person_and_the_role(page):
    page.goto("/sandbox")
    frame = launch(page, "Intro to Programming", "Launch as Terry Teacher")

    expect(frame.get_by_role("heading", level=1)).to_have_text(
        "Skills & credentials in Intro to Programming")
    banner = frame.get_by_role("banner")
    expect(banner).to_contain_text("Intro to Programming")
    expect(banner).to_contain_text("Terry Teacher")
    expect(banner.locator(".role")).to_have_text("Instructor")
    expect(frame.get_by_text("Welcome, Terry.")).to_be_visible()
    assert_accessible(page.frame(name="tool-frame"), "the instructor page in the tool frame")

    # The sandbox at 320 px: neither the page nor the tool inside its frame scrolls sideways.
    assert_fits_narrow_screen(page, "the sandbox with the instructor page")
    inner = page.frame(name="tool-frame").evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert inner[0] <= inner[1] + 1, f"the tool frame scrolls sideways at {NARROW} px: {inner}"

    tab = open_top_level(page, tool_frame_url(page))
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Intro to Programming")
    assert_accessible(tab, "the instructor page")
    screenshot(tab, "instructor-1024")
    assert_fits_narrow_screen(tab, "the instructor page")
    assert_accessible(tab, f"the instructor page at {NARROW} px")
    screenshot(tab, f"instructor-{NARROW}")


def test_learner_launch_shows_my_skills(page):
    page.goto("/sandbox")
    frame = launch(page, "Coding for Teachers", "Launch as Lena Learner")

    expect(frame.get_by_role("heading", level=1)).to_have_text("My skills & credentials")
    expect(frame.get_by_role("heading", name="My skills", exact=True)).to_be_visible()
    banner = frame.get_by_role("banner")
    expect(banner).to_contain_text("Coding for Teachers")
    expect(banner).to_contain_text("Lena Learner")
    expect(banner.locator(".role")).to_have_text("Learner")
    assert_accessible(page.frame(name="tool-frame"), "the learner page in the tool frame")

    tab = open_top_level(page, tool_frame_url(page))
    expect(tab.get_by_role("heading", name="My skills", exact=True)).to_be_visible()
    assert_accessible(tab, "the learner page")
    screenshot(tab, "learner-1024")
    assert_fits_narrow_screen(tab, "the learner page")
    assert_accessible(tab, f"the learner page at {NARROW} px")
    screenshot(tab, f"learner-{NARROW}")


def test_deep_linking_adds_a_link_that_a_learner_can_open(page):
    page.goto("/sandbox")
    frame = launch(page, "Intro to Programming", "Add a MicroCred link (deep linking)")

    expect(frame.get_by_role("heading", level=1)).to_have_text(
        "Add MicroCred to Intro to Programming")
    assert_accessible(page.frame(name="tool-frame"), "the deep-linking page in the tool frame")
    tab = open_top_level(page, tool_frame_url(page))
    expect(tab.get_by_role("group", name="Choose what to place in the course")).to_be_visible()
    assert_accessible(tab, "the deep-linking page")
    screenshot(tab, "deep-link-1024")
    assert_fits_narrow_screen(tab, "the deep-linking page")
    assert_accessible(tab, f"the deep-linking page at {NARROW} px")
    tab.close()

    frame.get_by_role("checkbox", name=re.compile("^Skills & credentials")).check()
    frame.get_by_role("button", name="Add to course").click()
    # The tool signs a deep-linking response; the sandbox verifies it and confirms.
    expect(frame.get_by_role("heading", level=1)).to_have_text("Added to Intro to Programming")
    expect(frame.get_by_role("status")).to_contain_text("added 1 link")
    expect(frame.get_by_role("listitem")).to_have_text("Skills & credentials")
    assert_accessible(page.frame(name="tool-frame"), "the sandbox's link-added page")

    page.goto("/sandbox")
    new_link = page.get_by_role("link", name="as Lena (Skills & credentials, Intro to Programming)")
    new_link.last.click()
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="My skills", exact=True)).to_be_visible()
    expect(frame.get_by_role("banner")).to_contain_text("Lena Learner")
    expect(frame.get_by_role("banner")).to_contain_text("Intro to Programming")

    # The instructor opening the same link sees it is the activity the tool created.
    page.get_by_role("link", name="as Terry (Skills & credentials, Intro to Programming)") \
        .last.click()
    expect(frame.get_by_role("definition").filter(has_text="Skills & credentials")).to_be_visible()


def test_administrator_page_is_accessible(page):
    page.goto("/sandbox")
    frame = launch(page, "Intro to Programming", "Launch as Avery Admin")
    expect(frame.get_by_role("heading", level=1)).to_have_text("MicroCred administration")
    expect(frame.get_by_role("banner").locator(".role")).to_have_text("Institution administrator")
    assert_accessible(page.frame(name="tool-frame"), "the administration page")


def test_error_page_is_accessible_and_fits_a_narrow_screen(page):
    page.goto("/app")  # no launch token: the session-ended page
    expect(page.get_by_role("alert")).to_contain_text("Open the tool again from your course")
    assert_accessible(page, "the error page")
    assert_fits_narrow_screen(page, "the error page")


def test_launch_continues_by_hand_when_the_autosubmit_script_is_blocked(page):
    page.route("**/static/js/autosubmit.js", lambda route: route.abort())
    page.goto("/sandbox/start?course=coding-for-teachers&user=learner2")
    expect(page.get_by_role("heading", level=1)).to_have_text("Opening MicroCred as Omar Osei")
    assert_accessible(page, "the form_post page")
    assert_fits_narrow_screen(page, "the form_post page")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="My skills", exact=True)).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("Omar Osei")
