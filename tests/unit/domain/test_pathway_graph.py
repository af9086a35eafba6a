"""The pathway → flowchart adapter: one cluster per group labelled with its rule, order as
"precedes" edges, every group leading to the program credential and on to the external
program, statuses from a learner's progress (the target earned once complete), and a
graph the renderer accepts (its text alternative names every step)."""

from __future__ import annotations

from lti_tool.domain.flowchart import render_svg, text_alternative_html, validate
from lti_tool.domain.pathway_graph import EXTERNAL_ID, TARGET_ID, node_id, pathway_graph
from lti_tool.domain.pathways import Holding, PathwayInputSchema, evaluate, normalise, spec_of


def _spec():  # type: ignore[no-untyped-def]
    return spec_of(normalise(PathwayInputSchema().load({
        "code": "P", "title": "Care pathway",
        "target": {"credential": "PROG", "external": {"name": "Certificate program"}},
        "groups": [{"key": "core", "title": "Core", "rule": "all",
                    "steps": [{"credential": "A"}, {"credential": "B"}]},
                   {"key": "el", "title": "Electives", "rule": "choose", "minimum": "1",
                    "steps": [{"credential": "C"}, {"credential": "D"}]}],
        "order": [["A", "B"]]})))


def test_structure() -> None:
    graph = pathway_graph(_spec())
    validate(graph)
    assert [g.label for g in graph.groups] == ["Core — All of these", "Electives — Choose 1 of 2"]
    assert graph.groups[1].node_ids == (node_id("C"), node_id("D"))
    assert (node_id("A"), node_id("B"), "precedes") in graph.edges
    assert ("g0", TARGET_ID, "leads_to") in graph.edges
    assert ("g1", TARGET_ID, "leads_to") in graph.edges
    assert (TARGET_ID, EXTERNAL_ID, "leads_to") in graph.edges
    assert all(n.status is None for n in graph.nodes)


def test_statuses_follow_progress() -> None:
    spec = _spec()
    half = evaluate(spec, {"A": Holding(1)}, {"C"})
    graph = pathway_graph(spec, progress=half)
    status = {n.id: n.status for n in graph.nodes}
    assert status[node_id("A")] == "earned" and status[node_id("C")] == "in_progress"
    assert status[node_id("B")] == "not_started" and status[TARGET_ID] == "not_started"
    done = evaluate(spec, {"A": Holding(1), "B": Holding(1), "D": Holding(1)})
    assert {n.id: n.status for n in pathway_graph(spec, progress=done).nodes}[TARGET_ID] == \
        "earned"
    svg = render_svg(pathway_graph(spec, progress=half))
    assert 'role="img"' in svg and "Care pathway" in svg
    words = str(text_alternative_html(pathway_graph(spec, progress=half)))
    for code in ("A", "B", "C", "D"):
        assert f">{code}<" in words
