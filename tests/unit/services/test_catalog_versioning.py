"""Versioning: a published version never changes; editing means a new draft version; the
next publication retires the previous one; a pinned version's learner view is frozen."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, LifecycleState
from lti_tool.errors import Conflict
from lti_tool.services import catalog
from tests.support.catalog import CatalogBuilder, skill_data


@pytest.fixture()
def b(db: Session) -> CatalogBuilder:
    builder = CatalogBuilder(db)
    builder.skills("S1", "S2", "S3")
    return builder


@pytest.mark.parametrize("state", [LifecycleState.IN_REVIEW, LifecycleState.APPROVED,
                                   LifecycleState.PUBLISHED, LifecycleState.RETIRED,
                                   LifecycleState.REJECTED])
def test_only_drafts_are_editable(b: CatalogBuilder, state: LifecycleState) -> None:
    version = b.credential("C1", state)
    before = (dict(version.content), version.title, version.row_version)
    with pytest.raises(Conflict) as refused:
        catalog.update_draft(b.db, b.author, version.id,
                             {**catalog.input_of(version), "title": "Changed title"})
    assert refused.value.code == "not_editable"
    b.db.expire_all()
    assert (dict(version.content), version.title, version.row_version) == before


def test_new_version_copies_fields_and_skills(b: CatalogBuilder) -> None:
    v1 = b.credential("C1", LifecycleState.PUBLISHED, optional=("S3",), optional_min=1,
                      expiry_months=12)
    v2 = catalog.new_version(b.db, b.editor, v1.credential_id)
    assert (v2.version, v2.state, v2.author_ref) == (2, "draft", b.editor.ref)
    assert catalog.input_of(v2) == catalog.input_of(v1)
    assert [(link.skill.code, link.requirement) for link in v2.skill_links] == [
        ("S1", "required"), ("S2", "required"), ("S3", "optional")]
    assert v2.snapshot is None and v2.published_at is None
    assert catalog.version_diff(v1, v2) == []


def test_new_version_is_refused_while_one_is_open(b: CatalogBuilder) -> None:
    v1 = b.credential("C1", LifecycleState.PUBLISHED)
    catalog.new_version(b.db, b.author, v1.credential_id)
    with pytest.raises(Conflict) as refused:
        catalog.new_version(b.db, b.author, v1.credential_id)
    assert refused.value.code == "version_open"
    assert len(v1.credential.versions) == 2


def test_publishing_v2_retires_v1_and_the_diff_shows_the_change(b: CatalogBuilder) -> None:
    v1 = b.credential("C1", LifecycleState.PUBLISHED)
    v2 = catalog.new_version(b.db, b.author, v1.credential_id)
    catalog.update_draft(b.db, b.author, v2.id, {**catalog.input_of(v2),
                                                 "notional_hours": "20",
                                                 "required_skills": ["S1", "S2", "S3"]})
    b.to_state(v2, LifecycleState.PUBLISHED)

    assert (v1.state, v2.state) == ("retired", "published")
    assert v1.retired_at is not None
    assert catalog.published_version(b.db, b.issuer.id, "C1").id == v2.id
    changed = {c.field for c in catalog.version_diff(v1, v2)}
    assert changed == {"notional_hours", "required_skills"}


def test_a_pinned_published_version_never_changes(b: CatalogBuilder) -> None:
    v1 = b.credential("C1", LifecycleState.PUBLISHED)
    pinned = catalog.learner_view(v1)  # what an award earned today pins
    s1 = catalog.skill_by_code(b.db, b.issuer.id, "S1")

    catalog.update_skill(b.db, b.author, s1.id,
                         skill_data("S1", name="Renamed", criteria="New criteria"))
    v2 = catalog.new_version(b.db, b.author, v1.credential_id)
    catalog.update_draft(b.db, b.author, v2.id, {**catalog.input_of(v2), "title": "V2 title"})
    b.to_state(v2, LifecycleState.PUBLISHED)
    catalog.transition(b.db, b.author, v2.id, Action.RETIRE)
    b.db.expire_all()

    again = catalog.get_version(b.db, b.author, v1.id)
    assert catalog.learner_view(again) == pinned
    assert pinned["skills"][0]["name"] == "Skill S1"
    assert catalog.learner_view(v2)["skills"][0]["name"] == "Renamed"
    assert catalog.learner_view(v2)["title"] == "V2 title"


def test_a_draft_shows_live_skills_until_it_is_published(b: CatalogBuilder) -> None:
    draft = b.draft("C1")
    s1 = catalog.skill_by_code(b.db, b.issuer.id, "S1")
    catalog.update_skill(b.db, b.author, s1.id, skill_data("S1", name="Live name"))
    assert catalog.learner_view(draft)["skills"][0]["name"] == "Live name"


def test_a_skill_used_by_a_credential_cannot_be_deleted(b: CatalogBuilder) -> None:
    b.credential("C1", LifecycleState.PUBLISHED)
    s1 = catalog.skill_by_code(b.db, b.issuer.id, "S1")
    with pytest.raises(Conflict) as refused:
        catalog.delete_skill(b.db, b.author, s1.id)
    assert refused.value.code == "skill_in_use"
    assert catalog.skill_by_code(b.db, b.issuer.id, "S1") is not None


def test_the_credential_code_cannot_change(b: CatalogBuilder) -> None:
    from lti_tool.errors import ValidationFailed

    draft = b.draft("C1")
    with pytest.raises(ValidationFailed) as refused:
        catalog.update_draft(b.db, b.author, draft.id, {**catalog.input_of(draft),
                                                        "code": "C2"})
    assert "code" in refused.value.errors
