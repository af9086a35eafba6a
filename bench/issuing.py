"""Benchmark issuing through the service: what an award costs end to end.

    .venv/bin/python bench/issuing.py [--n 1000] [--database-url postgresql+psycopg://...]

On a fresh database (a temporary SQLite file unless --database-url names an EMPTY database
to migrate) with one issuer, one course and --n learners who each earned one credential,
it reports per credential (median and p95, ms):

* issue        services.issuing.issue_for_award + commit: read the award, snapshot,
               demonstrations and identity, allocate the status index (atomic UPDATE),
               build, sign eddsa-rdfc-2022, sign the VC-JWT, insert the record
* verify       services.issuing.verify_record: the full report with our own key and status
               list resolvers (context, JSON-LD, both 1EdTech schemas, proof, dates, status)
* issue+verify the pair (the issue's target for the library pair is <= 15 ms)

and the throughput of re-issuing all --n credentials (build + both signatures, no insert).
"""

from __future__ import annotations

import argparse
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
    return f"median {statistics.median(ordered) * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from lti_tool.badges import eddsa, jwt_vc, status_list
    from lti_tool.extensions import make_engine
    from lti_tool.models import Award
    from lti_tool.models.migrate import upgrade
    from lti_tool.services import issuer_keys, issuing
    from lti_tool.services.keys import KeyVault
    from tests.support.issuing import publish
    from tests.support.tracking_engine import Campus, record

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mc-bench-')}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    vault = KeyVault("bench-secret")

    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as db:
        campus = Campus.create(db)
        version = publish(campus, "PYF", ("VAR",), expiry_months=24, credit_bearing=True,
                          credit_value="1.50", credit_system="College credits")
        course = campus.course("BENCH-101", "for-credit")
        campus.offer(course, version)
        award_ids = []
        for n in range(args.n):
            learner = campus.learner(f"bench-{n}", course, email=f"learner{n}@example.edu")
            award_ids += [a.id for a in record(db, course, learner,
                                               campus.skill("VAR")).new_awards]
        db.commit()
    print(f"setup: {len(award_ids)} awards in {time.perf_counter() - started:.1f} s "
          f"({engine.dialect.name})")

    issue_times, verify_times, pair_times = [], [], []
    with Session(engine, expire_on_commit=False) as db:
        for award_id in award_ids:
            award = db.get(Award, award_id)
            assert award is not None
            t0 = time.perf_counter()
            record_row = issuing.issue_for_award(db, award, vault=vault, base_url=BASE)
            db.commit()
            t1 = time.perf_counter()
            report = issuing.verify_record(db, record_row, base_url=BASE)
            t2 = time.perf_counter()
            assert report.result == "valid", report.reason
            issue_times.append(t1 - t0)
            verify_times.append(t2 - t1)
            pair_times.append(t2 - t0)
    print(f"issue          {_ms(issue_times)}")
    print(f"verify         {_ms(verify_times)}")
    print(f"issue+verify   {_ms(pair_times)}")

    with Session(engine, expire_on_commit=False) as db:
        awards = [db.get(Award, i) for i in award_ids]
        issuer = db.get(type(campus.issuer), campus.issuer.id)
        assert issuer is not None
        key = issuer_keys.ensure_active_key(db, vault, issuer)
        private = issuer_keys.private_key(vault, key)
        vm = issuer_keys.verification_method(BASE, issuer, key)
        t0 = time.perf_counter()
        for index, award in enumerate(awards):
            assert award is not None
            entry = status_list.build_status_entry(f"{BASE}/issuers/x/status/1", index)
            unsigned = issuing.build_unsigned(db, award, issuer, base_url=BASE,
                                              status_entry=entry)
            eddsa.sign(unsigned, private, vm)
            jwt_vc.sign_jwt(unsigned, private, kid=vm)
        elapsed = time.perf_counter() - t0
    print(f"re-issue {len(awards)} credentials (build + eddsa + JWT): {elapsed:.2f} s, "
          f"{len(awards) / elapsed:.0f} credentials/s")
    engine.dispose()


if __name__ == "__main__":
    main()
