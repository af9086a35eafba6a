"""CSV import of demonstrations (services.demonstration_import), as an instructor's file or
an autograder's batch meets it: learners found by platform user id, email or institutional
id; every bad row reported with its row number; nothing applied on any problem or on a dry
run; awards evaluated once per learner; limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lti_tool.models import AuditEvent, Award, Demonstration, LearnerAccount, RosterEntry
from lti_tool.services import tracking
from lti_tool.services.demonstration_import import (
    MAX_BYTES,
    MAX_ROWS,
    import_demonstrations_csv,
)
from tests.support.demonstrations import (
    INSTRUCTOR,
    add_learners,
    awards_of,
    csv_text,
    demonstration_count,
    make_course,
)

SKILLS = ("py.vars", "py.loops", "py.funcs")
DAY = "2025-03-14"


@pytest.fixture()
def course(db, platform):
    course = make_course(db, platform)
    add_learners(db, course, 4)
    return course


def run(db, course, text, *, dry_run=False, **kwargs):
    report = import_demonstrations_csv(db, context=course.context, text=text,
                                       assessor=INSTRUCTOR, dry_run=dry_run, **kwargs)
    db.commit()
    return report


def where(report):
    return [(p["where"], p["field"]) for p in report.problems]


def all_skills_rows(learner_ref, day=DAY, outcome="pass"):
    return [[learner_ref, code, outcome, day, f"https://evidence.example.edu/{code}"]
            for code in SKILLS]


# -- the happy path ------------------------------------------------------------------------------
def test_learners_are_found_by_platform_user_id_email_or_institutional_id(db, course):
    a, b, c, _ = course.learners
    text = csv_text([
        [a.sub, "py.vars", "pass", DAY, "https://evidence.example.edu/a"],
        [b.email.upper(), "py.loops", "fail", "2025-03-14T09:30:00+02:00", ""],
        [c.sourcedid, "py.funcs", "pass", "2025-03-14 16:45", ""],
    ])
    report = run(db, course, text)
    assert report.ok and report.applied, report.problems
    assert report.counts == {"rows": 3, "recorded": 3, "already_recorded": 0,
                                  "passes": 2, "fails": 1, "learners": 3, "skills": 3,
                                  "awards_created": 0, "problems": 0}
    demos = {d.person_id: d for d in db.scalars(select(Demonstration).where(
        Demonstration.context_id == course.context.id))}
    assert set(demos) == {a.person_id, b.person_id, c.person_id}
    assert demos[a.person_id].account_id == a.account_id
    assert demos[a.person_id].skill.code == "py.vars"
    assert demos[a.person_id].evidence_url == "https://evidence.example.edu/a"
    assert demos[a.person_id].demonstrated_at == datetime(2025, 3, 14, 12, tzinfo=UTC)
    assert demos[b.person_id].outcome == "fail"
    assert demos[b.person_id].demonstrated_at == datetime(2025, 3, 14, 7, 30, tzinfo=UTC)
    assert demos[c.person_id].demonstrated_at == datetime(2025, 3, 14, 16, 45, tzinfo=UTC)
    for demo in demos.values():
        assert demo.method == "in_course_assignment"
        assert demo.route == "integrated"
        assert demo.assessor_ref == INSTRUCTOR.ref
        assert demo.assessor_name == "Ivy Instructor"
        assert demo.supersedes_id is None
    assert sorted(report.demonstration_ids) == sorted(d.id for d in demos.values())


def test_optional_columns_method_and_note_and_any_column_order(db, course):
    a = course.learners[0]
    text = csv_text([["Observation", "Watched them debug a loop.", "py.loops", a.sub, "PASS",
                      DAY]], header=("Method", " NOTE ", "Skill_Code", "learner", "outcome",
                                     "date"))
    report = run(db, course, text)
    assert report.ok, report.problems
    demo = db.scalars(select(Demonstration).where(Demonstration.person_id == a.person_id)).one()
    assert (demo.method, demo.evidence_note, demo.outcome, demo.evidence_url) == (
        "observation", "Watched them debug a loop.", "pass", "")


def test_byte_order_mark_crlf_and_formula_apostrophes_are_handled(db, course):
    a = course.learners[0]
    text = csv_text([[a.sub, "py.vars", "pass", DAY, "", "'=HYPERLINK(\"x\")"],
                     [a.sub, "py.loops", "pass", DAY, "", "'-2 points, resubmitted"]],
                    header=("learner", "skill_code", "outcome", "date", "evidence_url",
                            "note"), newline="\r\n")
    report = run(db, course, ("\ufeff" + text).encode("utf-8"))
    assert report.ok, report.problems
    notes = sorted(db.scalars(select(Demonstration.evidence_note).where(
        Demonstration.person_id == a.person_id)))
    assert notes == ["-2 points, resubmitted", '=HYPERLINK("x")']


def test_a_semicolon_windows_1252_file_from_a_french_spreadsheet_is_read(db, course):
    """Excel in a French locale: semicolons (the comma is its decimal mark), and its plain
    "CSV" in Windows-1252."""
    a = course.learners[0]
    semicolons = ("learner;skill_code;outcome;date;evidence_url;note\r\n"
                  f'{a.sub};py.vars;pass;{DAY};;"Très bien; à revoir"\r\n')
    report = run(db, course, semicolons.encode("cp1252"))
    assert report.ok, report.problems
    assert db.scalars(select(Demonstration.evidence_note).where(
        Demonstration.person_id == a.person_id)).one() == "Très bien; à revoir"


def test_a_learner_who_completes_every_skill_earns_the_credential_once(db, course):
    a, b = course.learners[:2]
    rows = all_skills_rows(a.sub) + all_skills_rows(b.email)[:2]
    rows.append([a.sub, "py.vars", "pass", "2025-03-15", ""])  # a second pass, same skill
    report = run(db, course, csv_text(rows))
    assert report.ok, report.problems
    assert report.counts["awards_created"] == 1
    [award] = awards_of(db, a.person_id)
    assert (award.route, award.context_id, award.status) == ("integrated", course.context.id,
                                                             "active")
    assert award.version_id == course.versions["PYF"].id
    first_passes = db.scalars(select(Demonstration.id).where(
        Demonstration.person_id == a.person_id,
        Demonstration.demonstrated_at == datetime(2025, 3, 14, 12, tzinfo=UTC)))
    assert sorted(award.demonstration_ids) == sorted(first_passes)
    assert awards_of(db, b.person_id) == []
    assert report.awards == [{
        "id": award.id, "public_id": award.public_id, "person_id": a.person_id,
        "learner": a.name, "credential_code": "PYF", "credential_title": "Credential PYF",
        "version": 1, "route": "integrated"}]

    # b completes later, in a second file: one award for b, still one for a.
    again = run(db, course, csv_text(all_skills_rows(b.sourcedid, day="2025-03-20")))
    assert again.counts["awards_created"] == 1
    assert len(awards_of(db, a.person_id)) == 1
    assert len(awards_of(db, b.person_id)) == 1


def test_awards_are_evaluated_once_per_learner_not_once_per_row(db, platform):
    course = make_course(db, platform, credentials=[
        ("PYF", SKILLS), ("WEB", ("web.html", "web.css"))])
    learners = add_learners(db, course, 20)
    rows = [[learner.sub, code, "pass", DAY, ""] for learner in learners
            for code in (*SKILLS, "web.html", "web.css")]
    report = run(db, course, csv_text(rows))
    assert report.ok, report.problems
    assert report.counts["awards_created"] == 40
    assert db.scalar(select(func.count()).select_from(Award).where(
        Award.context_id == course.context.id)) == 40
    for learner in learners:
        assert sorted(a.credential.code for a in awards_of(db, learner.person_id)) == [
            "PYF", "WEB"]
    created = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "award.created", AuditEvent.context_id == course.context.id))
    assert created == 40


def test_the_import_is_audited_once_with_a_summary(db, course):
    a, b = course.learners[:2]
    report = run(db, course, csv_text(all_skills_rows(a.sub) + all_skills_rows(b.sub)[:1]))
    events = list(db.scalars(select(AuditEvent).where(
        AuditEvent.action == "demonstrations.imported")))
    assert len(events) == 1
    event = events[0]
    assert event.context_id == course.context.id
    assert event.launch_id == INSTRUCTOR.launch_id
    assert event.detail["by"] == INSTRUCTOR.ref
    assert event.detail["recorded"] == 4 and event.detail["awards_created"] == 1
    ids = [i for first, last in event.detail["demonstration_ids"]
           for i in range(first, last + 1)]
    assert sorted(ids) == sorted(report.demonstration_ids)
    # No per-row audit events: the import event covers every row.
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "demonstration.recorded")) == 0


def test_importing_the_same_file_twice_records_nothing_the_second_time(db, course):
    a = course.learners[0]
    text = csv_text(all_skills_rows(a.sub))
    first = run(db, course, text)
    second = run(db, course, text)
    assert first.counts["recorded"] == 3 and first.counts["awards_created"] == 1
    assert second.ok and second.applied
    assert (second.counts["recorded"], second.counts["already_recorded"],
            second.counts["awards_created"]) == (0, 3, 0)
    assert demonstration_count(db, context_id=course.context.id) == 3
    assert len(awards_of(db, a.person_id)) == 1


def test_a_continuing_education_course_records_the_stand_alone_route(db, platform):
    course = make_course(db, platform, kind="continuing-ed", title="Python (CE)")
    [learner] = add_learners(db, course, 1)
    report = run(db, course, csv_text(all_skills_rows(learner.sub)))
    assert report.counts["awards_created"] == 1
    assert awards_of(db, learner.person_id)[0].route == "stand_alone"
    assert set(db.scalars(select(Demonstration.route).where(
        Demonstration.person_id == learner.person_id))) == {"stand_alone"}


# -- dry run and atomicity ---------------------------------------------------------------------
def test_a_dry_run_reports_what_would_happen_and_applies_nothing(db, course):
    a, b = course.learners[:2]
    text = csv_text(all_skills_rows(a.sub) + all_skills_rows(b.email)[:2])
    audits = db.scalar(select(func.count()).select_from(AuditEvent))
    dry = run(db, course, text, dry_run=True)
    assert dry.ok and dry.dry_run and not dry.applied
    assert dry.counts["recorded"] == 5 and dry.counts["awards_created"] == 1
    assert dry.awards[0]["id"] is None and dry.awards[0]["person_id"] == a.person_id
    assert dry.demonstration_ids == []
    assert demonstration_count(db, context_id=course.context.id) == 0
    assert awards_of(db, a.person_id) == []
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == audits

    real = run(db, course, text)
    assert real.applied and real.counts == dry.counts
    assert demonstration_count(db, context_id=course.context.id) == 5
    assert len(awards_of(db, a.person_id)) == 1


def test_one_bad_row_in_500_applies_nothing(db, platform):
    course = make_course(db, platform)
    learners = add_learners(db, course, 170)
    rows = [[learner.sub, code, "pass", DAY, ""] for learner in learners
            for code in SKILLS][:500]
    rows[375][2] = "passed"  # spreadsheet row 377 (the header is row 1)
    before = demonstration_count(db)
    awards_before = db.scalar(select(func.count()).select_from(Award))
    report = run(db, course, csv_text(rows))
    assert not report.ok and not report.applied
    assert report.problems == [{"where": "row 377", "field": "outcome",
                                "message": "must be pass or fail"}]
    assert report.counts["rows"] == 500 and report.counts["problems"] == 1
    assert demonstration_count(db) == before
    assert db.scalar(select(func.count()).select_from(Award)) == awards_before
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "demonstrations.imported")) == 0


def test_a_dry_run_with_problems_reports_them_all(db, course):
    a = course.learners[0]
    report = run(db, course, csv_text([[a.sub, "nope", "pass", DAY, ""],
                                       ["ghost", "py.vars", "pass", DAY, ""]]), dry_run=True)
    assert not report.ok and report.dry_run
    assert where(report) == [("row 2", "skill_code"), ("row 3", "learner")]


# -- every kind of bad row ------------------------------------------------------------------
def test_every_bad_row_is_reported_with_its_row_number(db, course, platform):
    a, b = course.learners[:2]
    # A learner of another course on the same platform is not on this course's roster.
    other = make_course(db, platform, issuer=course.issuer, credentials=[])
    [outsider] = add_learners(db, other, 1, prefix="o")
    # A skill in the catalog but not in a credential offered here.
    course.builder.skills("sql.joins")
    db.commit()
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    rows = [
        [a.sub, "py.vars", "pass", DAY, ""],                                  # 2 fine
        ["", "py.vars", "pass", DAY, ""],                                     # 3
        ["nobody@example.edu", "py.vars", "pass", DAY, ""],                   # 4
        [outsider.sub, "py.vars", "pass", DAY, ""],                           # 5
        [a.sub, "", "pass", DAY, ""],                                         # 6
        [a.sub, "PY.VARS", "pass", DAY, ""],                                  # 7
        [a.sub, "sql.joins", "pass", DAY, ""],                                # 8
        [a.sub, "py.loops", "maybe", DAY, ""],                                # 9
        [a.sub, "py.loops", "pass", "", ""],                                  # 10
        [a.sub, "py.loops", "pass", "14/03/2025", ""],                        # 11
        [a.sub, "py.loops", "pass", future, ""],                              # 12
        [a.sub, "py.loops", "pass", "1969-12-31", ""],                        # 13
        [a.sub, "py.loops", "pass", DAY, "javascript:alert(1)"],              # 14
        [a.sub, "py.loops", "pass", DAY, "ftp://files.example.edu/x"],        # 15
        [a.sub, "py.loops", "pass", DAY, "https://a.example/x y"],            # 16
        [a.sub, "py.funcs", "pass", DAY, "", "juggling"],                     # 17
        [a.sub, "py.funcs", "pass", DAY, "", "", "x" * 4001],                 # 18
        [a.sub, "py.funcs", "pass", DAY, "", "", "bell\x07"],                 # 19
        [a.sub, "py.funcs", "pass", DAY, "", "", "", "extra"],                # 20
        [a.sub, "py.vars", "pass", DAY, ""],                                  # 21 = row 2
        ["x" * 321, "py.vars", "pass", DAY, ""],                              # 22
        [b.sub, "nope", "great", "yesterday", "mailto:x@example.edu"],        # 23 (4)
        [b.sub, "py.vars\x01", "nope", DAY, ""],                              # 24 (2)
    ]
    header = ("learner", "skill_code", "outcome", "date", "evidence_url", "method", "note")
    report = run(db, course, csv_text(rows, header=header))
    assert not report.ok
    assert where(report) == [
        ("row 3", "learner"), ("row 4", "learner"), ("row 5", "learner"),
        ("row 6", "skill_code"), ("row 7", "skill_code"), ("row 8", "skill_code"),
        ("row 9", "outcome"), ("row 10", "date"), ("row 11", "date"), ("row 12", "date"),
        ("row 13", "date"), ("row 14", "evidence_url"), ("row 15", "evidence_url"),
        ("row 16", "evidence_url"), ("row 17", "method"), ("row 18", "note"),
        ("row 19", "note"), ("row 20", ""), ("row 21", ""), ("row 22", "learner"),
        ("row 23", "skill_code"), ("row 23", "outcome"), ("row 23", "date"),
        ("row 23", "evidence_url"), ("row 24", "skill_code"), ("row 24", "outcome"),
    ]
    messages = {(p["where"], p["field"]): p["message"] for p in report.problems}
    assert "matches no learner on this course's roster" in messages[("row 4", "learner")]
    assert "'nobody@example.edu'" in messages[("row 4", "learner")]
    assert "matches no learner" in messages[("row 5", "learner")]
    assert "did you mean 'py.vars'?" in messages[("row 7", "skill_code")]
    assert "not a skill of a micro-credential offered in this course" in \
        messages[("row 8", "skill_code")]
    assert messages[("row 12", "date")] == "is in the future"
    assert "http(s)" in messages[("row 14", "evidence_url")]
    assert "in_course_assignment, observation" in messages[("row 17", "method")]
    assert "4000" in messages[("row 18", "note")]
    assert "8 cells" in messages[("row 20", "")]
    assert "repeats row 2" in messages[("row 21", "")]
    assert messages[("row 24", "skill_code")] == "contains control characters"
    assert messages[("row 19", "note")] == "contains control characters"
    assert report.counts["problems"] == 26 and report.counts["rows"] == 23
    assert demonstration_count(db) == 0


def test_an_identifier_that_fits_two_learners_is_ambiguous(db, course):
    a, b = course.learners[:2]
    # b's institutional id happens to be a's email: the row cannot say whom it means.
    db.get(LearnerAccount, b.account_id).lis_person_sourcedid = a.email
    db.commit()
    report = run(db, course, csv_text([[a.email, "py.vars", "pass", DAY, ""],
                                       [a.sub, "py.vars", "pass", DAY, ""]]))
    assert where(report) == [("row 2", "learner")]
    message = report.problems[0]["message"]
    assert "ambiguous" in message and "2 different learners" in message
    assert "email and institutional id" in message
    assert demonstration_count(db) == 0


def test_two_accounts_of_one_linked_person_are_not_ambiguous(db, course):
    a, b = course.learners[:2]
    # An administrator linked b's account to a's person (same human, two accounts).
    account = db.get(LearnerAccount, b.account_id)
    account.person_id = a.person_id
    account.email = a.email
    db.commit()
    report = run(db, course, csv_text([[a.email, "py.vars", "pass", DAY, ""]]))
    assert report.ok, report.problems
    demo = db.scalars(select(Demonstration)).one()
    assert demo.person_id == a.person_id and demo.account_id == a.account_id


def test_an_inactive_roster_entry_can_still_be_recorded(db, course):
    a = course.learners[0]
    entry = db.scalars(select(RosterEntry).where(RosterEntry.account_id == a.account_id)).one()
    entry.status = "inactive"  # dropped the course after the assessment
    db.commit()
    assert run(db, course, csv_text([[a.sub, "py.vars", "pass", DAY, ""]])).ok


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the first row must name the columns"),
    ("\r\n\r\n", "the first row must name the columns"),
    ("learner,skill_code,outcome\r\nx,y,pass\r\n", "missing columns: date"),
    ("learner,skill,outcome,date\r\n", "unknown columns: skill"),
    ("learner,skill_code,outcome,date,learner\r\n", "repeated columns: learner"),
    ("learner,skill_code,outcome,date\r\n", "has no rows below the header"),
    ("learner,skill_code,outcome,date\r\n\r\n,,,\r\n", "has no rows below the header"),
])
def test_header_and_empty_file_problems(db, course, text, expected):
    report = run(db, course, text)
    assert not report.ok
    assert len(report.problems) == 1 and expected in report.problems[0]["message"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("learner,skill_code,outcome,date\r\n".encode("utf-16"), "not UTF-8"),
    # Neither UTF-8 nor Windows-1252 (0x81 and 0x8D are undefined there).
    (b"learner,skill_code,outcome,date\r\n\x81\x8d,x,pass,2025-01-01\r\n", "not UTF-8"),
    (b"learner,skill_code,outcome,date\r\nab\x00c,x,pass,2025-01-01\r\n", "NUL"),
    (b'learner,skill_code,outcome,date\r\n"unterminated,x,pass,2025-01-01\r\n',
     "not valid CSV"),
])
def test_files_that_are_not_csv_text_are_refused(db, course, raw, expected):
    report = run(db, course, raw)
    assert not report.ok and expected in report.problems[0]["message"]
    assert report.problems[0]["where"] == "file"


def test_only_the_first_thousand_problems_are_listed_but_all_are_counted(db, course):
    rows = [["ghost", "py.vars", "pass", DAY, ""]] * 1500
    report = run(db, course, csv_text(rows))
    assert report.counts["problems"] == 1500
    assert len(report.problems) == 1001
    assert report.problems[-1] == {"where": "file", "field": "",
                                   "message": "… and 500 more problems"}


# -- limits ---------------------------------------------------------------------------------
def test_more_than_ten_thousand_rows_are_refused_and_the_limit_is_said(db, course):
    a = course.learners[0]
    rows = [[a.sub, "py.vars", "fail", f"2025-01-01T00:00:{i % 60:02d}Z", ""]
            for i in range(MAX_ROWS + 1)]
    report = run(db, course, csv_text(rows, header=("learner", "skill_code", "outcome",
                                                    "date", "evidence_url")))
    assert MAX_ROWS == 10_000
    assert report.problems == [{"where": "file", "field": "",
                                "message": "has 10,001 rows; at most 10,000 are accepted per "
                                           "import: split the file"}]
    assert demonstration_count(db) == 0


def test_a_file_over_two_megabytes_is_refused(db, course):
    a = course.learners[0]
    note = "n" * 3900
    rows = [[a.sub, "py.vars", "pass", f"2025-01-{1 + i % 28:02d}", "", note]
            for i in range(MAX_BYTES // 3900 + 5)]
    text = csv_text(rows, header=("learner", "skill_code", "outcome", "date", "evidence_url",
                                  "note"))
    assert len(text.encode()) > MAX_BYTES == 2_000_000
    report = run(db, course, text)
    assert len(report.problems) == 1
    assert report.problems[0]["message"].startswith("is larger than 2 MB")
    assert demonstration_count(db) == 0


def test_ten_thousand_rows_and_their_awards_are_imported(db, platform):
    credentials = [(f"C{i}", tuple(f"c{i}.s{j}" for j in range(8))) for i in range(5)]
    course = make_course(db, platform, credentials=credentials)
    learners = add_learners(db, course, 250)
    rows = [[learner.sub, skill, "pass", DAY, "https://evidence.example.edu/x"]
            for learner in learners for _code, skills in credentials for skill in skills]
    assert len(rows) == 10_000
    started = time.perf_counter()
    report = run(db, course, csv_text(rows))
    elapsed = time.perf_counter() - started
    assert report.ok, report.problems[:3]
    assert report.counts["recorded"] == 10_000
    assert report.counts["awards_created"] == 250 * 5
    assert demonstration_count(db, context_id=course.context.id) == 10_000
    assert db.scalar(select(func.count()).select_from(Award).where(
        Award.context_id == course.context.id)) == 1250
    # The budget is 10 s on PostgreSQL (bench/bulk_import.py measures it); a
    # generous bound here still catches a regression to per-row work.
    assert elapsed < 30, elapsed


# -- the award engine stays the same engine -----------------------------------------------
def test_a_learner_who_already_holds_the_credential_is_not_awarded_again(db, platform):
    course = make_course(db, platform)
    [learner] = add_learners(db, course, 1)
    run(db, course, csv_text(all_skills_rows(learner.sub)))
    [award] = awards_of(db, learner.person_id)
    # Even after revocation the engine does not silently re-award from the same file's rows.
    tracking.revoke_award(db, award, reason="Recorded for the wrong learner",
                          by=INSTRUCTOR)
    db.commit()
    report = run(db, course, csv_text(all_skills_rows(learner.sub)))
    assert report.counts["already_recorded"] == 3 and report.counts["awards_created"] == 0
    assert [a.status for a in awards_of(db, learner.person_id)] == ["revoked"]


def test_skills_of_another_institution_are_not_offered_to_an_issuer_scoped_import(db, course,
                                                                               platform):
    a = course.learners[0]
    from tests.support.catalog import make_issuer

    other = make_issuer(db, "other-college")
    db.commit()
    report = run(db, course, csv_text([[a.sub, "py.vars", "pass", DAY, ""]]),
                 issuer_id=other.id)
    assert where(report) == [("row 2", "skill_code")]
    assert demonstration_count(db) == 0


def test_a_dry_run_queues_no_grade_book_signal(db, platform):
    """With the grade-book signal on, a real import queues "credential earned" for each new
    award; a dry run's awards are rolled back, and so are their signals."""
    from lti_tool.models import GradebookSignal
    from lti_tool.services import gradebook

    course = make_course(db, platform)
    [learner] = add_learners(db, course, 1)
    course.issuer.settings = {**(course.issuer.settings or {}), "gradebook_signal": True}
    course.context.ags = {
        "lineitems": "https://moodle.test/mod/lti/services.php/2/lineitems?type_id=1",
        "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                  "https://purl.imsglobal.org/spec/lti-ags/scope/score"]}
    db.commit()
    text = csv_text(all_skills_rows(learner.sub))
    dry = import_demonstrations_csv(db, context=course.context, text=text,
                                    assessor=INSTRUCTOR, dry_run=True)
    assert dry.counts["awards_created"] == 1
    assert gradebook.take_pending(db) == []
    assert db.scalar(select(func.count()).select_from(GradebookSignal)) == 0
    db.rollback()

    real = import_demonstrations_csv(db, context=course.context, text=text,
                                     assessor=INSTRUCTOR)
    [signal] = db.scalars(select(GradebookSignal)).all()
    assert signal.award_id == real.awards[0]["id"]
    assert gradebook.take_pending(db) == [signal.id]
    db.rollback()
