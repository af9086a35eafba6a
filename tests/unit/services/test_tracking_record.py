"""Recording demonstrations: what is refused (and that a refusal adds nothing), corrections
that supersede with a reason, and the append-only guarantee (no row is ever updated)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import Route
from lti_tool.domain.tracking import CellStatus, summarise_cell
from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import AuditEvent, Demonstration
from lti_tool.models.base import utcnow
from lti_tool.services import tracking
from tests.support.tracking_engine import TEACHER, Campus, count, record, tracking_counts


@pytest.fixture()
def world(app, db):
    campus = Campus.create(db)
    version = campus.credential("PY", required=("VAR", "LOOP"))
    course = campus.course("CS101", "for-credit")
    campus.offer(course, version)
    ada = campus.learner("ada", course)
    bob = campus.learner("bob", course)
    db.commit()
    return campus, course, ada, bob


def _row(db, demo_id: int) -> dict[str, Any]:
    table = Demonstration.__table__
    return dict(db.execute(select(table).where(table.c.id == demo_id)).mappings().one())


def _refused(db, world, **kwargs: Any) -> dict[str, list[str]]:
    campus, course, ada, _ = world
    before = tracking_counts(db)
    args: dict[str, Any] = dict(context=course, account=ada, skill=campus.skill("VAR"),
                                outcome="pass", method="observation", assessor=TEACHER)
    args.update(kwargs)
    with pytest.raises(ValidationFailed) as refused:
        tracking.record_demonstration(db, **args)
    assert tracking_counts(db) == before, "a refused record must add nothing"
    return refused.value.errors


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["", "PASS", "passed", "maybe", "1"])
def test_outcome_must_be_pass_or_fail(db, world, outcome):
    assert "outcome" in _refused(db, world, outcome=outcome)


@pytest.mark.parametrize("method", ["", "exam", "Observation", "grade"])
def test_method_must_be_a_known_method(db, world, method):
    assert "method" in _refused(db, world, method=method)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(document.cookie)", "data:text/html,<b>x</b>",
    "ftp://files.example.edu/x", "http:///no-host", "//example.edu/x", "not a link",
    "mailto:ada@example.edu", "localhost/work", "https://example.edu/" + "a" * 1000])
def test_evidence_url_must_be_http_or_https(db, world, url):
    assert "evidence_url" in _refused(db, world, evidence_url=url)


@pytest.mark.parametrize(("typed", "kept"), [
    ("example.edu/work", "https://example.edu/work"),
    ("moodle.college.ca/mod/assign/view.php?id=4", "https://moodle.college.ca/mod/assign/view.php?id=4"),
    ("docs.example.edu:8443/x#y", "https://docs.example.edu:8443/x#y"),
    ("http://example.edu/plain", "http://example.edu/plain"),
])
def test_an_evidence_link_typed_without_a_scheme_gets_https(db, world, typed, kept):
    campus, course, ada, _ = world
    result = record(db, course, ada, campus.skill("VAR"), evidence_url=typed)
    assert result.demonstration.evidence_url == kept


def test_good_evidence_url_and_note_are_kept_trimmed(db, world):
    campus, course, ada, _ = world
    result = record(db, course, ada, campus.skill("VAR"),
                    evidence_url="  https://git.example.edu/ada/loops  ",
                    evidence_note="  Walked me through the loop.  ")
    assert result.demonstration.evidence_url == "https://git.example.edu/ada/loops"
    assert result.demonstration.evidence_note == "Walked me through the loop."


def test_note_is_length_limited(db, world):
    assert "evidence_note" in _refused(db, world, evidence_note="x" * (tracking.MAX_NOTE + 1))


def test_future_date_is_refused(db, world):
    assert "demonstrated_at" in _refused(
        db, world, demonstrated_at=utcnow() + timedelta(minutes=2))


def test_naive_datetime_is_refused(db, world):
    errors = _refused(db, world, demonstrated_at=datetime(2025, 1, 1, 10, 0))
    assert errors["demonstrated_at"] == ["needs a time zone"]


def test_every_bad_field_is_reported_at_once(db, world):
    errors = _refused(db, world, outcome="x", method="y", evidence_url="javascript:0",
                      demonstrated_at=datetime(2025, 1, 1))
    assert {"outcome", "method", "evidence_url", "demonstrated_at"} <= set(errors)


def test_date_defaults_to_now_and_an_explicit_past_date_is_kept(db, world):
    campus, course, ada, _ = world
    before = utcnow()
    now_demo = tracking.record_demonstration(
        db, context=course, account=ada, skill=campus.skill("VAR"), outcome="fail",
        method="portfolio", assessor=TEACHER).demonstration
    assert before <= now_demo.demonstrated_at <= utcnow()
    past = datetime(2024, 11, 5, 14, 30, tzinfo=UTC)
    old = tracking.record_demonstration(
        db, context=course, account=ada, skill=campus.skill("LOOP"), outcome="pass",
        method="challenge_assessment", assessor=TEACHER, demonstrated_at=past).demonstration
    db.commit()
    db.expire_all()
    assert db.get(Demonstration, old.id).demonstrated_at == past


def test_record_keeps_who_where_and_how(db, world):
    campus, course, ada, _ = world
    demo = record(db, course, ada, campus.skill("VAR"), method="in_course_assignment",
                  evidence_url="https://lms.example.edu/assign/7").demonstration
    db.commit()
    assert (demo.person_id, demo.account_id, demo.context_id) == (
        ada.person_id, ada.id, course.id)
    assert demo.route == Route.INTEGRATED.value
    assert (demo.assessor_ref, demo.assessor_name, demo.launch_id) == (
        TEACHER.ref, TEACHER.name, TEACHER.launch_id)
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "demonstration.recorded",
        AuditEvent.subject_id == str(demo.id))).one()
    assert event.context_id == course.id and event.launch_id == TEACHER.launch_id
    assert event.detail["skill"] == "VAR" and event.detail["outcome"] == "pass"


def test_in_an_other_kind_course_the_record_has_no_route(db, world):
    campus, _, ada, _ = world
    club = campus.course("CLUB", None)
    assert club.kind == "other"
    demo = record(db, club, ada, campus.skill("VAR")).demonstration
    assert demo.route is None


# -- corrections --------------------------------------------------------------------------------
def test_correction_needs_a_reason(db, world):
    campus, course, ada, _ = world
    original = record(db, course, ada, campus.skill("VAR")).demonstration
    db.commit()
    errors = _refused(db, world, outcome="fail", supersedes_id=original.id, reason="   ")
    assert "reason" in errors


def test_correcting_an_already_corrected_record_is_a_conflict(db, world):
    campus, course, ada, _ = world
    var = campus.skill("VAR")
    original = record(db, course, ada, var).demonstration
    fix = record(db, course, ada, var, "fail", supersedes_id=original.id,
                 reason="Wrong learner's work was attached.").demonstration
    db.commit()
    before = tracking_counts(db)
    with pytest.raises(Conflict) as conflict:
        record(db, course, ada, var, "pass", supersedes_id=original.id, reason="Again.")
    assert conflict.value.code == "already_superseded"
    assert tracking_counts(db) == before
    # Correcting the latest record is how to change it again.
    again = record(db, course, ada, var, "pass", supersedes_id=fix.id,
                   reason="Re-assessed in class.").demonstration
    assert again.supersedes_id == fix.id


def test_correcting_another_learners_record_is_not_found(db, world):
    campus, course, ada, bob = world
    var = campus.skill("VAR")
    bobs = record(db, course, bob, var).demonstration
    db.commit()
    before = tracking_counts(db)
    with pytest.raises(NotFound):
        record(db, course, ada, var, "fail", supersedes_id=bobs.id, reason="Guessing ids")
    assert tracking_counts(db) == before
    assert tracking.superseded_ids(db, [bobs.id]) == set()


def test_correcting_a_record_of_another_skill_or_a_missing_one_is_not_found(db, world):
    campus, course, ada, _ = world
    var_demo = record(db, course, ada, campus.skill("VAR")).demonstration
    db.commit()
    with pytest.raises(NotFound):
        record(db, course, ada, campus.skill("LOOP"), "fail", supersedes_id=var_demo.id,
               reason="Wrong skill")
    with pytest.raises(NotFound):
        record(db, course, ada, campus.skill("VAR"), "fail", supersedes_id=var_demo.id + 999,
               reason="No such record")


# -- append-only --------------------------------------------------------------------------------
def test_a_correction_adds_a_row_and_never_updates_the_old_one(db, world):
    campus, course, ada, _ = world
    var = campus.skill("VAR")
    original = record(db, course, ada, var, evidence_url="https://example.edu/a",
                      evidence_note="first look").demonstration
    db.commit()
    before_row = _row(db, original.id)
    before_count = count(db, Demonstration)

    fix = record(db, course, ada, var, "fail", supersedes_id=original.id,
                 reason="Evidence belonged to another learner.").demonstration
    db.commit()
    db.expire_all()

    assert count(db, Demonstration) == before_count + 1
    assert _row(db, original.id) == before_row, "the corrected row must stay as it was"
    assert fix.supersedes_id == original.id
    assert fix.reason == "Evidence belonged to another learner."
    assert tracking.superseded_ids(db, [original.id, fix.id]) == {original.id}
    # Full history, oldest first, superseded record included.
    assert [d.id for d in tracking.history(db, ada.person_id, var.id)] == [original.id, fix.id]
    # Only the current record counts.
    facts = tracking.current_facts(db, [ada.person_id], [var.id])[(ada.person_id, var.id)]
    assert [f.id for f in facts] == [fix.id]
    assert summarise_cell(facts).status is CellStatus.ATTEMPTED
    assert db.scalars(select(AuditEvent).where(
        AuditEvent.action == "demonstration.corrected")).one().detail["supersedes"] == \
        original.id


def test_a_chain_of_corrections_keeps_every_row_and_only_the_last_counts(db, world):
    campus, course, ada, _ = world
    var = campus.skill("VAR")
    first = record(db, course, ada, var, "fail").demonstration
    second = record(db, course, ada, var, "pass", supersedes_id=first.id,
                    reason="Marked the wrong box.").demonstration
    third = record(db, course, ada, var, "fail", supersedes_id=second.id,
                   reason="Plagiarised.").demonstration
    db.commit()
    rows = {d.id: _row(db, d.id) for d in (first, second)}
    fourth = record(db, course, ada, var, "pass", supersedes_id=third.id,
                    reason="Re-did it observed.").demonstration
    db.commit()
    db.expire_all()
    assert {i: _row(db, i) for i in rows} == rows
    assert len(tracking.history(db, ada.person_id, var.id)) == 4
    current = tracking.current_facts(db, [ada.person_id], [var.id])[(ada.person_id, var.id)]
    assert [f.id for f in current] == [fourth.id]


def test_current_facts_span_courses_and_skip_people_and_skills_not_asked_for(db, world):
    campus, course, ada, bob = world
    other = campus.course("CE-PY", "continuing-ed")
    campus.learner("ada", other)
    var, loop = campus.skill("VAR"), campus.skill("LOOP")
    here = record(db, course, ada, var).demonstration
    there = record(db, other, ada, var, "fail").demonstration
    record(db, course, bob, var)
    record(db, course, ada, loop)
    facts = tracking.current_facts(db, [ada.person_id], [var.id])
    assert set(facts) == {(ada.person_id, var.id)}
    by_id = {f.id: f for f in facts[(ada.person_id, var.id)]}
    assert set(by_id) == {here.id, there.id}
    assert by_id[there.id].route is Route.STAND_ALONE
    assert by_id[there.id].context_title == other.title
    assert tracking.current_facts(db, [], [var.id]) == {}
    assert tracking.current_facts(db, [ada.person_id], []) == {}


def test_current_facts_for_many_people_read_codes_and_titles_apart(db, world, monkeypatch):
    """From ``NAMES_APART_FROM`` people on (a grid), the skills' codes and the courses'
    titles come from queries of their own instead of joins: the same facts."""
    campus, course, ada, bob = world
    other = campus.course("CE-PY", "continuing-ed")
    campus.learner("ada", other)
    var, loop = campus.skill("VAR"), campus.skill("LOOP")
    record(db, course, ada, var)
    record(db, other, ada, var, "fail")
    record(db, course, bob, loop)
    people, skills = [ada.person_id, bob.person_id], [var.id, loop.id]
    monkeypatch.setattr(tracking, "NAMES_APART_FROM", 1000)
    joined = tracking.current_facts(db, people, skills)
    monkeypatch.setattr(tracking, "NAMES_APART_FROM", 1)
    apart = tracking.current_facts(db, people, skills)
    assert apart == joined
    assert {f.context_title for f in apart[(ada.person_id, var.id)]} == {course.title,
                                                                         other.title}


def test_current_facts_read_a_record_without_route_and_times_in_utc(db, world):
    """A record of an "other" course has no route; every time read back is aware, in UTC
    (PostgreSQL sessions use UTC; SQLite's naive values get it), and a correction in that
    course still hides the record it corrects."""
    campus, _course, ada, _ = world
    club = campus.course("CLUB", None)
    campus.learner("ada", club)
    var = campus.skill("VAR")
    first = record(db, club, ada, var, "fail", ago_minutes=30).demonstration
    fix = record(db, club, ada, var, "pass", supersedes_id=first.id,
                 reason="Marked the wrong box.").demonstration
    at = fix.demonstrated_at
    db.commit()
    db.expire_all()
    (fact,) = tracking.current_facts(db, [ada.person_id], [var.id])[(ada.person_id, var.id)]
    assert fact.id == fix.id and fact.route is None and fact.context_title == club.title
    assert fact.skill_code == "VAR"
    assert fact.at == at and fact.at.utcoffset() == timedelta(0)
    assert fact.recorded_at is not None and fact.recorded_at.utcoffset() == timedelta(0)
    assert db.get(Demonstration, fix.id).recorded_at.utcoffset() == timedelta(0)


def test_the_corrections_have_a_partial_index(db):
    """Migration 0017: "not superseded" is checked against an index of the corrections only
    (docs/operations.md, "Capacity")."""
    from sqlalchemy import inspect

    indexes = {ix["name"]: ix for ix in inspect(db.connection()).get_indexes("demonstrations")}
    assert indexes["ix_demonstrations_superseded"]["column_names"] == ["supersedes_id"]
    where = indexes["ix_demonstrations_superseded"].get("dialect_options", {})
    assert "supersedes_id IS NOT NULL" in " ".join(str(v) for v in where.values()) or \
        db.get_bind().dialect.name == "sqlite"
