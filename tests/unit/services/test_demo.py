"""The demo catalog: realistic, at every lifecycle state the demo needs, built through the
real services, and idempotent."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import DEFAULT_RUBRIC
from lti_tool.models import Issuer, IssuerPlatform, MicroCredential
from lti_tool.sandbox.platform import ensure_platform
from lti_tool.services import catalog
from lti_tool.services.demo import DEMO_SLUG, SKILLS, seed_demo
from tests.support.catalog import catalog_counts, make_issuer


def _seed(app: Flask, db: Session) -> Any:
    rt = app.extensions["lti"]
    return seed_demo(db, rt.vault, rt.base_url)


def _history(db: Session, issuer: Issuer, code: str) -> list[tuple[int, str]]:
    credential = db.scalars(select(MicroCredential).where(
        MicroCredential.issuer_id == issuer.id, MicroCredential.code == code)).one()
    return [(v.version, v.state) for v in credential.versions]


def test_demo_catalog_has_each_entry_at_its_state(app: Flask, db: Session) -> None:
    result = _seed(app, db)
    issuer = result.issuer
    assert issuer.slug == DEMO_SLUG
    assert issuer.name == "Lakeshore College of Applied Arts and Technology"
    assert issuer.url.startswith("https://") and issuer.languages == ["en", "fr"]
    assert _history(db, issuer, "PYFUND") == [(1, "retired"), (2, "published")]
    assert _history(db, issuer, "CODEMATH") == [(1, "in_review")]
    assert _history(db, issuer, "SHEETS") == [(1, "approved")]
    assert _history(db, issuer, "PSW-TRANSFER") == [(1, "draft")]
    assert sorted(result.credentials_created) == ["CODEMATH", "PSW-TRANSFER", "PYFUND",
                                                  "SHEETS"]


def test_python_fundamentals_is_published_after_an_independent_full_review(
        app: Flask, db: Session) -> None:
    issuer = _seed(app, db).issuer
    v2 = catalog.published_version(db, issuer.id, "PYFUND")
    view = catalog.learner_view(v2)
    assert view["title"] == "Python Programming Fundamentals"
    assert [s["name"] for s in view["skills"]] == [
        "Variables and data types", "Control flow", "Functions", "Debugging",
        "Version control basics"]
    assert {s["requirement"] for s in view["skills"]} == {"required"}
    assert view["credit_bearing"] and view["notional_hours"] == "30.0"
    assert view["allowed_routes"] == ["integrated", "stand_alone", "plar"]
    (review,) = v2.reviews
    assert review.decision == "approve" and review.reviewer_ref != v2.author_ref
    assert review.reviewer_ref not in v2.contributors
    assert [s["criterion"] for s in review.scores] == [c.key for c in DEFAULT_RUBRIC]
    assert v2.published_at > v2.approved_at > v2.submitted_at > v2.created_at
    v1 = v2.credential.versions[0]
    assert v1.retired_at == v2.published_at
    assert "VCS-BASICS" not in catalog.learner_view(v1)["required_skills"]


def test_coding_for_teachers_is_in_review_after_a_request_for_changes(
        app: Flask, db: Session) -> None:
    issuer = _seed(app, db).issuer
    version = catalog.list_credentials(
        db, catalog.Actor("t", "t", issuer.id, frozenset(catalog.Scope)), q="Elementary"
    ).items[0]
    data = catalog.input_of(version)
    assert data["required_skills"] == ["EDU-BLOCK", "EDU-CTMATH"]
    assert len(data["optional_skills"]) == 3 and data["optional_min"] == 2
    assert [r.decision for r in version.reviews] == ["request_changes"]
    assert version.reviews[0].comment


def test_skills_align_to_real_looking_framework_uris(app: Flask, db: Session) -> None:
    issuer = _seed(app, db).issuer
    urls = [a["target_url"] for s in SKILLS for a in s["alignments"]]
    assert any(u.startswith("http://data.europa.eu/esco/skill/") for u in urls)
    assert any(u.startswith("https://case.lakeshore.example/uri/") for u in urls)
    assert all(u.startswith(("http://", "https://")) for u in urls)
    assert catalog.skill_by_code(db, issuer.id, "PY-DEBUG") is not None


def test_seeding_twice_changes_nothing(app: Flask, db: Session) -> None:
    _seed(app, db)
    before = catalog_counts(db)
    again = _seed(app, db)
    assert not again.changed
    assert catalog_counts(db) == before


def test_seeding_tops_up_what_an_operator_removed_and_keeps_their_edits(
        app: Flask, db: Session) -> None:
    issuer = _seed(app, db).issuer
    admin = catalog.Actor("op", "Operator", issuer.id, frozenset(catalog.Scope))
    psw = catalog.list_credentials(db, admin, state="draft").items[0]
    db.delete(psw.credential)
    skill = catalog.skill_by_code(db, issuer.id, "SS-CHARTS")
    skill.name = "Charts, renamed by the college"
    db.flush()
    result = _seed(app, db)
    assert result.credentials_created == ["PSW-TRANSFER"]
    assert catalog.skill_by_code(db, issuer.id, "SS-CHARTS").name == \
        "Charts, renamed by the college"


def test_the_demo_issuer_serves_the_sandbox_platform_unless_mapped_elsewhere(
        app: Flask, db: Session) -> None:
    rt = app.extensions["lti"]
    platform = ensure_platform(db, rt.vault, rt.base_url)
    own = make_issuer(db, "operators-own")
    catalog.map_platform(db, own.id, platform.id)
    result = _seed(app, db)
    assert catalog.issuer_for_platform(db, platform.id, None).id == own.id
    assert result.issuer.slug == DEMO_SLUG
    assert db.scalars(select(IssuerPlatform).where(
        IssuerPlatform.issuer_id == result.issuer.id)).first() is None
