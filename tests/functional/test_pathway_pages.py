"""Public pathway pages (issue 12): a published pathway at /c/<issuer>/pathways/<code> in
HTML and, at the same URL, JSON; its steps as a nested ordered list with the rules, what
each step and the whole are worth in credit, where it leads; French texts when asked,
English marked where the French is missing; drafts and unknown codes are 404; hostile text
escaped; a credential's public page lists the pathways it belongs to."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState
from lti_tool.services import pathways
from tests.support.catalog import CatalogBuilder
from tests.support.pathways import pathway_data, published_pathway

JSON = {"Accept": "application/json"}
HOSTILE = "<script>alert('pwned')</script>"


@pytest.fixture()
def college(db: Session) -> CatalogBuilder:
    b = CatalogBuilder(db)
    for code in ("A", "B", "C", "D", "PROG"):
        b.skills(f"S{code}")
        extra = {"translations": {"fr": {"title": "Titre A en français"}}} \
            if code == "A" else {}
        b.credential(code, LifecycleState.PUBLISHED, required=(f"S{code}",), **extra)
    published_pathway(db, b, core=("A", "B"), choose=("C", "D"), choose_min=1,
                      order=(("A", "B"),),
                      description=f"How it stacks. {HOSTILE}")
    pathways.create_pathway(db, b.author, pathway_data("DRAFTY"))
    db.commit()
    return b


def test_the_public_page_says_steps_rules_worth_and_target(client: FlaskClient,
                                                           college: CatalogBuilder) -> None:
    response = client.get(f"/c/{college.issuer.slug}/pathways/PATH")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ('<h1 id="pathway-title">Pathway PATH</h1>', "All 2 of these",
                 "Choose 1 of 2", "Credential A", "Credential D", "1.5 credits",
                 "not credit-bearing", "After: A", "Certificate program", "Test College",
                 "Two course exemptions.", "3 credits on completion",
                 "Exempts from <strong>CERT-100</strong> Foundations",
                 "Registrar: apply exemptions on request.",
                 "awarded automatically when the pathway is complete"):
        assert text in html, text
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert '<ol class="pathway-groups"' in html
    assert "Accept" in response.headers["Vary"].split(", ")


def test_same_url_serves_json(client: FlaskClient, college: CatalogBuilder) -> None:
    data = client.get(f"/c/{college.issuer.slug}/pathways/PATH", headers=JSON).get_json()
    assert data["format"] == "microcred-pathway" and data["code"] == "PATH"
    assert data["target"]["credential"]["code"] == "PROG"
    assert data["target"]["external"]["name"] == "Certificate program"
    assert [g["rule"] for g in data["groups"]] == ["all", "choose"]
    assert data["groups"][1]["minimum"] == "1"
    assert [s["credential"] for s in data["groups"][0]["steps"]] == ["A", "B"]
    assert data["groups"][0]["steps"][0]["credits"] == "1.5"
    assert data["groups"][0]["steps"][0]["hours"] == "12"
    assert data["order"] == [{"before": "A", "after": "B"}]
    assert data["totals"] == {"steps": 4, "credits": "3", "hours": "48"}
    assert data["articulation"]["courses"][0]["code"] == "CERT-100"
    assert data["translations"] == {"fr": {"title": "Cheminement PATH"}}


def test_french_page_uses_the_french_title_and_marks_english(client: FlaskClient,
                                                            college: CatalogBuilder) -> None:
    html = client.get(f"/c/{college.issuer.slug}/pathways/PATH?lang=fr").get_data(
        as_text=True)
    assert "Cheminement PATH" in html
    # A step whose credential has a French title shows it; the others English, marked.
    assert "Titre A en français" in html
    assert '<span lang="en">Credential B</span>' in html
    for text in ("Choisir 1 sur 2", "1,5 crédits", "Mène à", "Ce qu'il vaut"):
        assert text in html, text
    # No French description: the English one, marked as such.
    assert '<span lang="en">How it stacks.' in html
    assert "(en anglais)" in html


def test_drafts_and_unknown_codes_are_not_found(client: FlaskClient,
                                                college: CatalogBuilder) -> None:
    for code in ("DRAFTY", "NOPE"):
        assert client.get(f"/c/{college.issuer.slug}/pathways/{code}").status_code == 404
        assert client.get(f"/c/{college.issuer.slug}/pathways/{code}",
                          headers=JSON).status_code == 404
    assert client.get("/c/no-such-college/pathways/PATH").status_code == 404


def test_a_credential_page_lists_its_pathways(client: FlaskClient,
                                              college: CatalogBuilder) -> None:
    html = client.get(f"/c/{college.issuer.slug}/A").get_data(as_text=True)
    assert f'href="http://tool.test/c/{college.issuer.slug}/pathways/PATH">Pathway PATH</a>' \
        in html
    assert "one of 4 steps toward Credential PROG" in html
    target = client.get(f"/c/{college.issuer.slug}/PROG", headers=JSON).get_json()
    assert [(p["code"], p["role"]) for p in target["pathways"]] == [("PATH", "target")]


def test_a_credentials_page_says_its_pathway_worth_and_what_a_program_rests_on(
        app, client: FlaskClient, db: Session) -> None:
    from lti_tool.services import catalog as catalog_service
    from lti_tool.services import issuing
    from tests.support.issuing import vault_of
    from tests.support.tracking_engine import Campus, record

    campus = Campus.create(db)
    for code, skill in (("A", "SA"), ("B", "SB"), ("PROG", "SP")):
        campus.credential(code, required=(skill,))
    published_pathway(db, campus.catalog, core=("A", "B"))
    course = campus.course("CE-1", "continuing-ed")
    for code in ("A", "B"):
        campus.offer(course, catalog_service.published_version(db, campus.issuer.id, code))
    ada = campus.learner("ada", course)
    [step] = record(db, course, ada, campus.skill("SA")).new_awards
    _b, program = record(db, course, ada, campus.skill("SB")).new_awards
    for award in (step, program):
        issuing.issue_for_award(db, award, vault=vault_of(app), base_url="http://tool.test")
    db.commit()
    html = client.get(f"/credentials/{step.public_id}").get_data(as_text=True)
    assert "one of 2 steps toward Credential PROG" in html and "1.5 credits" in html
    html = client.get(f"/credentials/{program.public_id}").get_data(as_text=True)
    assert "Awarded on completing a pathway" in html
    assert f'href="http://tool.test/credentials/{step.public_id}"' in html
    assert "awarded on completing this pathway of 2 steps" in html


def test_the_public_page_has_the_flowchart_and_its_downloads(client: FlaskClient,
                                                             college: CatalogBuilder) -> None:
    base = f"/c/{college.issuer.slug}/pathways/PATH"
    html = client.get(base).get_data(as_text=True)
    assert '<svg' in html and 'class="flowchart' in html
    assert "The flowchart in words" in html
    assert f'href="{base}/flowchart.svg"' in html and f'href="{base}/flowchart.png"' in html
    svg = client.get(f"{base}/flowchart.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "attachment" in svg.headers["Content-Disposition"]
    assert "Credential A" in svg.get_data(as_text=True)
    png = client.get(f"{base}/flowchart.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert client.get(f"/c/{college.issuer.slug}/pathways/DRAFTY/flowchart.svg"
                      ).status_code == 404


def test_the_public_catalog_lists_published_pathways(client: FlaskClient,
                                                     college: CatalogBuilder) -> None:
    html = client.get(f"/c/{college.issuer.slug}").get_data(as_text=True)
    assert "Pathway PATH" in html and "4 steps · leads to Credential PROG" in html
    assert "DRAFTY" not in html
    data = client.get(f"/c/{college.issuer.slug}", headers=JSON).get_json()
    assert [p["code"] for p in data["pathways"]] == ["PATH"]
