"""Bulk import: 10,000 demonstrations from CSV, awards evaluated, on PostgreSQL.

    .venv/bin/python bench/bulk_import.py [--rows 10000] [--repeat 3] [--keep-db]
                                          [--profile]

For each repetition (a fresh database each time, so every run imports into the same state):

1. creates ``microcred_bench_bulk`` (dropped first and at the end), builds the course of
   bench/tracking_common.py (600 learners, 4 credentials x 10 skills) with no demonstrations;
2. writes a CSV an instructor or autograder would send: ``--rows`` distinct (learner, skill)
   cells, learners named by platform user id, email or both kinds mixed, 85 % passes, dates
   over the last 90 days, evidence links on most rows, a few notes;
3. times ``services.demonstration_import.import_demonstrations_csv`` as a dry run (validate,
   apply in a SAVEPOINT, roll back), then for real + ``commit`` (validate, insert, evaluate
   every learner with a pass through ``tracking.evaluate_awards_many``).

Target (issue 4): importing 10,000 demonstrations and evaluating awards ≤ 10 s.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracking_common as tc

TARGET_S = 10.0


def make_csv(world: tc.World, rows: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    cells = [(i, code) for i in range(len(world.account_ids)) for code in world.skill_codes]
    if rows > len(cells):
        raise SystemExit(f"--rows {rows} is more than the course's {len(cells)} cells")
    # Learners progress at their own pace, like a class at term end: a quarter of them
    # have every skill in the file (many earn credentials), the rest a random part.
    learners = list(range(len(world.account_ids)))
    rng.shuffle(learners)
    fast = set(learners[:min(len(learners) // 4, rows // len(world.skill_codes))])
    chosen = [c for c in cells if c[0] in fast]
    rest = [c for c in cells if c[0] not in fast]
    chosen += rng.sample(rest, rows - len(chosen))
    rng.shuffle(chosen)
    now = datetime.now(UTC)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["learner", "skill_code", "outcome", "date", "evidence_url", "method",
                     "note"])
    for i, code in chosen:
        who = world.subs[i] if rng.random() < 0.6 else f"learner{i:04d}@college.bench"
        when = now - timedelta(days=rng.randint(1, 90), hours=rng.randint(0, 8))
        writer.writerow([
            who, code, "pass" if rng.random() < (0.95 if i in fast else 0.8) else "fail",
            when.strftime("%Y-%m-%dT%H:%M:%SZ") if rng.random() < 0.5 else
            when.date().isoformat(),
            f"https://autograder.college.bench/runs/{rng.randint(1, 10**6)}"
            if rng.random() < 0.8 else "",
            rng.choice(["in_course_assignment", "in_course_assignment", "observation", ""]),
            "Passed all hidden tests." if rng.random() < 0.1 else ""])
    return out.getvalue()


def one_run(args: argparse.Namespace, seed: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from lti_tool.models import Award, Context, Demonstration
    from lti_tool.services import tracking
    from lti_tool.services.demonstration_import import import_demonstrations_csv

    with tc.bench_database(args.database, keep=args.keep_db) as url:
        app = tc.make_app(url)
        try:
            world = tc.build_course(app, learners=args.learners)
            tc.analyze(app)
            text = make_csv(world, args.rows, seed)
            assessor = tracking.Assessor(ref="token:bench", name="Bench autograder",
                                         launch_id="")
            factory = app.extensions["db_sessionmaker"]
            db_cpu = tc.DbCpu(app)
            with factory() as db:
                context = db.get(Context, world.context_id)
                start = time.perf_counter()
                dry = import_demonstrations_csv(db, context=context, text=text,
                                                assessor=assessor, dry_run=True)
                dry_s = time.perf_counter() - start
                db.rollback()
            assert dry.ok, dry.problems[:5]
            with factory() as db:
                context = db.get(Context, world.context_id)
                profiler = cProfile.Profile() if args.profile else None
                before = db_cpu.read()
                cpu_start = time.thread_time()
                start = time.perf_counter()
                if profiler:
                    profiler.enable()
                report = import_demonstrations_csv(db, context=context, text=text,
                                                   assessor=assessor)
                db.commit()
                if profiler:
                    profiler.disable()
                real_s = time.perf_counter() - start
                app_cpu_s = time.thread_time() - cpu_start
                db_cpu_s = tc.DbCpu.spent(before, db_cpu.read()) / 1000
            assert report.ok, report.problems[:5]
            with factory() as db:
                demos = db.scalar(select(func.count()).select_from(Demonstration))
                awards = db.scalar(select(func.count()).select_from(Award))
            assert demos == args.rows, (demos, args.rows)
            assert report.counts["awards_created"] == awards == dry.counts["awards_created"]
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
                print(out.getvalue())
            print(f"  run: {len(text) // 1024} KiB CSV, {report.counts['rows']} rows, "
                  f"{report.counts['learners']} learners, {awards} awards; dry run "
                  f"{dry_s:.2f} s, import + commit {real_s:.2f} s (cpu: app {app_cpu_s:.2f}"
                  f" + db {db_cpu_s:.2f} s)", flush=True)
            return {"dry": dry_s, "real": real_s, "app_cpu": app_cpu_s, "db_cpu": db_cpu_s,
                    "awards": awards}
        finally:
            tc.clear_redis(app)
            app.extensions["db_engine"].dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--learners", type=int, default=tc.N_LEARNERS)
    parser.add_argument("--database", default="microcred_bench_bulk")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    runs = [one_run(args, seed=5 + r) for r in range(args.repeat)]
    real = [r["real"] for r in runs]
    dry = [r["dry"] for r in runs]
    verdict = "OK" if statistics.median(real) <= TARGET_S else f"MISSED (target {TARGET_S:g} s)"
    print(f"\nPostgreSQL, {args.rows} demonstrations into a {args.learners}-learner course "
          f"(4 credentials x 10 skills); machine: {tc.load_average()}")
    print(f"import + award evaluation + commit: median {statistics.median(real):.2f} s, "
          f"max {max(real):.2f} s over {len(runs)} runs "
          f"(cpu: app {statistics.median(r['app_cpu'] for r in runs):.2f} + db "
          f"{statistics.median(r['db_cpu'] for r in runs):.2f} s)  {verdict}")
    print(f"dry run (validate, apply in a SAVEPOINT, roll back): median "
          f"{statistics.median(dry):.2f} s")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    raise SystemExit(main())
