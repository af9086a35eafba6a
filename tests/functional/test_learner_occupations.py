"""A learner's "Where your skills lead": the occupations their demonstrated skills lead
toward (only their own demonstrations, only their institution's occupations), what is met
and what is missing with the micro-credentials that teach it, in their language."""

from __future__ import annotations

import pytest

from lti_tool.services import occupations as occupations_service
from tests.support.catalog import actor
from tests.support.learning import (
    INTROPROG,
    account_of,
    context_of,
    demonstrate,
    launch,
    make_issuer,
    offer,
    python_catalog,
)

ROLE = {"custom": {"context_kind": "for-credit"}}


@pytest.fixture()
def school(app, db, platform):
    issuer = make_issuer(db, platform)
    catalog, version = python_catalog(db, issuer)
    launch(app, platform, "instructor_claims_INTROPROG.json", **ROLE)
    for sub, name in (("4", "Sam Student"), ("5", "Alex Learner")):
        launch(app, platform, INTROPROG, sub=sub, name=name, email=f"s{sub}@example.com",
               **ROLE)
    intro = context_of(db, platform, "2")
    offer(db, issuer, intro, version)
    occupations_service.import_occupations(db, actor(issuer), [
        {"code": "NOC-21232", "noc_code": "21232",
         "title": "Software developers and programmers",
         "title_fr": "Développeurs de logiciels", "source": "NOC 2021",
         "skills": [{"name": "Variables", "name_fr": "Variables", "skill": "PY-VAR"},
                    {"name": "Debugging", "name_fr": "Débogage", "skill": "PY-DEBUG"},
                    {"name": "Web <accessibility>", "name_fr": "Accessibilité Web"},
                    {"name": "Recursion", "skill": "PY-REC", "importance": "optional"}]},
        {"code": "NOC-42201", "noc_code": "42201",
         "title": "Social and community service workers", "source": "NOC 2021",
         "skills": [{"name": "Crisis intervention"}]},
    ])
    db.commit()
    return {"issuer": issuer, "skills": catalog.skills, "intro": intro,
            "sam": account_of(db, platform, "4"), "alex": account_of(db, platform, "5")}


def test_occupations_the_learners_skills_lead_toward(app, db, platform, school):
    sam = launch(app, platform, INTROPROG, sub="4", name="Sam Student", **ROLE)
    before = sam.page("/me")
    assert "Where your skills lead" in before.text
    assert "Once you demonstrate skills, the occupations they lead toward appear here" \
        in before.text
    demonstrate(db, school["intro"], school["sam"], school["skills"]["PY-VAR"])
    page = sam.page("/me")
    assert page.status == 200
    text = page.text
    assert "Software developers and programmers (NOC 21232)" in text
    assert "You have demonstrated 1 of its 3 essential skills." in text
    assert "✓ Variables" in text
    assert "○ Debugging — taught in: Python Programming Fundamentals" in text
    assert "Web &lt;accessibility&gt;" in page.html
    assert "not offered as a micro-credential yet" in text
    assert "Recursion (optional)" in text
    assert "Social and community service workers" not in text  # nothing of it shown
    assert 'href="/c/northern/PY-FUND/v/1"' in page.html

    # Alex has demonstrated nothing: Sam's records never show on Alex's page.
    alex = launch(app, platform, INTROPROG, sub="5", name="Alex Learner", **ROLE)
    assert "Software developers and programmers" not in alex.page("/me").text


def test_in_french(app, db, platform, school):
    demonstrate(db, school["intro"], school["sam"], school["skills"]["PY-VAR"])
    sam = launch(app, platform, INTROPROG, sub="4", name="Sam Student",
                 **{**ROLE, "https://purl.imsglobal.org/spec/lti/claim/launch_presentation":
                    {"locale": "fr-CA", "document_target": "iframe"}})
    text = sam.page("/me").text
    assert "Où mènent vos compétences" in text
    assert "Développeurs de logiciels (CNP 21232)" in text
    assert "Débogage" in text
    assert "Vous avez démontré 1 de ses 3 compétences essentielles." in text
    # No French title for the credential: shown in English, and said so.
    assert "Python Programming Fundamentals (en anglais)" in text


def test_no_section_when_the_institution_lists_no_occupations(app, db, platform, school):
    from sqlalchemy import delete

    from lti_tool.models import Occupation

    db.execute(delete(Occupation))
    db.commit()
    sam = launch(app, platform, INTROPROG, sub="4", name="Sam Student", **ROLE)
    assert "Where your skills lead" not in sam.page("/me").text
