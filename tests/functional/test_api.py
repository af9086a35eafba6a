"""The REST API as an integrator meets it: token authentication and scopes, CRUD of skills
and micro-credentials, validation with field messages, optimistic locking, pagination with
Link headers, ETags, isolation between issuers, size and media-type limits, and the
OpenAPI document."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from lti_tool.models import AuditEvent, Skill
from lti_tool.services import api_tokens, catalog
from tests.support.api import (
    AUTHOR_SCOPES,
    REVIEWER_SCOPES,
    Api,
    credential_body,
    make_issuer,
    make_token,
    skill_body,
)
from tests.support.lti import full_launch

INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"


@pytest.fixture()
def issuer(db):
    return make_issuer(db)


@pytest.fixture()
def api(client, db, issuer):
    return Api(client, make_token(db, issuer))


def skill_count(db, issuer) -> int:
    return db.scalar(select(func.count()).select_from(Skill).where(
        Skill.issuer_id == issuer.id)) or 0


def fields_of(response) -> dict[str, list[str]]:
    body = response.get_json()
    assert body is not None, response.data
    return body["error"].get("fields", {})


# -- authentication ---------------------------------------------------------------------------
ENDPOINTS = [("get", "/api/v1/skills"), ("post", "/api/v1/skills"),
             ("get", "/api/v1/skills/1"), ("put", "/api/v1/skills/1"),
             ("delete", "/api/v1/skills/1"), ("get", "/api/v1/credentials"),
             ("post", "/api/v1/versions/1/transitions"), ("post", "/api/v1/versions/1/reviews"),
             ("get", "/api/v1/catalog/export"), ("get", "/api/v1/issuer")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_is_401_with_a_bearer_challenge(client, issuer, method, path):
    response = getattr(client, method)(path, json={"code": "x", "name": "y"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Bearer mc_" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("header", [
    "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Bearer not-a-token",
    "Bearer mc_deadbeef_thisisnotarealtokenatallnotatall", "Token mc_abc",
    "Bearer " + "mc_" + "x" * 300,
])
def test_malformed_or_unknown_tokens_are_401_invalid_token(client, db, issuer, header):
    response = client.get("/api/v1/skills", headers={"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_token_in_the_query_string_is_not_accepted(client, db, issuer):
    token = make_token(db, issuer)
    for name in ("access_token", "token", "lt"):
        response = client.get(f"/api/v1/skills?{name}={token}")
        assert response.status_code == 401


def test_a_revoked_token_stops_working_at_once(client, db, issuer):
    token = make_token(db, issuer, name="to revoke")
    api = Api(client, token)
    assert api.get("/api/v1/skills").status_code == 200
    api_tokens.revoke_token(db, issuer.id, token.split("_")[1], by="test")
    db.commit()
    response = api.get("/api/v1/skills")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"
    assert api.post("/api/v1/skills", json=skill_body("after.revoke")).status_code == 401
    assert skill_count(db, issuer) == 0


def test_last_use_of_a_token_is_recorded(client, db, issuer):
    token = make_token(db, issuer)
    row = api_tokens.authenticate(db, token)
    db.rollback()
    assert row is not None and row.last_used_at is None
    assert Api(client, token).get("/api/v1/issuer").status_code == 200
    db.expire_all()
    assert api_tokens.list_tokens(db, issuer.id)[0].last_used_at is not None


@pytest.mark.parametrize(("scopes", "method", "path", "body", "missing"), [
    (("catalog:read",), "post", "/api/v1/skills", skill_body("s1"), "catalog:write"),
    (("catalog:read",), "post", "/api/v1/credentials", credential_body("c1", ["s1"]),
     "catalog:write"),
    (("catalog:read",), "post", "/api/v1/versions/1/transitions", {"action": "submit"},
     "catalog:write"),
    (("catalog:read",), "post", "/api/v1/catalog/import", {}, "catalog:write"),
    (("catalog:write",), "get", "/api/v1/skills", None, "catalog:read"),
    (("catalog:write",), "get", "/api/v1/catalog/export", None, "catalog:read"),
    (("review",), "get", "/api/v1/credentials", None, "catalog:read"),
    (AUTHOR_SCOPES, "post", "/api/v1/versions/1/reviews", {}, "review"),
    (REVIEWER_SCOPES, "put", "/api/v1/skills/1", skill_body("s1"), "catalog:write"),
    (REVIEWER_SCOPES, "delete", "/api/v1/skills/1", None, "catalog:write"),
])
def test_a_token_without_the_scope_is_403_and_changes_nothing(client, db, issuer, scopes,
                                                               method, path, body, missing):
    admin = Api(client, make_token(db, issuer, name="admin"))
    skill = admin.create_skill("s1")
    before = admin.get(f"/api/v1/skills/{skill['id']}").get_json()
    limited = Api(client, make_token(db, issuer, scopes, name="limited"))
    kwargs = {"json": body} if body is not None else {}
    response = getattr(limited, method)(path, **kwargs)
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "missing_scope"
    assert missing in error["message"]
    assert f'scope="{missing}"' in response.headers["WWW-Authenticate"]
    assert admin.get(f"/api/v1/skills/{skill['id']}").get_json() == before
    assert admin.get("/api/v1/skills").get_json()["total"] == 1
    assert admin.get("/api/v1/credentials").get_json()["total"] == 0


def test_the_launch_cookie_never_authenticates_the_api(client, db, platform):
    issuer = catalog.create_issuer(db, {"name": "Lakeshore College",
                                        "url": "https://lakeshore.example.edu",
                                        "email": "registrar@lakeshore.example.edu"},
                                   slug="lakeshore", platform_id=_platform_id(db, platform))
    db.commit()
    response = full_launch(client, platform, **{ROLES: [INSTITUTION_ADMIN]})
    assert response.status_code in (200, 302, 303), response.data[:300]
    assert client.get_cookie("mc_launch") is not None
    lt = re.search(r"lt=([^&\"']+)", response.headers.get("Location", "")
                   + response.get_data(as_text=True))
    for path in ("/api/v1/skills", f"/api/v1/skills?lt={lt.group(1) if lt else 'x'}"):
        refused = client.get(path)
        assert refused.status_code == 401, path
        created = client.post(path, json=skill_body("via.cookie"))
        assert created.status_code == 401
    assert skill_count(db, issuer) == 0


def _platform_id(db, platform) -> int:
    from lti_tool.models import Platform

    return db.scalars(select(Platform.id).where(Platform.issuer == platform.issuer)).one()


# -- skills CRUD ------------------------------------------------------------------------------
def test_skill_crud(api, db, issuer):
    created = api.post("/api/v1/skills", json=skill_body(
        "py.functions", name="Functions", tags=["python", "core", "python"],
        alignments=[{"framework": "ESCO", "target_url": "https://esco.ec.europa.eu/x",
                     "target_code": "S1.2", "target_type": "ESCO"}]))
    assert created.status_code == 201
    skill = created.get_json()
    assert created.headers["Location"] == f"/api/v1/skills/{skill['id']}"
    assert created.headers["ETag"].startswith('W/"1-')
    assert skill["tags"] == ["python", "core"]
    assert skill["alignments"][0]["target_url"] == "https://esco.ec.europa.eu/x"
    assert skill["row_version"] == 1

    read = api.get(created.headers["Location"])
    assert read.status_code == 200 and read.get_json() == skill
    assert read.headers["Cache-Control"] == "private, no-cache"

    changed = api.put(f"/api/v1/skills/{skill['id']}",
                      json=skill_body("py.functions", name="Writing functions"),
                      headers={"If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["name"] == "Writing functions"
    assert changed.get_json()["row_version"] == 2
    assert changed.get_json()["alignments"] == []  # PUT replaces the whole skill

    listed = api.get("/api/v1/skills").get_json()
    assert [s["code"] for s in listed["items"]] == ["py.functions"]

    deleted = api.delete(f"/api/v1/skills/{skill['id']}")
    assert deleted.status_code == 204 and deleted.data == b""
    assert api.get(f"/api/v1/skills/{skill['id']}").status_code == 404
    assert skill_count(db, issuer) == 0
    events = set(db.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_type == "skill", AuditEvent.subject_id == str(skill["id"]))))
    assert {"skill.created", "skill.updated", "skill.deleted"} <= events


def test_html_in_text_is_stored_verbatim_and_returned_as_json_text(api):
    name = '<script>alert("x")</script> & <b>bold</b>'
    skill = api.create_skill("html.test", name=name, description="<img src=x onerror=alert(1)>")
    read = api.get(f"/api/v1/skills/{skill['id']}")
    assert read.mimetype == "application/json"
    assert read.get_json()["name"] == name
    assert read.get_json()["description"] == "<img src=x onerror=alert(1)>"
    assert read.headers["X-Content-Type-Options"] == "nosniff"


def test_deleting_a_skill_that_a_credential_uses_is_409(api):
    skill = api.create_skill("used")
    api.create_credential("cred", ["used"])
    response = api.delete(f"/api/v1/skills/{skill['id']}")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "skill_in_use"
    assert api.get(f"/api/v1/skills/{skill['id']}").status_code == 200


def test_a_duplicate_code_is_422_on_the_code_field(api):
    api.create_skill("dup")
    response = api.post("/api/v1/skills", json=skill_body("dup"))
    assert response.status_code == 422
    assert "already used" in fields_of(response)["code"][0]


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({"alignments": [{"framework": "CASE", "target_url": "javascript:alert(1)"}]},
     "alignments.0.target_url", "URL"),
    ({"alignments": [{"framework": "CASE", "target_url": "ftp://files.example.org/x"}]},
     "alignments.0.target_url", "URL"),
    ({"name": "x" * 201}, "name", "200"),
    ({"description": "x" * 4001}, "description", "4000"),
    ({"alignments": [{"framework": "CASE", "target_url": "https://a.example/x",
                      "target_type": "Wikipedia"}]}, "alignments.0.target_type", "one of"),
    ({"colour": "blue"}, "colour", "Unknown field"),
    ({"name": 5}, "name", "string"),
    ({"tags": "python"}, "tags", "list"),
    ({"tags": ["ok"] * 31}, "tags", "30"),
    ({"code": "has space"}, "code", "letters"),
    ({"name": "bell\x07"}, "name", "control"),
    ({"name": ""}, "name", ""),
])
def test_invalid_skill_fields_are_422_with_a_message_per_field(api, db, issuer, change, field,
                                                               fragment):
    response = api.post("/api/v1/skills", json={**skill_body("valid.code"), **change})
    assert response.status_code == 422
    body = response.get_json()["error"]
    assert body["code"] == "validation_failed"
    assert field in body["fields"], body["fields"]
    assert fragment in " ".join(body["fields"][field])
    assert "Traceback" not in response.get_data(as_text=True)
    assert skill_count(db, issuer) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"notional_hours": "many"}, "notional_hours"),
    ({"notional_hours": "0"}, "notional_hours"),
    ({"notional_hours": "NaN"}, "notional_hours"),
    ({"expiry_months": "12"}, "expiry_months"),
    ({"expiry_months": 1.5}, "expiry_months"),
    ({"credit_bearing": "maybe"}, "credit_bearing"),
    ({"credit_bearing": True}, "credit_value"),
    ({"delivery_modes": ["teleport"]}, "delivery_modes.0"),
    ({"assessment_kind": "vibes"}, "assessment_kind"),
    ({"image_url": "javascript:alert(1)"}, "image_url"),
    ({"learning_outcomes": []}, "learning_outcomes"),
    ({"languages": ["english"]}, "languages.0"),
    ({"required_skills": ["nope"]}, "required_skills"),
    ({"title": "t" * 201}, "title"),
])
def test_invalid_credential_fields_are_422(api, change, field):
    api.create_skill("s1")
    response = api.post("/api/v1/credentials", json={**credential_body("c1", ["s1"]),
                                                     **change})
    assert response.status_code == 422, response.get_json()
    assert field in fields_of(response), fields_of(response)
    assert api.get("/api/v1/credentials").get_json()["total"] == 0


@pytest.mark.parametrize(("data", "content_type", "status", "fragment"), [
    ("{", "application/json", 422, "not valid JSON"),
    ("[1, 2]", "application/json", 422, "JSON object"),
    ("null", "application/json", 422, "JSON object"),
    ('"text"', "application/json", 422, "JSON object"),
    ("", "application/json", 422, "not valid JSON"),
    (b'{"code": "\xff"}', "application/json", 422, "not valid JSON"),
    ('{"code": "a\\ud800b", "name": "x"}', "application/json", 422, "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "application/json", 422, "not valid JSON"),
    ("code=x&name=y", "application/x-www-form-urlencoded", 415, "application/json"),
    ("code,name\nx,y", "text/csv", 415, "application/json"),
])
def test_bodies_that_are_not_a_json_object_are_refused_clearly(api, db, issuer, data,
                                                               content_type, status, fragment):
    response = api.post("/api/v1/skills", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()["error"]
    messages = [m for values in body.get("fields", {}).values() for m in values]
    assert fragment in " ".join([body["message"], *messages])
    assert skill_count(db, issuer) == 0


def test_an_oversized_body_is_413_json(api, app, db, issuer):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = '{"code": "big", "name": "' + "x" * limit + '"}'
    response = api.post("/api/v1/skills", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "http_413"
    assert skill_count(db, issuer) == 0


@pytest.mark.parametrize(("extra", "status"), [(1, 413), (0, 422)],
                         ids=["one-byte-over", "exactly-the-limit"])
def test_a_chunked_body_over_the_limit_is_413_not_cut(api, app, db, issuer, extra, status):
    """Without Content-Length (chunked transfer encoding, as gunicorn passes it on), a body
    one byte over the limit is refused whole; one exactly at the limit is read whole (and
    here fails validation as the JSON it is). tests/fault checks this under gunicorn."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    head = b'{"code": "big", "name": "'
    raw = head + b"x" * (limit - len(head) - 2 + extra) + b'"}'
    response = api.client.post(
        "/api/v1/skills", input_stream=io.BytesIO(raw),
        headers=api._headers({"Content-Type": "application/json",
                              "Transfer-Encoding": "chunked"}),
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == status, response.get_json()
    if status == 413:
        assert response.get_json()["error"]["code"] == "http_413"
    else:
        assert "name" in response.get_json()["error"]["fields"]
    assert skill_count(db, issuer) == 0


def test_unknown_paths_and_methods_are_json(api):
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "http_404"
    wrong = api.client.patch("/api/v1/skills", headers=api._headers(None))
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "http_405"
    huge_id = api.get("/api/v1/skills/99999999999999999999")
    assert huge_id.status_code == 404 and huge_id.mimetype == "application/json"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=0", "per_page=101",
                                   "per_page=1.5", "q=" + "x" * 101, "q=%00"])
def test_bad_query_parameters_are_422(api, query):
    response = api.get(f"/api/v1/skills?{query}")
    assert response.status_code == 422
    assert fields_of(response)


def test_bad_credential_filters_are_422(api):
    assert "state" in fields_of(api.get("/api/v1/credentials?state=lost"))
    assert "credit_bearing" in fields_of(api.get("/api/v1/credentials?credit_bearing=perhaps"))


# -- optimistic locking ----------------------------------------------------------------------
def test_the_second_save_of_a_stale_skill_is_409_not_lost(api):
    skill = api.create_skill("lock", name="Original")
    path = f"/api/v1/skills/{skill['id']}"
    etag_a = api.get(path).headers["ETag"]
    etag_b = api.get(path).headers["ETag"]
    first = api.put(path, json=skill_body("lock", name="First editor"),
                    headers={"If-Match": etag_a})
    assert first.status_code == 200
    second = api.put(path, json=skill_body("lock", name="Second editor"),
                     headers={"If-Match": etag_b})
    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "stale_version"
    assert api.get(path).get_json()["name"] == "First editor"


def test_row_version_may_come_in_the_body(api):
    skill = api.create_skill("lock2")
    path = f"/api/v1/skills/{skill['id']}"
    ok = api.put(path, json={**skill_body("lock2", name="New"), "row_version": 1})
    assert ok.status_code == 200 and ok.get_json()["row_version"] == 2
    stale = api.put(path, json={**skill_body("lock2", name="Newer"), "row_version": 1})
    assert stale.status_code == 409
    plain = api.put(path, json=skill_body("lock2", name="Newest"), headers={"If-Match": '"2"'})
    assert plain.status_code == 200


@pytest.mark.parametrize(("headers", "extra", "status"), [
    ({}, {}, 428),
    ({"If-Match": "yesterday"}, {}, 422),
    ({"If-Match": '"1", "2"'}, {}, 422),
    ({"If-Match": '""'}, {}, 422),  # found by schemathesis: werkzeug reads it as a None tag
    ({"If-Match": 'W/""'}, {}, 422),
    ({}, {"row_version": "1"}, 422),
    ({}, {"row_version": True}, 422),
    ({"If-Match": '"1"'}, {"row_version": 2}, 422),
])
def test_a_put_must_say_which_version_it_edits(api, headers, extra, status):
    skill = api.create_skill("lock3", name="Kept")
    path = f"/api/v1/skills/{skill['id']}"
    response = api.put(path, json={**skill_body("lock3", name="Changed"), **extra},
                       headers=headers)
    assert response.status_code == status
    assert api.get(path).get_json()["name"] == "Kept"


def test_delete_with_a_stale_if_match_is_409(api):
    skill = api.create_skill("lock4")
    path = f"/api/v1/skills/{skill['id']}"
    assert api.delete(path, headers={"If-Match": '""'}).status_code == 422
    api.put(path, json=skill_body("lock4", name="Edited"), headers={"If-Match": '"1"'})
    assert api.delete(path, headers={"If-Match": '"1"'}).status_code == 409
    assert api.delete(path, headers={"If-Match": '"2"'}).status_code == 204


def test_a_stale_draft_edit_is_409(api):
    api.create_skill("s1")
    version = api.create_credential("c1", ["s1"])
    path = f"/api/v1/versions/{version['id']}"
    first = api.put(path, json={**version["content"], "title": "First title"},
                    headers={"If-Match": '"1"'})
    assert first.status_code == 200, first.get_json()
    second = api.put(path, json={**version["content"], "title": "Second title"},
                     headers={"If-Match": '"1"'})
    assert second.status_code == 409
    assert api.version(version["id"])["content"]["title"] == "First title"


# -- pagination, filters, ETags ------------------------------------------------------------------
def _links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"',
                                                response.headers["Link"])}


def test_pagination_follows_link_headers_through_every_item(api):
    for i in range(7):
        api.create_skill(f"p{i}", tags=["even" if i % 2 == 0 else "odd"])
    seen: list[str] = []
    url = "/api/v1/skills?per_page=3"
    pages = 0
    while url:
        response = api.get(url)
        body = response.get_json()
        assert body["total"] == 7 and body["per_page"] == 3
        seen += [s["code"] for s in body["items"]]
        links = _links(response)
        assert links["first"].endswith("page=1") and "per_page=3" in links["last"]
        if pages:
            assert "prev" in links
        url = links.get("next", "")
        pages += 1
    assert pages == 3
    assert seen == [f"p{i}" for i in range(7)]
    beyond = api.get("/api/v1/skills?per_page=3&page=9").get_json()
    assert beyond["items"] == [] and beyond["total"] == 7
    filtered = api.get("/api/v1/skills?tag=odd&per_page=2")
    assert filtered.get_json()["total"] == 3
    assert "tag=odd" in _links(filtered)["next"]
    searched = api.get("/api/v1/skills?q=P3").get_json()
    assert [s["code"] for s in searched["items"]] == ["p3"]


def test_credential_list_filters(api):
    api.create_skill("s1")
    api.create_credential("plain", ["s1"], title="Plain one")
    api.create_credential("credit", ["s1"], title="Credit one", credit_bearing=True,
                          credit_value="0.5", credit_system="Ontario college credit hours")
    credit = api.get("/api/v1/credentials?credit_bearing=true").get_json()
    assert [v["code"] for v in credit["items"]] == ["credit"]
    plain = api.get("/api/v1/credentials?credit_bearing=false").get_json()
    assert [v["code"] for v in plain["items"]] == ["plain"]
    assert api.get("/api/v1/credentials?state=draft").get_json()["total"] == 2
    assert api.get("/api/v1/credentials?state=published").get_json()["total"] == 0
    assert api.get("/api/v1/credentials?state=").get_json()["total"] == 2
    assert [v["code"] for v in api.get("/api/v1/credentials?q=credit one")
            .get_json()["items"]] == ["credit"]


def test_etags_give_304_until_the_resource_changes(api):
    skill = api.create_skill("etag")
    path = f"/api/v1/skills/{skill['id']}"
    first = api.get(path)
    etag = first.headers["ETag"]
    assert etag.startswith("W/")
    again = api.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    listing = api.get("/api/v1/skills")
    list_etag = listing.headers["ETag"]
    assert api.get("/api/v1/skills", headers={"If-None-Match": list_etag}).status_code == 304
    api.put(path, json=skill_body("etag", name="Changed"), headers={"If-Match": etag})
    changed = api.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert api.get("/api/v1/skills", headers={"If-None-Match": list_etag}).status_code == 200
    assert api.get(path, headers={"If-None-Match": "*"}).status_code == 304


def test_another_tokens_etag_for_the_same_path_does_not_match(client, db):
    a, b = make_issuer(db, "a-college"), make_issuer(db, "b-college")
    api_a, api_b = Api(client, make_token(db, a)), Api(client, make_token(db, b))
    api_a.create_skill("same")
    etag_a = api_a.get("/api/v1/skills").headers["ETag"]
    response = api_b.get("/api/v1/skills", headers={"If-None-Match": etag_a})
    assert response.status_code == 200 and response.get_json()["total"] == 0
    assert "Authorization" in response.headers["Vary"]


# -- isolation between issuers -----------------------------------------------------------------
def test_a_token_sees_only_its_own_issuers_catalog(client, db):
    a, b = make_issuer(db, "a-college", "A College"), make_issuer(db, "b-college", "B College")
    api_a, api_b = Api(client, make_token(db, a)), Api(client, make_token(db, b))
    b_skill = api_b.create_skill("b.secret", name="B only")
    b_version = api_b.create_credential("b.cred", ["b.secret"], title="B credential")
    a_skill = api_a.create_skill("a.skill")
    a_version = api_a.create_credential("a.cred", ["a.skill"])

    for path in (f"/api/v1/skills/{b_skill['id']}", f"/api/v1/versions/{b_version['id']}",
                 f"/api/v1/credentials/{b_version['credential_id']}",
                 f"/api/v1/versions/{b_version['id']}/reviews",
                 f"/api/v1/versions/{a_version['id']}/diff/{b_version['id']}"):
        response = api_a.get(path)
        assert response.status_code == 404, path
        assert "B only" not in response.get_data(as_text=True)
    assert api_a.put(f"/api/v1/skills/{b_skill['id']}", json=skill_body("b.secret"),
                     headers={"If-Match": '"1"'}).status_code == 404
    assert api_a.delete(f"/api/v1/skills/{b_skill['id']}").status_code == 404
    assert api_a.put(f"/api/v1/versions/{b_version['id']}", json=b_version["content"],
                     headers={"If-Match": '"1"'}).status_code == 404
    assert api_a.act(b_version["id"], "submit").status_code == 404
    assert api_a.post(f"/api/v1/credentials/{b_version['credential_id']}/versions") \
        .status_code == 404
    # A's credential cannot reference B's skill either.
    refused = api_a.post("/api/v1/credentials", json=credential_body("a.two", ["b.secret"]))
    assert refused.status_code == 422

    assert [s["code"] for s in api_a.get("/api/v1/skills").get_json()["items"]] == ["a.skill"]
    assert [v["code"] for v in api_a.get("/api/v1/credentials").get_json()["items"]] == \
        ["a.cred"]
    assert api_a.get("/api/v1/issuer").get_json()["slug"] == "a-college"
    exported = api_a.get("/api/v1/catalog/export").get_data(as_text=True)
    assert "b.secret" not in exported and "B College" not in exported
    assert "b.secret" not in api_a.get("/api/v1/skills.csv").get_data(as_text=True)
    assert api_b.version(b_version["id"])["state"] == "draft"
    assert api_b.get(f"/api/v1/skills/{b_skill['id']}").status_code == 200
    assert a_skill["id"] != b_skill["id"]


# -- other reads --------------------------------------------------------------------------------
def test_rubric_and_issuer(api, issuer):
    rubric = api.get("/api/v1/rubric").get_json()
    assert [lvl["key"] for lvl in rubric["levels"]] == ["not_met", "partially_met", "met",
                                                         "exemplary"]
    assert {c["lens"] for c in rubric["criteria"]} == {"educational", "institutional",
                                                        "sector"}
    assert len(rubric["criteria"]) == 10
    profile = api.get("/api/v1/issuer").get_json()
    assert profile["name"] == "Lakeshore College"
    assert profile["email"] == "registrar@college.example.edu"


def test_a_credential_shows_its_versions(api):
    api.create_skill("s1")
    version = api.create_credential("c1", ["s1"])
    credential = api.get(f"/api/v1/credentials/{version['credential_id']}").get_json()
    assert credential["code"] == "c1"
    assert credential["latest_version_id"] == version["id"]
    assert credential["published_version_id"] is None
    assert [v["version"] for v in credential["versions"]] == [1]
    assert version["content"]["notional_hours"] == "30.0"
    assert version["skills"] == [{"code": "s1", "name": "Skill s1", "requirement": "required",
                                  "translations": {}}]
    assert "Skill s1" in version["earning_rule"]
    assert version["allowed_actions"] == ["submit"]


# -- the OpenAPI document -------------------------------------------------------------------------
def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    return routes


def test_openapi_document_lists_every_route_and_needs_no_token(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.0.3"
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert _api_routes(app) == documented
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', response.get_data(as_text=True)))
    assert refs <= set(doc["components"]["schemas"])
    skill_input = doc["components"]["schemas"]["SkillInput"]
    assert skill_input["additionalProperties"] is False
    assert set(skill_input["required"]) == {"code", "name"}
    assert skill_input["properties"]["name"]["maxLength"] == 200
    alignment = doc["components"]["schemas"]["Alignment"]["properties"]
    assert alignment["target_url"]["format"] == "uri"
    assert "ESCO" in alignment["target_type"]["enum"]
    hours = doc["components"]["schemas"]["CredentialInput"]["properties"]["notional_hours"]
    assert hours["type"] == "string" and "pattern" in hours
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if path.endswith("openapi.json") or path == "/api/v1/verify":  # public
                assert operation["security"] == []
            else:
                assert "401" in operation["responses"] and "403" in operation["responses"]
                assert operation["x-required-scope"] in operation["description"]
    again = client.get("/api/v1/openapi.json",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_content_read_from_a_draft_can_be_put_back_unchanged(api):
    """GET → PUT round trip: every optional field as read (e.g. image_url "") is valid input."""
    api.create_skill("s1")
    version = api.create_credential("c1", ["s1"], languages=["en\n", "fr-CA"])
    assert version["content"]["image_url"] == ""
    assert version["content"]["languages"] == ["en", "fr-CA"]
    path = f"/api/v1/versions/{version['id']}"
    response = api.put(path, json=version["content"], headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["content"] == version["content"]
