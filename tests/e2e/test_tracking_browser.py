"""Skill tracking in a real browser, in the sandbox LMS (its Lakeshore demo catalog has
"Python Programming Fundamentals" published): the instructor Terry offers it in "Intro to
Programming" (for credit) and marks every skill as demonstrated for Lena Learner — from the
grid's cells, partly with the keyboard, back on the grid with the changed cell focused, then
"Save and next skill" — and two skills for Omar with the bulk form; Lena
then sees the credential earned in that course and in "Coding for Teachers" (continuing
education, where Terry offers it too), and Omar sees his progress. axe-core finds no serious
or critical violation on the grid (1280 and 320 px wide), the cell page and the learners'
pages; the grid is photographed at both widths."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOT_DIR, screenshot

pytestmark = pytest.mark.e2e

FRAME = 'iframe[name="tool-frame"]'
BLOCKING_IMPACTS = ("serious", "critical")
INTRO, CODETEACH = "Intro to Programming", "Coding for Teachers"
PYFUND = "Python Programming Fundamentals"
PYFUND_CODES = {"Variables and data types": "PY-VARS", "Control flow": "PY-CTRL",
                "Functions": "PY-FUNC", "Debugging": "PY-DEBUG",
                "Version control basics": "VCS-BASICS"}
PYFUND_SKILLS = tuple(PYFUND_CODES)
NARROW = 320


def assert_accessible(target: Any, label: str) -> None:
    results = Axe().run(target)
    if results.violations_count:
        print(f"\naxe on {label}:\n{results.generate_report()}")
    blocking = [f"{v['id']} ({v['impact']}): {v['help']}"
                for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {label}: {blocking}"


def assert_no_sideways_scroll(page: Any, label: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW + 1, f"{label} scrolls sideways at {NARROW} px ({width})"


def launch(browser: Any, live_server: Any, course: str, person: str) -> Any:
    """Launch from the sandbox LMS into the tool frame, then open the tool in its own tab
    (its "Open in a new window" link does the same). One browser context per person."""
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    sandbox = context.new_page()
    sandbox.goto("/sandbox")
    sandbox.get_by_role("list", name=course, exact=True).get_by_role(
        "link", name=re.compile("^Launch as " + re.escape(person))).click()
    expect(sandbox.frame_locator(FRAME).get_by_role("banner")).to_contain_text(person)
    url = sandbox.frame(name="tool-frame").url
    assert "/app?lt=" in url
    tab = context.new_page()
    tab.goto(url)
    sandbox.close()
    return tab


def offer_pyfund(tab: Any) -> None:
    tab.get_by_role("navigation", name="Course tools").get_by_role(
        "link", name="Credentials offered").click()
    offered = tab.locator("section", has=tab.get_by_role("heading", name="Offered here"))
    if offered.get_by_role("heading", name=re.compile("^" + PYFUND)).count():
        return  # an earlier run on this server offered it already
    tab.get_by_label("Title or code").fill("python")
    tab.get_by_role("button", name="Search published credentials").click()
    card = tab.locator("li.offer", has=tab.get_by_role("heading", name=re.compile(PYFUND)))
    expect(card).to_contain_text("To earn it")  # the rule, in words, before attaching
    card.get_by_text(re.compile(r"^Skills \(5\)")).click()
    expect(card).to_contain_text("Version control basics")
    # (a visually hidden part of a name is its own box: Chrome reads "course : Python")
    card.get_by_role("button", name=re.compile(
        r"^Offer in this course\W+" + re.escape(PYFUND))).click()
    expect(notice(tab)).to_contain_text(f"{PYFUND} is now offered")


def notice(tab: Any) -> Any:
    """The status message a change leaves at the top of the next page."""
    return tab.locator("div.notice[role=status]")


def open_grid(tab: Any) -> None:
    tab.get_by_role("navigation", name="Course tools").get_by_role(
        "link", name="Assessment grid").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Assessment grid")


def cell(tab: Any, learner: str, skill: str) -> Any:
    return tab.get_by_role("button", name=re.compile(
        "^" + re.escape(f"{learner} {skill} ")))


def test_instructor_marks_skills_and_learners_see_their_credentials(browser, live_server):
    # Learners on the rosters: Lena in both courses, Omar in Intro to Programming.
    for course, person in ((INTRO, "Lena Learner"), (CODETEACH, "Lena Learner"),
                           (INTRO, "Omar Osei")):
        launch(browser, live_server, course, person).context.close()

    # -- Terry, instructor of Intro to Programming (for credit) ---------------------------
    terry = launch(browser, live_server, INTRO, "Terry Teacher")
    expect(terry.get_by_role("heading", level=1)).to_contain_text("Skills & credentials")
    offer_pyfund(terry)
    open_grid(terry)
    terry.get_by_label("Credential").select_option(label=PYFUND)
    terry.get_by_role("button", name="Show").click()
    expect(terry.get_by_role("region", name=re.compile("^Skills of learners"))).to_be_visible()
    assert_accessible(terry, "the assessment grid")
    screenshot(terry, "grid-1280")

    # Keyboard: the arrow keys move between cells; Enter opens a cell.
    first = cell(terry, "Lena Learner", PYFUND_SKILLS[0])
    first.focus()
    terry.keyboard.press("ArrowRight")
    expect(cell(terry, "Lena Learner", PYFUND_SKILLS[1])).to_be_focused()
    terry.keyboard.press("ArrowLeft")
    expect(first).to_be_focused()
    terry.keyboard.press("Enter")
    expect(terry.get_by_role("heading", level=1)).to_contain_text(
        f"Lena Learner · {PYFUND_SKILLS[0]}")
    assert_accessible(terry, "a cell's record form and history")
    terry.set_viewport_size({"width": NARROW, "height": 800})
    assert_no_sideways_scroll(terry, "the cell page")
    screenshot(terry, "cell-320")
    terry.set_viewport_size({"width": 1280, "height": 900})
    # Nothing is preselected: saving an untouched form records nothing.
    expect(terry.get_by_label("Demonstrated (pass)")).not_to_be_checked()
    terry.get_by_label("Demonstrated (pass)").check()
    terry.get_by_label("Evidence link").fill("sandbox.test/assignments/1")
    terry.get_by_role("button", name="Save and back to the grid").click()
    expect(notice(terry)).to_contain_text(
        f"Recorded for Lena Learner: {PYFUND_SKILLS[0]} — demonstrated.")
    # Back on the same grid view (still this credential), the changed cell focused.
    expect(terry.get_by_label("Credential")).to_have_value(re.compile(r"\S"))
    expect(first).to_be_focused()
    expect(first).to_contain_text("by Terry Teacher")

    # The other skills: save and on to the next skill, cell after cell.
    cell(terry, "Lena Learner", PYFUND_SKILLS[1]).click()
    for index, skill in enumerate(PYFUND_SKILLS[1:], 1):
        expect(terry.get_by_role("heading", level=1)).to_contain_text(f"Lena Learner · {skill}")
        terry.get_by_label("Demonstrated (pass)").check()
        if index < len(PYFUND_SKILLS) - 1:
            terry.get_by_role("button", name=re.compile("^Save and next skill")).click()
        else:
            terry.get_by_role("button", name="Save and back to the grid").click()
        expect(notice(terry)).to_contain_text(f"{skill} — demonstrated.")
    expect(notice(terry)).to_contain_text(f"Lena Learner earned {PYFUND}.")

    # Bulk: two skills for Omar from the grid's checkboxes.
    for skill in PYFUND_SKILLS[:2]:
        open_grid(terry)
        terry.get_by_label("Select Omar Osei").check()
        bulk = terry.locator("form#bulk")
        bulk.get_by_label("Skill", exact=True).select_option(
            label=f"{skill} ({PYFUND_CODES[skill]})")
        bulk.get_by_label("Demonstrated (pass)").check()
        bulk.get_by_role("button", name="Record for the selected learners").click()
        expect(notice(terry)).to_contain_text(
            f"Recorded {skill} as demonstrated for 1 learner.")
    done = cell(terry, "Lena Learner", PYFUND_SKILLS[-1])
    expect(done).to_contain_text("by Terry Teacher")
    assert_accessible(terry, "the grid with records")
    screenshot(terry, "grid-1280-records")

    terry.set_viewport_size({"width": NARROW, "height": 800})
    assert_no_sideways_scroll(terry, "the grid")
    region = terry.get_by_role("region", name=re.compile("^Skills of learners"))
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls
    learner_header = terry.get_by_role("rowheader", name=re.compile("Lena Learner"))
    box = learner_header.bounding_box()
    assert box is not None and box["x"] >= 0 and box["width"] >= 90
    region.evaluate("el => { el.scrollLeft = 400; }")
    box_after = learner_header.bounding_box()
    assert box_after is not None and abs(box_after["x"] - box["x"]) < 2  # stays put
    assert_accessible(terry, "the grid at 320 px")
    screenshot(terry, "grid-320")
    region.evaluate("el => { el.scrollLeft = 0; }")
    if SCREENSHOT_DIR:
        region.screenshot(path=f"{SCREENSHOT_DIR}/mc-grid-320-table.png")
    terry.set_viewport_size({"width": 1280, "height": 900})
    terry.context.close()

    # -- Terry offers it in Coding for Teachers (continuing ed) too ----------------------
    terry_ce = launch(browser, live_server, CODETEACH, "Terry Teacher")
    offer_pyfund(terry_ce)
    assert_accessible(terry_ce, "the credentials offered")
    screenshot(terry_ce, "offerings-1280")
    terry_ce.get_by_role("navigation", name="Course tools").get_by_role(
        "link", name="Awards").click()
    # (other browser tests of the session may have given Lena more credentials)
    row = terry_ce.get_by_role("row", name=re.compile("Lena Learner")).filter(has_text=PYFUND)
    expect(row).to_contain_text(PYFUND)
    expect(row).to_contain_text("Intro to Programming")  # earned there, shown here
    assert_accessible(terry_ce, "the awards")
    screenshot(terry_ce, "awards-1280")
    terry_ce.context.close()

    # -- Lena sees it earned in both courses ---------------------------------------------
    for course in (INTRO, CODETEACH):
        lena = launch(browser, live_server, course, "Lena Learner")
        earned = lena.get_by_role("list", name="Earned")
        expect(earned).to_contain_text(PYFUND)
        expect(earned).to_contain_text("Intro to Programming")
        assert_accessible(lena, f"Lena's skills in {course}")
        screenshot(lena, f"learner-{course.split()[0].lower()}")
        lena.context.close()

    # -- Omar sees his progress ----------------------------------------------------------
    omar = launch(browser, live_server, INTRO, "Omar Osei")
    progress = omar.get_by_role("list", name="In progress")
    expect(progress).to_contain_text(PYFUND)
    bar = progress.locator("progress").first
    assert bar.get_attribute("max") == "5"
    assert int(bar.get_attribute("value") or 0) >= 2
    expect(omar.get_by_role("list", name="Earned")).to_have_count(0)
    assert_accessible(omar, "Omar's skills")
    omar.context.close()
