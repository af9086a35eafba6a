"""Pathways benchmark (issue 12): a learner's progress against 200 published pathways, and
the award engine's extra work per award (looking for pathways the new award completes).

Builds, in a dedicated PostgreSQL database (``microcred_bench_pathways``, dropped first
and at the end unless ``--keep-db``), through the real catalog services: an issuer,
120 published micro-credentials (100 that are steps, 20 program credentials), 200
published pathways (each 8 steps from the 100 in two groups: all of 4, then 2 of 4, with
credits; a program credential as target; one order constraint), reviewed by a second
person. A learner is given 50 awards by bulk INSERT (set-up, not measured).

Measured (median, p90, min over ``--repeat`` calls):

- ``evaluate x 200`` — the pure part: ``domain.pathways.evaluate`` for each of the 200
  pathways against the learner's 50 holdings;
- ``progress_for_person`` — the whole service call a page makes (queries + evaluation);
- ``award_programs (no completion)`` — the engine's extra work after an award of a
  credential that is a step of about 16 pathways, none completed (the common case);
- ``award_programs (completes one)`` — the same when the award completes a pathway and
  the program award is inserted (its signing happens at commit, counted by bench/issuing.py).

Target: progress ≤ 20 ms, engine extra work ≤ 10 ms per award (median). Exits 1 otherwise.

    .venv/bin/python bench/pathways.py [--repeat 200] [--keep-db]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.tracking_common import bench_database, make_app  # noqa: E402

STEPS = 100
PROGRAMS = 20
PATHWAYS = 200
AWARDS = 50


def timings(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1], samples[0]


def build(session: Any, rnd: random.Random) -> dict[str, Any]:
    from lti_tool.domain.catalog import Action, Scope
    from lti_tool.services import catalog, pathways
    from lti_tool.services.catalog import Actor

    issuer = catalog.create_issuer(session, {"name": "Bench College",
                                             "url": "https://bench.example.edu",
                                             "email": "registrar@bench.example.edu"},
                                   slug="bench")
    author = Actor("account:author", "Author", issuer.id, frozenset(Scope))
    reviewer = Actor("account:reviewer", "Reviewer", issuer.id, frozenset(Scope))
    scores = [{"criterion": c.key, "level": "met"} for c in catalog.rubric_for(session,
                                                                               issuer.id)]
    codes = [f"MC-{i}" for i in range(STEPS)] + [f"PROG-{i}" for i in range(PROGRAMS)]
    for code in codes:
        catalog.create_skill(session, author, {"code": f"S-{code}", "name": f"Skill {code}"})
        version = catalog.create_credential(session, author, {
            "code": code, "title": f"Credential {code}", "short_description": "Bench.",
            "learning_outcomes": ["Do the thing."], "notional_hours": "20",
            "delivery_modes": ["asynchronous"], "required_skills": [f"S-{code}"],
            "allowed_routes": ["integrated"]})
        catalog.transition(session, author, version.id, Action.SUBMIT)
        catalog.review(session, reviewer, version.id, {"decision": "approve",
                                                       "scores": scores})
        catalog.transition(session, author, version.id, Action.PUBLISH)
    session.commit()
    for i in range(PATHWAYS):
        steps = rnd.sample(codes[:STEPS], 8)
        data = {
            "code": f"PW-{i}", "title": f"Pathway {i}",
            "target": {"credential": f"PROG-{i % PROGRAMS}"},
            "groups": [
                {"key": "core", "title": "Core", "rule": "all",
                 "steps": [{"credential": c, "articulation": {"credit_bearing": True,
                                                              "credits": "1"}}
                           for c in steps[:4]]},
                {"key": "el", "title": "Electives", "rule": "choose", "minimum": 2,
                 "steps": [{"credential": c} for c in steps[4:]]}],
            "order": [[steps[0], steps[1]]],
        }
        version = pathways.create_pathway(session, author, data)
        pathways.transition(session, author, version.id, Action.SUBMIT)
        pathways.review(session, reviewer, version.id, {"decision": "approve",
                                                        "scores": scores})
        pathways.transition(session, author, version.id, Action.PUBLISH)
    session.commit()
    return {"issuer_id": issuer.id, "codes": codes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    rnd = random.Random(12)
    print(f"load average: {os.getloadavg()}")
    with bench_database("microcred_bench_pathways", keep=args.keep_db) as url:
        app = make_app(url)
        with app.app_context():
            from sqlalchemy import select

            from lti_tool.domain.pathways import evaluate
            from lti_tool.models import Award, CredentialVersion, MicroCredential, Person
            from lti_tool.services import pathways

            session = app.extensions["db_sessionmaker"]()
            started = time.perf_counter()
            world = build(session, rnd)
            print(f"built {STEPS + PROGRAMS} credentials and {PATHWAYS} pathways in "
                  f"{time.perf_counter() - started:.1f} s")
            issuer_id = world["issuer_id"]
            versions = {code: (cid, vid) for code, cid, vid in session.execute(
                select(MicroCredential.code, MicroCredential.id, CredentialVersion.id)
                .join(CredentialVersion, CredentialVersion.credential_id == MicroCredential.id))}

            def give(person: Person, code: str) -> Award:
                cid, vid = versions[code]
                award = Award(public_id=secrets.token_urlsafe(16), issuer_id=issuer_id,
                              person_id=person.id, credential_id=cid, version_id=vid,
                              route="integrated", demonstration_ids=[])
                session.add(award)
                return award

            learner = Person(display_name="Fifty Awards")
            session.add(learner)
            session.flush()
            for code in rnd.sample(world["codes"][:STEPS], AWARDS):
                give(learner, code)
            session.commit()

            results = []
            specs = [p.spec for p in pathways.published_pathways(session, issuer_id)]
            held, _ = pathways.holdings(session, learner.id, issuer_id)
            results.append(("evaluate x 200 (pure)", timings(
                lambda: [evaluate(s, held) for s in specs], args.repeat), 20.0))
            results.append(("progress_for_person (200 pathways, 50 awards)", timings(
                lambda: pathways.progress_for_person(session, learner.id, issuer_id),
                args.repeat), 20.0))

            # The engine: a learner holding 7 of a pathway's 8 steps (one elective short)
            # receives another award.
            target = pathways.published_pathways(session, issuer_id)[0]
            step_codes = list(target.spec.step_codes)
            engine_learner = Person(display_name="Engine")
            session.add(engine_learner)
            session.flush()
            for code in step_codes[:5]:
                give(engine_learner, code)
            session.commit()
            unrelated = next(c for c in world["codes"][:STEPS] if c not in step_codes)
            one = give(engine_learner, unrelated)
            session.commit()

            def no_completion() -> None:
                made = pathways.award_programs(session, person_id=engine_learner.id,
                                               new_awards=[one], context=None)
                assert made == []

            results.append(("award_programs (no completion)",
                            timings(no_completion, args.repeat), 10.0))
            last = give(engine_learner, step_codes[5])
            session.commit()

            def completes() -> None:
                outer = session.begin_nested()
                made = pathways.award_programs(session, person_id=engine_learner.id,
                                               new_awards=[last], context=None)
                assert len(made) >= 1
                outer.rollback()
                session.info.pop("award_credentials.new_awards", None)

            results.append(("award_programs (completes one)",
                            timings(completes, args.repeat), 10.0))
            session.rollback()
            session.close()
    ok = True
    print("\n| what | median ms | p90 ms | min ms | target ms |\n|---|---|---|---|---|")
    for name, (median, p90, low), target_ms in results:
        print(f"| {name} | {median:.2f} | {p90:.2f} | {low:.2f} | ≤ {target_ms:g} |")
        ok = ok and median <= target_ms
    print(f"\nload average after: {os.getloadavg()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
