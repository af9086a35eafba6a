"""The lifecycle through the catalog service: every allowed transition, and every refused
one is a Conflict (transition_refused) that changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, LifecycleState, allowed_actions
from lti_tool.errors import Conflict
from lti_tool.models import AuditEvent, Review
from lti_tool.services import catalog
from tests.support.catalog import CatalogBuilder, review_data

REVIEW_ACTIONS = {Action.APPROVE, Action.REQUEST_CHANGES, Action.REJECT}
ALLOWED = {
    (LifecycleState.DRAFT, Action.SUBMIT): LifecycleState.IN_REVIEW,
    (LifecycleState.IN_REVIEW, Action.WITHDRAW): LifecycleState.DRAFT,
    (LifecycleState.IN_REVIEW, Action.APPROVE): LifecycleState.APPROVED,
    (LifecycleState.IN_REVIEW, Action.REQUEST_CHANGES): LifecycleState.DRAFT,
    (LifecycleState.IN_REVIEW, Action.REJECT): LifecycleState.REJECTED,
    (LifecycleState.APPROVED, Action.PUBLISH): LifecycleState.PUBLISHED,
    (LifecycleState.PUBLISHED, Action.RETIRE): LifecycleState.RETIRED,
}
REFUSED = [(state, action) for state in LifecycleState for action in Action
           if (state, action) not in ALLOWED]


@pytest.fixture()
def b(db: Session) -> CatalogBuilder:
    builder = CatalogBuilder(db)
    builder.skills("S1", "S2")
    return builder


def _act(b: CatalogBuilder, version_id: int, action: Action) -> None:
    if action in REVIEW_ACTIONS:
        catalog.review(b.db, b.reviewer, version_id, review_data(b.db, b.issuer.id,
                                                                 action.value))
    else:
        catalog.transition(b.db, b.author, version_id, action)


def test_the_table_matches_the_domain_rules() -> None:
    for state in LifecycleState:
        assert set(allowed_actions(state)) == {a for (s, a) in ALLOWED if s == state}


@pytest.mark.parametrize(("state", "action"), list(ALLOWED))
def test_every_allowed_transition(b: CatalogBuilder, state: LifecycleState,
                                  action: Action) -> None:
    version = b.credential("C1", state)
    before = version.row_version

    _act(b, version.id, action)

    assert version.state == ALLOWED[(state, action)].value
    assert version.row_version == before + 1
    stamp = {Action.SUBMIT: "submitted_at", Action.APPROVE: "approved_at",
             Action.PUBLISH: "published_at", Action.RETIRE: "retired_at"}.get(action)
    if stamp:
        assert getattr(version, stamp) is not None
    if action is Action.PUBLISH:
        assert version.snapshot is not None and version.snapshot["version"] == 1
    event = f"credential.review.{action.value}" if action in REVIEW_ACTIONS \
        else f"credential.{action.value}"
    assert b.db.scalars(select(AuditEvent).where(AuditEvent.action == event)).first()


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_every_refused_transition_changes_nothing(b: CatalogBuilder, state: LifecycleState,
                                                  action: Action) -> None:
    version = b.credential("C1", state)
    b.db.flush()
    before = (version.state, version.row_version, version.snapshot, version.published_at,
              version.retired_at, len(version.reviews))

    with pytest.raises(Conflict) as refused:
        _act(b, version.id, action)

    assert refused.value.code == "transition_refused"
    assert refused.value.public_message  # says why, e.g. "Only an approved version ..."
    b.db.expire_all()
    assert (version.state, version.row_version, version.snapshot, version.published_at,
            version.retired_at, len(version.reviews)) == before


@pytest.mark.parametrize("action", sorted(REVIEW_ACTIONS))
def test_review_decisions_cannot_be_forced_as_plain_transitions(b: CatalogBuilder,
                                                                 action: Action) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    with pytest.raises(Conflict) as refused:
        catalog.transition(b.db, b.reviewer, version.id, action)
    assert refused.value.code == "use_review"
    assert version.state == "in_review"


def test_publishing_a_draft_that_was_never_approved_is_refused(b: CatalogBuilder) -> None:
    version = b.draft("C1")
    with pytest.raises(Conflict, match="Only an approved version can be published"):
        catalog.transition(b.db, b.author, version.id, Action.PUBLISH)
    assert version.state == "draft" and version.snapshot is None


def test_request_changes_sends_the_version_back_to_its_author(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    catalog.review(b.db, b.reviewer, version.id,
                   review_data(b.db, b.issuer.id, "request_changes", "Add outcomes."))
    assert version.state == "draft"
    data = catalog.input_of(version)
    catalog.update_draft(b.db, b.author, version.id,
                         {**data, "learning_outcomes": [*data["learning_outcomes"],
                                                        "A third outcome."]})
    catalog.transition(b.db, b.author, version.id, Action.SUBMIT)
    catalog.review(b.db, b.reviewer, version.id, review_data(b.db, b.issuer.id))
    assert version.state == "approved"
    # The full history of reviews is kept, in order.
    decisions = b.db.scalars(select(Review.decision).where(Review.version_id == version.id)
                             .order_by(Review.id)).all()
    assert decisions == ["request_changes", "approve"]


def test_withdraw_returns_to_draft_and_allows_editing(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.IN_REVIEW)
    catalog.transition(b.db, b.author, version.id, Action.WITHDRAW)
    updated = catalog.update_draft(b.db, b.author, version.id,
                                   {**catalog.input_of(version), "title": "Better title"})
    assert updated.title == "Better title"


def test_a_rejected_version_is_final_but_a_new_version_may_start(b: CatalogBuilder) -> None:
    version = b.credential("C1", LifecycleState.REJECTED)
    for action in Action:
        with pytest.raises(Conflict):
            _act(b, version.id, action)
    fresh = catalog.new_version(b.db, b.author, version.credential_id)
    assert (fresh.version, fresh.state) == (2, "draft")
