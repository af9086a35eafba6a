"""What "Where your skills lead" costs on a learner's page, and the design aid on the
admin page, for a large institution.

    .venv/bin/python bench/occupations.py [--rounds 30] [--pg]

The institution: 1,000 skills (each aligned to one framework item), 300 micro-credentials
(200 published, 100 drafts; 8 skills each) and 200 occupations of 12 required skills
(half linked by code, half by framework item, a quarter gaps). The learner has 60 current
passes (and 20 passes corrected to fails). Measures ``learner_outlook`` (what the learner
page adds) and ``design_aid`` for one occupation, median / p90 over the rounds, with the
CPU time of this process; prints the load average. SQLite in a temporary file by default;
``--pg`` uses a fresh PostgreSQL database ``microcred_bench_occupations`` on
BENCH_PG_SERVER (dropped at the end).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DB_NAME = "microcred_bench_occupations"
SKILLS, CREDENTIALS, OCCUPATIONS, REQUIREMENTS = 1000, 300, 200, 12


def _engine(pg: bool, tmp: str) -> Any:
    from sqlalchemy import create_engine, text

    if not pg:
        return create_engine(f"sqlite:///{tmp}/bench.sqlite3")
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME}"))
        conn.execute(text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()
    return create_engine(f"{PG_SERVER}/{DB_NAME}")


def _seed(session: Any) -> tuple[int, int, int]:
    from sqlalchemy import insert

    from lti_tool.domain.catalog import Scope
    from lti_tool.models import (
        CredentialSkill,
        CredentialVersion,
        Demonstration,
        Issuer,
        MicroCredential,
        Occupation,
        OccupationSkill,
        Person,
        Skill,
    )
    from lti_tool.models.base import utcnow
    from lti_tool.services.catalog import Actor

    now = utcnow()
    issuer = Issuer(slug="bench", name="Bench College", url="https://bench.example",
                    email="r@bench.example", languages=["en", "fr"], settings={})
    session.add(issuer)
    session.flush()
    item = "http://data.europa.eu/esco/skill/bench-{}".format
    skill_ids = list(session.scalars(insert(Skill).returning(Skill.id), [
        {"issuer_id": issuer.id, "code": f"S{i}", "name": f"Skill {i}", "description": "",
         "criteria": "", "tags": [], "alignments": [
             {"framework": "ESCO", "target_url": item(i), "target_type": "ESCO"}],
         "row_version": 1, "created_at": now, "updated_at": now} for i in range(SKILLS)]))
    credential_ids = list(session.scalars(insert(MicroCredential).returning(
        MicroCredential.id), [{"issuer_id": issuer.id, "code": f"C{i}", "created_at": now}
                              for i in range(CREDENTIALS)]))
    version_ids = list(session.scalars(insert(CredentialVersion).returning(
        CredentialVersion.id), [
        {"credential_id": cid, "version": 1, "state": "published" if i < 200 else "draft",
         "title": f"Credential {i}", "short_description": "", "notional_hours": 10,
         "credit_bearing": False, "field_of_study": "", "content": {"x": "y" * 2000},
         "author_ref": "bench", "author_name": "", "contributors": [], "row_version": 1,
         "created_at": now, "updated_at": now} for i, cid in enumerate(credential_ids)]))
    session.execute(insert(CredentialSkill), [
        {"version_id": vid, "skill_id": skill_ids[(i * 8 + k) % SKILLS],
         "requirement": "required" if k < 6 else "optional", "position": k}
        for i, vid in enumerate(version_ids) for k in range(8)])
    occupation_ids = list(session.scalars(insert(Occupation).returning(Occupation.id), [
        {"issuer_id": issuer.id, "code": f"NOC-{10000 + i}", "noc_code": str(10000 + i),
         "esco_uri": "", "title": f"Occupation {i}", "description": "", "translations": {},
         "source": "bench", "mapping_note": "bench", "row_version": 1, "created_at": now,
         "updated_at": now} for i in range(OCCUPATIONS)]))
    rows = []
    for i, oid in enumerate(occupation_ids):
        for k in range(REQUIREMENTS):
            target = (i * 37 + k * 11) % (SKILLS + SKILLS // 3)  # a quarter: no such skill
            linked = k % 2 == 0 and target < SKILLS
            rows.append({"occupation_id": oid, "position": k, "name": f"Need {i}.{k}",
                         "translations": {}, "importance": "essential" if k < 9 else
                         "optional", "skill_id": skill_ids[target] if linked else None,
                         "framework_url": "" if linked else item(target)})
    session.execute(insert(OccupationSkill), rows)
    person = Person(display_name="Bench Learner")
    session.add(person)
    session.flush()
    passes = [{"person_id": person.id, "skill_id": skill_ids[(j * 13) % SKILLS],
               "outcome": "pass", "method": "observation", "assessor_ref": "bench",
               "demonstrated_at": now, "recorded_at": now} for j in range(80)]
    ids = list(session.scalars(insert(Demonstration).returning(Demonstration.id), passes))
    session.execute(insert(Demonstration), [
        {**passes[j], "outcome": "fail", "supersedes_id": ids[j], "reason": "corrected"}
        for j in range(20)])
    session.commit()
    Actor("bench", "bench", issuer.id, frozenset(Scope))
    return issuer.id, person.id, occupation_ids[0]


def _time(fn: Any, rounds: int) -> tuple[float, float, float]:
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    return statistics.median(walls), walls[int(len(walls) * 0.9) - 1], statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    from sqlalchemy.orm import sessionmaker

    from lti_tool.domain.catalog import Scope
    from lti_tool.models.migrate import upgrade
    from lti_tool.services import occupations
    from lti_tool.services.catalog import Actor

    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(args.pg, tmp)
        try:
            upgrade(engine)
            make = sessionmaker(bind=engine, expire_on_commit=False)
            with make() as session:
                issuer_id, person_id, occupation_id = _seed(session)
            actor = Actor("bench", "bench", issuer_id, frozenset(Scope))
            with make() as session:
                found = occupations.learner_outlook(session, person_id=person_id,
                                                    issuer_id=issuer_id)
                assert found, "the learner's skills lead nowhere: the data is wrong"
                print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
                      f"{os.cpu_count()} CPUs; {engine.dialect.name}; {args.rounds} rounds")
                print(f"{SKILLS} skills, {CREDENTIALS} credentials, {OCCUPATIONS} occupations "
                      f"x {REQUIREMENTS} required skills; outlook finds {len(found)} (top 5)")
                for name, fn in (
                        ("learner_outlook (learner page)",
                         lambda: occupations.learner_outlook(
                             session, person_id=person_id, issuer_id=issuer_id)),
                        ("design_aid (one occupation)",
                         lambda: occupations.design_aid(session, actor, occupation_id))):
                    med, p90, cpu = _time(lambda fn=fn: (fn(), session.expire_all()),
                                          args.rounds)
                    print(f"{name:<34} median {med:7.1f} ms  p90 {p90:7.1f} ms  "
                          f"cpu {cpu:7.1f} ms")
        finally:
            engine.dispose()
            if args.pg:
                from sqlalchemy import create_engine, text

                admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME}"))
                admin.dispose()


if __name__ == "__main__":
    main()
