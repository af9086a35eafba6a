"""Exactly one award under real races: two threads, and separately two processes with their
own engines, record the final demonstration (or evaluate awards) for the same person at the
same moment, committing real transactions. The rolled-back-transaction fixture cannot show a
cross-connection race, so every test here works in a database of its own: on PostgreSQL one
created on TEST_DATABASE_URL's server (and dropped afterwards), on SQLite a fresh file.

SQLite serialises writers with a database lock; a transaction that read before another
writer committed is refused ("database is locked") rather than allowed to write on a stale
snapshot. The workers retry such a refusal in a new transaction, as a client would retry a
failed request; the assertion is the same on both databases: one Award row per person.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.errors import Conflict
from lti_tool.extensions import make_engine
from lti_tool.models import Award, Context, Demonstration, LearnerAccount, Skill
from lti_tool.models.base import utcnow
from lti_tool.services import tracking
from tests.support.race_db import own_database

ROUNDS = 8          # learners raced per test: each round is a fresh person
BARRIER_TIMEOUT = 60
ASSESSOR = tracking.Assessor(ref="account:race", name="Race Assessor", launch_id="race")


# -- a database of our own ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def race_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_database("race", tmp_path_factory.mktemp("race")) as url:
        yield url


@pytest.fixture(scope="module")
def engine(race_url: str) -> Iterator[Engine]:
    eng = make_engine(race_url)
    yield eng
    eng.dispose()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True)
class Arena:
    """A committed course offering PY (required VAR and LOOP), with ROUNDS learners."""

    context_id: int
    version_id: int
    credential_id: int
    skill_ids: dict[str, int]
    account_ids: list[int]
    person_ids: list[int]


def build_arena(engine: Engine, *, pre_pass: tuple[str, ...] = ()) -> Arena:
    from tests.support.tracking_engine import Campus, record

    with Session(engine, expire_on_commit=False) as db:
        campus = Campus.create(db)
        version = campus.credential("PY", required=("VAR", "LOOP"))
        course = campus.course(f"RACE-{uuid.uuid4().hex[:6]}", "for-credit")
        campus.offer(course, version)
        learners = [campus.learner(f"racer-{uuid.uuid4().hex[:8]}", course)
                    for _ in range(ROUNDS)]
        for account in learners:
            for code in pre_pass:
                record(db, course, account, campus.skill(code), assessor=ASSESSOR)
        db.commit()
        return Arena(course.id, version.id, version.credential_id,
                     {c: s.id for c, s in campus.skills.items()},
                     [a.id for a in learners], [a.person_id for a in learners])


def award_counts(engine: Engine, person_ids: list[int]) -> dict[int, int]:
    with Session(engine) as db:
        rows = db.execute(select(Award.person_id, func.count()).where(
            Award.person_id.in_(person_ids)).group_by(Award.person_id)).all()
    counts = {p: 0 for p in person_ids}
    counts.update(dict(rows))
    return counts


# -- the racing worker (module level: spawned processes import it) ---------------------------------
def _run_op(session: Session, op: tuple[Any, ...]) -> list[int]:
    kind = op[0]
    if kind == "record":
        _, context_id, account_id, skill_id = op
        context = session.get(Context, context_id)
        account = session.get(LearnerAccount, account_id)
        skill = session.get(Skill, skill_id)
        assert context and account and skill
        result = tracking.record_demonstration(
            session, context=context, account=account, skill=skill, outcome="pass",
            method="observation", assessor=ASSESSOR,
            demonstrated_at=utcnow() - timedelta(seconds=1))
        return [a.id for a in result.new_awards]
    if kind == "evaluate":
        _, context_id, person_id = op
        context = session.get(Context, context_id)
        assert context
        return [a.id for a in tracking.evaluate_awards(session, person_id=person_id,
                                                       context=context)]
    if kind == "correct":
        _, context_id, account_id, skill_id, demo_id = op
        context = session.get(Context, context_id)
        account = session.get(LearnerAccount, account_id)
        skill = session.get(Skill, skill_id)
        assert context and account and skill
        try:
            tracking.record_demonstration(
                session, context=context, account=account, skill=skill, outcome="fail",
                method="observation", assessor=ASSESSOR, supersedes_id=demo_id,
                reason="Raced correction")
        except Conflict:
            return [-1]
        return [0]
    raise AssertionError(kind)


def race_worker(url: str, ops: list[tuple[Any, ...]], barrier: Any,
                results: Any) -> None:
    """For each round: wait at the barrier, run the op in a new transaction, commit, report
    (round, award ids, retries, error)."""
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        for round_no, op in enumerate(ops):
            barrier.wait(timeout=BARRIER_TIMEOUT)
            retries, error, awards = 0, None, []
            while True:
                session = factory()
                try:
                    awards = _run_op(session, op)
                    session.commit()
                    break
                except OperationalError as exc:  # SQLite: "database is locked" → retry
                    session.rollback()
                    if not is_sqlite(url) or retries >= 20:
                        error = repr(exc)
                        break
                    retries += 1
                    time.sleep(0.01 * retries)
                except Exception:
                    session.rollback()
                    error = traceback.format_exc()
                    break
                finally:
                    session.close()
            results.put((round_no, awards, retries, error))
    finally:
        engine.dispose()


def run_threads(url: str, ops_a: list[Any], ops_b: list[Any]) -> list[tuple[Any, ...]]:
    barrier = threading.Barrier(2)
    results: queue.Queue[tuple[Any, ...]] = queue.Queue()
    threads = [threading.Thread(target=race_worker, args=(url, ops, barrier, results))
               for ops in (ops_a, ops_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
        assert not t.is_alive(), "a racing thread hung"
    return [results.get_nowait() for _ in range(results.qsize())]


def run_processes(url: str, ops_a: list[Any], ops_b: list[Any]) -> list[tuple[Any, ...]]:
    ctx = mp.get_context("spawn")  # fresh interpreters: no engine or lock crosses a fork
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=race_worker, args=(url, ops, barrier, results))
             for ops in (ops_a, ops_b)]
    for p in procs:
        p.start()
    collected = []
    deadline = time.monotonic() + 240
    while len(collected) < len(ops_a) + len(ops_b) and time.monotonic() < deadline:
        try:
            collected.append(results.get(timeout=5))
        except queue.Empty:  # keep waiting until the deadline
            if not any(p.is_alive() for p in procs):
                break
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.terminate()
    for p in procs:
        assert p.exitcode == 0, f"racing process exited with {p.exitcode}"
    return collected


def assert_no_errors(results: list[tuple[Any, ...]], expected: int) -> None:
    errors = [r[3] for r in results if r[3]]
    assert not errors, errors[0]
    assert len(results) == expected


def new_awards_per_round(results: list[tuple[Any, ...]]) -> dict[int, list[int]]:
    per_round: dict[int, list[int]] = {}
    for round_no, awards, _retries, _error in results:
        per_round.setdefault(round_no, []).extend(awards)
    return per_round


RUNNERS = {"threads": run_threads, "processes": run_processes}


# -- races ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_racing_to_record_the_same_final_skill_creates_one_award(engine, race_url, runner):
    """Both workers record LOOP (VAR already passed) for the same learner at once: the
    double submit of the final demonstration."""
    arena = build_arena(engine, pre_pass=("VAR",))
    ops = [("record", arena.context_id, account, arena.skill_ids["LOOP"])
           for account in arena.account_ids]
    results = RUNNERS[runner](race_url, ops, ops)
    assert_no_errors(results, 2 * ROUNDS)
    assert award_counts(engine, arena.person_ids) == {p: 1 for p in arena.person_ids}
    # The workers agree: exactly one of them reports creating it.
    assert all(len(ids) == 1 for ids in new_awards_per_round(results).values())
    with Session(engine) as db:  # both demonstrations are kept (append-only)
        assert db.scalar(select(func.count()).select_from(Demonstration).where(
            Demonstration.context_id == arena.context_id)) == 3 * ROUNDS


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_racing_to_record_the_two_last_skills_creates_one_award(engine, race_url, runner):
    """One worker records VAR while the other records LOOP for the same learner: once both
    are committed the learner holds exactly one award (neither evaluation may miss the
    other's demonstration, and both may not award)."""
    arena = build_arena(engine)
    ops_a = [("record", arena.context_id, a, arena.skill_ids["VAR"])
             for a in arena.account_ids]
    ops_b = [("record", arena.context_id, a, arena.skill_ids["LOOP"])
             for a in arena.account_ids]
    results = RUNNERS[runner](race_url, ops_a, ops_b)
    assert_no_errors(results, 2 * ROUNDS)
    assert award_counts(engine, arena.person_ids) == {p: 1 for p in arena.person_ids}


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_racing_evaluations_create_one_award(engine, race_url, runner):
    """Two workers (a web request and a background job, say) evaluate the same learner."""
    arena = build_arena(engine, pre_pass=("VAR", "LOOP"))
    with Session(engine) as db:  # pre_pass already awarded; start from no award
        db.execute(Award.__table__.delete().where(Award.person_id.in_(arena.person_ids)))
        db.commit()
    ops = [("evaluate", arena.context_id, p) for p in arena.person_ids]
    results = RUNNERS[runner](race_url, ops, ops)
    assert_no_errors(results, 2 * ROUNDS)
    assert award_counts(engine, arena.person_ids) == {p: 1 for p in arena.person_ids}
    assert all(len(ids) == 1 for ids in new_awards_per_round(results).values())


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_racing_to_earn_a_revoked_credential_again_creates_one_new_award(engine, race_url,
                                                                         runner):
    """Each learner's award was revoked; both workers record a new LOOP pass at once: one
    new standing award per learner (the partial unique index decides), the revoked one
    kept."""
    arena = build_arena(engine, pre_pass=("VAR", "LOOP"))
    with Session(engine) as db:
        for award in db.scalars(select(Award).where(Award.person_id.in_(arena.person_ids))):
            tracking.revoke_award(db, award, reason="Revoked before the race.", by=ASSESSOR)
        db.commit()
    ops = [("record", arena.context_id, account, arena.skill_ids["LOOP"])
           for account in arena.account_ids]
    results = RUNNERS[runner](race_url, ops, ops)
    assert_no_errors(results, 2 * ROUNDS)
    assert award_counts(engine, arena.person_ids) == {p: 2 for p in arena.person_ids}
    assert all(len(ids) == 1 for ids in new_awards_per_round(results).values())
    with Session(engine) as db:
        statuses = db.execute(select(Award.status, func.count()).where(
            Award.person_id.in_(arena.person_ids)).group_by(Award.status)).all()
    assert dict(statuses) == {"revoked": ROUNDS, "active": ROUNDS}


def test_racing_corrections_of_one_record_keep_one(engine, race_url):
    """Two assessors correct the same record at once: one correction wins, the other is
    told it was already corrected; the record is superseded once."""
    arena = build_arena(engine, pre_pass=("VAR",))
    with Session(engine) as db:
        demos = dict(db.execute(select(Demonstration.account_id, Demonstration.id).where(
            Demonstration.context_id == arena.context_id)).all())
    ops = [("correct", arena.context_id, a, arena.skill_ids["VAR"], demos[a])
           for a in arena.account_ids]
    results = run_threads(race_url, ops, ops)
    assert_no_errors(results, 2 * ROUNDS)
    for outcomes in new_awards_per_round(results).values():
        assert sorted(outcomes) == [-1, 0], "one correction applies, the other is refused"
    with Session(engine) as db:
        for demo_id in demos.values():
            assert db.scalar(select(func.count()).select_from(Demonstration).where(
                Demonstration.supersedes_id == demo_id)) == 1


def test_loser_of_an_interleaved_race_reads_the_winners_award(engine, race_url):
    """A fixed interleaving on PostgreSQL: worker 1 has inserted the award but not committed;
    worker 2 records and evaluates, waits for worker 1 (the person lock, or else the unique
    key), and once worker 1 commits gets no award and no error."""
    if is_sqlite(race_url):
        pytest.skip("SQLite has one writer at a time: worker 2 cannot reach the award "
                    "INSERT while worker 1 holds the write lock, so this interleaving "
                    "cannot happen there (the retry race tests cover SQLite)")
    arena = build_arena(engine, pre_pass=("VAR",))
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    account, person = arena.account_ids[0], arena.person_ids[0]
    first_inserted, release_first = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        with factory() as session:
            outcome["first"] = _run_op(session, ("record", arena.context_id, account,
                                                 arena.skill_ids["LOOP"]))
            first_inserted.set()
            release_first.wait(timeout=30)
            session.commit()

    def second() -> None:
        first_inserted.wait(timeout=30)
        with factory() as session:
            outcome["second"] = _run_op(session, ("record", arena.context_id, account,
                                                  arena.skill_ids["LOOP"]))
            session.commit()

    t1, t2 = threading.Thread(target=first), threading.Thread(target=second)
    t1.start()
    t2.start()
    first_inserted.wait(timeout=30)
    time.sleep(0.5)
    assert t2.is_alive(), "worker 2 should be waiting on worker 1's uncommitted award"
    release_first.set()
    t1.join(timeout=30)
    t2.join(timeout=30)
    assert len(outcome["first"]) == 1 and outcome["second"] == []
    assert award_counts(engine, [person]) == {person: 1}


def test_double_submit_of_the_same_request_creates_one_award(engine, race_url):
    """The same form posted twice, one after the other."""
    arena = build_arena(engine, pre_pass=("VAR",))
    op = ("record", arena.context_id, arena.account_ids[0], arena.skill_ids["LOOP"])
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    created = []
    for _ in range(2):
        with factory() as session:
            created.append(_run_op(session, op))
            session.commit()
    assert [len(c) for c in created] == [1, 0]
    assert award_counts(engine, arena.person_ids[:1]) == {arena.person_ids[0]: 1}


def test_the_race_database_is_our_own(race_url):
    """Guard: these tests never touch the shared test database."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base:
        assert make_url(race_url).database != make_url(base).database
    else:
        assert Path(make_url(race_url).database or "").name == "race.sqlite3"
