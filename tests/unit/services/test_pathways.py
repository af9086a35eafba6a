"""Pathways through the services: the credentials' lifecycle and rubric review (with
separation of duties), validation against the catalog with nothing changed on a refusal,
and program credentials: awarded by the engine when the last step is earned (route
stacked, evidence the stacked awards), once, across courses and platforms, on
publication for learners who already qualify, flagged when a stacked award is revoked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import Action, LifecycleState
from lti_tool.domain.tracking import AwardStatus
from lti_tool.errors import Conflict, Forbidden, ValidationFailed
from lti_tool.models import AuditEvent, Award, Pathway, PathwayReview, PathwayVersion
from lti_tool.services import catalog, pathways, tracking
from tests.support.catalog import review_data
from tests.support.pathways import pathway_data, published_pathway, to_state
from tests.support.tracking_engine import TEACHER, Campus, count, record


@pytest.fixture()
def campus(app, db):
    campus = Campus.create(db)
    for code, skill in (("A", "SA"), ("B", "SB"), ("C", "SC"), ("D", "SD"),
                        ("E", "SE"), ("PROG", "SP")):
        campus.credential(code, required=(skill,))
    return campus


def test_lifecycle_and_review_reuse_the_credentials_rules(db, campus):
    b = campus.catalog
    version = pathways.create_pathway(db, b.author, pathway_data())
    assert (version.state, version.version, version.title) == ("draft", 1, "Pathway PATH")
    assert version.translations == {"fr": {"title": "Cheminement PATH"}}
    assert version.target_credential_id is not None
    assert len(version.step_links) == 2
    pathways.transition(db, b.author, version.id, Action.SUBMIT)
    with pytest.raises(Forbidden) as own:
        pathways.review(db, b.author, version.id, review_data(db, b.issuer.id))
    assert own.value.code == "self_review"
    with pytest.raises(ValidationFailed) as partial:
        pathways.review(db, b.reviewer, version.id, {"decision": "approve", "scores": [
            {"criterion": "structure", "level": "met"}]})
    assert "score every criterion" in partial.value.errors["scores"][0]
    row = pathways.review(db, b.reviewer, version.id, review_data(db, b.issuer.id))
    assert isinstance(row, PathwayReview) and version.state == "approved"
    pathways.transition(db, b.author, version.id, Action.PUBLISH)
    assert version.state == "published" and version.snapshot is not None
    steps = version.snapshot["groups"][0]["steps"]
    assert [s["title"] for s in steps] == ["Credential A", "Credential B"]
    assert version.snapshot["target"]["title"] == "Credential PROG"
    with pytest.raises(Conflict):
        pathways.update_draft(db, b.author, version.id, pathway_data())
    events = {e.action for e in db.scalars(select(AuditEvent))}
    assert {"pathway.created", "pathway.submit", "pathway.review.approve",
            "pathway.publish"} <= events

    second = pathways.new_version(db, b.editor, version.pathway_id)
    pathways.update_draft(db, b.editor, second.id, pathway_data(core=("A", "B", "C")))
    to_state(b, second, LifecycleState.PUBLISHED)
    assert version.state == "retired"
    assert [p.version for p in pathways.published_pathways(db, b.issuer.id)] == [2]


def test_a_refused_pathway_changes_nothing(db, campus):
    b = campus.catalog
    before = (count(db, Pathway), count(db, PathwayVersion))
    with pytest.raises(ValidationFailed) as refused:
        pathways.create_pathway(db, b.author, pathway_data(
            core=("A", "NOPE"), choose=("C", "D"), choose_min=3, order=(("A", "C"),
                                                                         ("C", "A"))))
    assert refused.value.errors == {
        "groups.0.steps.1.credential": ["no micro-credential NOPE in this catalog"],
        "groups.1.minimum": ["asks for 3 of only 2 steps"],
        "order": ["the order makes a cycle: A → C → A"],
    }
    with pytest.raises(ValidationFailed) as code:
        pathways.create_pathway(db, b.author, {**pathway_data(), "code": "bad code!"})
    assert "code" in code.value.errors
    assert (count(db, Pathway), count(db, PathwayVersion)) == before


def test_submitting_needs_published_credentials(db, campus):
    b = campus.catalog
    campus.credential("DRAFTY", required=("SX",), state=LifecycleState.DRAFT)
    version = pathways.create_pathway(db, b.author, pathway_data(core=("A", "DRAFTY")))
    with pytest.raises(ValidationFailed) as refused:
        pathways.transition(db, b.author, version.id, Action.SUBMIT)
    assert refused.value.errors == {"groups.0.steps.1.credential": [
        "DRAFTY has no published version (retired or not published yet)"]}
    assert version.state == "draft"


def test_pathways_cannot_lead_in_a_circle_across_pathways(db, campus):
    b = campus.catalog
    published_pathway(db, b, code="UP", core=("A", "B"), target="PROG")
    with pytest.raises(ValidationFailed) as refused:
        pathways.create_pathway(db, b.author, pathway_data("DOWN", core=("PROG", "C"),
                                                           target="A"))
    assert "lead in a circle" in refused.value.errors["target.credential"][0]


def _earn(db, campus, course, account, *skills):
    made = []
    for code in skills:
        made += record(db, course, account, campus.skill(code)).new_awards
    return made


def test_the_last_step_awards_the_program_credential_at_once(db, campus):
    b = campus.catalog
    published_pathway(db, b, core=("A", "B"), choose=("C", "D", "E"), choose_min=2)
    course = campus.course("CE-1", "continuing-ed")
    for code in ("A", "B", "C", "D"):
        campus.offer(course, catalog.published_version(db, b.issuer.id, code))
    ada = campus.learner("ada", course)
    assert len(_earn(db, campus, course, ada, "SA", "SB", "SC")) == 3
    assert count(db, Award, Award.route == "stacked") == 0
    last = _earn(db, campus, course, ada, "SD")
    assert [a.route for a in last] == ["stand_alone", "stacked"]
    program = last[1]
    assert program.credential.code == "PROG" and program.context_id == course.id
    stacked = db.scalars(select(Award).where(Award.id.in_(
        program.extra["stacked_award_ids"]))).all()
    assert sorted(a.credential.code for a in stacked) == ["A", "B", "C", "D"]
    assert program.extra["pathway"]["code"] == "PATH"
    # Idempotent: evaluating again awards nothing more.
    assert tracking.evaluate_awards(db, person_id=ada.person_id, context=course) == []
    assert count(db, Award, Award.route == "stacked") == 1


def test_steps_earned_in_courses_on_two_platforms_complete_it(db, campus):
    b = campus.catalog
    campus.issuer.settings = {"link_identities_by": "email"}
    published_pathway(db, b, core=("A", "B"))
    moodle_course = campus.course("M-1", "for-credit")
    campus.offer(moodle_course, catalog.published_version(db, b.issuer.id, "A"))
    canvas = campus.add_lms()
    canvas_course = campus.course("K-1", "continuing-ed", lms=canvas)
    campus.offer(canvas_course, catalog.published_version(db, b.issuer.id, "B"))
    ada = campus.learner("ada", moodle_course)
    ada_canvas = campus.learner("ada-k", canvas_course, lms=canvas)
    # One person across both platforms (an administrator confirmed the link).
    ada_canvas.person_id = ada.person_id
    db.flush()
    _earn(db, campus, moodle_course, ada, "SA")
    last = _earn(db, campus, canvas_course, ada_canvas, "SB")
    assert [a.route for a in last] == ["stand_alone", "stacked"]
    assert last[1].person_id == ada.person_id


def test_publishing_awards_learners_who_already_qualify(db, campus):
    b = campus.catalog
    course = campus.course("CS-1", "for-credit")
    for code in ("A", "B"):
        campus.offer(course, catalog.published_version(db, b.issuer.id, code))
    ada = campus.learner("ada", course)
    _earn(db, campus, course, ada, "SA", "SB")
    assert count(db, Award, Award.route == "stacked") == 0
    published_pathway(db, b, core=("A", "B"))
    [program] = db.scalars(select(Award).where(Award.route == "stacked")).all()
    assert program.person_id == ada.person_id and program.context_id is None


def test_revoking_a_stacked_award_flags_the_program_award(db, campus):
    b = campus.catalog
    published_pathway(db, b, core=("A", "B"))
    course = campus.course("CS-1", "for-credit")
    for code in ("A", "B"):
        campus.offer(course, catalog.published_version(db, b.issuer.id, code))
    ada = campus.learner("ada", course)
    first, _b, program = _earn(db, campus, course, ada, "SA", "SB")
    tracking.revoke_award(db, first, reason="Academic misconduct.", by=TEACHER)
    assert program.status == AwardStatus.FLAGGED.value
    assert "Academic misconduct." in program.flag_reason
    # A flagged program award keeps the target from being awarded twice.
    assert count(db, Award, Award.route == "stacked") == 1


def test_progress_for_a_person(db, campus):
    b = campus.catalog
    published_pathway(db, b, core=("A", "B"), choose=("C", "D"), choose_min=1)
    course = campus.course("CS-1", "for-credit")
    for code in ("A", "C"):
        campus.offer(course, catalog.published_version(db, b.issuer.id, code))
    ada = campus.learner("ada", course)
    _earn(db, campus, course, ada, "SA")
    record(db, course, ada, campus.skill("SC"), "fail")
    [mine] = pathways.progress_for_person(db, ada.person_id, b.issuer.id)
    assert not mine.progress.complete
    assert mine.progress.steps_earned == 1
    assert [s.credential for s in mine.progress.next_steps] == ["B", "C", "D"]
    assert mine.progress.credits_earned == 1.5


def test_a_step_flagged_after_a_correction_flags_the_program_award(db, campus):
    b = campus.catalog
    published_pathway(db, b, core=("A", "B"))
    course = campus.course("CS-1", "for-credit")
    for code in ("A", "B"):
        campus.offer(course, catalog.published_version(db, b.issuer.id, code))
    ada = campus.learner("ada", course)
    first = record(db, course, ada, campus.skill("SA"))
    _b, program = _earn(db, campus, course, ada, "SB")
    corrected = record(db, course, ada, campus.skill("SA"), "fail",
                       supersedes_id=first.demonstration.id, reason="Wrong learner.")
    assert {a.id for a in corrected.flagged_awards} == {first.new_awards[0].id, program.id}
    assert program.status == AwardStatus.FLAGGED.value
    assert "under review" in program.flag_reason
    # The course where it was awarded lists it (its instructors keep or revoke it), although
    # the program credential is not offered there.
    assert program in tracking.awards_in_context(db, course)


def test_occupations_see_the_pathways_of_their_credentials(db, campus):
    b = campus.catalog
    published_pathway(db, b, core=("A", "B"))
    a_id = catalog.published_version(db, b.issuer.id, "A").credential_id
    b_id = catalog.published_version(db, b.issuer.id, "B").credential_id
    [ref] = pathways.occupation_pathways(db, b.issuer.id, frozenset({a_id}))
    assert ref.title == "Pathway PATH"
    assert ref.url == f"/c/{b.issuer.slug}/pathways/PATH"
    assert ref.credential_ids == frozenset({a_id, b_id})
    assert pathways.occupation_pathways(db, b.issuer.id, frozenset({999999})) == []


def test_a_step_recognised_by_transfer_completes_the_pathway(db, campus):
    from lti_tool.domain.catalog import Route

    b = campus.catalog
    campus.credential("BT", required=("SBT",),
                      routes=("integrated", "stand_alone", "transfer"))
    published_pathway(db, b, core=("A", "BT"))
    course = campus.course("CS-1", "for-credit")
    campus.offer(course, catalog.published_version(db, b.issuer.id, "A"))
    ada = campus.learner("ada", course)
    _earn(db, campus, course, ada, "SA")
    record(db, None, ada, campus.skill("SBT"), method="transfer", route=Route.TRANSFER)
    bt = catalog.published_version(db, b.issuer.id, "BT").credential_id
    made = tracking.award_by_route(db, person_id=ada.person_id, credential_ids=[bt],
                                   route=Route.TRANSFER)
    assert [(a.credential.code, a.route) for a in made] == [("BT", "transfer"),
                                                           ("PROG", "stacked")]
    assert made[1].context_id is None
