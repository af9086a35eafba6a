"""Cross-issuer isolation: an actor of issuer B never sees or touches issuer A's catalog;
A's ids answer NotFound (not Forbidden), so they cannot even be probed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, LifecycleState
from lti_tool.errors import NotFound, ValidationFailed
from lti_tool.services import catalog
from lti_tool.services.catalog_io import export_catalog, export_skills_csv
from tests.support.catalog import CatalogBuilder, credential_data, review_data, skill_data


@pytest.fixture()
def two(db: Session) -> tuple[CatalogBuilder, CatalogBuilder]:
    a, b = CatalogBuilder(db), CatalogBuilder(db)
    a.skills("S1", "S2")
    a.credential("A-PUB", LifecycleState.PUBLISHED, title="A's published")
    a.credential("A-REV", LifecycleState.IN_REVIEW, title="A's in review")
    b.skills("B1")
    return a, b


def _a_ids(a: CatalogBuilder) -> dict[str, int]:
    pub = catalog.published_version(a.db, a.issuer.id, "A-PUB")
    rev = catalog.list_credentials(a.db, a.author, state="in_review").items[0]
    return {"skill": catalog.skill_by_code(a.db, a.issuer.id, "S1").id,
            "version": rev.id, "published": pub.id, "credential": pub.credential_id}


OPERATIONS: dict[str, Callable[[CatalogBuilder, dict[str, int]], Any]] = {
    "get_skill": lambda b, i: catalog.get_skill(b.db, b.author, i["skill"]),
    "update_skill": lambda b, i: catalog.update_skill(b.db, b.author, i["skill"],
                                                      skill_data("S1")),
    "delete_skill": lambda b, i: catalog.delete_skill(b.db, b.author, i["skill"]),
    "get_version": lambda b, i: catalog.get_version(b.db, b.author, i["version"]),
    "get_credential": lambda b, i: catalog.get_credential(b.db, b.author, i["credential"]),
    "update_draft": lambda b, i: catalog.update_draft(b.db, b.author, i["version"],
                                                      credential_data("A-REV")),
    "new_version": lambda b, i: catalog.new_version(b.db, b.author, i["credential"]),
    "withdraw": lambda b, i: catalog.transition(b.db, b.author, i["version"],
                                                Action.WITHDRAW),
    "retire": lambda b, i: catalog.transition(b.db, b.author, i["published"], Action.RETIRE),
    "review": lambda b, i: catalog.review(b.db, b.reviewer, i["version"],
                                          review_data(b.db, b.issuer.id)),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_another_issuers_ids_are_not_found(two: tuple[CatalogBuilder, CatalogBuilder],
                                           operation: str) -> None:
    a, b = two
    ids = _a_ids(a)
    with pytest.raises(NotFound):
        OPERATIONS[operation](b, ids)
    a.db.expire_all()
    assert catalog.get_version(a.db, a.author, ids["version"]).state == "in_review"
    assert catalog.get_version(a.db, a.author, ids["published"]).state == "published"
    assert catalog.get_skill(a.db, a.author, ids["skill"]).name == "Skill S1"


def test_lists_and_exports_show_only_the_actors_issuer(
        two: tuple[CatalogBuilder, CatalogBuilder]) -> None:
    a, b = two
    assert [s.code for s in catalog.list_skills(b.db, b.author).items] == ["B1"]
    assert catalog.list_credentials(b.db, b.author).total == 0
    assert catalog.list_credentials(b.db, b.author, q="A's").total == 0
    doc = export_catalog(b.db, b.author)
    assert [s["code"] for s in doc["skills"]] == ["B1"] and doc["credentials"] == []
    assert "S1" not in export_skills_csv(b.db, b.author)
    assert {c.credential.code for c in catalog.list_credentials(a.db, a.author).items} == {
        "A-PUB", "A-REV"}


def test_another_issuers_skills_cannot_be_used_in_a_credential(
        two: tuple[CatalogBuilder, CatalogBuilder]) -> None:
    _, b = two
    with pytest.raises(ValidationFailed) as refused:
        catalog.create_credential(b.db, b.author, credential_data("B-C", required=("S1",)))
    assert "no skill with code S1" in refused.value.errors["required_skills"][0]
