"""Prior learning assessment (PLAR) at the size of a busy intake, on PostgreSQL.

    .venv/bin/python bench/plar.py [--learners 600] [--calls 30] [--keep-db]

1. creates ``microcred_bench_plar`` (dropped first and at the end) with the course of
   bench/tracking_common.py (4 credentials x 10 skills, ``--learners`` learners) and lets
   the first credential be earned through PLAR;
2. every learner asks for recognition of all 10 skills of it through ``plar.submit`` (a
   narrative per skill, a link), from the continuing-education shell; one assessor is
   named for it;
3. times, in a new session each (as a request has): the assessor's queue (the 500 earliest
   due of ``--learners`` open requests; the page shows them), the number of SQL statements
   it runs (it must not grow with the rows shown), and one decision on a skill, commit
   included (which records a "plar" demonstration and evaluates the learner's awards).

E-mail is off (no SMTP_HOST), so notifications are written and marked skipped, as they are
without SMTP. Targets: the queue ≤ 150 ms median for 500 rows; a decision ≤ 40 ms median.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tracking_common as tc

QUEUE_TARGET_MS = 150.0
DECIDE_TARGET_MS = 40.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=600)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    from lti_tool.models import Context, CredentialVersion, Issuer, LearnerAccount
    from lti_tool.services import plar

    print(f"PLAR bench: {args.learners} requests x 10 skills; {tc.load_average()}")
    with tc.bench_database("microcred_bench_plar", keep=args.keep_db) as url:
        app = tc.make_app(url)
        try:
            world = tc.build_course(app, learners=args.learners)
            factory = app.extensions["db_sessionmaker"]
            credential_id = world.credential_ids[0]
            with app.app_context(), factory() as db:
                version = db.query(CredentialVersion).filter_by(
                    credential_id=credential_id).one()
                # Set-up: let the first credential be earned through PLAR too.
                version.content = {**version.content,
                                   "allowed_routes": ["integrated", "stand_alone", "plar"]}
                issuer = db.get(Issuer, world.issuer_id)
                shell = db.get(Context, world.ce_context_id)
                assert issuer is not None and shell is not None
                assessor_account = db.query(LearnerAccount).filter_by(
                    sub="bench-teacher").one()
                plar.grant_assessor(db, issuer_id=issuer.id, credential_id=credential_id,
                                    account=assessor_account, by=None)
                skills = [link.skill for link in version.skill_links]
                for account_id in world.account_ids:
                    account = db.get(LearnerAccount, account_id)
                    assert account is not None
                    learner = plar.PlarActor(account.id, account.person_id,
                                             account.platform_id, account.sub, account.name)
                    plar.submit(db, issuer=issuer, context=shell, learner=learner,
                                code=version.credential.code,
                                narratives={s.id: f"Used {s.code} at work for two years."
                                            for s in skills},
                                given=plar.EvidenceInput(
                                    links=[("https://portfolio.example.org/work", "Work")]))
                db.commit()
                assessor = plar.PlarActor(assessor_account.id, assessor_account.person_id,
                                          assessor_account.platform_id, assessor_account.sub,
                                          "Terry Teacher")
            tc.analyze(app)

            def queue() -> int:
                with app.app_context(), factory() as db:
                    return len(plar.queue(db, assessor, world.issuer_id, plar.QueueFilters()))

            engine = app.extensions["db_engine"]
            counter = tc.QueryCounter(engine)
            shown = queue()
            statements = counter.count
            counter.close()
            timing = tc.measure(f"assessor's queue ({shown} of {args.learners} shown)", queue,
                                args.calls)

            with app.app_context(), factory() as db:
                pending = [(r.request.id, s.skill_id) for r in plar.queue(
                    db, assessor, world.issuer_id, plar.QueueFilters(state="all"))
                    for s in r.request.skills]
            rng = random.Random(11)
            rng.shuffle(pending)
            work = iter(pending)

            def decide() -> None:
                request_id, skill_id = next(work)
                with app.app_context(), factory() as db:
                    found = plar.assessor_request(db, assessor, world.issuer_id, request_id)
                    plar.decide_skill(db, found, assessor, skill_id=skill_id,
                                      decision="demonstrated", method="portfolio_review",
                                      rationale="The portfolio shows it.")
                    db.commit()

            decision = tc.measure("one decision (demonstration + awards) + commit", decide,
                                  args.calls)
            print(f"the queue runs {statements} SQL statements for {shown} rows")
            print(timing.row(QUEUE_TARGET_MS))
            print(decision.row(DECIDE_TARGET_MS))
        finally:
            tc.clear_redis(app)
            app.extensions["db_engine"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
