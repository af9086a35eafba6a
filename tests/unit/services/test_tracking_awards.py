"""The award engine: exactly one award per (person, credential version) once the rule is met,
recording the route, course and demonstrations; routes a credential does not allow do not
count; course grades are never an input; a superseded supporting pass flags the award
(never removes it); revocation keeps the record; one credential across many course shells."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.tracking import AwardStatus, CellStatus
from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import AuditEvent, Award, Base, Demonstration
from lti_tool.services import tracking
from tests.support.tracking_engine import TEACHER, Campus, count, record

FIX_REASON = "The submission was someone else's work."


@pytest.fixture()
def campus(app, db):
    return Campus.create(db)


def _earn(db, campus, course, account, codes):
    results = [record(db, course, account, campus.skill(c)) for c in codes]
    return [a for r in results for a in r.new_awards]


# -- earning -----------------------------------------------------------------------------------
def test_award_is_created_once_the_last_required_skill_is_demonstrated(db, campus):
    version = campus.credential("PY", required=("VAR", "LOOP", "FUNC"))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)

    first = record(db, course, ada, campus.skill("VAR"))
    failed = record(db, course, ada, campus.skill("LOOP"), "fail")
    assert first.new_awards == [] and failed.new_awards == []
    loop = record(db, course, ada, campus.skill("LOOP")).demonstration
    final = record(db, course, ada, campus.skill("FUNC"))
    db.commit()

    [award] = final.new_awards
    assert (award.person_id, award.version_id, award.credential_id) == (
        ada.person_id, version.id, version.credential_id)
    assert award.route == "integrated"
    assert award.context_id == course.id
    assert award.status == AwardStatus.ACTIVE.value
    assert award.issuer_id == campus.issuer.id
    assert loop.id in award.demonstration_ids
    assert award.demonstration_ids == sorted(
        [first.demonstration.id, loop.id, final.demonstration.id])
    assert len(award.public_id) >= 20
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "award.created")).one()
    assert event.subject_id == str(award.id) and event.context_id == course.id
    assert event.detail["route"] == "integrated"


def test_continuing_ed_course_awards_the_stand_alone_route(db, campus):
    version = campus.credential("PY", required=("VAR",))
    ce = campus.course("CE-PY", "continuing-ed")
    campus.offer(ce, version)
    [award] = _earn(db, campus, ce, campus.learner("ada", ce), ["VAR"])
    assert award.route == "stand_alone" and award.context_id == ce.id


def test_required_plus_k_of_optional_through_the_engine(db, campus):
    version = campus.credential("WEB", required=("HTML",), optional=("CSS", "JS", "A11Y"),
                                optional_min=2)
    course = campus.course("WEB1", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    assert _earn(db, campus, course, ada, ["HTML", "CSS"]) == []
    [progress] = tracking.progress_for(db, ada.person_id, course)
    assert progress.award is None
    assert progress.progress.optional_still_needed == 1
    assert (progress.progress.done, progress.progress.total) == (2, 3)
    assert progress.cells["CSS"].status is CellStatus.DEMONSTRATED
    assert progress.cells["JS"].status is CellStatus.NOT_YET
    [award] = _earn(db, campus, course, ada, ["A11Y"])
    assert len(award.demonstration_ids) == 3


def test_k_zero_optional_skills_are_not_needed(db, campus):
    version = campus.credential("GIT", required=("COMMIT",), optional=("REBASE",),
                                optional_min=0)
    course = campus.course("TOOLS", "for-credit")
    campus.offer(course, version)
    assert len(_earn(db, campus, course, campus.learner("ada", course), ["COMMIT"])) == 1


def test_optional_only_credential(db, campus):
    version = campus.credential("ELECT", optional=("A", "B", "C"), optional_min=2)
    course = campus.course("ELECT1", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    assert _earn(db, campus, course, ada, ["B"]) == []
    assert len(_earn(db, campus, course, ada, ["C"])) == 1


def test_a_fail_does_not_count_and_a_later_pass_does(db, campus):
    version = campus.credential("PY", required=("VAR",))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    assert record(db, course, ada, campus.skill("VAR"), "fail").new_awards == []
    assert len(record(db, course, ada, campus.skill("VAR")).new_awards) == 1


def test_evaluating_again_or_more_passes_never_creates_a_second_award(db, campus):
    version = campus.credential("PY", required=("VAR",))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    [award] = _earn(db, campus, course, ada, ["VAR"])
    db.commit()
    assert tracking.evaluate_awards(db, person_id=ada.person_id, context=course) == []
    assert record(db, course, ada, campus.skill("VAR")).new_awards == []
    assert count(db, Award) == 1
    assert tracking.holds_credential(db, ada.person_id, version.credential_id) == award


def test_two_credentials_sharing_a_skill_are_both_awarded(db, campus):
    py = campus.credential("PY", required=("VAR", "LOOP"))
    data = campus.credential("DATA", required=("VAR",))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, py)
    campus.offer(course, data)
    ada = campus.learner("ada", course)
    [data_award] = _earn(db, campus, course, ada, ["VAR"])
    assert data_award.credential_id == data.credential_id
    [py_award] = _earn(db, campus, course, ada, ["LOOP"])
    assert py_award.credential_id == py.credential_id


def test_each_learner_gets_their_own_award(db, campus):
    version = campus.credential("PY", required=("VAR",))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada, bob = campus.learner("ada", course), campus.learner("bob", course)
    _earn(db, campus, course, ada, ["VAR"])
    assert tracking.holds_credential(db, bob.person_id, version.credential_id) is None
    _earn(db, campus, course, bob, ["VAR"])
    assert {a.person_id for a in db.scalars(select(Award))} == {ada.person_id, bob.person_id}


# -- grades are never an input -----------------------------------------------------------------
def test_award_needs_no_grade_data_and_the_engine_takes_no_grade_input(db, campus):
    version = campus.credential("PY", required=("VAR",))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)  # a launch carries no grade, nothing stores one
    assert len(_earn(db, campus, course, ada, ["VAR"])) == 1
    for function in (tracking.record_demonstration, tracking.evaluate_awards,
                     tracking.progress_for):
        params = inspect.signature(function).parameters
        assert not [p for p in params if "grade" in p or "score" in p], function.__name__
    # No table the engine reads has a grade or score column (GradebookSignal is outbound
    # only: the optional "credential earned" signal to the LMS).
    read_by_engine = ("demonstrations", "awards", "offerings", "roster_entries", "contexts",
                      "learner_accounts", "persons", "skills", "credential_versions",
                      "credential_skills", "micro_credentials")
    for name in read_by_engine:
        columns = [c.name for c in Base.metadata.tables[name].columns]
        assert not [c for c in columns if "grade" in c or "score" in c], name


# -- routes ------------------------------------------------------------------------------------
def test_a_route_the_credential_does_not_allow_gives_no_award_from_that_course(db, campus):
    ce_only = campus.credential("CE", required=("VAR",), routes=("stand_alone",))
    credit = campus.course("CS101", "for-credit")
    campus.offer(credit, ce_only)
    ada = campus.learner("ada", credit)
    assert _earn(db, campus, credit, ada, ["VAR"]) == []
    [progress] = tracking.progress_for(db, ada.person_id, credit)
    # The grid shows the pass, but it does not count toward this credential.
    assert progress.cells["VAR"].status is CellStatus.DEMONSTRATED
    assert progress.progress.required_missing == ("VAR",) and progress.award is None

    ce = campus.course("CE-PY", "continuing-ed")
    campus.offer(ce, ce_only)
    campus.learner("ada", ce)
    [award] = _earn(db, campus, ce, ada, ["VAR"])
    assert award.route == "stand_alone" and award.context_id == ce.id


def test_an_other_kind_course_gives_no_route_and_no_award(db, campus):
    version = campus.credential("PY", required=("VAR",))
    club = campus.course("CLUB", None)
    campus.offer(club, version)
    assert _earn(db, campus, club, campus.learner("ada", club), ["VAR"]) == []
    assert count(db, Award) == 0


def test_offering_needs_a_published_credential_of_the_same_issuer(db, campus):
    draft = campus.credential("DRAFT", required=("VAR",), state=LifecycleState.DRAFT)
    course = campus.course("CS101", "for-credit")
    with pytest.raises(Conflict):
        campus.offer(course, draft)
    elsewhere = Campus.create(db)
    foreign = elsewhere.credential("FOREIGN", required=("X",))
    with pytest.raises(NotFound):
        campus.offer(course, foreign)


def test_detached_offering_awards_nothing_new_and_keeps_what_was_awarded(db, campus):
    py = campus.credential("PY", required=("VAR",))
    data = campus.credential("DATA", required=("SQL",))
    course = campus.course("CS101", "for-credit")
    py_offer = campus.offer(course, py)
    data_offer = campus.offer(course, data)
    ada = campus.learner("ada", course)
    [award] = _earn(db, campus, course, ada, ["VAR"])
    tracking.detach_offering(db, context=course, offering_id=data_offer.id, by=TEACHER)
    tracking.detach_offering(db, context=course, offering_id=py_offer.id, by=TEACHER)
    assert _earn(db, campus, course, ada, ["SQL"]) == []
    assert db.get(Award, award.id).status == AwardStatus.ACTIVE.value
    # Re-attaching evaluates again at the next change.
    campus.offer(course, data)
    assert len(tracking.evaluate_awards(db, person_id=ada.person_id, context=course)) == 1


# -- supersede, flag, revoke -------------------------------------------------------------------
@pytest.fixture()
def earned(db, campus):
    version = campus.credential("PY", required=("VAR", "LOOP"))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    var = record(db, course, ada, campus.skill("VAR")).demonstration
    [award] = record(db, course, ada, campus.skill("LOOP")).new_awards
    db.commit()
    return course, ada, var, award


def test_a_supporting_pass_superseded_by_a_fail_flags_the_award(db, campus, earned):
    course, ada, var, award = earned
    result = record(db, course, ada, campus.skill("VAR"), "fail", supersedes_id=var.id,
                    reason=FIX_REASON)
    db.commit()
    db.expire_all()
    assert [a.id for a in result.flagged_awards] == [award.id]
    assert result.new_awards == []
    kept = db.get(Award, award.id)
    assert kept is not None and count(db, Award) == 1, "flagged, never removed"
    assert kept.status == AwardStatus.FLAGGED.value
    assert FIX_REASON in kept.flag_reason and "fail" in kept.flag_reason
    assert kept.flagged_at is not None
    # Flagged is still held (until an instructor decides), and visible in progress.
    assert tracking.holds_credential(db, ada.person_id, kept.credential_id) == kept
    [progress] = tracking.progress_for(db, ada.person_id, course)
    assert progress.award == kept
    assert progress.cells["VAR"].status is CellStatus.ATTEMPTED
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "award.flagged")).one() \
        .subject_id == str(award.id)


def test_superseding_a_pass_the_award_does_not_rest_on_flags_nothing(db, campus, earned):
    course, ada, _var, award = earned
    extra = record(db, course, ada, campus.skill("VAR"), ago_minutes=1).demonstration
    assert extra.id not in award.demonstration_ids  # the earliest pass is the one used
    result = record(db, course, ada, campus.skill("VAR"), "fail", supersedes_id=extra.id,
                    reason="Duplicate entry.")
    assert result.flagged_awards == []
    assert db.get(Award, award.id).status == AwardStatus.ACTIVE.value


def test_a_fail_corrected_to_pass_flags_nothing_and_can_complete_the_rule(db, campus):
    version = campus.credential("PY", required=("VAR",))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    wrong = record(db, course, ada, campus.skill("VAR"), "fail").demonstration
    result = record(db, course, ada, campus.skill("VAR"), "pass", supersedes_id=wrong.id,
                    reason="Marked the wrong outcome.")
    assert result.flagged_awards == [] and len(result.new_awards) == 1


def test_a_pass_corrected_to_another_pass_does_not_flag(db, campus, earned):
    course, ada, var, award = earned
    result = record(db, course, ada, campus.skill("VAR"), "pass", supersedes_id=var.id,
                    reason="Fixed the evidence link.",
                    evidence_url="https://example.edu/right-link")
    assert result.flagged_awards == []
    assert db.get(Award, award.id).status == AwardStatus.ACTIVE.value


def test_revoke_needs_a_reason_then_keeps_the_record_as_revoked(db, campus, earned):
    course, ada, var, award = earned
    record(db, course, ada, campus.skill("VAR"), "fail", supersedes_id=var.id,
           reason=FIX_REASON)
    with pytest.raises(ValidationFailed) as refused:
        tracking.revoke_award(db, award, reason="  ", by=TEACHER)
    assert "reason" in refused.value.errors
    assert award.status == AwardStatus.FLAGGED.value

    tracking.revoke_award(db, award, reason="Skill not demonstrated after review.", by=TEACHER)
    db.commit()
    db.expire_all()
    kept = db.get(Award, award.id)
    assert kept.status == AwardStatus.REVOKED.value
    assert kept.revoked_reason == "Skill not demonstrated after review."
    assert kept.revoked_by == TEACHER.ref and kept.revoked_at is not None
    assert count(db, Award) == 1
    assert tracking.holds_credential(db, ada.person_id, kept.credential_id) is None
    [progress] = tracking.progress_for(db, ada.person_id, course)
    assert progress.award is None
    # A revoked award stays visible to the course.
    assert [a.id for a in tracking.awards_in_context(db, course)] == [award.id]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "award.revoked")).one()
    assert event.detail["reason"] == "Skill not demonstrated after review."
    # Idempotent: revoking again changes nothing.
    tracking.revoke_award(db, kept, reason="Another reason", by=TEACHER)
    assert kept.revoked_reason == "Skill not demonstrated after review."


def test_after_revocation_the_same_passes_do_not_award_again(db, campus, earned):
    course, ada, _var, award = earned
    tracking.revoke_award(db, award, reason="Academic integrity finding.", by=TEACHER)
    db.commit()
    # Evaluating again (the learner's page, another course's record) with only the passes
    # the revoked award rested on makes nothing.
    assert tracking.evaluate_awards(db, person_id=ada.person_id, context=course) == []
    assert count(db, Award) == 1
    [progress] = tracking.progress_for(db, ada.person_id, course)
    assert progress.award is None and progress.progress.satisfied
    assert progress.needs_new_evidence and not progress.may_award


def test_a_revoked_credential_is_earned_again_as_a_new_award(db, campus, earned):
    course, ada, var, award = earned
    record(db, course, ada, campus.skill("VAR"), "fail", supersedes_id=var.id,
           reason=FIX_REASON)
    tracking.revoke_award(db, award, reason="Academic integrity finding.", by=TEACHER)
    db.commit()
    redone = record(db, course, ada, campus.skill("VAR"), ago_minutes=0)
    db.commit()
    [again] = redone.new_awards
    assert again.id != award.id and again.public_id != award.public_id
    assert again.status == AwardStatus.ACTIVE.value
    assert redone.demonstration.id in again.demonstration_ids
    db.expire_all()
    old = db.get(Award, award.id)
    assert old.status == AwardStatus.REVOKED.value, "the revoked one stays revoked"
    assert old.revoked_reason == "Academic integrity finding."
    assert tracking.holds_credential(db, ada.person_id, award.credential_id).id == again.id
    # Both are in the course's history.
    assert [a.id for a in tracking.awards_in_context(db, course)] == [award.id, again.id]
    # Idempotent: more passes or evaluations make no third.
    record(db, course, ada, campus.skill("LOOP"), ago_minutes=0)
    assert tracking.evaluate_awards(db, person_id=ada.person_id, context=course) == []
    assert count(db, Award) == 2


def test_a_new_pass_of_an_already_passed_skill_is_new_evidence(db, campus, earned):
    """Revoked with nothing corrected: re-assessing any skill of the rule earns it again,
    and the new award rests on the new pass, not the earlier one of the same skill."""
    course, ada, var, award = earned
    tracking.revoke_award(db, award, reason="Issued in error; reassessed.", by=TEACHER)
    redone = record(db, course, ada, campus.skill("VAR"), ago_minutes=0)
    [again] = redone.new_awards
    assert redone.demonstration.id in again.demonstration_ids
    assert var.id not in again.demonstration_ids


def test_revoked_twice_earned_three_times(db, campus, earned):
    course, ada, _var, award = earned
    awards = [award]
    for n in range(2):
        tracking.revoke_award(db, awards[-1], reason=f"Revocation {n}.", by=TEACHER)
        [again] = record(db, course, ada, campus.skill("LOOP"), ago_minutes=0).new_awards
        awards.append(again)
    db.commit()
    statuses = [db.get(Award, a.id).status for a in awards]
    assert statuses == ["revoked", "revoked", "active"]


def test_the_database_refuses_a_second_standing_award(db, campus, earned):
    """The race guard: whatever the engine reads, the partial unique index keeps one
    standing award per (person, credential) while any number of revoked ones stay."""
    from sqlalchemy.exc import IntegrityError

    _course, ada, _var, award = earned
    twin = Award(public_id="twin-award-public-id-0001", issuer_id=award.issuer_id,
                 person_id=ada.person_id, credential_id=award.credential_id,
                 version_id=award.version_id, route="integrated",
                 context_id=award.context_id, demonstration_ids=[])
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(twin)
        db.flush()
    tracking.revoke_award(db, award, reason="Revoked.", by=TEACHER)
    with db.begin_nested():
        db.add(twin)
        db.flush()
    assert count(db, Award) == 2


def test_clear_flag_keeps_the_award_active(db, campus, earned):
    course, ada, var, award = earned
    record(db, course, ada, campus.skill("VAR"), "fail", supersedes_id=var.id,
           reason=FIX_REASON)
    tracking.clear_flag(db, award, by=TEACHER)
    db.commit()
    assert db.get(Award, award.id).status == AwardStatus.ACTIVE.value
    assert count(db, AuditEvent, AuditEvent.action == "award.flag_cleared") == 1
    tracking.clear_flag(db, award, by=TEACHER)  # no flag: nothing to do
    assert count(db, AuditEvent, AuditEvent.action == "award.flag_cleared") == 1


def test_clear_flag_does_not_reinstate_a_revoked_award(db, campus, earned):
    _course, _ada, _var, award = earned
    tracking.revoke_award(db, award, reason="Withdrawn.", by=TEACHER)
    tracking.clear_flag(db, award, by=TEACHER)
    assert award.status == AwardStatus.REVOKED.value


# -- the same credential in many shells --------------------------------------------------------
@pytest.fixture()
def shells(db, campus):
    credit = campus.course("EDU-501", "for-credit")
    ce = campus.course("CE-PY", "continuing-ed")
    return credit, ce


def test_same_sub_in_two_courses_is_one_person(db, campus, shells):
    credit, ce = shells
    in_credit = campus.learner("ada", credit)
    in_ce = campus.learner("ada", ce)
    assert in_credit.id == in_ce.id and in_credit.person_id == in_ce.person_id


def test_passes_from_both_shells_add_up_when_both_routes_are_allowed(db, campus, shells):
    credit, ce = shells
    version = campus.credential("PY", required=("VAR", "LOOP", "FUNC"))
    campus.offer(credit, version)
    campus.offer(ce, version)
    ada = campus.learner("ada", ce)
    campus.learner("ada", credit)
    in_ce = record(db, ce, ada, campus.skill("VAR")).demonstration
    assert _earn(db, campus, credit, ada, ["LOOP"]) == []
    [award] = _earn(db, campus, credit, ada, ["FUNC"])
    assert award.route == "integrated" and award.context_id == credit.id
    assert in_ce.id in award.demonstration_ids


def test_ce_pass_does_not_count_for_a_credential_allowing_only_integrated(db, campus, shells):
    credit, ce = shells
    version = campus.credential("PY", required=("VAR", "LOOP"), routes=("integrated",))
    campus.offer(credit, version)
    campus.offer(ce, version)
    ada = campus.learner("ada", ce)
    campus.learner("ada", credit)
    assert _earn(db, campus, ce, ada, ["VAR", "LOOP"]) == []
    assert _earn(db, campus, credit, ada, ["LOOP"]) == []
    [progress] = tracking.progress_for(db, ada.person_id, credit)
    assert progress.progress.required_missing == ("VAR",)
    assert progress.cells["VAR"].status is CellStatus.DEMONSTRATED  # seen, not counted
    [award] = _earn(db, campus, credit, ada, ["VAR"])
    assert award.route == "integrated"


def test_earned_in_ce_shell_is_held_in_the_for_credit_course(db, campus, shells):
    credit, ce = shells
    version = campus.credential("PY", required=("VAR", "LOOP"))
    campus.offer(credit, version)
    campus.offer(ce, version)
    ada = campus.learner("ada", ce)
    campus.learner("ada", credit)  # ada is on the for-credit roster too
    [award] = _earn(db, campus, ce, ada, ["VAR", "LOOP"])
    assert award.route == "stand_alone" and award.context_id == ce.id
    db.commit()

    assert tracking.holds_credential(db, ada.person_id, version.credential_id) == award
    [progress] = tracking.progress_for(db, ada.person_id, credit)
    assert progress.award == award
    assert progress.progress.satisfied
    assert all(c.status is CellStatus.DEMONSTRATED for c in progress.cells.values())
    assert [a.id for a in tracking.awards_in_context(db, credit)] == [award.id]
    # Demonstrating again in the for-credit course creates no second award.
    assert _earn(db, campus, credit, ada, ["VAR", "LOOP"]) == []
    assert tracking.evaluate_awards(db, person_id=ada.person_id, context=credit) == []
    assert count(db, Award) == 1


def test_a_skill_shared_with_another_credential_counts_across_courses(db, campus, shells):
    """Ada demonstrates VAR in a CE course offering only DATA; the for-credit course
    offering PY (which also needs VAR) sees that pass and awards PY."""
    credit, ce = shells
    data = campus.credential("DATA", required=("VAR", "SQL"))
    py = campus.credential("PY", required=("VAR", "LOOP"))
    campus.offer(ce, data)
    campus.offer(credit, py)
    ada = campus.learner("ada", ce)
    campus.learner("ada", credit)
    in_ce = record(db, ce, ada, campus.skill("VAR")).demonstration
    [award] = _earn(db, campus, credit, ada, ["LOOP"])
    assert award.credential_id == py.credential_id and in_ce.id in award.demonstration_ids


def test_route_falls_back_to_where_the_counted_passes_were_made(db, campus, shells):
    """Evaluated in a course whose own route the credential does not allow, the award takes
    the route of the passes that counted."""
    credit, ce = shells
    ce_only = campus.credential("CEPY", required=("VAR",), routes=("stand_alone",))
    other = campus.credential("OTHER", required=("VAR", "NOPE"))
    campus.offer(credit, ce_only)
    campus.offer(ce, other)  # CE records VAR without offering CEPY
    ada = campus.learner("ada", ce)
    campus.learner("ada", credit)
    record(db, ce, ada, campus.skill("VAR"))
    [award] = tracking.evaluate_awards(db, person_id=ada.person_id, context=credit)
    assert award.route == "stand_alone" and award.context_id == credit.id


def test_other_learners_demonstrations_never_count(db, campus, shells):
    credit, _ = shells
    version = campus.credential("PY", required=("VAR", "LOOP"))
    campus.offer(credit, version)
    ada, bob = campus.learner("ada", credit), campus.learner("bob", credit)
    _earn(db, campus, credit, bob, ["VAR"])
    assert _earn(db, campus, credit, ada, ["LOOP"]) == []
    assert count(db, Demonstration, Demonstration.person_id == ada.person_id) == 1



def test_offerings_read_once_by_the_caller_award_the_same(db, campus):
    """A view that already read the course's offerings may hand them to the engine."""
    version = campus.credential("PY", required=("VAR", "LOOP"))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    offered = tracking.offered_credentials(db, course)
    first = record(db, course, ada, campus.skill("VAR"), offered=offered)
    [award] = record(db, course, ada, campus.skill("LOOP"), offered=offered).new_awards
    assert first.new_awards == [] and award.credential_id == version.credential_id
