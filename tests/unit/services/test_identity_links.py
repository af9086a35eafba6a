"""One Person across contexts and platforms: the same ``sub`` on one platform is one
person everywhere; across platforms a link is only proposed on the issuer's chosen verified
identifier, and only a confirmed link makes demonstrations count together (undo moves them
back)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.errors import Conflict, NotFound
from lti_tool.models import AuditEvent, Demonstration, LinkProposal
from lti_tool.services import identity, tracking
from tests.support.tracking_engine import Campus, count, record


def _campus(db, basis: str):
    campus = Campus.create(db, link_identities_by=basis)
    canvas = campus.add_lms()
    version = campus.credential("PY", required=("VAR", "LOOP"))
    moodle_course = campus.course("EDU-501", "for-credit")
    canvas_course = campus.course("CE-PY", "continuing-ed", lms=canvas)
    campus.offer(moodle_course, version)
    campus.offer(canvas_course, version)
    return campus, canvas, version, moodle_course, canvas_course


def test_same_sub_on_one_platform_is_one_person_in_every_course(app, db):
    campus = Campus.create(db)
    courses = [campus.course(f"C{i}", "for-credit") for i in range(3)]
    accounts = [campus.learner("ada", c) for c in courses]
    assert len({a.id for a in accounts}) == 1
    assert len({a.person_id for a in accounts}) == 1


def test_same_sub_on_another_platform_is_another_person(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "none")
    on_moodle = campus.learner("ada", moodle_course)
    on_canvas = campus.learner("ada", canvas_course, lms=canvas)
    assert on_moodle.person_id != on_canvas.person_id


def test_no_proposal_when_the_issuer_does_not_link(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "none")
    campus.learner("m-ada", moodle_course, email="ada@college.edu")
    campus.learner("c-ada", canvas_course, lms=canvas, email="ada@college.edu")
    assert count(db, LinkProposal) == 0
    assert identity.proposals(db, campus.issuer.id) == []


def test_email_link_is_proposed_confirmed_and_counts_demonstrations_from_both(app, db):
    campus, canvas, version, moodle_course, canvas_course = _campus(db, "email")
    on_moodle = campus.learner("m-ada", moodle_course, email="Ada.Lovelace@College.edu")
    on_canvas = campus.learner("c-ada", canvas_course, lms=canvas,
                               email="ada.lovelace@college.edu")
    # Someone else with another email gets no proposal.
    campus.learner("c-bob", canvas_course, lms=canvas, email="bob@college.edu")
    [proposal] = identity.proposals(db, campus.issuer.id)
    assert (proposal.account_id, proposal.target_person_id, proposal.basis) == (
        on_canvas.id, on_moodle.person_id, "email")

    # Before confirming, the Canvas pass does not count for the Moodle person.
    in_canvas = record(db, canvas_course, on_canvas, campus.skill("VAR")).demonstration
    assert record(db, moodle_course, on_moodle, campus.skill("LOOP")).new_awards == []

    identity.confirm(db, campus.issuer.id, proposal.id, by="account:registrar")
    db.commit()
    db.expire_all()
    assert on_canvas.person_id == on_moodle.person_id
    assert db.get(Demonstration, in_canvas.id).person_id == on_moodle.person_id
    assert proposal.status == "confirmed" and proposal.decided_by == "account:registrar"
    assert count(db, AuditEvent, AuditEvent.action == "identity.linked") == 1

    [award] = tracking.evaluate_awards(db, person_id=on_moodle.person_id,
                                       context=moodle_course)
    assert in_canvas.id in award.demonstration_ids
    assert award.route == "integrated"
    assert tracking.holds_credential(db, on_canvas.person_id, version.credential_id) == award


def test_undo_moves_the_demonstrations_back(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "email")
    on_moodle = campus.learner("m-ada", moodle_course, email="ada@college.edu")
    on_canvas = campus.learner("c-ada", canvas_course, lms=canvas, email="ada@college.edu")
    own_person = on_canvas.person_id
    in_canvas = record(db, canvas_course, on_canvas, campus.skill("VAR")).demonstration
    [proposal] = identity.proposals(db, campus.issuer.id)
    identity.confirm(db, campus.issuer.id, proposal.id, by="account:registrar")
    identity.undo(db, campus.issuer.id, proposal.id, by="account:registrar")
    db.commit()
    db.expire_all()
    assert on_canvas.person_id == own_person != on_moodle.person_id
    assert db.get(Demonstration, in_canvas.id).person_id == own_person
    assert proposal.status == "undone"
    assert identity.proposals(db, campus.issuer.id, "undone") == [proposal]
    # Without the link the Moodle person cannot use the Canvas pass.
    assert record(db, moodle_course, on_moodle, campus.skill("LOOP")).new_awards == []


def test_dismissing_a_proposal_links_nothing(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "email")
    campus.learner("m-ada", moodle_course, email="ada@college.edu")
    on_canvas = campus.learner("c-ada", canvas_course, lms=canvas, email="ada@college.edu")
    own_person = on_canvas.person_id
    [proposal] = identity.proposals(db, campus.issuer.id)
    identity.undo(db, campus.issuer.id, proposal.id, by="account:registrar")
    assert proposal.status == "dismissed" and on_canvas.person_id == own_person
    with pytest.raises(Conflict):
        identity.confirm(db, campus.issuer.id, proposal.id, by="account:registrar")


def test_sourcedid_link_ignores_matching_emails(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "sourcedid")
    on_moodle = campus.learner("m-ada", moodle_course, email="ada@college.edu",
                               sourcedid="S-100")
    campus.learner("c-eve", canvas_course, lms=canvas, email="ada@college.edu",
                   sourcedid="S-999")
    assert count(db, LinkProposal) == 0
    on_canvas = campus.learner("c-ada", canvas_course, lms=canvas, sourcedid="S-100")
    [proposal] = identity.proposals(db, campus.issuer.id)
    assert (proposal.account_id, proposal.target_person_id, proposal.basis) == (
        on_canvas.id, on_moodle.person_id, "sourcedid")


def test_proposals_are_idempotent_across_repeated_launches(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "email")
    campus.learner("m-ada", moodle_course, email="ada@college.edu")
    for _ in range(3):
        campus.learner("c-ada", canvas_course, lms=canvas, email="ada@college.edu")
    assert count(db, LinkProposal) == 1


def test_accounts_on_the_same_platform_are_not_linked_by_email(app, db):
    campus, _canvas, _v, moodle_course, _ = _campus(db, "email")
    campus.learner("m-ada", moodle_course, email="ada@college.edu")
    campus.learner("m-ada-2", moodle_course, email="ada@college.edu")
    assert count(db, LinkProposal) == 0


def test_confirming_refuses_when_the_moving_person_already_holds_credentials(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "email")
    campus.learner("m-ada", moodle_course, email="ada@college.edu")
    on_canvas = campus.learner("c-ada", canvas_course, lms=canvas, email="ada@college.edu")
    record(db, canvas_course, on_canvas, campus.skill("VAR"))
    assert record(db, canvas_course, on_canvas, campus.skill("LOOP")).new_awards
    [proposal] = identity.proposals(db, campus.issuer.id)
    person_before = on_canvas.person_id
    with pytest.raises(Conflict) as refused:
        identity.confirm(db, campus.issuer.id, proposal.id, by="account:registrar")
    assert refused.value.code == "link_has_awards"
    assert on_canvas.person_id == person_before
    assert proposal.status == "proposed"


def test_another_issuers_proposal_is_not_found(app, db):
    campus, canvas, _v, moodle_course, canvas_course = _campus(db, "email")
    campus.learner("m-ada", moodle_course, email="ada@college.edu")
    campus.learner("c-ada", canvas_course, lms=canvas, email="ada@college.edu")
    [proposal] = identity.proposals(db, campus.issuer.id)
    stranger = Campus.create(db)
    with pytest.raises(NotFound):
        identity.confirm(db, stranger.issuer.id, proposal.id, by="account:x")
    with pytest.raises(NotFound):
        identity.undo(db, stranger.issuer.id, proposal.id, by="account:x")
    assert proposal.status == "proposed"
    assert db.scalars(select(AuditEvent).where(AuditEvent.action.like("identity.%"))).all() == []
