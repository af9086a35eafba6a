"""Pathways in the admin UI (issue 12), through the pages' real forms: an administrator
builds a pathway with a k-of-n group and a credit rule (adding a step and a group without
JavaScript), errors land on their fields with what was typed kept; a second administrator
reviews it on the rubric (the author cannot); it is published after a confirmation; its
preview and public page say the same; a reviewer finds it in the review queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import DEFAULT_RUBRIC, LifecycleState
from lti_tool.models import PathwayVersion
from tests.support.admin import INSTITUTION_ADMIN, INSTRUCTOR, Page, launch, make_issuer
from tests.support.catalog import CatalogBuilder


@pytest.fixture()
def people(app, platform, db):
    issuer = make_issuer(db, platform)
    b = CatalogBuilder(db, issuer)
    for code in ("A", "B", "C", "D", "PROG"):
        b.skills(f"S{code}")
        b.credential(code, LifecycleState.PUBLISHED, required=(f"S{code}",),
                     credit_bearing=True, credit_value="1", credit_system="College credits")
    db.commit()
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    blake = launch(app, platform, sub="admin-2", name="Blake Board", roles=[INSTITUTION_ADMIN])
    return avery, blake, issuer


def _review_values(decision: str = "approve") -> dict[str, str]:
    values = {f"level-{i}": "met" for i in range(len(DEFAULT_RUBRIC))}
    values.update(decision=decision, comment="Clear pathway.")
    return values


def test_build_review_publish_through_the_forms(db, people) -> None:
    avery, blake, issuer = people
    page = avery.page("/admin/pathways/new")
    assert page.status == 200
    form = page.form("/admin/pathways/new")
    # One more step in group 1, then a second group: the form comes back, nothing saved.
    more = Page(avery.submit(form, add_step="0", **{"g0-title": "Core"}))
    assert more.status == 200 and 'name="g0-s2-credential"' in more.html
    assert more.form("/admin/pathways/new").value("g0-title") == "Core"
    two = Page(avery.submit(more.form("/admin/pathways/new"), add_group="1"))
    assert 'name="g1-s0-credential"' in two.html
    assert db.scalar(select(PathwayVersion.id)) is None

    fields = {
        "code": "PATH", "title": "Care pathway", "description": "Four steps.",
        "title_fr": "Parcours en soins", "target_credential": "PROG",
        "ext_name": "Personal Support Worker — Ontario College Certificate",
        "ext_grants": "Exemption from two courses.", "credit_bearing": "1", "credits": "3",
        "c0-code": "PSW-100", "c0-title": "Foundations",
        "g0-title": "Core", "g0-rule": "all", "g0-s0-credential": "A",
        "g0-s0-credits": "1.5", "g0-s0-course_code": "PSW-101", "g0-s1-credential": "B",
        "g1-title": "Electives", "g1-rule": "choose", "g1-minimum": "5",
        "g1-s0-credential": "C", "g1-s1-credential": "D",
        "order": "A -> B",
    }
    wrong = Page(avery.submit(two.form("/admin/pathways/new"), **fields))
    assert wrong.status == 422
    assert wrong.field_error("g1-minimum").endswith("asks for 5 of only 2 steps")
    assert wrong.is_invalid("g1-minimum") and "f-g1-minimum" in wrong.summary_links()
    assert wrong.form("/admin/pathways/new").value("g0-s0-credits") == "1.5"
    saved = avery.submit(wrong.form("/admin/pathways/new"), **{"g1-minimum": "1"})
    assert saved.status_code == 303, Page(saved).text[:1500]
    version = db.scalars(select(PathwayVersion)).one()
    assert version.content["groups"][1]["rule"] == "choose"
    assert version.translations == {"fr": {"title": "Parcours en soins"}}

    pathway_path = f"/admin/pathways/{version.pathway_id}"
    shown = avery.page(pathway_path)
    assert "Choose 1 of 2" in shown.text and "exempts from PSW-101" in shown.text
    submitted = avery.submit(shown.form("/transition", containing="submit"))
    assert submitted.status_code == 303
    own = avery.page(f"/admin/pathway-versions/{version.id}/review")
    assert "someone else must review it" in own.text and not own.has_form("/review")
    queue = blake.page("/admin/reviews")
    assert "Care pathway" in queue.text
    review_page = blake.page(f"/admin/pathway-versions/{version.id}/review")
    assert "Choose 1 of 2" in review_page.text  # the preview is there
    reviewed = blake.submit(review_page.form("/review"), **_review_values())
    assert reviewed.status_code == 303, Page(reviewed).text[:1500]
    asked = Page(avery.submit(avery.page(pathway_path).form("/transition",
                                                            containing="publish")))
    assert "This cannot be undone" in asked.text
    done = avery.submit(asked.form("/transition", containing="publish"))
    assert done.status_code == 303
    db.expire_all()
    assert db.get(PathwayVersion, version.id).state == "published"
    public = avery.client.get(f"/c/{issuer.slug}/pathways/PATH").get_data(as_text=True)
    assert "Care pathway" in public and "Choose 1 of 2" in public


def test_a_learner_cannot_reach_the_pathway_pages(app, platform, db, people) -> None:
    from tests.support.admin import LEARNER

    learner = launch(app, platform, sub="student-1", name="Sam Student", roles=[LEARNER])
    assert learner.get("/admin/pathways").status_code == 403
    assert learner.get("/admin/pathways/new").status_code == 403


def test_posts_without_csrf_are_refused_and_change_nothing(db, people) -> None:
    avery, _blake, _issuer = people
    form = avery.page("/admin/pathways/new").form("/admin/pathways/new")
    data = form.data()
    data.setlist("csrf_token", ["forged"])
    data.setlist("code", ["X1"])
    data.setlist("title", ["Forged pathway"])
    data.setlist("g0-s0-credential", ["A"])
    response = avery.client.post(form.action, data=data)
    assert response.status_code == 403
    assert db.scalar(select(PathwayVersion.id)) is None
