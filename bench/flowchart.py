"""How long a 40-step pathway flowchart takes to lay out and draw (issue 12: ≤ 100 ms).

    .venv/bin/python bench/flowchart.py [--rounds 30] [--png]

Three shapes of 40 steps, each with a learner's statuses and French labels on a quarter of
the steps: a ladder (8 groups of 5 in sequence, each group preceding the next, leading
to a program credential and an external certificate), one "all of" group of 40, and a
prerequisite web (five tracks of eight ungrouped steps with cross-track prerequisites). Every
round clears the layout cache, so each one measures layout + SVG (+ the text alternative,
which reuses that layout, as a page does). ``--png`` also times the Cairo PNG.
Prints median / p90 / max in ms, CPU time per round, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from lti_tool.domain.flowchart import (
    FlowGraph,
    FlowGroup,
    FlowNode,
    clear_layout_cache,
    render_png,
    render_svg,
    text_alternative_html,
)

STATUSES = ("earned", "in_progress", "not_started", "not_started")


def _step(i: int) -> FlowNode:
    french = i % 4 == 0
    label = (f"Communication interprofessionnelle en soins de santé, module {i}" if french
             else f"Applied Python Programming Fundamentals, part {i}")
    return FlowNode(f"s{i}", label, f"{20 + i} h · {0.5 if i % 2 else 0} credit",
                    "credential", STATUSES[i % 4], f"/c/demo/credentials/S{i}",
                    "fr" if french else "en")


def _targets() -> tuple[FlowNode, ...]:
    return (FlowNode("program", "Applied Python — program credential", "Stacked", "target",
                     "not_started", None, "en"),
            FlowNode("diploma", "Computer Programming — Ontario College Diploma",
                     "Credit toward COMP 1101", "external", None, None, "en"))


def ladder() -> FlowGraph:
    steps = tuple(_step(i) for i in range(40))
    groups = tuple(FlowGroup(f"g{k}", f"Stage {k + 1}: all of",
                             tuple(f"s{i}" for i in range(5 * k, 5 * k + 5)))
                   for k in range(8))
    edges = tuple((f"g{k}", f"g{k + 1}", "precedes") for k in range(7))
    edges += (("g7", "program", "leads_to"), ("program", "diploma", "leads_to"))
    return FlowGraph("Ladder of 40 steps", steps + _targets(), groups, edges)


def one_group() -> FlowGraph:
    steps = tuple(_step(i) for i in range(40))
    groups = (FlowGroup("all", "Choose 30 of 40", tuple(s.id for s in steps)),)
    edges = (("all", "program", "leads_to"), ("program", "diploma", "leads_to"))
    return FlowGraph("One group of 40", steps + _targets(), groups, edges)


def web() -> FlowGraph:
    """Five tracks of eight steps; each step needs the one before it in its track, every
    third one also a step of the next track; the last of each track leads to the goal."""
    steps = tuple(_step(i) for i in range(40))
    edges: list[tuple[str, str, str]] = []
    for track in range(5):
        for k in range(1, 8):
            i = track * 8 + k
            edges.append((f"s{i - 1}", f"s{i}", "precedes"))
            if k % 3 == 0 and track < 4:
                edges.append((f"s{i + 8 - 1}", f"s{i}", "precedes"))
        edges.append((f"s{track * 8 + 7}", "program", "leads_to"))
    return FlowGraph("Prerequisite web of 40 steps", steps + _targets(), (),
                     (*edges, ("program", "diploma", "leads_to")))


def _measure(graph: FlowGraph, rounds: int, png: bool) -> dict[str, float]:
    walls: list[float] = []
    cpus: list[float] = []
    png_walls: list[float] = []
    size = 0
    for _ in range(rounds):
        clear_layout_cache()
        wall, cpu = time.perf_counter(), time.process_time()
        svg = render_svg(graph)
        text_alternative_html(graph)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        size = len(svg)
        if png:
            clear_layout_cache()
            start = time.perf_counter()
            render_png(graph)
            png_walls.append((time.perf_counter() - start) * 1000)
    walls.sort()
    result = {"median": statistics.median(walls), "p90": walls[int(len(walls) * 0.9) - 1],
              "max": walls[-1], "cpu": statistics.median(cpus), "bytes": size}
    if png_walls:
        result["png"] = statistics.median(png_walls)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--png", action="store_true", help="also time the PNG (Cairo)")
    args = parser.parse_args()
    render_svg(ladder())  # warm imports
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs; {args.rounds} rounds each")
    header = f"{'graph':<28} {'median':>8} {'p90':>8} {'max':>8} {'cpu':>8} {'svg KB':>7}"
    if args.png:
        header += f" {'png med':>8}"
    print(header)
    for name, build in (("ladder 8x5 + 2 targets", ladder), ("one group of 40", one_group),
                        ("prerequisite web of 40", web)):
        r = _measure(build(), args.rounds, args.png)
        line = (f"{name:<28} {r['median']:>6.1f}ms {r['p90']:>6.1f}ms {r['max']:>6.1f}ms "
                f"{r['cpu']:>6.1f}ms {r['bytes'] / 1024:>7.1f}")
        if "png" in r:
            line += f" {r['png']:>6.1f}ms"
        print(line)
    print("budget: a 40-step flowchart renders (layout + SVG + text alternative) in ≤ 100 ms")


if __name__ == "__main__":
    main()
