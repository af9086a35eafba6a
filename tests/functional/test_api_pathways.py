"""Pathways through the REST API (issue 12): created as a draft, edited with its
row_version, driven through the credentials' lifecycle with a review by another token,
read back; bad input is 422 with every problem and changes nothing; scopes and another
issuer's ids are enforced; a learner's progress under awards:read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool.models import Pathway, PathwayVersion
from lti_tool.services import catalog, tracking
from tests.support.api import (
    AUTHOR_SCOPES,
    REVIEWER_SCOPES,
    Api,
    make_issuer,
    make_token,
    review_body,
)
from tests.support.pathways import pathway_data
from tests.support.tracking_engine import Campus, record


@pytest.fixture()
def issuer(db):
    return make_issuer(db)


@pytest.fixture()
def author(client, db, issuer):
    api = Api(client, make_token(db, issuer, AUTHOR_SCOPES, name="author"))
    for code in ("A", "B", "PROG"):
        api.create_skill(f"S{code}")
        version = api.create_credential(code, [f"S{code}"])
        assert api.act(version["id"], "submit").status_code == 200
        reviewer = Api(client, make_token(db, issuer, REVIEWER_SCOPES, name=f"r-{code}"))
        assert reviewer.review(version["id"]).status_code == 201
        assert api.act(version["id"], "publish").status_code == 200
    return api


@pytest.fixture()
def reviewer(client, db, issuer):
    return Api(client, make_token(db, issuer, REVIEWER_SCOPES, name="reviewer"))


def _count(db) -> tuple[int, int]:
    return (db.scalar(select(func.count()).select_from(Pathway)),
            db.scalar(select(func.count()).select_from(PathwayVersion)))


def test_create_edit_review_publish(author: Api, reviewer: Api) -> None:
    created = author.post("/api/v1/pathways", json=pathway_data())
    assert created.status_code == 201, created.get_json()
    body: dict[str, Any] = created.get_json()
    assert body["state"] == "draft" and body["code"] == "PATH"
    assert body["content"]["groups"][0]["steps"][0]["credential"] == "A"
    assert created.headers["Location"].endswith(f"/api/v1/pathway-versions/{body['id']}")
    vid = body["id"]
    changed = {**pathway_data(), "title": "Renamed", "row_version": body["row_version"]}
    saved = author.put(f"/api/v1/pathway-versions/{vid}", json=changed)
    assert saved.status_code == 200 and saved.get_json()["content"]["title"] == "Renamed"
    stale = author.put(f"/api/v1/pathway-versions/{vid}", json=changed)
    assert stale.status_code == 409
    assert author.post(f"/api/v1/pathway-versions/{vid}/transitions",
                       json={"action": "submit"}).status_code == 200
    # The author cannot review (no review scope); the reviewer can.
    assert author.post(f"/api/v1/pathway-versions/{vid}/reviews",
                       json=review_body()).status_code == 403
    reviewed = reviewer.post(f"/api/v1/pathway-versions/{vid}/reviews", json=review_body())
    assert reviewed.status_code == 201, reviewed.get_json()
    published = author.post(f"/api/v1/pathway-versions/{vid}/transitions",
                            json={"action": "publish"})
    assert published.status_code == 200 and published.get_json()["state"] == "published"
    listing = author.get("/api/v1/pathways?state=published").get_json()
    assert [p["code"] for p in listing["items"]] == ["PATH"]
    pathway = author.get(f"/api/v1/pathways/{body['pathway_id']}").get_json()
    assert pathway["published_version_id"] == vid
    reviews = author.get(f"/api/v1/pathway-versions/{vid}/reviews").get_json()["items"]
    assert [r["decision"] for r in reviews] == ["approve"]
    again = author.post(f"/api/v1/pathways/{body['pathway_id']}/versions")
    assert again.status_code == 201 and again.get_json()["version"] == 2


def test_bad_input_is_422_with_every_problem_and_changes_nothing(db, author: Api) -> None:
    before = _count(db)
    bad = pathway_data(core=("A", "NOPE"), choose=("B",), choose_min=2)
    response = author.post("/api/v1/pathways", json=bad)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["groups.0.steps.1.credential"] == ["no micro-credential NOPE in this catalog"]
    assert fields["groups.1.minimum"] == ["asks for 2 of only 1 steps"]
    assert author.post("/api/v1/pathways", json={"code": "X"}).status_code == 422
    assert author.post("/api/v1/pathways", json=[1, 2]).status_code == 422
    assert _count(db) == before


def test_scopes_and_other_issuers(client, db, author: Api, reviewer: Api) -> None:
    vid = author.post("/api/v1/pathways", json=pathway_data()).get_json()["id"]
    assert reviewer.post("/api/v1/pathways", json=pathway_data("X")).status_code == 403
    other = make_issuer(db, slug="other", name="Other College")
    stranger = Api(client, make_token(db, other, AUTHOR_SCOPES, name="stranger"))
    assert stranger.get(f"/api/v1/pathway-versions/{vid}").status_code == 404
    assert stranger.put(f"/api/v1/pathway-versions/{vid}",
                        json={**pathway_data(), "row_version": 1}).status_code == 404
    assert Api(client, None).get("/api/v1/pathways").status_code == 401


def test_learner_progress_under_awards_read(client, db, issuer, author: Api,
                                            reviewer: Api) -> None:
    vid = author.post("/api/v1/pathways", json=pathway_data()).get_json()["id"]
    author.post(f"/api/v1/pathway-versions/{vid}/transitions", json={"action": "submit"})
    reviewer.post(f"/api/v1/pathway-versions/{vid}/reviews", json=review_body())
    author.post(f"/api/v1/pathway-versions/{vid}/transitions", json={"action": "publish"})
    campus = Campus.create(db)
    catalog.map_platform(db, issuer.id, campus.lms.platform.id)
    course = campus.course("CS-1", "for-credit")
    tracking.attach_offering(db, issuer_id=issuer.id, context=course,
                             credential_id=catalog.published_version(db, issuer.id,
                                                                     "A").credential_id,
                             by=tracking.Assessor("account:t", "T"))
    ada = campus.learner("ada", course)
    skill = catalog.skill_by_code(db, issuer.id, "SA")
    assert record(db, course, ada, skill).new_awards
    db.commit()
    path = f"/api/v1/learners/{ada.person_id}/pathways"
    assert author.get(path).status_code == 403
    reader = Api(client, make_token(db, issuer, ("awards:read",), name="reader"))
    body = reader.get(path).get_json()
    [item] = body["items"]
    assert (item["code"], item["steps_earned"], item["steps_total"]) == ("PATH", 1, 2)
    assert item["complete"] is False and item["next_steps"] == ["B"]
    assert item["credits_earned"] == "1.5" and item["target_awarded"] is False
    assert item["groups"][0]["steps"][0]["status"] == "earned"
    assert reader.get("/api/v1/learners/999999/pathways").status_code == 404
