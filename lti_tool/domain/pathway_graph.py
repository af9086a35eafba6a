"""A pathway as a flowchart graph (``domain.flowchart``): the adapter between the pathway
rules (``domain.pathways``) and the renderer. Pure.

Each group is a labelled cluster of its steps ("Choose 2 of 3"); order pairs are
"precedes" edges between steps; every group "leads to" the target (the program credential
awarded on completion, then the external program when there is one, or the external
program alone). With a learner's progress each step carries its status (earned / in
progress / not started) and the target is earned once the pathway is complete. Words the
page must translate come in as callables, so this module stays free of Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lti_tool.domain.flowchart import FlowGraph, FlowGroup, FlowNode, FlowStrings
from lti_tool.domain.pathways import Group, PathwayProgress, PathwaySpec, Step

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")
TARGET_ID = "target"
EXTERNAL_ID = "external"


def node_id(code: str) -> str:
    return "c-" + _UNSAFE_ID.sub("_", code)


def pathway_graph(spec: PathwaySpec, *, title: str | None = None,
                  progress: PathwayProgress | None = None,
                  step_titles: Mapping[str, str] | None = None,
                  hrefs: Mapping[str, str] | None = None,
                  group_label: Callable[[Group], str] = Group.describe,
                  step_details: Callable[[Step], str] = lambda step: "",
                  target_details: str = "", external_details: str = "",
                  lang: str = "en", strings: FlowStrings | None = None,
                  description: str = "") -> FlowGraph:
    """The flowchart graph of ``spec``. ``step_titles``/``hrefs`` by credential code
    (``hrefs`` may hold ``TARGET_ID``/``EXTERNAL_ID`` too); ``group_label`` and
    ``step_details`` give the words shown ("Choose 2 of 3", "1.5 credits · 30 hours")."""
    step_titles = step_titles or {}
    hrefs = hrefs or {}
    status: dict[str, str] = {}
    if progress is not None:
        for gp in progress.groups:
            for sp in gp.steps:
                status[sp.step.credential] = sp.status.value
    nodes: list[FlowNode] = []
    groups: list[FlowGroup] = []
    edges: list[tuple[str, str, str]] = []
    for gi, group in enumerate(spec.groups):
        members = []
        for step in group.steps:
            nid = node_id(step.credential)
            members.append(nid)
            nodes.append(FlowNode(
                id=nid, label=step_titles.get(step.credential) or step.title or step.credential,
                sublabel=step_details(step), kind="credential",
                status=status.get(step.credential, "not_started") if progress else None,
                href=hrefs.get(step.credential), lang=lang))
        groups.append(FlowGroup(id=f"g{gi}", label=f"{group.title} — {group_label(group)}"
                                if group.title else group_label(group),
                                node_ids=tuple(members)))
    complete = progress is not None and progress.complete
    ends: list[str] = []
    if spec.target_credential:
        nodes.append(FlowNode(
            id=TARGET_ID,
            label=step_titles.get(spec.target_credential) or spec.target_title
            or spec.target_credential,
            sublabel=target_details, kind="target",
            status=("earned" if complete else "not_started") if progress else None,
            href=hrefs.get(TARGET_ID), lang=lang))
        ends.append(TARGET_ID)
    if spec.external is not None:
        nodes.append(FlowNode(
            id=EXTERNAL_ID, label=spec.external.name, sublabel=external_details,
            kind="external", status=None, href=hrefs.get(EXTERNAL_ID), lang=lang))
        ends.append(EXTERNAL_ID)
    codes = set(spec.step_codes)
    for a, b in spec.order:
        if a in codes and b in codes and a != b:
            edges.append((node_id(a), node_id(b), "precedes"))
    if ends:
        for g in groups:
            edges.append((g.id, ends[0], "leads_to"))
        if len(ends) == 2:
            edges.append((ends[0], ends[1], "leads_to"))
    return FlowGraph(title=title or spec.title, nodes=tuple(nodes), groups=tuple(groups),
                     edges=tuple(edges), lang=lang, description=description,
                     strings=strings or FlowStrings())
