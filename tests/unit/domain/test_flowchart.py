"""Pathway flowcharts: the SVG is well-formed, accessible and laid out without overlaps;
hostile issuer text stays text; statuses are told in words and shapes; the text
alternative says what the picture says; the PNG is a real raster of it."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup
from PIL import Image

from lti_tool.domain.flowchart import (
    FlowGraph,
    FlowGroup,
    FlowNode,
    FlowStrings,
    _layout,
    render_png,
    render_svg,
    safe_href,
    text_alternative_html,
    text_width,
    validate,
    wrap_text,
)

SVG = "{http://www.w3.org/2000/svg}"


def node(id_, label, status=None, *, kind="credential", href=None, lang="en", sub="10 h"):
    return FlowNode(id_, label, sub, kind, status, href, lang)


def care() -> FlowGraph:
    nodes = (
        node("a", "Personal Care Foundations", "earned"),
        node("b", "Soins palliatifs", "in_progress", lang="fr"),
        node("c", "Dementia Care", "not_started"),
        node("d", "Infection Control", "not_started"),
        node("t", "Personal Support Worker certificate", kind="external", sub="4 courses"),
    )
    groups = (FlowGroup("core", "All of", ("a",)),
              FlowGroup("choice", "Choose 2 of 3", ("b", "c", "d")))
    edges = (("a", "b", "precedes"), ("b", "t", "leads_to"), ("c", "t", "leads_to"),
             ("d", "t", "leads_to"))
    return FlowGraph("Care pathway", nodes, groups, edges)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def boxes(graph: FlowGraph):
    layout = _layout(graph)
    return layout, layout.node_pos


def overlaps(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def test_svg_is_an_image_named_by_its_title_and_description():
    root = parse(render_svg(care()))
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Care pathway"
    assert root.get("aria-labelledby") == title.get("id") == "flow-title"
    assert root.get("aria-describedby") == desc.get("id") == "flow-desc"
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert width == float(root.get("width")) and height == float(root.get("height"))


def test_groups_are_clusters_with_their_rule_and_members_inside():
    graph = care()
    layout, pos = boxes(graph)
    choice = layout.group_pos["choice"]
    for member in ("b", "c", "d"):
        box = pos[member]
        assert choice.x < box.x and box.x + box.w < choice.x + choice.w
        assert choice.y < box.y and box.y + box.h < choice.y + choice.h
    assert not overlaps(layout.group_pos["core"], choice)
    svg = render_svg(graph)
    assert "Choose 2 of 3" in svg and svg.count('class="fc-group"') == 2


def test_edges_have_arrowheads_and_a_shared_edge_is_drawn_once_from_the_group():
    graph = care()
    root = parse(render_svg(graph))
    paths = [p for p in root.iter(f"{SVG}path") if "fc-edge" in (p.get("class") or "")]
    # a→b, and b, c, d → t merged into choice → t
    assert len(paths) == 2
    assert all(p.get("marker-end", "").startswith("url(#flow-arrow-") for p in paths)
    markers = {m.get("id") for m in root.iter(f"{SVG}marker")}
    assert {"flow-arrow-precedes", "flow-arrow-leads_to"} <= markers
    assert ("choice", "t", "leads_to") in _layout(graph).normalized_edges


def test_status_is_told_in_words_and_by_the_icon_shape():
    svg = render_svg(care())
    root = parse(svg)
    nodes = [g for g in root.iter() if (g.get("class") or "").startswith("fc-node")]
    by_label = {}
    for g in nodes:
        texts = " ".join(t for t in g.itertext())
        by_label[g.find(f"{SVG}title").text] = (texts, g)
    earned = next(v for k, v in by_label.items() if k.startswith("Personal Care"))
    progress = next(v for k, v in by_label.items() if k.startswith("Soins"))
    waiting = next(v for k, v in by_label.items() if k.startswith("Dementia"))
    assert "Earned" in earned[0] and "In progress" in progress[0]
    assert "Not started" in waiting[0]

    def shapes(g):
        return sorted(child.tag.replace(SVG, "") for child in g
                      if child.tag in (f"{SVG}circle", f"{SVG}path"))

    # earned: disc + check mark; in progress: ring + half disc; not started: ring only
    assert shapes(earned[1]) == ["circle", "path"]
    assert shapes(progress[1]) == ["circle", "path"]
    assert shapes(waiting[1]) == ["circle"]
    check = next(earned[1].iter(f"{SVG}path")).get("d")
    half = next(progress[1].iter(f"{SVG}path")).get("d")
    assert "A" not in check and "A" in half  # a tick versus an arc
    # and the key explains the three shapes in words
    assert svg.count(">Earned<") == 2  # the node and the key


def test_no_status_no_status_words():
    graph = FlowGraph("Plain", (node("a", "A"), node("b", "B")), (), (("a", "b", "precedes"),))
    svg = render_svg(graph)
    assert "Earned" not in svg and "Not started" not in svg
    assert "Must be completed before" in svg


def test_hostile_labels_stay_text():
    evil = '</text><script>alert(1)</script><a href="javascript:x()">&amp;"\'\x00\x1b\u202e'
    graph = FlowGraph(
        f"Title {evil}",
        (node("a", evil, "earned", href="javascript:alert(1)", sub=evil),
         node("b", "]]><!-- x -->", href="//evil.example/x"),
         node("c", "Safe", href="https://example.org/c?a=1&b=2")),
        (FlowGroup("g", evil, ("a", "b")),),
        (("g", "c", "leads_to"),),
        description=evil)
    svg = render_svg(graph)
    root = parse(svg)  # well-formed XML although labels held control characters
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    links = [a for a in root.iter(f"{SVG}a")]
    assert [a.get("href") for a in links] == ["https://example.org/c?a=1&b=2"]
    assert "javascript" not in "".join(a.get("href") for a in links)
    assert "\u202e" not in svg and "\x00" not in svg and "\x1b" not in svg
    assert "&lt;script&gt;" in svg
    text = str(text_alternative_html(graph))
    assert "<script" not in text and "&lt;script&gt;" in text
    assert 'href="javascript' not in text and "//evil.example" not in text
    assert 'href="https://example.org/c?a=1&amp;b=2"' in text
    assert render_png(graph).startswith(b"\x89PNG")


@pytest.mark.parametrize(("href", "expected"), [
    ("/c/x/credentials/A", "/c/x/credentials/A"),
    ("https://college.example/p", "https://college.example/p"),
    ("HTTP://college.example/p", "HTTP://college.example/p"),
    ("javascript:alert(1)", None),
    (" javascript:alert(1)", None),
    ("//evil.example/", None),
    ("data:text/html,x", None),
    ("/a b", None),
    ("/a\nb", None),
    ("", None),
    (None, None),
])
def test_safe_href(href, expected):
    assert safe_href(href) == expected


def test_links_make_the_picture_a_group_of_named_links():
    graph = FlowGraph("Linked", (node("a", "Alpha", "earned", href="/c/x/a"),
                                 node("b", "Beta", "not_started")), (),
                      (("a", "b", "precedes"),))
    root = parse(render_svg(graph, id_prefix="p2"))
    assert root.get("role") == "group"
    assert root.get("aria-labelledby") == "p2-title"
    link = next(root.iter(f"{SVG}a"))
    assert link.get("href") == "/c/x/a"
    assert link.get("aria-label") == "Alpha, 10 h, Status: Earned"
    beta = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "") == "fc-node"]
    assert beta and all(g.get("aria-hidden") == "true" for g in beta)


def test_id_prefix_keeps_two_charts_apart_and_is_checked():
    first, second = render_svg(care(), id_prefix="one"), render_svg(care(), id_prefix="two")
    ids_one = set(re.findall(r'id="([^"]+)"', first))
    ids_two = set(re.findall(r'id="([^"]+)"', second))
    assert ids_one and not ids_one & ids_two
    assert all(i.startswith("one-") for i in ids_one)
    with pytest.raises(ValueError):
        render_svg(care(), id_prefix='x" onload="alert(1)')


def forty() -> FlowGraph:
    steps = tuple(
        node(f"s{i}", (f"Communication interprofessionnelle en santé, module {i}"
                       if i % 4 == 0 else f"Python step {i}"),
             ("earned", "in_progress", "not_started")[i % 3], href=f"/c/x/s{i}",
             lang="fr" if i % 4 == 0 else "en")
        for i in range(40))
    groups = tuple(FlowGroup(f"g{k}", f"Stage {k + 1}: all of",
                             tuple(f"s{i}" for i in range(5 * k, 5 * k + 5)))
                   for k in range(8))
    edges = tuple((f"g{k}", f"g{k + 1}", "precedes") for k in range(7))
    target = node("goal", "Applied Python", "not_started", kind="target")
    return FlowGraph("Forty", (*steps, target), groups, (*edges, ("g7", "goal", "leads_to")))


def test_forty_steps_no_overlap_all_inside_and_read_in_order():
    graph = forty()
    layout, pos = boxes(graph)
    items = list(pos.values())
    for i, a in enumerate(items):
        assert a.x >= 0 and a.x + a.w <= layout.width
        assert a.y >= 0 and a.y + a.h <= layout.height
        for b in items[i + 1:]:
            assert not overlaps(a, b)
    groups = list(layout.group_pos.values())
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            assert not overlaps(a, b)
    # Each stage sits below the one it precedes; the goal is last.
    tops = [layout.group_pos[f"g{k}"].y for k in range(8)]
    assert tops == sorted(tops)
    assert layout.reading_order == [*(f"g{k}" for k in range(8)), "goal"]
    # Printable: no wider than four columns.
    assert layout.width <= 1100
    text = str(text_alternative_html(graph))
    positions = [text.index(f">Python step {i}<") for i in range(40) if i % 4]
    assert positions == sorted(positions)
    svg = render_svg(graph)
    assert svg.count("<a ") == 40
    assert len(parse(svg).findall(f".//{SVG}a")) == 40


def test_french_labels_wrap_within_the_box_and_carry_their_language():
    long = ("Intervention auprès des personnes ayant des troubles neurocognitifs "
            "et accompagnement interprofessionnel des proches aidants")
    graph = FlowGraph("Parcours", (node("a", long, "earned", lang="fr"),
                                   node("b", "Premiers soins", lang="fr")),
                      (), (("a", "b", "precedes"),), lang="en")
    layout = _layout(graph)
    box = layout.boxes["a"]
    assert len(box.label_lines) > 2
    assert all(text_width(line, 14, bold=True) <= 212 for line in box.label_lines)
    assert " ".join(box.label_lines).replace("…", "") in long
    svg = render_svg(graph)
    assert svg.count('lang="fr"') >= 2
    text = str(text_alternative_html(graph))
    assert f'<strong lang="fr">{long}</strong>' in text  # the full label, never cut


def test_french_words_come_from_the_strings():
    strings = FlowStrings(earned="Obtenu", in_progress="En cours", not_started="Pas commencé",
                          status="État : {status}", comes_after="Après : {items}",
                          leads_to="Mène à : {items}", target="Objectif")
    graph = FlowGraph("Parcours", (node("a", "Soins", "earned", lang="fr"),
                                   node("t", "Certificat", "not_started", kind="target",
                                        lang="fr")),
                      (), (("a", "t", "leads_to"),), lang="fr", strings=strings)
    svg = render_svg(graph)
    assert ">Obtenu<" in svg and ">Objectif<" in svg and 'lang="fr"' in svg
    assert "Earned" not in svg
    text = str(text_alternative_html(graph))
    assert "État : Obtenu" in text and "Mène à : <span>Certificat</span>" in text


def test_text_alternative_is_a_nested_ordered_list_saying_the_same():
    text = text_alternative_html(care())
    assert isinstance(text, Markup)
    html = str(text)
    assert html.startswith('<ol class="flow-text">')
    root = ET.fromstring(html)
    top = root.findall("li")
    assert len(top) == 3  # two groups and the external program, top to bottom
    assert "".join(top[0].itertext()).startswith("All of")
    choice = top[1]
    assert "".join(choice.find("span").itertext()) == "Choose 2 of 3"
    assert "Leads to: Personal Support Worker certificate" in "".join(choice.itertext())
    members = choice.find("ol").findall("li")
    assert len(members) == 3
    soins = next(m for m in members if "Soins" in "".join(m.itertext()))
    words = "".join(soins.itertext())
    assert "Status: In progress" in words and "Comes after: Personal Care Foundations" in words
    assert soins.find("strong").get("lang") == "fr"
    assert "External program:" in "".join(top[2].itertext())


def test_png_is_the_picture_rasterised():
    graph = care()
    layout = _layout(graph)
    png = render_png(graph)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (round(layout.width * 2), round(layout.height * 2))
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours and len(colours) > 50  # text and shapes were drawn, not a blank page


@pytest.mark.parametrize(("graph", "message"), [
    (FlowGraph("x", (node("a", "A"), node("a", "B")), (), ()), "used twice"),
    (FlowGraph("x", (node("a", "A"),), (), (("a", "zz", "precedes"),)), "unknown end"),
    (FlowGraph("x", (node("a", "A"), node("b", "B")), (), (("a", "b", "requires"),)),
     "unknown kind"),
    (FlowGraph("x", (node("a", "A"),), (FlowGroup("g", "G", ("a",)),
                                        FlowGroup("h", "H", ("a",))), ()), "two groups"),
    (FlowGraph("x", (node("a", "A", "done"),), (), ()), "unknown status"),
    (FlowGraph("x", (node("a", "A", kind="box"),), (), ()), "unknown kind"),
    (FlowGraph("x", (node("a", "A"),), (), (("a", "a", "precedes"),)), "loop"),
])
def test_undrawable_graphs_are_refused(graph, message):
    with pytest.raises(ValueError, match=message):
        validate(graph)
    with pytest.raises(ValueError, match=message):
        render_svg(graph)


def test_a_cycle_is_still_drawn():
    graph = FlowGraph("Cycle", (node("a", "A"), node("b", "B"), node("c", "C")), (),
                      (("a", "b", "precedes"), ("b", "c", "precedes"),
                       ("c", "a", "precedes")))
    assert len([p for p in parse(render_svg(graph)).iter(f"{SVG}path")
                if "fc-edge" in (p.get("class") or "")]) == 3


def test_wrap_text_cuts_long_words_and_ends_with_an_ellipsis():
    lines = wrap_text("x" * 200, 100, 12)
    assert len(lines) > 1 and all(text_width(line, 12) <= 100 for line in lines)
    assert "".join(lines) == "x" * 200
    cut = wrap_text("word " * 100, 100, 12, max_lines=3)
    assert len(cut) == 3 and cut[-1].endswith("…")
    assert wrap_text("", 100, 12) == []


def test_empty_group_and_lonely_nodes():
    graph = FlowGraph("Sparse", (node("a", "A"), node("b", "B")),
                      (FlowGroup("empty", "Nothing yet", ()),), ())
    root = parse(render_svg(graph))
    assert root.get("role") == "img"
    assert "Nothing yet" in "".join(root.itertext())


def test_a_graph_built_with_lists_is_drawn_too():
    graph = FlowGraph("Lists", [node("a", "A"), node("b", "B")],  # type: ignore[arg-type]
                      [FlowGroup("g", "All of", ["a", "b"])],  # type: ignore[list-item]
                      [])  # type: ignore[arg-type]
    assert "All of" in render_svg(graph)
    assert "<ol" in str(text_alternative_html(graph))
