"""The assessment grid (/course/grid): learners on the roster x skills of the offered
credentials, each cell not yet / attempted / demonstrated with date and assessor (and the
course, when it was demonstrated in another one), filters, paging, pseudonymous labels and
accessible names."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.domain.advantage import Member, MemberStatus
from lti_tool.domain.tracking import pseudonym
from lti_tool.models import Context, RosterEntry
from lti_tool.services.roster import sync_roster
from tests.support.admin import Page
from tests.support.instructor import (
    CODETEACH,
    INSTRUCTOR,
    LEARNER,
    account_id,
    attach,
    grid_cells,
    intro_course,
    launch_as,
    publish,
    record,
)


def _context(db, title_part: str) -> Context:
    db.expire_all()
    return db.scalars(select(Context).where(Context.title.contains(title_part))).one()


def test_cells_show_status_date_and_assessor(app, db, platform):
    s = intro_course(app, db, platform)
    assert attach(s.terry, s.cred.credential_id).status_code == 303
    vars_, ctrl = s.skill("PY-VARS"), s.skill("PY-CTRL")
    record(s.terry, s.lena_id, vars_, outcome="pass", demonstrated_at="2025-03-14")
    record(s.terry, s.omar_id, ctrl, outcome="fail", demonstrated_at="2025-03-15")

    page = s.terry.page("/course/grid")
    assert page.status == 200
    cells = grid_cells(page)
    assert set(cells) == {(s.lena_id, vars_), (s.lena_id, ctrl), (s.omar_id, vars_),
                          (s.omar_id, ctrl)}
    lena_vars = cells[(s.lena_id, vars_)]
    assert lena_vars.status == "demonstrated"
    assert lena_vars.text == "Mar 14, 2025 by Terry Teacher"
    # The accessible name says who, which skill and the status (not colour alone).
    assert lena_vars.name == ("Lena Learner Skill PY-VARS Demonstrated Mar 14, 2025 by "
                              "Terry Teacher")
    omar_ctrl = cells[(s.omar_id, ctrl)]
    assert omar_ctrl.status == "attempted"
    assert omar_ctrl.name.startswith("Omar Osei Skill PY-CTRL Attempted, not yet demonstrated "
                                     "Mar 15, 2025")
    assert cells[(s.omar_id, vars_)].status == "not_yet"
    assert cells[(s.omar_id, vars_)].name == "Omar Osei Skill PY-VARS Not yet"
    # A real table: caption, column and row headers, a labelled focusable scroll region.
    html = page.html
    assert "<caption" in html and 'scope="col"' in html and 'scope="row"' in html
    assert 'role="region" aria-labelledby="grid-caption"' in html and 'tabindex="0"' in html
    assert "On this page: 1 demonstrated, 1 attempted, 2 not yet." in page.text


def test_a_pass_in_another_course_shows_where(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    # The same instructor teaches Coding for Teachers (continuing ed) on the same Moodle;
    # Lena (same platform user) is a learner there too.
    launch_as(app, platform, sub="lena", name="Lena Learner", roles=[LEARNER],
              fixture=CODETEACH, kind="continuing-ed")
    bea = launch_as(app, platform, sub="bea", name="Bea Brown", roles=[INSTRUCTOR],
                    fixture=CODETEACH, kind="continuing-ed")
    assert attach(bea, s.cred.credential_id).status_code == 303
    record(bea, s.lena_id, s.skill("PY-CTRL"), outcome="pass", demonstrated_at="2025-02-01")

    cells = grid_cells(s.terry.page("/course/grid"))
    cell = cells[(s.lena_id, s.skill("PY-CTRL"))]
    assert cell.status == "demonstrated"
    assert cell.text == "Feb 1, 2025 by Bea Brown in Coding for Teachers (continuing ed)"
    assert "in Coding for Teachers" in cell.name
    # ...and its history page says where it was made, and that it is corrected there.
    page = s.terry.page("/course/cell", c=f"{s.lena_id}.{s.skill('PY-CTRL')}")
    assert "Coding for Teachers (continuing ed)" in page.text
    assert "Recorded in another course; it can be corrected there." in page.text
    assert "Correct this record" not in page.text


def test_filters_by_credential_skill_status_and_learner(app, db, platform):
    s = intro_course(app, db, platform)
    other = publish(db, s.issuer, "GIT", ("VCS",), title="Version Control")
    attach(s.terry, s.cred.credential_id)
    attach(s.terry, other.credential_id)
    record(s.terry, s.lena_id, s.skill("PY-VARS"), outcome="pass")
    record(s.terry, s.omar_id, other.skill_ids["VCS"], outcome="fail")
    offerings = {o: i for o, i in _offering_ids(db).items()}

    everything = grid_cells(s.terry.page("/course/grid"))
    assert {sid for _, sid in everything} == {s.skill("PY-VARS"), s.skill("PY-CTRL"),
                                              other.skill_ids["VCS"]}
    by_credential = grid_cells(s.terry.page("/course/grid",
                                            credential=offerings[other.credential_id]))
    assert {sid for _, sid in by_credential} == {other.skill_ids["VCS"]}
    mismatch = s.terry.page("/course/grid", credential=offerings[other.credential_id],
                            skill=s.skill("PY-VARS"))
    assert grid_cells(mismatch) == {} and "No skill matches these filters." in mismatch.text
    by_skill = grid_cells(s.terry.page("/course/grid", skill=s.skill("PY-VARS")))
    assert {sid for _, sid in by_skill} == {s.skill("PY-VARS")}
    attempted = grid_cells(s.terry.page("/course/grid", status="attempted"))
    assert {aid for aid, _ in attempted} == {s.omar_id}
    demonstrated = grid_cells(s.terry.page("/course/grid", status="demonstrated",
                                           skill=s.skill("PY-VARS")))
    assert {aid for aid, _ in demonstrated} == {s.lena_id}
    not_yet_vars = grid_cells(s.terry.page("/course/grid", status="not_yet",
                                           skill=s.skill("PY-VARS")))
    assert {aid for aid, _ in not_yet_vars} == {s.omar_id}
    by_name = grid_cells(s.terry.page("/course/grid", q="osei"))
    assert {aid for aid, _ in by_name} == {s.omar_id}
    by_email = grid_cells(s.terry.page("/course/grid", q="lena@example"))
    assert {aid for aid, _ in by_email} == {s.lena_id}
    nobody = s.terry.page("/course/grid", q="zz-nobody")
    assert grid_cells(nobody) == {} and "No learner matches these filters." in nobody.text
    # Nonsense filter values are ignored, not errors.
    assert s.terry.page("/course/grid", status="bogus", per="7", page="x",
                        credential="999999").status == 200


def _offering_ids(db) -> dict[int, int]:
    from lti_tool.models import Offering

    db.expire_all()
    return {o.credential_id: o.id for o in db.scalars(select(Offering))}


def test_paging_fifty_per_page_and_all(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    context = _context(db, "Intro to Programming")
    sync_roster(db, context, [Member(sub=f"nrps-{n:02d}", roles=("Learner",),
                                     name=f"Zed Learner {n:02d}") for n in range(60)],
                complete=False)
    db.commit()
    first = s.terry.page("/course/grid")
    assert len({aid for aid, _ in grid_cells(first)}) == 50
    assert "62 of 62 learners \u00d7 2 skills, page 1 of 2." in first.text
    assert first.html.index("Lena Learner") < first.html.index("Zed Learner 00")
    second = s.terry.page("/course/grid", page=2)
    assert len({aid for aid, _ in grid_cells(second)}) == 12
    everyone = s.terry.page("/course/grid", per="all")
    assert len({aid for aid, _ in grid_cells(everyone)}) == 62
    assert 'rel="next"' in first.html and 'rel="next"' not in everyone.html


def test_roster_rules_and_pseudonymous_label(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    # A learner the platform sent no name and no email for (Canvas "anonymous").
    launch_as(app, platform, sub="anon-1", name=None, roles=[LEARNER], kind="for-credit")
    anon = account_id(db, "anon-1")
    context = _context(db, "Intro to Programming")
    # NRPS says Omar left the course: inactive learners are not in the grid.
    sync_roster(db, context, [Member(sub="omar", roles=("Learner",),
                                     status=MemberStatus.INACTIVE)], complete=False)
    db.commit()
    page = s.terry.page("/course/grid")
    learners = {aid for aid, _ in grid_cells(page)}
    assert learners == {s.lena_id, anon}
    name = next(c.name for (aid, _), c in grid_cells(page).items() if aid == anon)
    label = pseudonym(anon)  # "Learner 4F2A": stable, never shared by two accounts
    assert name.startswith(label + " Skill ")
    again = grid_cells(s.terry.page("/course/grid"))
    assert next(c.name for (aid, _), c in again.items() if aid == anon) == name
    # The instructor is never a row of the grid.
    assert "Terry Teacher</span></label>" not in page.html
    # Searching by the label finds them.
    tag = label.split()[1]
    assert {aid for aid, _ in grid_cells(s.terry.page("/course/grid", q=tag))} == {anon}
    # An inactive learner's cell page can still be read, but not written.
    cell = s.terry.page("/course/cell", c=f"{s.omar_id}.{s.skill('PY-VARS')}")
    assert cell.status == 200 and "no longer active in this course" in cell.text
    assert not cell.has_form("/course/cell")
    entry = db.scalars(select(RosterEntry).where(RosterEntry.account_id == s.omar_id)).one()
    assert entry.status == "inactive"


def test_names_are_escaped(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    launch_as(app, platform, sub="evil", name="<img src=x onerror=alert(1)> Mallory",
              roles=[LEARNER], kind="for-credit")
    page = s.terry.page("/course/grid")
    assert "<img src=x" not in page.html
    assert "&lt;img src=x onerror=alert(1)&gt; Mallory" in page.html


def test_no_offering_and_empty_states(app, db, platform):
    s = intro_course(app, db, platform)
    page = s.terry.page("/course/grid")
    assert page.status == 200
    assert "No credential is offered here yet" in page.text
    assert grid_cells(page) == {}


def test_dashboard_links_to_everything_and_keeps_the_course_facts(app, db, platform):
    s = intro_course(app, db, platform)
    attach(s.terry, s.cred.credential_id)
    home = s.terry.page("/app")
    assert home.status == 200
    for text in ("Intro to Programming (for credit)", "Instructor", "Welcome, Terry",
                 "For credit", "2 on the roster", "Python Basics", "Open the assessment grid"):
        assert text in home.text, text
    for path in ("/course/grid", "/course/offerings", "/course/awards", "/course/import",
                 "/course/bulk"):
        assert f'href="{path}?lt=' in home.html, path
    course = Page(s.terry.get("/course"))
    assert course.status == 200 and "Open the assessment grid" in course.text


def test_roster_refresh_on_demand_is_offered_to_staff_and_needs_csrf(app, client, platform,
                                                                     db):
    """The grid offers 'Refresh the roster'; without the form's CSRF token nothing runs."""
    import re

    from tests.support.lti import follow, full_launch

    page = follow(client, full_launch(client, platform))
    token = re.search(r"lt=([^&\"']+)", page.get_data(as_text=True)).group(1)
    html = client.get("/course/grid", query_string={"lt": token}).get_data(as_text=True)
    assert "Refresh the roster from the platform" in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    refused = client.post("/course/roster/refresh", data={"lt": token})
    assert refused.status_code == 403
    response = client.post("/course/roster/refresh", data={"lt": token, "csrf_token": csrf})
    assert response.status_code == 303
    note = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "roster" in note.lower()
