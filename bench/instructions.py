"""Instructions per login + launch POST, counted by valgrind's callgrind: a figure that does
not move with the machine's load, for A/B comparisons of two trees on a noisy VM.

Runs ``bench/profile_launch.py --no-profile --no-landing --callgrind`` under
``valgrind --tool=callgrind --instr-atstart=no``: instructions are counted only while the
measured launches run (profile_launch switches counting on and off with
``callgrind_control``), not during start-up, key generation, priming or the bench platform
signing each id_token. What is counted is this one process: the tool's code for the two
requests and Flask's test client (which stands in for gunicorn's parsing); PostgreSQL's and
Redis's own work is not.

    .venv/bin/python bench/instructions.py                       # this tree
    .venv/bin/python bench/instructions.py ../base .             # A/B, two runs at a time
    .venv/bin/python bench/instructions.py --lean                # + the lean reference

Needs valgrind (Debian's package); PostgreSQL and Redis as for bench/launch.py. About a
minute per run at the default size (Python runs ~30x slower under callgrind).
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLLECTED = re.compile(r"Collected\s*:\s*([\d,]+)")


# A Redis db of its own for each run going at once: a run flushes its db when it starts,
# which would take the login states of a run sharing it. (15: the tests; 14: bench/launch.py;
# 9: its peer.)
REDIS_DBS = (10, 11, 12, 13)
_free_dbs: queue.Queue[int] = queue.Queue()


def count(tree: Path, launches: int, users: int, database: str, *, lean: bool = False) -> int:
    """Instructions callgrind counted in the measured launches of one profile_launch run
    (``lean``: of the lean reference, bench/lean_app.py, after priming ``tree``)."""
    db = _free_dbs.get()
    try:
        return _count(tree, launches, users, database, lean, db)
    finally:
        _free_dbs.put(db)


def _count(tree: Path, launches: int, users: int, database: str, lean: bool, db: int) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0",
           "MICROCRED_BENCH_REDIS_URL": f"redis://127.0.0.1:6379/{db}"}
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               "--callgrind-out-file=/dev/null", sys.executable,
               str(HERE / "profile_launch.py"), "--no-profile", "--no-landing", "--callgrind",
               "--launches", str(launches), "--users", str(users), "--database", database,
               "--app-dir", str(tree), *(["--lean-only"] if lean else [])]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed ({tree}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trees", nargs="*", type=Path, default=[HERE.parent],
                   help="trees holding lti_tool/ (default: this one)")
    p.add_argument("--launches", type=int, default=100, help="measured launches per run")
    p.add_argument("--runs", type=int, default=2, help="runs per tree")
    p.add_argument("--users", type=int, default=10, help="distinct users (each primed)")
    p.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, len(REDIS_DBS)),
                   help="runs at once (each with a Redis db of its own)")
    p.add_argument("--lean", action="store_true",
                   help="also count the lean reference (bench/lean_app.py: the launch's "
                        "required checks and records in their cheapest form) and print each "
                        "tree's count as a multiple of it")
    args = p.parse_args()
    if not 1 <= args.jobs <= len(REDIS_DBS):
        p.error(f"--jobs must be between 1 and {len(REDIS_DBS)}")
    for db in REDIS_DBS[:args.jobs]:
        _free_dbs.put(db)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    trees = [t.resolve() for t in args.trees]
    # Interleaved; index len(trees) is the lean reference (primed through the first tree).
    kinds = len(trees) + (1 if args.lean else 0)
    runs = [(i, r) for r in range(args.runs) for i in range(kinds)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda run: count(
            trees[run[0] if run[0] < len(trees) else 0], args.launches, args.users,
            f"microcred_bench_instr_{run[0]}_{run[1]}", lean=run[0] == len(trees)), runs))
    medians = []
    for i, tree in enumerate(trees):
        each = [n / args.launches for (t, _r), n in zip(runs, results, strict=True) if t == i]
        medians.append(statistics.median(each))
        print(f"{tree}: {medians[-1] / 1e6:.3f} M instructions per login + launch POST "
              f"(runs: {', '.join(f'{v / 1e6:.3f}' for v in each)}; tool + test client)")
    if args.lean:
        each = [n / args.launches for (t, _r), n in zip(runs, results, strict=True)
                if t == len(trees)]
        lean = statistics.median(each)
        print(f"lean reference (bench/lean_app.py): {lean / 1e6:.3f} M instructions per login + "
              f"launch POST (runs: {', '.join(f'{v / 1e6:.3f}' for v in each)})")
        for tree, value in zip(trees, medians, strict=True):
            print(f"{tree}: {value / lean:.2f}x the lean reference")
    for tree, value in zip(trees[1:], medians[1:], strict=True):
        change = value - medians[0]
        print(f"{tree} against {trees[0]}: {change / 1e6:+.3f} M instructions per launch "
              f"({change / medians[0]:+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
