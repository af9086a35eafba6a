"""Quality review: separation of duties (nobody reviews their own work), the review scope,
and rubric scoring validation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import DEFAULT_RUBRIC, LifecycleState, RubricCriterion, Scope
from lti_tool.errors import Forbidden, ValidationFailed
from lti_tool.models import Review
from lti_tool.services import catalog
from tests.support.catalog import CatalogBuilder, actor, review_data


@pytest.fixture()
def b(db: Session) -> CatalogBuilder:
    builder = CatalogBuilder(db)
    builder.skills("S1", "S2")
    return builder


def _reviews(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Review)) or 0


def test_the_author_cannot_review_their_own_version(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    with pytest.raises(Forbidden) as refused:
        catalog.review(b.db, b.author, version.id, review_data(b.db, b.issuer.id))
    assert refused.value.code == "self_review"
    assert version.state == "in_review" and _reviews(b.db) == 0


def test_an_editor_of_the_version_cannot_review_it(b: CatalogBuilder) -> None:
    version = b.draft("C1")
    catalog.update_draft(b.db, b.editor, version.id,
                         {**catalog.input_of(version), "title": "Edited by Eddie"})
    catalog.transition(b.db, b.author, version.id, catalog.Action.SUBMIT)
    with pytest.raises(Forbidden) as refused:
        catalog.review(b.db, b.editor, version.id, review_data(b.db, b.issuer.id))
    assert refused.value.code == "self_review"
    review = catalog.review(b.db, b.reviewer, version.id, review_data(b.db, b.issuer.id))
    assert review.reviewer_ref == b.reviewer.ref and version.state == "approved"


def test_the_author_of_version_one_may_review_someone_elses_version_two(
        b: CatalogBuilder) -> None:
    v1 = b.credential("C1", LifecycleState.PUBLISHED)
    v2 = catalog.new_version(b.db, b.editor, v1.credential_id)
    catalog.transition(b.db, b.editor, v2.id, catalog.Action.SUBMIT)
    catalog.review(b.db, b.author, v2.id, review_data(b.db, b.issuer.id))
    assert v2.state == "approved"


def test_reviewing_needs_the_review_scope(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    admin_only = actor(b.issuer, "account:admin-only",
                       scopes=frozenset({Scope.CATALOG_READ, Scope.CATALOG_WRITE}))
    with pytest.raises(Forbidden) as refused:
        catalog.review(b.db, admin_only, version.id, review_data(b.db, b.issuer.id))
    assert refused.value.code == "missing_scope"
    reviewer_only = actor(b.issuer, "account:rev-only",
                          scopes=frozenset({Scope.CATALOG_READ, Scope.REVIEW}))
    catalog.review(b.db, reviewer_only, version.id, review_data(b.db, b.issuer.id))
    assert version.state == "approved"
    # ...and a reviewer-only actor cannot then publish (catalog:write).
    with pytest.raises(Forbidden):
        catalog.transition(b.db, reviewer_only, version.id, catalog.Action.PUBLISH)
    assert version.state == "approved"


def _scores(b: CatalogBuilder) -> list[dict[str, str]]:
    return list(review_data(b.db, b.issuer.id)["scores"])


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda s: s[1:], "missing: structure"),
    (lambda s: [*s, {"criterion": "vibes", "level": "met"}], "unknown criterion vibes"),
    (lambda s: [*s, dict(s[0])], "structure scored twice"),
])
def test_rubric_scores_must_cover_each_criterion_once(
        b: CatalogBuilder, mutate: Callable[[list[dict[str, str]]], list[dict[str, str]]],
        message: str) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    data = {"decision": "approve", "comment": "", "scores": mutate(_scores(b))}
    with pytest.raises(ValidationFailed) as refused:
        catalog.review(b.db, b.reviewer, version.id, data)
    assert refused.value.status_code == 422
    assert any(message in m for m in refused.value.errors["scores"])
    assert version.state == "in_review" and _reviews(b.db) == 0


@pytest.mark.parametrize("data", [
    {"decision": "approve", "scores": [{"criterion": "structure", "level": "superb"}]},
    {"decision": "maybe", "scores": [{"criterion": "structure", "level": "met"}]},
    {"decision": "approve", "scores": []},
    {"decision": "reject", "comment": "", "scores": [{"criterion": "structure",
                                                       "level": "met"}]},
    {"decision": "approve", "scores": "all good"},
])
def test_malformed_reviews_are_422(b: CatalogBuilder, data: dict[str, object]) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    with pytest.raises(ValidationFailed):
        catalog.review(b.db, b.reviewer, version.id, data)
    assert version.state == "in_review"


def test_a_review_records_every_score_and_the_rubric_it_used(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    review = catalog.review(b.db, b.reviewer, version.id,
                            review_data(b.db, b.issuer.id, level="exemplary"))
    assert [s["criterion"] for s in review.scores] == [c.key for c in DEFAULT_RUBRIC]
    assert {s["level"] for s in review.scores} == {"exemplary"}
    assert [c["key"] for c in review.rubric] == [c.key for c in DEFAULT_RUBRIC]
    assert review.reviewer_name == "Rita Reviewer"


def test_a_custom_rubric_is_used_and_old_reviews_keep_theirs(b: CatalogBuilder) -> None:
    first = b.credential("C1", LifecycleState.APPROVED)
    old_review = first.reviews[0]
    catalog.set_rubric(b.db, b.author, [RubricCriterion("fit", "sector", "Fit", "")])
    version = b.credential("C2", LifecycleState.IN_REVIEW)
    with pytest.raises(ValidationFailed):
        catalog.review(b.db, b.reviewer, version.id,
                       {"decision": "approve",
                        "scores": [{"criterion": "structure", "level": "met"}]})
    catalog.review(b.db, b.reviewer, version.id,
                   {"decision": "approve", "scores": [{"criterion": "fit", "level": "met"}]})
    assert version.state == "approved"
    assert len(old_review.rubric) == len(DEFAULT_RUBRIC)


def test_a_request_for_changes_must_say_what(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    with pytest.raises(ValidationFailed) as refused:
        catalog.review(b.db, b.reviewer, version.id,
                       {"decision": "request_changes", "comment": "",
                        "scores": _scores(b)})
    assert "comment" in refused.value.errors
