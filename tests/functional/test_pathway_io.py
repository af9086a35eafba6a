"""Pathways in the catalog's JSON export and import (issue 12): exported with every version
and review, imported into another issuer losslessly (steps and targets linked to that
issuer's credentials, the engine finds them), re-importing changes nothing, a bad pathway
is a problem with its location and nothing is applied, a published version cannot be
rewritten."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import func, select

from lti_tool.domain.catalog import LifecycleState
from lti_tool.models import Pathway, PathwayVersion
from lti_tool.services import pathways
from lti_tool.services.catalog_io import export_catalog, import_catalog
from tests.support.catalog import CatalogBuilder, actor, make_issuer
from tests.support.pathways import pathway_data, published_pathway


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    out.pop("exported_at")
    out.pop("issuer")
    return out


def _college(db) -> CatalogBuilder:
    b = CatalogBuilder(db)
    for code in ("A", "B", "C", "PROG"):
        b.skills(f"S{code}")
        b.credential(code, LifecycleState.PUBLISHED, required=(f"S{code}",))
    published_pathway(db, b, core=("A", "B"), choose=("C",), choose_min=1,
                      order=(("A", "B"),))
    pathways.create_pathway(db, b.author, pathway_data("DRAFT-PATH", core=("A",)))
    return b


def test_round_trip(app, db) -> None:
    b = _college(db)
    first = export_catalog(db, b.author)
    assert [p["code"] for p in first["pathways"]] == ["DRAFT-PATH", "PATH"]
    published = first["pathways"][1]["versions"][0]
    assert published["state"] == "published" and published["reviews"]
    assert published["content"]["groups"][1]["rule"] == "choose"
    target = make_issuer(db, "copy-college")
    importer = actor(target, "account:importer")
    report = import_catalog(db, importer, json.loads(json.dumps(first)))
    assert report.ok, report.problems
    assert report.counts["pathways_created"] == 2
    db.expire_all()
    second = export_catalog(db, importer)
    assert _comparable(second) == _comparable(first)
    copied = pathways.published_pathway(db, target.id, "PATH")
    assert copied is not None and copied.target_credential_id is not None
    # Linked to the copy's credentials (the engine's index), not the source's.
    assert {p.code for p in pathways.pathways_with_credential(
        db, target.id, [copied.target_credential_id])} == {"PATH"}
    again = import_catalog(db, importer, json.loads(json.dumps(first)))
    assert again.ok and again.counts["pathways_unchanged"] == 2
    assert again.counts["pathways_created"] == 0


def test_a_bad_pathway_is_a_problem_and_nothing_is_applied(app, db) -> None:
    b = _college(db)
    doc = export_catalog(db, b.author)
    bad = copy.deepcopy(doc)
    bad["pathways"][1]["versions"][0]["content"]["groups"][1]["minimum"] = "3"
    bad["pathways"][0]["versions"][0]["content"]["groups"][0]["steps"][0]["credential"] = "ZZ"
    target = make_issuer(db, "other-college")
    before = db.scalar(select(func.count()).select_from(Pathway))
    report = import_catalog(db, actor(target, "account:i"), bad)
    assert not report.ok
    where = {p["where"]: p["message"] for p in report.problems}
    assert where["pathways[1].versions[0].content.groups[1].minimum"] == \
        "asks for 3 of only 1 steps"
    assert where["pathways[0].versions[0].content.groups[0].steps[0].credential"] == \
        "no micro-credential ZZ in this catalog"
    assert db.scalar(select(func.count()).select_from(Pathway)) == before


def test_a_published_version_cannot_be_rewritten(app, db) -> None:
    b = _college(db)
    doc = export_catalog(db, b.author)
    doc["pathways"][1]["versions"][0]["content"]["title"] = "Something else"
    report = import_catalog(db, b.author, doc)
    assert not report.ok
    assert "never changes" in report.problems[0]["message"]
    db.expire_all()
    assert db.scalars(select(PathwayVersion.title).where(
        PathwayVersion.state == "published")).one() == "Pathway PATH"
