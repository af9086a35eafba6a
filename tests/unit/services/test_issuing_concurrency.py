"""Status-list indexes under real races: two threads, each with its own connection,
issue credentials at the same moment and commit real transactions. The rolled-back-
transaction fixture cannot show a cross-connection race, so this module works in a
database of its own (PostgreSQL: created on TEST_DATABASE_URL's server and dropped
afterwards; SQLite: a fresh file).

SQLite refuses a second concurrent writer ("database is locked") instead of waiting for a
row lock; the workers retry in a new transaction, as a client retries a failed request.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.extensions import make_engine
from lti_tool.models import Award, CredentialRecord
from lti_tool.services import issuing
from lti_tool.services.keys import KeyVault
from tests.support.issuing import BASE, earn
from tests.support.race_db import own_database

AWARDS = 12
VAULT = KeyVault("race-secret")


@pytest.fixture(scope="module")
def race_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_database("issue_race", tmp_path_factory.mktemp('issue-race')) as url:
        yield url


@pytest.fixture(scope="module")
def engine(race_url: str) -> Iterator[Engine]:
    eng = make_engine(race_url)
    yield eng
    eng.dispose()


def committed_awards(engine: Engine) -> list[int]:
    """AWARDS awards of one issuer, committed, none issued yet."""
    with Session(engine, expire_on_commit=False) as db:
        first = earn(db, email="racer-0@example.edu")
        ids = [first.award.id]
        for n in range(1, AWARDS):
            ids.append(earn(db, campus=first.campus, email=f"racer-{n}@example.edu").award.id)
        db.commit()
        return ids


def worker(engine: Engine, award_ids: list[int], barrier: threading.Barrier,
           results: queue.Queue[tuple[int, int | None, str | None]]) -> None:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    barrier.wait(timeout=60)
    for award_id in award_ids:
        error, record_id, retries = None, None, 0
        while True:
            session = factory()
            try:
                award = session.get(Award, award_id)
                assert award is not None
                record_id = issuing.issue_for_award(session, award, vault=VAULT,
                                                    base_url=BASE).id
                session.commit()
                break
            except OperationalError as exc:  # SQLite: "database is locked" -> retry
                session.rollback()
                if not str(engine.url).startswith("sqlite") or retries >= 50:
                    error = repr(exc)
                    break
                retries += 1
                time.sleep(0.005 * retries)
            except Exception:
                session.rollback()
                error = traceback.format_exc()
                break
            finally:
                session.close()
        results.put((award_id, record_id, error))


def race(engine: Engine, ids_a: list[int], ids_b: list[int]) -> list[tuple[Any, ...]]:
    barrier = threading.Barrier(2)
    results: queue.Queue[tuple[int, int | None, str | None]] = queue.Queue()
    threads = [threading.Thread(target=worker, args=(engine, ids, barrier, results))
               for ids in (ids_a, ids_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
        assert not t.is_alive(), "a racing thread hung"
    collected = [results.get_nowait() for _ in range(results.qsize())]
    errors = [r[2] for r in collected if r[2]]
    assert not errors, errors[0]
    return collected


def records(engine: Engine, award_ids: list[int]) -> list[CredentialRecord]:
    with Session(engine) as db:
        return list(db.scalars(select(CredentialRecord).where(
            CredentialRecord.award_id.in_(award_ids))))


def test_two_threads_issuing_different_awards_never_share_an_index(engine):
    ids = committed_awards(engine)
    race(engine, ids[0::2], ids[1::2])
    issued = records(engine, ids)
    assert len(issued) == AWARDS
    slots = {(r.status_list_id, r.status_list_index) for r in issued}
    assert len(slots) == AWARDS
    assert {r.status_list_index for r in issued} == set(range(AWARDS))


def test_two_threads_issuing_the_same_awards_make_one_credential_each(engine):
    ids = committed_awards(engine)
    results = race(engine, ids, list(reversed(ids)))
    issued = records(engine, ids)
    assert len(issued) == AWARDS  # one record per award
    by_award = {}
    for award_id, record_id, _error in results:
        by_award.setdefault(award_id, set()).add(record_id)
    assert all(len(found) == 1 for found in by_award.values())  # both saw the same record
    assert len({(r.status_list_id, r.status_list_index) for r in issued}) == AWARDS
    with Session(engine) as db:
        record = db.get(CredentialRecord, issued[0].id)
        assert record is not None
        assert issuing.verify_record(db, record, base_url=BASE).result == "valid"
