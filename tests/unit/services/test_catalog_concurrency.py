"""Optimistic locking holds under a real race: two sessions read the same row version and
both try to save; the database refuses the second instead of silently overwriting."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from lti_tool.models import Skill


def test_second_concurrent_skill_save_is_refused(app, db):
    from lti_tool.services import catalog
    from lti_tool.services.catalog import Actor

    issuer = catalog.create_issuer(db, {"name": "Race College", "url": "https://race.example",
                                        "email": "r@race.example"}, slug="race")
    actor = Actor("account:1", "Editor", issuer.id, catalog.scopes_for_roles(
        [catalog.CatalogRole.CATALOG_ADMIN]))
    skill = catalog.create_skill(db, actor, {"code": "S1", "name": "Original"})
    db.commit()
    # Both editors read version 1. The other one saves first (its own UPDATE, committed).
    db.execute(update(Skill).where(Skill.id == skill.id)
               .values(name="Saved first", row_version=2).execution_options(
                   synchronize_session=False))
    db.commit()
    # Our in-memory copy still says row_version 1, so the Python-side check passes...
    with pytest.raises(StaleDataError):
        catalog.update_skill(db, actor, skill.id, {"code": "S1", "name": "Saved second"},
                             expected_row_version=1)
    db.rollback()
    db.expire_all()
    # ...but the database refused the UPDATE: the first save is not lost.
    assert db.get(Skill, skill.id).name == "Saved first"


def test_update_needs_only_write_scope_and_review_only_review_scope(app, db):
    """A write-only token can edit; a review-only token can review (no read scope needed)."""
    from lti_tool.domain.catalog import Scope
    from lti_tool.services import catalog
    from lti_tool.services.catalog import Actor

    issuer = catalog.create_issuer(db, {"name": "Scope College", "url": "https://s.example",
                                        "email": "s@s.example"}, slug="scopes")
    writer = Actor("token:1", "writer", issuer.id, frozenset({Scope.CATALOG_WRITE}))
    skill = catalog.create_skill(db, writer, {"code": "S1", "name": "One"})
    updated = catalog.update_skill(db, writer, skill.id, {"code": "S1", "name": "Renamed"},
                                   expected_row_version=1)
    assert updated.name == "Renamed"
    version = catalog.create_credential(db, writer, {
        "code": "C1", "title": "Cred one", "short_description": "Short",
        "learning_outcomes": ["Do the thing"], "notional_hours": "10",
        "delivery_modes": ["self_directed"], "allowed_routes": ["integrated"],
        "required_skills": ["S1"]})
    catalog.transition(db, writer, version.id, catalog.Action.SUBMIT)
    reviewer = Actor("token:2", "reviewer", issuer.id, frozenset({Scope.REVIEW}))
    scores = [{"criterion": c.key, "level": "met"} for c in catalog.rubric_for(db, issuer.id)]
    catalog.review(db, reviewer, version.id, {"decision": "approve", "scores": scores})
    assert version.state == "approved"
