"""Flowcharts of pathways: a plain graph (nodes, labelled groups, ordered edges) drawn as
an accessible SVG picture, a PNG of the same picture, and a text alternative that says
the same as the picture (a nested ordered list).

Layout is automatic: a Sugiyama layered layout (grandalf, the algorithm Graphviz's *dot*
uses) places the items; groups are laid out inside themselves first and then placed as
one block (a compound layout), so a group is drawn as one labelled cluster. Components
without edges are packed in rows so that a long "all of" group stays printable on one page.

Accessibility (WCAG 2.1 AA):
- the picture is ``role="img"`` named by its ``<title>`` and described by its ``<desc>``
  (``aria-labelledby``). When a node links somewhere, the picture is ``role="group"``
  instead, because an image's children are presentational (its links would be hidden
  from screen readers): each link is then named (label, details, status) and the
  drawing itself is hidden from assistive technology;
- a learner's status is told in text and by an icon shape (filled check, half-filled
  circle, empty circle) and the box's fill, never by colour alone; a key explains them;
- text is dark on light fills (contrast above 4.5:1), borders above 3:1;
- labels are issuer-written: every text is escaped, control characters are dropped,
  links other than http(s) or site-relative are not made links.

The words of the picture (statuses, "Leads to", the key…) come from ``FlowStrings``:
the web layer passes translated ones (English defaults here keep the domain free of
Flask). Text is wrapped with DejaVu Sans metrics (the widest of the fonts named), so
it fits whichever font the viewer has; a label longer than five lines ends with "…"
(the full text stays in the node's name and in the text alternative).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

NODE_KINDS = ("credential", "target", "external")
STATUSES = ("earned", "in_progress", "not_started")
EDGE_KINDS = ("precedes", "leads_to")

_ID_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")
# XML 1.0 refuses these characters even escaped; bidi overrides could reorder a label.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


@dataclass(frozen=True)
class FlowStrings:
    """The words of a flowchart; the web layer passes translated ones."""

    earned: str = "Earned"
    in_progress: str = "In progress"
    not_started: str = "Not started"
    status: str = "Status: {status}"
    target: str = "Goal"
    external: str = "External program"
    comes_after: str = "Comes after: {items}"
    comes_before: str = "Must be completed before: {items}"
    leads_to: str = "Leads to: {items}"
    legend_precedes: str = "Must be completed before"
    legend_leads_to: str = "Leads to"
    description: str = ("A flowchart of the pathway, read from top to bottom. "
                        "The list after it says the same in words.")
    separator: str = "; "

    def status_text(self, status: str) -> str:
        return {"earned": self.earned, "in_progress": self.in_progress,
                "not_started": self.not_started}[status]


@dataclass(frozen=True)
class FlowNode:
    id: str
    label: str
    sublabel: str
    kind: str  # "credential" | "target" | "external"
    status: str | None  # "earned" | "in_progress" | "not_started" | None (no learner)
    href: str | None
    lang: str  # "en" / "fr": the language of label and sublabel


@dataclass(frozen=True)
class FlowGroup:
    id: str
    label: str  # e.g. "Choose 2 of 3"
    node_ids: tuple[str, ...]
    lang: str | None = None  # None: the graph's language


@dataclass(frozen=True)
class FlowGraph:
    title: str
    nodes: tuple[FlowNode, ...]
    groups: tuple[FlowGroup, ...]
    # (from_id, to_id, kind "precedes" | "leads_to"); an end may be a node or a group id
    edges: tuple[tuple[str, str, str], ...]
    lang: str = "en"  # the language of the page (and of ``strings``)
    description: str = ""  # "" → strings.description
    strings: FlowStrings = field(default_factory=FlowStrings)


# --- text measurement and wrapping ------------------------------------------------------

# Advance widths of DejaVu Sans (regular, bold) for U+0020..U+007E, in 1/1000 em.
_W_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684,
    686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695,
    635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550,
    635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392,
    634, 592, 818, 592, 592, 525, 636, 337, 636, 838)
_W_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774,
    762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770,
    720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593,
    716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478,
    712, 652, 924, 645, 652, 582, 712, 365, 712, 838)


@functools.lru_cache(maxsize=4096)
def _char_width(ch: str, bold: bool) -> int:
    table = _W_BOLD if bold else _W_REGULAR
    code = ord(ch)
    if 32 <= code <= 126:
        return table[code - 32]
    base = unicodedata.normalize("NFD", ch)[:1]  # é → e, Ç → C
    if base and base != ch and 32 <= ord(base) <= 126:
        return table[ord(base) - 32]
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    if unicodedata.category(ch).startswith("M"):
        return 0
    return 1000 if bold else 900  # symbols, emoji, other scripts: generous


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width of ``text`` in user units at ``size`` px (DejaVu Sans metrics)."""
    return sum(_char_width(ch, bold) for ch in text) * size / 1000.0


def clean_text(text: str) -> str:
    """Issuer-written text made safe to draw: no control or bidi-override characters,
    whitespace runs collapsed."""
    return " ".join(_UNSAFE_CHARS.sub("", text).split())


def wrap_text(text: str, width: float, size: float, *, bold: bool = False,
              max_lines: int = 0) -> list[str]:
    """Greedy word wrap to ``width``; words longer than a line are cut between
    characters. With ``max_lines``, the last kept line ends with "…"."""
    lines: list[str] = []
    current = ""
    for word in clean_text(text).split(" "):
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, bold=bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while text_width(word, size, bold=bold) > width:
            cut = 1
            while cut < len(word) and text_width(word[:cut + 1], size, bold=bold) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", size, bold=bold) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


# --- validation --------------------------------------------------------------------------

def validate(graph: FlowGraph) -> None:
    """Raise ``ValueError`` when the graph is not drawable: duplicate or empty ids, an
    unknown kind or status, a node in two groups, an edge to an unknown id."""
    ids: set[str] = set()
    for node in graph.nodes:
        if not node.id or node.id in ids:
            raise ValueError(f"node id {node.id!r} is empty or used twice")
        if node.kind not in NODE_KINDS:
            raise ValueError(f"node {node.id!r}: unknown kind {node.kind!r}")
        if node.status is not None and node.status not in STATUSES:
            raise ValueError(f"node {node.id!r}: unknown status {node.status!r}")
        ids.add(node.id)
    node_ids = set(ids)
    grouped: set[str] = set()
    for group in graph.groups:
        if not group.id or group.id in ids:
            raise ValueError(f"group id {group.id!r} is empty or used twice")
        ids.add(group.id)
        for member in group.node_ids:
            if member not in node_ids:
                raise ValueError(f"group {group.id!r}: unknown node {member!r}")
            if member in grouped:
                raise ValueError(f"node {member!r} is in two groups")
            grouped.add(member)
    for source, target, kind in graph.edges:
        if source not in ids or target not in ids:
            raise ValueError(f"edge {source!r} → {target!r}: unknown end")
        if kind not in EDGE_KINDS:
            raise ValueError(f"edge {source!r} → {target!r}: unknown kind {kind!r}")
        if source == target:
            raise ValueError(f"edge {source!r} → {target!r}: a loop")


def safe_href(href: str | None) -> str | None:
    """Only http(s) URLs and site-relative paths become links (never ``javascript:``)."""
    if not href:
        return None
    value = clean_text(href)
    if value != href.strip() or any(ch.isspace() for ch in value):
        return None
    if value.startswith("/") and not value.startswith("//"):
        return value
    if re.match(r"^https?://[^/\s]", value, flags=re.IGNORECASE):
        return value
    return None


# --- geometry -----------------------------------------------------------------------------

NODE_W = 232.0
PAD = 10.0
LABEL_SIZE = 14.0
LABEL_LH = 18.0
SMALL_SIZE = 12.0
SMALL_LH = 16.0
STATUS_H = 22.0
MAX_LABEL_LINES = 5
MAX_SUB_LINES = 3
GAP_X = 24.0
GAP_Y = 44.0
GROUP_PAD = 14.0
MAX_WIDTH = 1040.0  # 4 node columns: stays legible when printed on one page
MARGIN = 16.0
TITLE_SIZE = 18.0
TITLE_LH = 24.0

_TEXT_W = NODE_W - 2 * PAD


@dataclass(frozen=True)
class _NodeBox:
    node: FlowNode
    kind_line: str
    label_lines: tuple[str, ...]
    sub_lines: tuple[str, ...]
    status_text: str
    w: float
    h: float


@dataclass
class _Placed:
    x: float
    y: float
    w: float
    h: float

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class _Layout:
    width: float
    height: float
    title_lines: list[str]
    boxes: dict[str, _NodeBox]
    node_pos: dict[str, _Placed]
    group_pos: dict[str, _Placed]
    group_lines: dict[str, list[str]]
    edges: list[tuple[str, str, str, list[tuple[float, float]]]]
    reading_order: list[str]  # top-level items (group ids and ungrouped node ids)
    members_order: dict[str, list[str]]
    legend: list[tuple[str, str]]  # (key, text)
    legend_y: float
    normalized_edges: list[tuple[str, str, str]]


def _measure_node(node: FlowNode, strings: FlowStrings) -> _NodeBox:
    kind_line = {"target": strings.target, "external": strings.external}.get(node.kind, "")
    label_lines = tuple(wrap_text(node.label, _TEXT_W, LABEL_SIZE, bold=True,
                                  max_lines=MAX_LABEL_LINES)) or ("",)
    sub_lines = tuple(wrap_text(node.sublabel, _TEXT_W, SMALL_SIZE, max_lines=MAX_SUB_LINES))
    status_text = strings.status_text(node.status) if node.status else ""
    h = PAD + len(label_lines) * LABEL_LH + len(sub_lines) * SMALL_LH + PAD
    if kind_line:
        h += SMALL_LH
    if status_text:
        h += STATUS_H + 2
    return _NodeBox(node, kind_line, label_lines, sub_lines, status_text, NODE_W, h)


class _View:
    """What grandalf needs of a vertex or edge: a size, a position, a path."""

    def __init__(self, w: float = 0.0, h: float = 0.0) -> None:
        self.w = w
        self.h = h
        self.xy: tuple[float, float] = (0.0, 0.0)
        self.path: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.path = list(points)


def _arrange(items: Sequence[tuple[str, float, float]], links: Iterable[tuple[str, str]],
             max_width: float
             ) -> tuple[dict[str, _Placed], dict[tuple[str, str], list[tuple[float, float]]],
                        float, float]:
    """Place items (key, w, h): each connected part by a Sugiyama layout, parts without
    edges packed in rows no wider than ``max_width``. Returns top-left positions, the
    bend points of each link (between its ends), and the overall size."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    vertices: dict[str, Any] = {}
    for key, w, h in items:
        vertex = Vertex(key)
        vertex.view = _View(w, h)
        vertices[key] = vertex
    edges = []
    seen: set[tuple[str, str]] = set()
    for a, b in links:
        if a == b or (a, b) in seen or (b, a) in seen:
            continue
        seen.add((a, b))
        edge = Edge(vertices[a], vertices[b])
        edge.view = _View()
        edges.append(edge)
    graph = Graph(list(vertices.values()), edges, directed=True)

    order = {key: i for i, (key, _, _) in enumerate(items)}
    blocks: list[tuple[float, float, dict[str, tuple[float, float]],
                       dict[tuple[str, str], list[tuple[float, float]]], int]] = []
    for component in graph.C:
        keys = [v.data for v in component.sV]
        first = min(order[k] for k in keys)
        if len(keys) == 1:
            key = keys[0]
            view = vertices[key].view
            blocks.append((view.w, view.h, {key: (0.0, 0.0)}, {}, first))
            continue
        layout = SugiyamaLayout(component)
        layout.xspace = GAP_X
        layout.yspace = GAP_Y
        layout.init_all()
        layout.draw()
        min_x = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        min_y = min(v.view.xy[1] - v.view.h / 2 for v in component.sV)
        max_x = max(v.view.xy[0] + v.view.w / 2 for v in component.sV)
        max_y = max(v.view.xy[1] + v.view.h / 2 for v in component.sV)
        places = {v.data: (v.view.xy[0] - v.view.w / 2 - min_x,
                           v.view.xy[1] - v.view.h / 2 - min_y) for v in component.sV}
        bends = {(e.v[0].data, e.v[1].data): [(x - min_x, y - min_y)
                                              for x, y in e.view.path[1:-1]]
                 for e in component.sE}
        blocks.append((max_x - min_x, max_y - min_y, places, bends, first))
    blocks.sort(key=lambda block: block[4])

    # Shelf packing: blocks left to right, a new row when the next does not fit.
    rows: list[list[int]] = [[]]
    row_width = 0.0
    for index, block in enumerate(blocks):
        width = block[0]
        if rows[-1] and row_width + GAP_X + width > max_width:
            rows.append([])
            row_width = 0.0
        row_width += (GAP_X if rows[-1] else 0.0) + width
        rows[-1].append(index)
    if len(rows) > 1:
        # Balance the rows (5 boxes: 3 + 2, not 4 + 1) when the even split still fits.
        per_row = -(-len(blocks) // len(rows))
        even = [list(range(i, min(i + per_row, len(blocks))))
                for i in range(0, len(blocks), per_row)]
        if len(even) == len(rows) and all(
                sum(blocks[i][0] for i in row) + GAP_X * (len(row) - 1) <= max_width
                for row in even):
            rows = even
    row_widths = [sum(blocks[i][0] for i in row) + GAP_X * (len(row) - 1) for row in rows]
    total_w = max(row_widths)
    positions: dict[str, _Placed] = {}
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    y = 0.0
    for row, width in zip(rows, row_widths, strict=True):
        x = (total_w - width) / 2
        row_h = max(blocks[i][1] for i in row)
        for i in row:
            block_w, _, places, bends, _ = blocks[i]
            for key, (px, py) in places.items():
                view = vertices[key].view
                positions[key] = _Placed(x + px, y + py, view.w, view.h)
            for pair, points in bends.items():
                routes[pair] = [(x + px, y + py) for px, py in points]
            x += block_w + GAP_X
        y += row_h + GAP_Y
    total_h = y - GAP_Y if blocks else 0.0
    return positions, routes, total_w, total_h


def _normalize_edges(graph: FlowGraph) -> list[tuple[str, str, str]]:
    """Edges as drawn: when every member of a group has the same edge to (or from) the
    same outside end, one edge from (or to) the group's cluster stands for them all."""
    group_of = {m: g.id for g in graph.groups for m in g.node_ids}
    members = {g.id: set(g.node_ids) for g in graph.groups}
    edges = list(dict.fromkeys(graph.edges))
    result: list[tuple[str, str, str]] = []
    merged: set[tuple[str, str, str]] = set()
    for edge in edges:
        if edge in merged:
            continue
        source, target, kind = edge
        group = group_of.get(source)
        if group and group_of.get(target) != group and len(members[group]) > 1:
            same = {(m, target, kind) for m in members[group]}
            if same <= set(edges):
                merged |= same
                result.append((group, target, kind))
                continue
        group = group_of.get(target)
        if group and group_of.get(source) != group and len(members[group]) > 1:
            same = {(source, m, kind) for m in members[group]}
            if same <= set(edges):
                merged |= same
                result.append((source, group, kind))
                continue
        result.append(edge)
    return list(dict.fromkeys(result))


def _layout(graph: FlowGraph) -> _Layout:
    """The layout, cached per graph (a page draws the picture and the list from one
    layout); a graph built with lists instead of tuples is not hashable: laid out anew."""
    try:
        return _cached_layout(graph)
    except TypeError:
        return _compute_layout(graph)


def clear_layout_cache() -> None:
    """Forget the cached layouts (benchmarks measure a layout each time)."""
    _cached_layout.cache_clear()


@functools.lru_cache(maxsize=64)
def _cached_layout(graph: FlowGraph) -> _Layout:
    return _compute_layout(graph)


def _compute_layout(graph: FlowGraph) -> _Layout:
    validate(graph)
    strings = graph.strings
    boxes = {n.id: _measure_node(n, strings) for n in graph.nodes}
    group_of = {m: g.id for g in graph.groups for m in g.node_ids}
    edges = _normalize_edges(graph)

    def outer(item: str) -> str:
        return group_of.get(item, item)

    # 1. Inside each group.
    inner: dict[str, tuple[dict[str, _Placed],
                           dict[tuple[str, str], list[tuple[float, float]]], float, float]] = {}
    group_lines: dict[str, list[str]] = {}
    group_sizes: dict[str, tuple[float, float]] = {}
    for group in graph.groups:
        links = [(a, b) for a, b, _ in edges
                 if group_of.get(a) == group.id and group_of.get(b) == group.id]
        if group.node_ids:
            placed, bends, w, h = _arrange(
                [(m, boxes[m].w, boxes[m].h) for m in group.node_ids], links,
                MAX_WIDTH - 2 * GROUP_PAD)
        else:
            placed, bends, w, h = {}, {}, NODE_W, 0.0
        w = max(w, NODE_W)
        lines = wrap_text(group.label, w, LABEL_SIZE, bold=True, max_lines=3)
        group_lines[group.id] = lines
        label_h = len(lines) * LABEL_LH + (8.0 if lines else 0.0)
        inner[group.id] = (placed, bends, w, h)
        group_sizes[group.id] = (w + 2 * GROUP_PAD, h + 2 * GROUP_PAD + label_h)

    # 2. The top level: groups as blocks, and the nodes outside groups.
    top_items: list[tuple[str, float, float]] = []
    for node in graph.nodes:
        key = outer(node.id)
        if key in (item[0] for item in top_items):
            continue
        if key in group_sizes:
            top_items.append((key, *group_sizes[key]))
        else:
            top_items.append((key, boxes[key].w, boxes[key].h))
    for group in graph.groups:
        if not group.node_ids:
            top_items.append((group.id, *group_sizes[group.id]))
    top_links = [(outer(a), outer(b)) for a, b, _ in edges if outer(a) != outer(b)]
    placed_top, top_routes, top_w, top_h = _arrange(top_items, top_links, MAX_WIDTH)

    title_lines = wrap_text(graph.title, max(top_w, NODE_W), TITLE_SIZE, bold=True,
                            max_lines=3)
    offset_y = MARGIN + len(title_lines) * TITLE_LH + (12.0 if title_lines else 0.0)
    node_pos: dict[str, _Placed] = {}
    group_pos: dict[str, _Placed] = {}
    for key, place in placed_top.items():
        absolute = _Placed(place.x + MARGIN, place.y + offset_y, place.w, place.h)
        if key in group_sizes:
            group_pos[key] = absolute
            placed, _, _, _ = inner[key]
            label_h = len(group_lines[key]) * LABEL_LH + (8.0 if group_lines[key] else 0.0)
            for member, spot in placed.items():
                node_pos[member] = _Placed(absolute.x + GROUP_PAD + spot.x,
                                           absolute.y + GROUP_PAD + label_h + spot.y,
                                           spot.w, spot.h)
        else:
            node_pos[key] = absolute

    def box_of(item: str) -> _Placed:
        return group_pos[item] if item in group_pos else node_pos[item]

    drawn: list[tuple[str, str, str, list[tuple[float, float]]]] = []
    for source, target, kind in edges:
        a, b = box_of(source), box_of(target)
        if outer(source) == outer(target):
            home = outer(source)
            base = group_pos[home]
            label_h = len(group_lines[home]) * LABEL_LH + (8.0 if group_lines[home] else 0)
            dx, dy = base.x + GROUP_PAD, base.y + GROUP_PAD + label_h
            points = [(x + dx, y + dy) for x, y in inner[home][1].get((source, target), [])]
        else:
            points = [(x + MARGIN, y + offset_y)
                      for x, y in top_routes.get((outer(source), outer(target)), [])]
        if b.y >= a.bottom - 1:
            start = (a.x + a.w / 2, a.bottom)
            end = (b.x + b.w / 2, b.y)
        elif a.y >= b.bottom - 1:
            start = (a.x + a.w / 2, a.y)
            end = (b.x + b.w / 2, b.bottom)
        elif a.x + a.w <= b.x:
            start = (a.x + a.w, a.y + a.h / 2)
            end = (b.x, b.y + b.h / 2)
        else:
            start = (a.x, a.y + a.h / 2)
            end = (b.x + b.w, b.y + b.h / 2)
        drawn.append((source, target, kind, [start, *points, end]))

    def reading_key(item: str) -> tuple[float, float]:
        place = box_of(item)
        return (round(place.y, 1), place.x)

    reading_order = sorted(placed_top, key=reading_key)
    members_order = {g.id: sorted(g.node_ids, key=reading_key) for g in graph.groups}

    legend: list[tuple[str, str]] = []
    statuses = {n.status for n in graph.nodes if n.status}
    for status in STATUSES:
        if status in statuses:
            legend.append((status, strings.status_text(status)))
    kinds = {kind for _, _, kind in edges}
    if "precedes" in kinds:
        legend.append(("precedes", strings.legend_precedes))
    if "leads_to" in kinds:
        legend.append(("leads_to", strings.legend_leads_to))
    width = max(top_w, NODE_W) + 2 * MARGIN
    legend_y = offset_y + top_h + (GAP_Y / 2 if top_h else 0.0)
    legend_rows = _legend_rows(legend, width - 2 * MARGIN)
    height = legend_y + len(legend_rows) * 28.0 + MARGIN
    return _Layout(width, height, title_lines, boxes, node_pos, group_pos, group_lines,
                   drawn, reading_order, members_order, legend, legend_y, edges)


def _legend_item_width(text: str) -> float:
    return 40.0 + text_width(text, SMALL_SIZE) + 24.0


def _legend_rows(legend: list[tuple[str, str]], width: float) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = []
    used = width + 1
    for item in legend:
        item_w = _legend_item_width(item[1])
        if used + item_w > width:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += item_w
    return rows


# --- SVG ------------------------------------------------------------------------------------

_INK = "#1b1b1b"
_FONT = "'DejaVu Sans', Verdana, Arial, sans-serif"
_STATUS_STYLE = {  # fill, border
    "earned": ("#e6f4ea", "#1e6b32"),
    "in_progress": ("#fff3dc", "#8a5300"),
    "not_started": ("#ffffff", "#5f6368"),
    None: ("#ffffff", "#44474a"),
}
_EDGE_STYLE = {  # colour, width, dash
    "precedes": ("#3c4043", 1.75, "7 5"),
    "leads_to": ("#1f3a93", 2.5, ""),
}


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _attr(value: str) -> str:
    return str(escape(value))


def _status_icon(status: str, x: float, y: float) -> str:
    """An icon whose shape tells the status: a filled disc with a check (earned), a
    half-filled circle (in progress), an empty circle (not started)."""
    border = _STATUS_STYLE[status][1]
    cx, cy, r = x + 7, y + 7, 7.0
    if status == "earned":
        return (f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" fill="{border}"/>'
                f'<path d="M{_f(cx - 3.6)} {_f(cy + 0.2)} l2.6 2.6 l4.8 -5.4" fill="none" '
                f'stroke="#ffffff" stroke-width="2" stroke-linecap="round" '
                f'stroke-linejoin="round"/>')
    if status == "in_progress":
        return (f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r - 0.75)}" fill="#ffffff" '
                f'stroke="{border}" stroke-width="1.5"/>'
                f'<path d="M{_f(cx)} {_f(cy - r + 0.75)} A{_f(r - 0.75)} {_f(r - 0.75)} 0 0 1 '
                f'{_f(cx)} {_f(cy + r - 0.75)} Z" fill="{border}"/>')
    return (f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r - 0.75)}" fill="#ffffff" '
            f'stroke="{border}" stroke-width="1.5"/>')


def _text_lines(lines: Sequence[str], x: float, y: float, line_h: float, size: float, *,
                bold: bool = False, lang: str | None = None, cls: str = "") -> str:
    """Lines of text, first baseline at ``y``."""
    if not lines:
        return ""
    weight = ' font-weight="bold"' if bold else ""
    lang_attr = f' lang="{_attr(lang)}" xml:lang="{_attr(lang)}"' if lang else ""
    cls_attr = f' class="{cls}"' if cls else ""
    spans = "".join(
        f'<tspan x="{_f(x)}" y="{_f(y + i * line_h)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines))
    return (f'<text font-size="{_f(size)}"{weight}{lang_attr}{cls_attr} '
            f'fill="{_INK}">{spans}</text>')


def _node_name(box: _NodeBox, strings: FlowStrings) -> str:
    node = box.node
    parts = [clean_text(node.label)]
    if box.kind_line:
        parts.insert(0, box.kind_line)
    if node.sublabel.strip():
        parts.append(clean_text(node.sublabel))
    if node.status:
        parts.append(strings.status.format(status=box.status_text))
    return ", ".join(parts)


def _draw_node(box: _NodeBox, place: _Placed, graph: FlowGraph, interactive: bool) -> str:
    node = box.node
    fill, border = _STATUS_STYLE[node.status]
    stroke_w = 2.5 if node.status == "earned" or node.kind == "target" else 1.5
    dash = ' stroke-dasharray="6 4"' if node.kind == "external" else ""
    out = [f'<rect class="fc-box" width="{_f(place.w)}" height="{_f(place.h)}" rx="8" '
           f'fill="{fill}" stroke="{border}" stroke-width="{_f(stroke_w)}"{dash}/>']
    if node.kind == "target":  # a double border marks the goal
        out.append(f'<rect x="4" y="4" width="{_f(place.w - 8)}" height="{_f(place.h - 8)}" '
                   f'rx="5" fill="none" stroke="{border}" stroke-width="1"/>')
    lang = node.lang if node.lang != graph.lang else None
    y = PAD
    if box.kind_line:
        out.append(_text_lines([box.kind_line], PAD, y + 11, SMALL_LH, SMALL_SIZE,
                               cls="fc-kind"))
        y += SMALL_LH
    out.append(_text_lines(box.label_lines, PAD, y + 14, LABEL_LH, LABEL_SIZE, bold=True,
                           lang=lang, cls="fc-label"))
    y += len(box.label_lines) * LABEL_LH
    if box.sub_lines:
        out.append(_text_lines(box.sub_lines, PAD, y + 12, SMALL_LH, SMALL_SIZE, lang=lang))
        y += len(box.sub_lines) * SMALL_LH
    if node.status:
        y += 4
        out.append(_status_icon(node.status, PAD, y + 2))
        out.append(_text_lines([box.status_text], PAD + 20, y + 13, SMALL_LH, SMALL_SIZE,
                               bold=True))
    transform = f'transform="translate({_f(place.x)} {_f(place.y)})"'
    body = "".join(out)
    name = _node_name(box, graph.strings)
    href = safe_href(node.href)
    if href:
        return (f'<a class="fc-node fc-link" href="{_attr(href)}" aria-label="{_attr(name)}" '
                f'{transform}><title>{escape(name)}</title>{body}</a>')
    hidden = ' aria-hidden="true"' if interactive else ""
    return (f'<g class="fc-node" {transform}{hidden}><title>{escape(name)}</title>'
            f'{body}</g>')


def _edge_path(points: Sequence[tuple[float, float]]) -> str:
    (x0, y0), rest = points[0], points[1:]
    return f"M{_f(x0)} {_f(y0)}" + "".join(f" L{_f(x)} {_f(y)}" for x, y in rest)


def _legend_svg(layout: _Layout, id_prefix: str) -> str:
    out: list[str] = []
    y = layout.legend_y
    for row in _legend_rows(layout.legend, layout.width - 2 * MARGIN):
        x = MARGIN
        for key, text in row:
            if key in STATUSES:
                out.append(_status_icon(key, x + 12, y + 3))
            else:
                colour, width, dash = _EDGE_STYLE[key]
                dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                out.append(f'<path d="M{_f(x)} {_f(y + 10)} L{_f(x + 32)} {_f(y + 10)}" '
                           f'stroke="{colour}" stroke-width="{_f(width)}"{dash_attr} '
                           f'fill="none" marker-end="url(#{id_prefix}-arrow-{key})"/>')
            out.append(_text_lines([text], x + 40, y + 14, SMALL_LH, SMALL_SIZE))
            x += _legend_item_width(text)
        y += 28.0
    return "".join(out)


_STYLE = (
    ".fc-link:focus{outline:none}"
    ".fc-link:focus .fc-box,.fc-link:hover .fc-box{stroke:#000000;stroke-width:4}"
    ".fc-link:focus-visible .fc-box{stroke:#000000;stroke-width:4}"
    ".fc-link:hover .fc-label,.fc-link:focus .fc-label{text-decoration:underline}"
    "@media (forced-colors: active){text{fill:CanvasText}.fc-box{stroke:CanvasText}}"
    "@media print{svg{max-width:100%;height:auto}.fc-link .fc-box{stroke-width:inherit}}"
)


def render_svg(graph: FlowGraph, *, id_prefix: str = "flow", standalone: bool = False) -> str:
    """The flowchart as an SVG document (inline in HTML, or a file when ``standalone``:
    then with the XML declaration). ``id_prefix`` keeps ids unique when several
    flowcharts share a page. Raises ``ValueError`` for an undrawable graph."""
    if not _ID_PREFIX.match(id_prefix):
        raise ValueError("id_prefix must be a letter followed by letters, digits, - or _")
    layout = _layout(graph)
    strings = graph.strings
    interactive = any(safe_href(n.href) for n in graph.nodes)
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    role = "group" if interactive else "img"
    out: list[str] = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" role="{role}" '
        f'aria-labelledby="{title_id}" aria-describedby="{desc_id}" '
        f'lang="{_attr(graph.lang)}" xml:lang="{_attr(graph.lang)}" '
        f'viewBox="0 0 {_f(layout.width)} {_f(layout.height)}" '
        f'width="{_f(layout.width)}" height="{_f(layout.height)}" '
        f'font-family="{_FONT}" preserveAspectRatio="xMidYMin meet">')
    out.append(f'<title id="{title_id}">{escape(clean_text(graph.title))}</title>')
    description = graph.description or strings.description
    out.append(f'<desc id="{desc_id}">{escape(clean_text(description))}</desc>')
    out.append(f"<style>{_STYLE}</style>")
    markers = []
    for key, (colour, _, _) in _EDGE_STYLE.items():
        markers.append(
            f'<marker id="{id_prefix}-arrow-{key}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" '
            f'orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="{colour}"/></marker>')
    markers = [m.replace('markerWidth="7" markerHeight="7"',
                         'markerWidth="11" markerHeight="11"') for m in markers]
    out.append(f"<defs>{''.join(markers)}</defs>")
    out.append(f'<g aria-hidden="true"><rect width="{_f(layout.width)}" '
               f'height="{_f(layout.height)}" fill="#ffffff"/>')
    if layout.title_lines:
        out.append(_text_lines(layout.title_lines, MARGIN, MARGIN + 18, TITLE_LH, TITLE_SIZE,
                               bold=True))
    groups = {g.id: g for g in graph.groups}
    for group_id, place in layout.group_pos.items():
        group = groups[group_id]
        lang = group.lang if group.lang and group.lang != graph.lang else None
        out.append(f'<g class="fc-group"><rect x="{_f(place.x)}" y="{_f(place.y)}" '
                   f'width="{_f(place.w)}" height="{_f(place.h)}" rx="12" fill="#f4f6fa" '
                   f'stroke="#5c6b8a" stroke-width="1.5"/>')
        out.append(_text_lines(layout.group_lines[group_id], place.x + GROUP_PAD,
                               place.y + GROUP_PAD + 13, LABEL_LH, LABEL_SIZE, bold=True,
                               lang=lang))
        out.append("</g>")
    for _, _, kind, points in layout.edges:
        colour, width, dash = _EDGE_STYLE[kind]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path class="fc-edge fc-{kind}" d="{_edge_path(points)}" fill="none" '
                   f'stroke="{colour}" stroke-width="{_f(width)}"{dash_attr} '
                   f'marker-end="url(#{id_prefix}-arrow-{kind})"/>')
    out.append(_legend_svg(layout, id_prefix))
    out.append("</g>")
    for node_id, place in layout.node_pos.items():
        out.append(_draw_node(layout.boxes[node_id], place, graph, interactive))
    out.append("</svg>")
    return "".join(out)


def render_png(graph: FlowGraph, *, scale: float | None = None) -> bytes:
    """The same picture as ``render_svg`` rasterised by Cairo (no browser). ``scale``:
    pixels per unit; by default 2 (sharp when printed or zoomed) down to 1 for a picture
    whose longest side would pass 4000 pixels. Raises ``ValueError`` like render_svg."""
    import cairosvg  # imported here: needs the Cairo library (Debian: libcairo2)

    svg = render_svg(graph, id_prefix="png", standalone=True)
    if scale is None:
        layout = _layout(graph)
        scale = max(1.0, min(2.0, 4000.0 / max(layout.width, layout.height)))
    # unsafe=False (the default, said out loud): no external files or entities are read.
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale, unsafe=False)
    if not isinstance(png, bytes):  # pragma: no cover - svg2png returns bytes without output
        raise TypeError("cairosvg returned no PNG")
    return png


# --- text alternative -------------------------------------------------------------------

def _lang_attr(lang: str | None, graph: FlowGraph) -> Markup:
    if lang and lang != graph.lang:
        return Markup(' lang="{}"').format(lang)
    return Markup("")


def _fill_template(template: str, items: Markup) -> Markup:
    """A translated sentence with "{items}" replaced by already-escaped markup."""
    before, _, after = template.partition("{items}")
    return Markup("{}{}{}").format(before, items, after)


def text_alternative_html(graph: FlowGraph) -> Markup:
    """A nested ordered list that says what the picture says: the items from top to
    bottom (groups with their rule and their members), each with its details, status,
    what it comes after and what it leads to."""
    layout = _layout(graph)
    strings = graph.strings
    nodes = {n.id: n for n in graph.nodes}
    groups = {g.id: g for g in graph.groups}

    def name_of(item: str) -> Markup:
        if item in nodes:
            node = nodes[item]
            return Markup("<span{}>{}</span>").format(_lang_attr(node.lang, graph),
                                                    clean_text(node.label))
        group = groups[item]
        return Markup("<span{}>{}</span>").format(_lang_attr(group.lang, graph),
                                                clean_text(group.label))

    def relations(item: str) -> Markup:
        before = [s for s, t, k in layout.normalized_edges if t == item and k == "precedes"]
        after = [t for s, t, k in layout.normalized_edges if s == item and k == "leads_to"]
        follows = [t for s, t, k in layout.normalized_edges if s == item and k == "precedes"]
        parts: list[Markup] = []
        for template, ends in ((strings.comes_after, before), (strings.comes_before, follows),
                               (strings.leads_to, after)):
            if ends:
                joined = Markup("").join(
                    [name_of(ends[0]), *(Markup("{}{}").format(strings.separator, name_of(e))
                                         for e in ends[1:])])
                parts.append(_fill_template(template, joined))
        if not parts:
            return Markup("")
        return Markup("").join(
            Markup(' <span class="flow-text-relation">— {}</span>').format(p) for p in parts)

    def node_item(node_id: str) -> Markup:
        node = nodes[node_id]
        box = layout.boxes[node_id]
        pieces: list[Markup] = []
        if box.kind_line:
            pieces.append(Markup('<span class="flow-text-kind">{}:</span> ').format(
                box.kind_line))
        label = clean_text(node.label)
        href = safe_href(node.href)
        lang = _lang_attr(node.lang, graph)
        if href:
            pieces.append(Markup('<a href="{}"{}>{}</a>').format(href, lang, label))
        else:
            pieces.append(Markup("<strong{}>{}</strong>").format(lang, label))
        if node.sublabel.strip():
            pieces.append(Markup(' <span class="flow-text-details"{}>— {}</span>').format(
                lang, clean_text(node.sublabel)))
        if node.status:
            pieces.append(Markup(' <span class="flow-text-status flow-status-{}">— {}'
                                 '</span>').format(
                node.status, strings.status.format(status=box.status_text)))
        pieces.append(relations(node_id))
        return Markup("<li>{}</li>").format(Markup("").join(pieces))

    items: list[Markup] = []
    for item in layout.reading_order:
        if item in groups:
            members = Markup("").join(node_item(m) for m in layout.members_order[item])
            inner = Markup('<ol class="flow-text-members">{}</ol>').format(members) \
                if members else Markup("")
            items.append(Markup('<li><span class="flow-text-group">{}</span>{}{}</li>').format(
                name_of(item), relations(item), inner))
        else:
            items.append(node_item(item))
    return Markup('<ol class="flow-text">{}</ol>').format(Markup("").join(items))
