"""A 40-step pathway flowchart in a real browser (Chromium), on a page built with the
``_flowchart.html`` macro and the site's CSS: axe-core finds no serious or critical
violation; every step that links somewhere is reached with the Tab key and is announced
with its label and status; and printing puts the whole picture on one Letter page."""

from __future__ import annotations

import re

import pytest

from lti_tool.domain.flowchart import FlowGraph, FlowGroup, FlowNode
from lti_tool.web.common.flowchart import flow_strings, flowchart_markup, page_lang
from tests.e2e.conftest import screenshot
from tests.e2e.test_catalog_browser import assert_accessible

pytestmark = pytest.mark.e2e

STATUSES = ("earned", "in_progress", "not_started")


def forty(strings, lang) -> FlowGraph:
    steps = tuple(FlowNode(
        f"s{i}", (f"Communication interprofessionnelle en soins de santé, module {i}"
                  if i % 4 == 0 else f"Applied Python, part {i}"),
        f"{20 + i} h", "credential", STATUSES[i % 3], f"/c/demo/S{i}",
        "fr" if i % 4 == 0 else "en") for i in range(40))
    groups = tuple(FlowGroup(f"g{k}", f"Stage {k + 1}: all of",
                             tuple(f"s{i}" for i in range(5 * k, 5 * k + 5)))
                   for k in range(8))
    edges = tuple((f"g{k}", f"g{k + 1}", "precedes") for k in range(7))
    goal = FlowNode("goal", "Applied Python — program credential", "Stacked", "target",
                    "not_started", None, "en")
    return FlowGraph("A pathway of forty steps", (*steps, goal), groups,
                     (*edges, ("g7", "goal", "leads_to")), lang=lang, strings=strings)


def _page_html(app) -> str:
    with app.test_request_context("/?lang=en"):
        graph = forty(flow_strings(), page_lang())
        svg, text = flowchart_markup(graph, id_prefix="p1")
        body = app.jinja_env.from_string(
            '{% from "_flowchart.html" import flowchart %}'
            '{{ flowchart(svg, text, "The forty-step pathway", id="p1", svg_url="/x.svg", '
            'png_url="/x.png", heading_level=2) }}').render(svg=svg, text=text)
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Flowchart'
            '</title><meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/static/css/app.css"></head><body><main>'
            f'<h1>Pathway</h1>{body}</main></body></html>')


def test_forty_steps_accessible_keyboard_and_one_printed_page(browser, live_server, page):
    page.goto("/sandbox")  # same origin: the stylesheets load
    page.set_content(_page_html(live_server.app))
    page.wait_for_load_state("load")
    assert page.locator("svg.flowchart").count() == 1
    assert_accessible(page, "a 40-step flowchart page")
    screenshot(page, "flowchart-40-1024")

    # Keyboard: Tab reaches the 40 linked steps in the picture, each named with its status.
    names = []
    page.locator("body").focus()
    for _ in range(45):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
        if name:
            names.append(name)
    assert len(names) >= 40
    assert re.match(r"^Applied Python, part 1, 21 h, Status: In progress$", names[1])
    assert names[0].endswith("Status: Earned")

    # Print: the picture takes one page, however long the chart is on screen (the text
    # version follows it on the next pages).
    page.emulate_media(media="print")
    box = page.locator("svg.flowchart").bounding_box()
    assert box is not None and box["height"] <= 24 / 2.54 * 96 + 1
    page.evaluate("document.querySelector('.flowchart-text').remove()")
    pdf = page.pdf(format="Letter", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the picture printed on {pages} pages"
