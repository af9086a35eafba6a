"""Summarise py-spy collapsed stacks (``bench/launch.py --py-spy PREFIX``): where the
gunicorn workers' CPU goes, by layer and by function.

    .venv/bin/python bench/stacks.py PREFIX.8u.*.txt [--top 30]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# First matching rule wins, checked from the leaf towards the root: the layer that is
# actually burning the CPU (e.g. psycopg inside SQLAlchemy counts as psycopg).
LAYERS = (
    ("psycopg (PG driver, wire)", r"psycopg/"),
    ("redis-py", r"redis/"),
    ("SQLAlchemy ORM", r"sqlalchemy/orm/"),
    ("SQLAlchemy core/engine", r"sqlalchemy/"),
    ("jinja2 templates", r"jinja2/"),
    ("logging", r"logging/|logging_setup"),
    ("json", r"json/"),
    ("cryptography / hashlib", r"cryptography/|hashlib|_hashlib"),
    ("itsdangerous", r"itsdangerous/"),
    ("pylti1p3", r"pylti1p3/"),
    ("lti_tool", r"lti_tool/"),
    ("werkzeug", r"werkzeug/"),
    ("flask", r"flask/"),
    ("gunicorn (HTTP parse, socket)", r"gunicorn/"),
)

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def layer_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in LAYERS:
            if re.search(pattern, frame):
                return name
    return "other (stdlib, interpreter)"


def endpoint_of(frames: list[str]) -> str:
    for frame in frames:
        m = re.match(r"(login|launch|home|healthz) \(lti_tool/web/", frame)
        if m:
            return f"/{m.group(1)}"
    return "(outside the view)"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args()
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    views: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for path in args.files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            layers[layer_of(frames)] += n
            leaves[frames[-1]] += n
            views[endpoint_of(frames)] += n
            for frame in set(frames):
                m = FRAME.match(frame)
                if m and "lti_tool/" in m.group("file"):
                    inclusive[m.group("func") + " (" + m.group("file") + ")"] += n
    print(f"{total} samples")
    print("\nby layer (self time):")
    for name, n in layers.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nby view (inclusive):")
    for name, n in views.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nlti_tool functions (inclusive):")
    for name, n in inclusive.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nhottest leaf frames (self):")
    for name, n in leaves.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
