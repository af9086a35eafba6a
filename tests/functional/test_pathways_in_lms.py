"""Pathways inside the LMS (issue 12): the learner's page shows the pathways their
credentials belong to with progress in words (earned, in progress, not started), what it
is worth in credit and the next steps; earning the last step in a continuing-education
course awards the program credential at once and the page says the pathway is complete;
the instructor's offerings page shows where the offered credentials lead."""

from __future__ import annotations

from lti_tool.domain.catalog import LifecycleState
from lti_tool.services import pathways
from tests.support.learning import (
    CODETEACH,
    INSTRUCTOR,
    account_of,
    context_of,
    demonstrate,
    launch,
    make_issuer,
    offer,
    python_catalog,
)
from tests.support.pathways import pathway_data, to_state

CONTINUING = {"context_kind": "continuing-ed"}


def test_learner_and_instructor_see_the_pathway(app, db, platform) -> None:
    issuer = make_issuer(db, platform)
    catalog, fund = python_catalog(db, issuer)
    data_version = catalog.publish("PY-DATA", "Python for Data", required=("PY-TEST",))
    catalog.publish("PY-APPLIED", "Applied Python", required=("PY-REC",))
    b = catalog.builder
    version = pathways.create_pathway(db, b.author, pathway_data(
        "PY-PATH", core=("PY-FUND", "PY-DATA"), target="PY-APPLIED",
        order=(("PY-FUND", "PY-DATA"),), title="Python programming pathway"))
    to_state(b, version, LifecycleState.PUBLISHED)
    db.commit()
    launch(app, platform, CODETEACH, custom=CONTINUING, roles=[INSTRUCTOR])
    sam_launch = launch(app, platform, CODETEACH, sub="4", name="Sam Student",
                        email="student4@example.com", custom=CONTINUING)
    course = context_of(db, platform, "3")
    offer(db, issuer, course, fund)
    offer(db, issuer, course, data_version)
    sam = account_of(db, platform, "4")
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-REC"):
        demonstrate(db, course, sam, catalog.skills[code])
    db.commit()

    page = sam_launch.page()
    text = page.text
    assert "My pathways" in text and "Python programming pathway" in text
    assert "1 of 2 steps earned." in text and "Worth 1.5 credits so far." in text
    assert "Next steps: PY-DATA." in text
    assert "✔ Earned Python Programming Fundamentals" in text
    assert "○ Not started Python for Data" in text
    # The flowchart with the learner's progress, and its text alternative.
    assert "The flowchart in words" in text
    assert page.html.count("<svg") >= 1 and "Status: Earned" in text

    # The last step, in this continuing-education course: the program credential at once.
    result = demonstrate(db, course, sam, catalog.skills["PY-TEST"])
    assert [a.route for a in result.new_awards] == ["stand_alone", "stacked"]
    db.commit()
    text = sam_launch.page().text
    assert "Complete." in text and "Applied Python" in text

    teacher = launch(app, platform, CODETEACH, custom=CONTINUING, roles=[INSTRUCTOR])
    offerings = teacher.page("/course/offerings")
    assert "Where these credentials lead" in offerings.text
    assert "Python programming pathway" in offerings.text
    assert "Steps, rules and credit" in offerings.text
