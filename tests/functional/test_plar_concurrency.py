"""Two assessors acting on one PLAR request at the same moment, on a database of its own
with real commits from two connections (PostgreSQL with TEST_DATABASE_URL, else SQLite):
both read the request, one decides and commits, then the other's decision (the same skill,
or another one) is refused as stale (409) instead of overwriting it, and exactly one
demonstration and one award exist."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lti_tool.extensions import make_engine
from lti_tool.models import Award, Demonstration, PlarRequest
from lti_tool.services import plar as plar_service
from tests.support.race_db import own_database


@pytest.fixture(scope="module")
def race_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_database("plar", tmp_path_factory.mktemp("plar-race")) as url:
        yield url


@pytest.fixture(scope="module")
def engine(race_url: str) -> Iterator[Engine]:
    eng = make_engine(race_url)
    yield eng
    eng.dispose()


def _actor(account) -> plar_service.PlarActor:  # type: ignore[no-untyped-def]
    return plar_service.PlarActor(account_id=account.id, person_id=account.person_id,
                                  platform_id=account.platform_id, sub=account.sub,
                                  name=account.name)


def _arena(engine: Engine) -> dict[str, int]:
    """A PLAR shell, a one-skill credential allowing PLAR, a learner's request in
    assessment, two assessors."""
    from tests.support.tracking_engine import Campus

    with Session(engine, expire_on_commit=False) as db:
        campus = Campus.create(db)
        version = campus.credential("ONE", required=("VAR", "LOOP"),
                                    routes=("stand_alone", "plar"))
        shell = campus.course(f"PLAR-{uuid.uuid4().hex[:6]}", "continuing-ed")
        learner = campus.learner(f"l-{uuid.uuid4().hex[:6]}", shell)
        first = campus.learner(f"a-{uuid.uuid4().hex[:6]}", shell)
        second = campus.learner(f"b-{uuid.uuid4().hex[:6]}", shell)
        for account in (first, second):
            plar_service.grant_assessor(db, issuer_id=campus.issuer.id,
                                        credential_id=version.credential_id, account=account,
                                        by=None)
        request = plar_service.submit(
            db, issuer=campus.issuer, context=shell, learner=_actor(learner),
            code=version.credential.code,
            narratives={campus.skill("VAR").id: "Years of it.",
                        campus.skill("LOOP").id: "Years of it too."},
            given=plar_service.EvidenceInput())
        plar_service.start_assessment(db, request, _actor(first))
        db.commit()
        return {"request": request.id, "issuer": campus.issuer.id, "first": first.id,
                "second": second.id, "var": campus.skill("VAR").id,
                "loop": campus.skill("LOOP").id}


@pytest.mark.parametrize("second_skill", ["var", "loop"])
def test_a_concurrent_decision_is_refused_not_overwritten(base_app, engine, race_url,
                                                          second_skill):
    from lti_tool.models import LearnerAccount

    if race_url.startswith("sqlite"):
        pytest.skip("SQLite serialises transactions (BEGIN IMMEDIATE): the second assessor's "
                    "read waits for the first one's commit, then sees the decision (the "
                    "sequential case, test_plar.py), so this interleaving cannot happen there")

    with base_app.app_context():  # messages and e-mails are translated: Babel needs it
        arena = _arena(engine)
    with base_app.app_context(), Session(engine) as one, Session(engine) as two:
        first = _actor(one.get(LearnerAccount, arena["first"]))
        second = _actor(two.get(LearnerAccount, arena["second"]))
        req_one = plar_service.assessor_request(one, first, arena["issuer"], arena["request"])
        req_two = plar_service.assessor_request(two, second, arena["issuer"], arena["request"])
        assert [s.decision for s in req_two.skills] == ["", ""]  # both have read it
        plar_service.decide_skill(one, req_one, first, skill_id=arena["var"],
                                  decision="demonstrated", method="portfolio_review",
                                  rationale="Clear portfolio.")
        one.commit()
        with pytest.raises(StaleDataError):
            plar_service.decide_skill(two, req_two, second, skill_id=arena[second_skill],
                                      decision="not_yet", method="interview",
                                      rationale="Written at the same moment.")
            two.commit()
        two.rollback()
    with Session(engine) as db:
        request = db.get(PlarRequest, arena["request"])
        decisions = {s.skill_id: s.decision for s in request.skills}
        assert decisions == {arena["var"]: "demonstrated", arena["loop"]: ""}
        assert db.scalar(select(func.count()).select_from(Demonstration).where(
            Demonstration.person_id == request.person_id)) == 1
        assert db.scalar(select(func.count()).select_from(Award).where(
            Award.person_id == request.person_id)) == 0


def test_two_open_requests_for_one_credential_cannot_both_be_stored(base_app, engine):
    """The check in ``submit`` reads before it writes; two submits racing past it both
    insert, and the partial unique index on open requests refuses the second (submit turns
    that into 409 request_open). A decided or withdrawn one does not count."""
    from sqlalchemy.exc import IntegrityError

    with base_app.app_context():
        arena = _arena(engine)
    with Session(engine) as db:
        first = db.get(PlarRequest, arena["request"])
        twin = PlarRequest(**{c.key: getattr(first, c.key) for c in PlarRequest.__table__.c
                              if c.key not in ("id", "row_version")})
        db.add(twin)
        with pytest.raises(IntegrityError):
            db.flush()
        db.rollback()
        first = db.get(PlarRequest, arena["request"])
        first.state = "withdrawn"
        db.flush()
        twin = PlarRequest(**{c.key: getattr(first, c.key) for c in PlarRequest.__table__.c
                              if c.key not in ("id", "row_version")})
        twin.state = "submitted"
        db.add(twin)
        db.flush()  # allowed: the earlier one is closed
        db.rollback()
