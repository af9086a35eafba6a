"""The approval workflow through the REST API: every lifecycle transition allowed or refused
(a refusal is a 409 with a reason and changes nothing), reviews with separation of duties,
and versioning (a published version never changes; publishing v2 retires v1, which stays
readable)."""

from __future__ import annotations

import pytest

from tests.support.api import (
    AUTHOR_SCOPES,
    REVIEWER_SCOPES,
    Api,
    make_issuer,
    make_token,
    review_body,
)

TRANSITIONS = ("submit", "withdraw", "publish", "retire")
ALLOWED = {("draft", "submit"): "in_review", ("in_review", "withdraw"): "draft",
           ("approved", "publish"): "published", ("published", "retire"): "retired"}
REVIEW_ALLOWED = {"approve": "approved", "request_changes": "draft", "reject": "rejected"}
STATES = ("draft", "in_review", "approved", "published", "retired", "rejected")


@pytest.fixture()
def issuer(db):
    return make_issuer(db)


@pytest.fixture()
def author(client, db, issuer):
    return Api(client, make_token(db, issuer, AUTHOR_SCOPES, name="author"))


@pytest.fixture()
def reviewer(client, db, issuer):
    return Api(client, make_token(db, issuer, REVIEWER_SCOPES, name="reviewer"))


def new_draft(author: Api, code: str = "py101") -> dict:
    if author.get("/api/v1/skills?q=py.basics").get_json()["total"] == 0:
        author.create_skill("py.basics")
    return author.create_credential(code, ["py.basics"])


def drive_to(state: str, author: Api, reviewer: Api, code: str) -> dict:
    """A version in ``state``, reached through the API."""
    version = new_draft(author, code)
    vid = version["id"]
    steps = {"draft": [], "in_review": ["submit"], "approved": ["submit", "approve"],
             "published": ["submit", "approve", "publish"],
             "retired": ["submit", "approve", "publish", "retire"],
             "rejected": ["submit", "reject"]}[state]
    for step in steps:
        if step in REVIEW_ALLOWED:
            response = reviewer.review(vid, step)
            assert response.status_code == 201, response.get_json()
        else:
            response = author.act(vid, step)
            assert response.status_code == 200, response.get_json()
    version = author.version(vid)
    assert version["state"] == state
    return version


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", TRANSITIONS)
def test_every_transition_is_allowed_or_refused_with_nothing_changed(author, reviewer, state,
                                                                     action):
    version = drive_to(state, author, reviewer, f"c-{state}-{action}")
    response = author.act(version["id"], action)
    after = author.version(version["id"])
    if (state, action) in ALLOWED:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["state"] == ALLOWED[(state, action)]
        assert after["state"] == ALLOWED[(state, action)]
        assert after["row_version"] == version["row_version"] + 1
    else:
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["code"] == "transition_refused"
        assert "This version is" in error["message"]
        assert after == version  # nothing changed, not even row_version or timestamps


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("decision", list(REVIEW_ALLOWED))
def test_every_review_decision_is_allowed_only_in_review(author, reviewer, state, decision):
    version = drive_to(state, author, reviewer, f"r-{state}-{decision}")
    response = reviewer.review(version["id"], decision)
    after = author.version(version["id"])
    if state == "in_review":
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["decision"] == decision
        assert after["state"] == REVIEW_ALLOWED[decision]
    else:
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "transition_refused"
        assert after == version


def test_approve_is_not_a_transition_action(author):
    version = new_draft(author)
    author.act(version["id"], "submit")
    response = author.act(version["id"], "approve")
    assert response.status_code == 422
    assert "review" in response.get_json()["error"]["fields"]["action"][0]
    assert author.version(version["id"])["state"] == "in_review"


def test_a_transition_with_a_stale_row_version_is_409(author):
    version = new_draft(author)
    response = author.post(f"/api/v1/versions/{version['id']}/transitions",
                           json={"action": "submit"}, headers={"If-Match": '"7"'})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_version"
    assert author.version(version["id"])["state"] == "draft"
    fresh = author.post(f"/api/v1/versions/{version['id']}/transitions",
                        json={"action": "submit", "row_version": 1})
    assert fresh.status_code == 200


# -- separation of duties ----------------------------------------------------------------------
def test_nobody_who_wrote_or_edited_a_draft_may_review_it(client, db, issuer, reviewer):
    both = Api(client, make_token(db, issuer, ("catalog:read", "catalog:write", "review"),
                                  name="author who can review"))
    editor = Api(client, make_token(db, issuer, ("catalog:read", "catalog:write", "review"),
                                    name="editor who can review"))
    version = new_draft(both)
    vid = version["id"]
    edited = editor.put(f"/api/v1/versions/{vid}",
                        json={**version["content"], "title": "Edited by a colleague"},
                        headers={"If-Match": '"1"'})
    assert edited.status_code == 200
    assert both.act(vid, "submit").status_code == 200

    for who in (both, editor):
        response = who.review(vid)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "self_review"
        assert "someone else must review" in response.get_json()["error"]["message"]
    assert both.version(vid)["state"] == "in_review"
    assert both.get(f"/api/v1/versions/{vid}/reviews").get_json()["items"] == []

    approved = reviewer.review(vid, "approve")
    assert approved.status_code == 201
    assert both.version(vid)["state"] == "approved"


def test_review_history_is_kept_and_shown(author, reviewer):
    version = new_draft(author)
    vid = version["id"]
    author.act(vid, "submit")
    without_reason = reviewer.post(f"/api/v1/versions/{vid}/reviews",
                                   json={**review_body("request_changes"), "comment": ""})
    assert without_reason.status_code == 422
    assert "comment" in without_reason.get_json()["error"]["fields"]
    partial = reviewer.post(f"/api/v1/versions/{vid}/reviews",
                            json={**review_body(), "scores": review_body()["scores"][:3]})
    assert partial.status_code == 422
    assert "missing" in partial.get_json()["error"]["fields"]["scores"][0]
    assert author.version(vid)["state"] == "in_review"

    assert reviewer.review(vid, "request_changes", "Outcome 2 is not measurable.") \
        .status_code == 201
    assert author.version(vid)["state"] == "draft"
    author.act(vid, "submit")
    assert reviewer.review(vid, "approve").status_code == 201
    history = reviewer.get(f"/api/v1/versions/{vid}/reviews").get_json()["items"]
    assert [r["decision"] for r in history] == ["request_changes", "approve"]
    assert history[0]["comment"] == "Outcome 2 is not measurable."
    assert history[0]["reviewer_name"] == "API token reviewer"
    assert len(history[0]["scores"]) == 10 and history[0]["scores"][0]["level"] == "met"
    assert history[1]["confirmed_not_met"] == []
    assert author.version(vid)["review_count"] == 2


def test_approving_with_a_criterion_not_met_needs_confirmation(author, reviewer):
    vid = new_draft(author)["id"]
    author.act(vid, "submit")
    body = review_body()
    body["scores"][1]["level"] = "not_met"
    refused = reviewer.post(f"/api/v1/versions/{vid}/reviews", json=body)
    assert refused.status_code == 422
    message = refused.get_json()["error"]["fields"]["confirm_not_met"][0]
    assert "needs confirmation" in message
    assert author.version(vid)["state"] == "in_review"
    done = reviewer.post(f"/api/v1/versions/{vid}/reviews",
                         json={**body, "confirm_not_met": True})
    assert done.status_code == 201
    assert done.get_json()["confirmed_not_met"] == [body["scores"][1]["criterion"]]
    assert author.version(vid)["state"] == "approved"


# -- versioning --------------------------------------------------------------------------------
def test_published_versions_never_change_and_v2_supersedes_v1(author, reviewer):
    v1 = drive_to("published", author, reviewer, "py101")
    frozen = author.version(v1["id"])

    edit = author.put(f"/api/v1/versions/{v1['id']}",
                      json={**v1["content"], "title": "Sneaky change"},
                      headers={"If-Match": f'"{v1["row_version"]}"'})
    assert edit.status_code == 409
    assert edit.get_json()["error"]["code"] == "not_editable"
    assert "new version" in edit.get_json()["error"]["message"]
    # A skill renamed later does not change what the published version says.
    skill = author.get("/api/v1/skills?q=py.basics").get_json()["items"][0]
    author.put(f"/api/v1/skills/{skill['id']}",
               json={"code": "py.basics", "name": "Renamed skill"},
               headers={"If-Match": f'"{skill["row_version"]}"'})
    assert author.version(v1["id"]) == frozen

    created = author.post(f"/api/v1/credentials/{v1['credential_id']}/versions")
    assert created.status_code == 201
    v2 = created.get_json()
    assert created.headers["Location"] == f"/api/v1/versions/{v2['id']}"
    assert (v2["version"], v2["state"]) == (2, "draft")
    assert v2["content"] == v1["content"]
    again = author.post(f"/api/v1/credentials/{v1['credential_id']}/versions")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "version_open"

    saved = author.put(f"/api/v1/versions/{v2['id']}",
                       json={**v2["content"], "title": "Python Programming Fundamentals",
                             "notional_hours": "36"}, headers={"If-Match": '"1"'})
    assert saved.status_code == 200, saved.get_json()
    diff = author.get(f"/api/v1/versions/{v1['id']}/diff/{v2['id']}").get_json()
    changed = {c["field"]: (c["before"], c["after"]) for c in diff["changes"]}
    assert changed["title"] == (v1["content"]["title"], "Python Programming Fundamentals")
    assert changed["notional_hours"] == ("30.0", "36.0")
    assert (diff["from"]["version"], diff["to"]["version"]) == (1, 2)

    author.act(v2["id"], "submit")
    assert reviewer.review(v2["id"]).status_code == 201
    published = author.act(v2["id"], "publish")
    assert published.status_code == 200 and published.get_json()["state"] == "published"

    old = author.version(v1["id"])
    assert old["state"] == "retired"
    assert old["retired_at"] is not None
    assert old["content"] == frozen["content"]
    assert old["skills"] == frozen["skills"]
    credential = author.get(f"/api/v1/credentials/{v1['credential_id']}").get_json()
    assert [(v["version"], v["state"]) for v in credential["versions"]] == \
        [(1, "retired"), (2, "published")]
    assert credential["published_version_id"] == v2["id"]
    listed = author.get("/api/v1/credentials").get_json()["items"]
    assert [(v["version"], v["title"]) for v in listed] == \
        [(2, "Python Programming Fundamentals")]


def test_diff_between_two_credentials_is_refused(author):
    a = new_draft(author, "one")
    b = new_draft(author, "two")
    response = author.get(f"/api/v1/versions/{a['id']}/diff/{b['id']}")
    assert response.status_code == 422
