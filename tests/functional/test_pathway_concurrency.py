"""Exactly one program credential under real races (issue 12): for each learner, one
worker records the last skill of micro-credential A while another records the last skill
of B (both steps of a published pathway whose target is PROG), in committed transactions
on a database of their own (threads, then processes). Once both commit, the learner holds
A, B and exactly one PROG, awarded by one of the two (neither evaluation misses the other's
award: the person lock serialises them; and both cannot award: the partial unique index).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models import Award, MicroCredential
from lti_tool.services import catalog
from tests.functional.test_award_concurrency import (  # noqa: F401 - fixtures
    ROUNDS,
    RUNNERS,
    assert_no_errors,
    engine,
    race_url,
)
from tests.support.pathways import published_pathway


def _arena(db_engine):  # type: ignore[no-untyped-def]
    from tests.support.tracking_engine import Campus

    with Session(db_engine, expire_on_commit=False) as db:
        campus = Campus.create(db)
        for code, skill in (("A", "SA"), ("B", "SB"), ("PROG", "SP")):
            campus.credential(code, required=(skill,))
        published_pathway(db, campus.catalog, core=("A", "B"))
        course = campus.course(f"RACE-{uuid.uuid4().hex[:6]}", "continuing-ed")
        for code in ("A", "B"):
            campus.offer(course, catalog.published_version(db, campus.issuer.id, code))
        learners = [campus.learner(f"racer-{uuid.uuid4().hex[:8]}", course)
                    for _ in range(ROUNDS)]
        db.commit()
        prog = db.scalars(select(MicroCredential.id).where(
            MicroCredential.issuer_id == campus.issuer.id, MicroCredential.code == "PROG")
        ).one()
        return (course.id, {c: s.id for c, s in campus.skills.items()},
                [a.id for a in learners], [a.person_id for a in learners], prog)


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_two_last_steps_at_once_award_one_program_credential(engine, race_url,  # noqa: F811
                                                             runner):
    context_id, skills, accounts, persons, prog = _arena(engine)
    ops_a = [("record", context_id, a, skills["SA"]) for a in accounts]
    ops_b = [("record", context_id, a, skills["SB"]) for a in accounts]
    results = RUNNERS[runner](race_url, ops_a, ops_b)
    assert_no_errors(results, 2 * ROUNDS)
    with Session(engine) as db:
        rows = dict(db.execute(select(Award.person_id, func.count()).where(
            Award.person_id.in_(persons), Award.credential_id == prog,
            Award.route == "stacked").group_by(Award.person_id)).all())
        totals = dict(db.execute(select(Award.person_id, func.count()).where(
            Award.person_id.in_(persons)).group_by(Award.person_id)).all())
    assert rows == {p: 1 for p in persons}
    assert totals == {p: 3 for p in persons}  # A, B and PROG
