"""Public catalog pages: readable without a launch, JSON at the same URL, never a draft,
retired versions still readable (awards stay verifiable), hostile text escaped."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, LifecycleState
from lti_tool.services import catalog
from tests.support.catalog import CatalogBuilder, skill_data

JSON = {"Accept": "application/json"}
HOSTILE = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"


@pytest.fixture()
def college(db: Session) -> CatalogBuilder:
    b = CatalogBuilder(db)
    b.skills("S1", "S2", "S3")
    b.credential("PUB", LifecycleState.PUBLISHED, optional=("S3",), optional_min=1,
                 credit_bearing=True, credit_value="0.5",
                 credit_system="Ontario college credits", expiry_months=36,
                 languages=["en", "fr"])
    db.commit()
    return b


def _url(b: CatalogBuilder, code: str, version: int | None = None) -> str:
    url = f"/c/{b.issuer.slug}/{code}"
    return url if version is None else f"{url}/v/{version}"


def test_published_page_is_readable_without_a_launch(client: FlaskClient,
                                                     college: CatalogBuilder) -> None:
    response = client.get(_url(college, "PUB"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1 id=\"credential-title\">Credential PUB</h1>" in html
    for text in ("Explain the first thing.", "Do the second thing.", "12 hours",
                 "0.5 credits — Ontario college credits", "Pass/fail demonstration",
                 "Online, asynchronous", "English, French (français)",
                 "Valid for 36 months after it is awarded", "Skill S1", "Shows S2 in a "
                 "practical task.", "To earn it, demonstrate Skill S1 and Skill S2 and at "
                 "least 1 of Skill S3.", "Useful at work.", "Technician",
                 f"College {college.issuer.slug}", "version 1"):
        assert text in html, text
    assert ('<a href="http://data.europa.eu/esco/skill/s1" rel="noopener">ESCO S1</a>'
            in html)
    assert f'<meta property="og:title" content="Credential PUB · College {college.issuer.slug}"' \
        in html
    assert '<meta property="og:description" content="What PUB certifies.">' in html
    assert {v.strip() for v in response.headers["Vary"].split(",")} == {
        "Accept", "Accept-Language", "Cookie"}  # the HTML follows the reader's language
    assert "Set-Cookie" not in response.headers


def test_same_url_serves_json_with_issuer_and_version(client: FlaskClient,
                                                      college: CatalogBuilder) -> None:
    response = client.get(_url(college, "PUB"), headers=JSON)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Vary"] == "Accept"  # JSON does not depend on the language
    data = response.get_json()
    assert data["title"] == "Credential PUB"
    assert data["version"] == 1 and data["state"] == "published"
    assert data["current_version"] == 1
    assert data["issuer"]["slug"] == college.issuer.slug
    assert data["issuer"]["url"] == f"https://{college.issuer.slug}.example"
    assert data["learning_outcomes"] == ["Explain the first thing.", "Do the second thing."]
    assert [s["code"] for s in data["skills"]] == ["S1", "S2", "S3"]
    assert data["earning_rule"].startswith("To earn it")
    assert data["id"].endswith(f"/c/{college.issuer.slug}/PUB/v/1")
    assert data["published_at"] is not None and data["retired_at"] is None
    # The HTML names the same facts: the JSON is the same data, not a different view.
    html = client.get(_url(college, "PUB")).get_data(as_text=True)
    assert data["short_description"] in html


def test_json_has_an_etag_and_answers_304_when_unchanged(client: FlaskClient,
                                                         college: CatalogBuilder) -> None:
    first = client.get(_url(college, "PUB"), headers=JSON)
    etag = first.headers["ETag"]
    again = client.get(_url(college, "PUB"), headers={**JSON, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    html = client.get(_url(college, "PUB"))
    assert html.headers["ETag"] != etag  # a representation has its own tag
    changed = client.get(_url(college, "PUB"), headers={**JSON, "If-None-Match": '"other"'})
    assert changed.status_code == 200


def test_etag_changes_when_the_credential_is_retired(client: FlaskClient, db: Session,
                                                     college: CatalogBuilder) -> None:
    etag = client.get(_url(college, "PUB"), headers=JSON).headers["ETag"]
    version = catalog.published_version(db, college.issuer.id, "PUB")
    catalog.transition(db, college.author, version.id, Action.RETIRE)
    db.commit()
    after = client.get(_url(college, "PUB"), headers={**JSON, "If-None-Match": etag})
    assert after.status_code == 200
    assert after.get_json()["state"] == "retired"


@pytest.mark.parametrize("state", [LifecycleState.DRAFT, LifecycleState.IN_REVIEW,
                                   LifecycleState.APPROVED, LifecycleState.REJECTED])
def test_unpublished_versions_are_never_public(client: FlaskClient, db: Session,
                                               college: CatalogBuilder,
                                               state: LifecycleState) -> None:
    college.credential("HIDDEN", state, title="Secret plans")
    db.commit()
    for headers in ({}, JSON):
        response = client.get(_url(college, "HIDDEN"), headers=headers)
        assert response.status_code == 404
        assert "Secret plans" not in response.get_data(as_text=True)
        assert client.get(_url(college, "HIDDEN", 1), headers=headers).status_code == 404
    listing = client.get(f"/c/{college.issuer.slug}").get_data(as_text=True)
    assert "Secret plans" not in listing and "Credential PUB" in listing


def test_the_next_draft_of_a_published_credential_stays_private(
        client: FlaskClient, db: Session, college: CatalogBuilder) -> None:
    published = catalog.published_version(db, college.issuer.id, "PUB")
    draft = catalog.new_version(db, college.author, published.credential_id)
    data = catalog.input_of(draft)
    catalog.update_draft(db, college.author, draft.id, {**data, "title": "Unreleased title"})
    db.commit()
    assert client.get(_url(college, "PUB", 2)).status_code == 404
    page = client.get(_url(college, "PUB")).get_data(as_text=True)
    assert "Unreleased title" not in page and "Credential PUB" in page


def test_unknown_issuer_or_code_is_a_404_page(client: FlaskClient,
                                              college: CatalogBuilder) -> None:
    assert client.get("/c/no-such-college/PUB").status_code == 404
    assert client.get("/c/no-such-college").status_code == 404
    missing = client.get(_url(college, "NOPE"))
    assert missing.status_code == 404 and "text/html" in missing.content_type
    as_json = client.get(_url(college, "NOPE"), headers=JSON)
    assert as_json.status_code == 404 and as_json.get_json()["error"]["code"] == "not_found"
    assert client.get(_url(college, "PUB", 7)).status_code == 404


def test_a_retired_version_stays_readable_with_a_notice(client: FlaskClient, db: Session,
                                                        college: CatalogBuilder) -> None:
    v1 = catalog.published_version(db, college.issuer.id, "PUB")
    v2 = catalog.new_version(db, college.author, v1.credential_id)
    catalog.update_draft(db, college.author, v2.id,
                         {**catalog.input_of(v2), "title": "Credential PUB, revised"})
    college.to_state(v2, LifecycleState.PUBLISHED)
    db.commit()

    current = client.get(_url(college, "PUB")).get_data(as_text=True)
    assert "Credential PUB, revised" in current and "This version is retired" not in current
    old = client.get(_url(college, "PUB", 1))
    assert old.status_code == 200
    html = old.get_data(as_text=True)
    assert "This version is retired" in html
    assert "remain valid and can still be verified" in html
    assert f'href="/c/{college.issuer.slug}/PUB">Read the current version (2)' in html
    assert "Accept" in {v.strip() for v in old.headers["Vary"].split(",")}
    data = client.get(_url(college, "PUB", 1), headers=JSON).get_json()
    assert (data["state"], data["current_version"], data["title"]) == (
        "retired", 2, "Credential PUB")

    catalog.transition(db, college.author, v2.id, Action.RETIRE)
    db.commit()
    whole = client.get(_url(college, "PUB"))
    assert whole.status_code == 200
    assert "This version is retired" in whole.get_data(as_text=True)
    assert f"/c/{college.issuer.slug}/PUB" not in client.get(
        f"/c/{college.issuer.slug}").get_data(as_text=True).split("<h2")[1]


def test_the_page_shows_the_frozen_snapshot_not_later_skill_edits(
        client: FlaskClient, db: Session, college: CatalogBuilder) -> None:
    s1 = catalog.skill_by_code(db, college.issuer.id, "S1")
    catalog.update_skill(db, college.author, s1.id, skill_data("S1", name="Renamed skill"))
    db.commit()
    html = client.get(_url(college, "PUB")).get_data(as_text=True)
    assert "Skill S1" in html and "Renamed skill" not in html


def test_hostile_text_is_escaped_everywhere(client: FlaskClient, db: Session) -> None:
    b = CatalogBuilder(db)
    catalog.create_skill(db, b.author, skill_data("EVIL", name=HOSTILE, criteria=HOSTILE,
                                                  alignments=[{
                                                      "framework": HOSTILE,
                                                      "target_url": "https://x.example/?a=\"><script>",
                                                      "target_name": HOSTILE}]))
    version = b.credential("XSS", LifecycleState.PUBLISHED, required=("EVIL",),
                           title=HOSTILE + " title", short_description=HOSTILE,
                           long_description=HOSTILE, learning_outcomes=[HOSTILE],
                           target_occupations=[HOSTILE], stand_alone_value=HOSTILE)
    # Data that bypassed validation (an old import, a manual fix) still cannot link out
    # to a script.
    snapshot = dict(version.snapshot)
    snapshot["skills"] = [{**snapshot["skills"][0], "alignments": [
        {"framework": "F", "target_url": "javascript:alert(1)", "target_name": "bad link"}]}]
    version.snapshot = snapshot
    db.commit()

    html = client.get(_url(b, "XSS")).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert "bad link" in html  # shown as text, not as a link
    head = html.split("</head>")[0]
    assert re.search(r'<meta property="og:title" content="&lt;script&gt;', head)
    listing = client.get(f"/c/{b.issuer.slug}").get_data(as_text=True)
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing
    data = client.get(_url(b, "XSS"), headers=JSON).get_json()
    assert data["title"] == HOSTILE + " title"  # JSON carries the text verbatim
    assert data["skills"][0]["alignments"][0]["target_url"] == ""


def test_catalog_listing_as_html_and_json(client: FlaskClient, db: Session,
                                          college: CatalogBuilder) -> None:
    college.credential("ALSO", LifecycleState.PUBLISHED, title="Another one")
    db.commit()
    html = client.get(f"/c/{college.issuer.slug}").get_data(as_text=True)
    assert html.index("Another one") < html.index("Credential PUB")  # by title
    assert f'href="/c/{college.issuer.slug}/ALSO"' in html
    data = client.get(f"/c/{college.issuer.slug}", headers=JSON).get_json()
    assert [c["code"] for c in data["credentials"]] == ["ALSO", "PUB"]
    assert data["issuer"]["name"] == f"College {college.issuer.slug}"


def test_another_issuers_code_is_not_reachable_under_this_issuer(
        client: FlaskClient, db: Session, college: CatalogBuilder) -> None:
    other = CatalogBuilder(db)
    db.commit()
    assert client.get(f"/c/{other.issuer.slug}/PUB").status_code == 404
    assert "Credential PUB" not in client.get(f"/c/{other.issuer.slug}").get_data(
        as_text=True)


def test_the_first_sandbox_request_seeds_the_demo_catalog(client: FlaskClient) -> None:
    """``make run`` serves the sandbox: its first page seeds Lakeshore College's catalog."""
    assert client.get("/c/lakeshore").status_code == 404
    assert client.get("/sandbox").status_code == 200
    listing = client.get("/c/lakeshore").get_data(as_text=True)
    assert "Python Programming Fundamentals" in listing
    assert "Data Analysis with Spreadsheets" not in listing  # approved, not published
    assert client.get("/c/lakeshore/PYFUND").status_code == 200
    assert client.get("/c/lakeshore/PYFUND/v/1").status_code == 200  # retired, readable
    assert client.get("/c/lakeshore/CODEMATH").status_code == 404  # in review
    assert client.get("/sandbox").status_code == 200  # and again: nothing to add
