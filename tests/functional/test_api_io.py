"""Import and export through the REST API: the catalog as JSON (round trip into another
issuer), skills as CSV, dry runs, and atomicity (any problem → 422 listing every problem
with its location, and nothing applied)."""

from __future__ import annotations

import copy

import pytest

from tests.support.api import Api, make_issuer, make_token


@pytest.fixture()
def source_issuer(db):
    return make_issuer(db, "source-college", "Source College")


@pytest.fixture()
def source(client, db, source_issuer):
    return Api(client, make_token(db, source_issuer))


@pytest.fixture()
def target(client, db):
    return Api(client, make_token(db, make_issuer(db, "target-college", "Target College")))


def seed(api: Api, reviewer: Api) -> None:
    api.create_skill("py.vars", name="Variables and types", tags=["python"],
                     alignments=[{"framework": "ESCO", "target_type": "ESCO",
                                  "target_url": "https://esco.ec.europa.eu/en/skill/1"}])
    api.create_skill("py.flow", name="Control flow <if/else>")
    v1 = api.create_credential("py101", ["py.vars", "py.flow"], title="Python Fundamentals")
    api.act(v1["id"], "submit")
    assert reviewer.review(v1["id"]).status_code == 201
    api.act(v1["id"], "publish")
    api.create_credential("draft1", ["py.vars"], title="A draft")


def test_export_then_import_into_another_issuer_round_trips(client, db, source_issuer,
                                                            source, target):
    reviewer = Api(client, make_token(db, source_issuer, ("catalog:read", "review"),
                                      name="reviewer"))
    seed(source, reviewer)
    exported = source.get("/api/v1/catalog/export")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    document = exported.get_json()
    assert document["format"] == "microcred-catalog"
    assert [s["code"] for s in document["skills"]] == ["py.flow", "py.vars"]
    assert source.get("/api/v1/catalog/export",
                      headers={"If-None-Match": exported.headers["ETag"]}).status_code == 304

    dry = target.post("/api/v1/catalog/import?dry_run=1", json=document)
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["dry_run"] is True and dry.get_json()["applied"] is False
    assert dry.get_json()["counts"]["skills_created"] == 2
    assert target.get("/api/v1/skills").get_json()["total"] == 0

    applied = target.post("/api/v1/catalog/import", json=document)
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["applied"] is True
    assert applied.get_json()["counts"]["credentials_created"] == 2
    again = target.get("/api/v1/catalog/export").get_json()
    for doc in (again, document):
        doc.pop("exported_at")
        doc.pop("issuer")
    assert again == document
    listed = target.get("/api/v1/credentials?state=published").get_json()["items"]
    assert [v["title"] for v in listed] == ["Python Fundamentals"]
    assert target.get("/api/v1/skills?q=py.flow").get_json()["items"][0]["name"] == \
        "Control flow <if/else>"


def test_an_import_with_problems_applies_nothing_and_lists_every_one(client, db, source,
                                                                     target):
    source.create_skill("good.one")
    source.create_credential("cred", ["good.one"])
    document = source.get("/api/v1/catalog/export").get_json()
    bad = copy.deepcopy(document)
    bad["skills"].append({"code": "bad url", "name": "x",
                          "alignments": [{"framework": "F", "target_url": "javascript:x"}]})
    bad["skills"].append({"code": "fine.too", "name": ""})
    bad["credentials"][0]["versions"][0]["content"]["title"] = ""
    response = target.post("/api/v1/catalog/import", json=bad)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"]["code"] == "import_invalid"
    assert body["report"]["ok"] is False and body["report"]["applied"] is False
    wheres = set(body["error"]["fields"])
    assert {"skills[1].code", "skills[1].alignments[0].target_url", "skills[2].name",
            "credentials[0].versions[0].content.title"} <= wheres, wheres
    assert len(body["report"]["problems"]) >= 4
    # Nothing applied, not even the valid skill that came first.
    assert target.get("/api/v1/skills").get_json()["total"] == 0
    assert target.get("/api/v1/credentials").get_json()["total"] == 0
    dry = target.post("/api/v1/catalog/import?dry_run=true", json=bad)
    assert dry.status_code == 422


@pytest.mark.parametrize(("data", "content_type", "status"), [
    ("not json", "application/json", 422),
    ("[]", "application/json", 422),
    ('{"format": "something-else"}', "application/json", 422),
    ("{}", "text/plain", 415),
])
def test_import_refuses_what_is_not_a_catalog_document(target, data, content_type, status):
    response = target.post("/api/v1/catalog/import", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert target.get("/api/v1/skills").get_json()["total"] == 0


def test_skills_csv_export_and_import(source, target):
    source.create_skill("csv.one", name="First, with a comma", tags=["a", "b"])
    source.create_skill("csv.two", name="=SUM(A1:A2)")
    exported = source.get("/api/v1/skills.csv")
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert text.splitlines()[0].startswith("code,name,description")
    assert "'=SUM(A1:A2)" in text  # a spreadsheet would run it as a formula
    assert source.get("/api/v1/skills.csv",
                      headers={"If-None-Match": exported.headers["ETag"]}).status_code == 304

    dry = target.post("/api/v1/skills.csv?dry_run=1", data=text, content_type="text/csv")
    assert dry.status_code == 200 and dry.get_json()["counts"]["skills_created"] == 2
    assert target.get("/api/v1/skills").get_json()["total"] == 0
    applied = target.post("/api/v1/skills.csv", data=text, content_type="text/csv")
    assert applied.status_code == 200, applied.get_json()
    names = {s["code"]: (s["name"], s["tags"])
             for s in target.get("/api/v1/skills").get_json()["items"]}
    assert names == {"csv.one": ("First, with a comma", ["a", "b"]),
                     "csv.two": ("=SUM(A1:A2)", [])}


def test_a_bad_csv_row_applies_nothing(target):
    text = ("code,name,alignment_framework,alignment_url\r\n"
            "ok.skill,Fine,,\r\n"
            "bad skill,Broken code,,\r\n"
            "url.skill,Bad URL,ESCO,javascript:alert(1)\r\n")
    response = target.post("/api/v1/skills.csv", data=text, content_type="text/csv")
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"row 3", "row 4"}
    assert target.get("/api/v1/skills").get_json()["total"] == 0
    wrong_type = target.post("/api/v1/skills.csv", data=text, content_type="application/json")
    assert wrong_type.status_code == 415


def test_import_and_export_need_their_scopes(client, db):
    issuer = make_issuer(db, "scoped")
    reader = Api(client, make_token(db, issuer, ("catalog:read",)))
    writer = Api(client, make_token(db, issuer, ("catalog:write",)))
    assert reader.post("/api/v1/skills.csv", data="code,name\r\nx,y\r\n",
                       content_type="text/csv").status_code == 403
    assert writer.get("/api/v1/skills.csv").status_code == 403
    assert reader.get("/api/v1/skills").get_json()["total"] == 0
