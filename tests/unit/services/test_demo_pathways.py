"""The demo pathways (issue 12): the care ladder into a certificate, the Python pathway into
Applied Python (version 2 of Python Programming Fundamentals counts) and the broad-area
leadership certificate, published through the services with their French titles; version 1
of Fundamentals does not count; seeding again changes nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.domain.pathways import Holding, evaluate
from lti_tool.models import Pathway, PathwayVersion
from lti_tool.services import pathways
from lti_tool.services.demo import seed_demo


def _seed(app: Flask, db: Session):  # type: ignore[no-untyped-def]
    rt = app.extensions["lti"]
    return seed_demo(db, rt.vault, rt.base_url)


def test_demo_pathways_are_published_with_french_titles(app: Flask, db: Session) -> None:
    result = _seed(app, db)
    assert sorted(result.pathways_created) == ["LEAD-PATH", "PSW-PATH", "PY-PATH"]
    published = {p.code: p for p in pathways.published_pathways(db, result.issuer.id)}
    assert set(published) == {"LEAD-PATH", "PSW-PATH", "PY-PATH"}
    psw = published["PSW-PATH"].spec
    assert psw.external is not None and "Ontario College Certificate" in psw.external.name
    assert [s.articulation.courses[0].code for s in psw.steps] == [
        "PSW-1010", "PSW-1020", "PSW-1040", "PSW-1050"]
    assert psw.translations["fr"]["title"].startswith("Parcours de microcertifications")
    py = published["PY-PATH"].spec
    assert py.target_credential == "APPLIED-PY"
    assert py.groups[0].steps[0].versions == (2,)
    assert [g.rule.value for g in py.groups] == ["all", "choose"]
    lead = published["LEAD-PATH"].spec
    assert [g.rule.value for g in lead.groups] == ["choose", "hours"]
    assert {s.credential for s in lead.steps} >= {"COMM-PRES", "FAC-MEET", "HR-CONFLICT"}
    # A learner with Fundamentals v1 does not complete it; with v2 and two applications does.
    assert not evaluate(py, {"PYFUND": Holding(1), "PY-DATA": Holding(1),
                             "PY-WEB": Holding(1)}).complete
    assert evaluate(py, {"PYFUND": Holding(2), "PY-DATA": Holding(1),
                         "PY-WEB": Holding(1)}).complete


def test_seeding_again_changes_nothing(app: Flask, db: Session) -> None:
    _seed(app, db)
    before = db.scalar(select(func.count()).select_from(PathwayVersion))
    again = _seed(app, db)
    assert again.pathways_created == [] and not again.changed
    assert db.scalar(select(func.count()).select_from(PathwayVersion)) == before
    assert db.scalar(select(func.count()).select_from(Pathway)) == 3
