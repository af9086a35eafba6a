"""Optimistic locking: the second save of a stale version is refused, never silently lost."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, LifecycleState
from lti_tool.errors import Conflict
from lti_tool.services import catalog
from tests.support.catalog import CatalogBuilder, review_data, skill_data


@pytest.fixture()
def b(db: Session) -> CatalogBuilder:
    builder = CatalogBuilder(db)
    builder.skills("S1", "S2")
    return builder


def test_a_stale_skill_save_is_refused(b: CatalogBuilder) -> None:
    skill = catalog.skill_by_code(b.db, b.issuer.id, "S1")
    seen = skill.row_version  # both editors opened the form at this version
    catalog.update_skill(b.db, b.author, skill.id, skill_data("S1", name="First save"),
                         expected_row_version=seen)
    with pytest.raises(Conflict) as refused:
        catalog.update_skill(b.db, b.editor, skill.id, skill_data("S1", name="Second save"),
                             expected_row_version=seen)
    assert refused.value.code == "stale_version"
    b.db.expire_all()
    assert skill.name == "First save" and skill.row_version == seen + 1


def test_a_stale_draft_save_is_refused(b: CatalogBuilder) -> None:
    draft = b.draft("C1")
    seen = draft.row_version
    data = catalog.input_of(draft)
    catalog.update_draft(b.db, b.author, draft.id, {**data, "title": "Author's title"},
                         expected_row_version=seen)
    with pytest.raises(Conflict) as refused:
        catalog.update_draft(b.db, b.editor, draft.id, {**data, "title": "Editor's title"},
                             expected_row_version=seen)
    assert refused.value.code == "stale_version"
    b.db.expire_all()
    assert draft.title == "Author's title"
    assert b.editor.ref not in draft.contributors


def test_a_stale_transition_or_review_is_refused(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    stale = version.row_version - 1
    with pytest.raises(Conflict) as refused:
        catalog.transition(b.db, b.author, version.id, Action.WITHDRAW,
                           expected_row_version=stale)
    assert refused.value.code == "stale_version"
    with pytest.raises(Conflict) as refused:
        catalog.review(b.db, b.reviewer, version.id, review_data(b.db, b.issuer.id),
                       expected_row_version=stale)
    assert refused.value.code == "stale_version"
    assert version.state == "in_review" and not version.reviews
    catalog.review(b.db, b.reviewer, version.id, review_data(b.db, b.issuer.id),
                   expected_row_version=version.row_version)
    assert version.state == "approved"
