"""Benchmark transfer and the registrar's record through the services.

    .venv/bin/python bench/registrar.py [--n 1000] [--transfers 50] [--database-url URL]

On a fresh database (a temporary SQLite file unless --database-url names an EMPTY database
to migrate): one issuer, one for-credit course where --n learners each earned a
credit-bearing credential, and a second credential allowing the transfer route with an
approved equivalency. It reports:

* submit        services.transfer.submit + commit for a learner holding another
                institution's OB 3.0 credential (did:key issuer; its status list fetched
                from a real local HTTP server through the SSRF guard): verify (JSON-LD,
                schema, proof, status list verified too), recipient match, equivalency
                match, demonstrations and the award by the transfer route (its signed
                credential is left to the issuing job, as in a request without an app)
* export        services.registrar.awards for every award (pages of 500) + csv_export
* api page      one 100-award page as GET /api/v1/records/awards builds it (rows_for)

Prints the load average: wall times on a machine shared with other work include waiting
for a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BASE = "https://tool.bench"


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--transfers", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from lti_tool.domain.catalog import LifecycleState
    from lti_tool.extensions import make_engine
    from lti_tool.models import Award, Issuer
    from lti_tool.models.migrate import upgrade
    from lti_tool.services import registrar, transfer
    from lti_tool.services.external_credentials import Fetcher
    from lti_tool.services.http_client import HttpClient
    from lti_tool.services.remote_issuers import fetch_allowance_for_tests
    from tests.support.issuing import publish
    from tests.support.other_issuers import Ob3Issuer, approved_equivalency, serve
    from tests.support.tracking_engine import Campus, record

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mc-bench-')}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as db:
        campus = Campus.create(db)
        version = publish(campus, "PYF", ("VAR",), credit_bearing=True, credit_value="1.50",
                          credit_system="College credits")
        campus.skill("DA1")
        data = campus.catalog.credential("DATA", LifecycleState.PUBLISHED, required=("DA1",),
                                         allowed_routes=["transfer"], credit_bearing=True,
                                         credit_value="3", credit_system="College credits")
        course = campus.course("BENCH-101", "for-credit")
        campus.offer(course, version)
        for n in range(args.n):
            learner = campus.learner(f"bench-{n}", course, email=f"learner{n}@example.edu",
                                     sourcedid=f"S{n:07d}")
            record(db, course, learner, campus.skill("VAR"))
        db.commit()
        issuer_id, credential_id = campus.issuer.id, data.credential_id
    print(f"setup: {args.n} awards in {time.perf_counter() - started:.1f} s "
          f"({engine.dialect.name})")

    submit_times: list[float] = []
    with serve() as site, Session(engine, expire_on_commit=False) as db:
        other = Ob3Issuer(site)
        approved_equivalency(db, other, issuer_id=issuer_id, credential_id=credential_id)
        db.commit()
        fetcher = Fetcher(HttpClient(timeout=5), fetch_allowance_for_tests(
            {"ENV": "test", "TEST_REMOTE_FETCH_ORIGINS": {site.origin: ""}}))
        campus = Campus(db, campus.lms, db.get(Issuer, issuer_id), campus.catalog)
        for n in range(args.transfers):
            email = f"learner{n}@example.edu"
            account = campus.learner(f"bench-{n}", course)
            payload = json.dumps(other.credential(email=email, index=n + 10)).encode()
            db.commit()
            t0 = time.perf_counter()
            request = transfer.submit(db, issuer_id=issuer_id, account=account, data=payload,
                                      by=transfer.Submitter(f"account:{account.id}", "L"),
                                      base_url=BASE, fetcher=fetcher)
            db.commit()
            submit_times.append(time.perf_counter() - t0)
            assert request.state == "accepted", request.reason
    print(f"submit         {_ms(submit_times)}   ({args.transfers} transfers)")

    with Session(engine, expire_on_commit=False) as db:
        issuer = db.get(Issuer, issuer_id)
        assert issuer is not None
        t0 = time.perf_counter()
        rows: list[registrar.AwardRow] = []
        after = 0
        while True:
            page = registrar.awards(db, issuer, after_id=after)
            rows += page
            if len(page) < registrar.MAX_PAGE:
                break
            after = page[-1].award_id
        body = registrar.csv_export(rows)
        export = time.perf_counter() - t0
        print(f"export         {len(rows)} awards, {len(body) // 1024} KiB CSV in "
              f"{export * 1000:.0f} ms")
        awards = list(db.scalars(select(Award).where(Award.issuer_id == issuer_id)
                                 .order_by(Award.id).limit(100)))
        page_times = []
        for _ in range(20):
            t0 = time.perf_counter()
            [row.as_json() for row in registrar.rows_for(db, issuer, awards)]
            page_times.append(time.perf_counter() - t0)
        print(f"api page       {_ms(page_times)}   (100 awards)")
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    engine.dispose()


if __name__ == "__main__":
    main()
