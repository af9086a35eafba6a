"""Roster problems in words: when the roster refresh fails (the platform's token endpoint
refuses, the member list is refused, the platform cannot be reached), the grid and the
course overview say what happened and what to ask the LMS administrator; a course whose
platform shares no member list says learners appear when they launch; a refresh that worked
says when and how many."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.models import Context
from tests.support.admin import Page
from tests.support.advantage import PlatformServices
from tests.support.instructor import INSTRUCTOR, intro_course, launch_as

NRPS = "http://127.0.0.1:8088/mod/lti/services.php/CourseSection/2/bindings/1/memberships"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _grid(person) -> Page:
    page = person.page("/course/grid")
    assert page.status == 200, page.text[:400]
    return page


def _refresh(person) -> Page:
    form = _grid(person).form("/course/roster/refresh")
    response = person.submit(form)
    assert response.status_code == 303
    return Page(person.client.get(response.headers["Location"]))


def test_an_unreachable_platform_is_explained(app, db, platform):
    s = intro_course(app, db, platform)  # nothing answers at moodle's token URL
    page = _grid(s.terry)
    assert "The roster could not be refreshed" in page.text
    assert "could not be reached for an access token" in page.text
    assert "What to ask your LMS administrator: It may be a passing outage" in page.text
    overview = s.terry.page("/course")
    assert "The roster could not be refreshed" in overview.text


def test_a_refused_token_names_the_registration_to_check(app, db, client, platform,
                                                        transport):
    s = intro_course(app, db, platform)
    PlatformServices.start(client, transport, token_url=platform.issuer + "/mod/lti/token.php",
                           client_id=platform.client_id, token_status=401,
                           token_error="invalid_client")
    page = _refresh(s.terry)
    assert "refused MicroCred's access token request (invalid_client)" in page.text
    ask = page.text[page.text.index("What to ask your LMS administrator:"):]
    assert "Manage tools, MicroCred's pencil" in ask
    assert "http://tool.test/.well-known/jwks.json" in ask
    db.expire_all()
    context = db.scalars(select(Context).where(Context.lti_context_id == "2")).one()
    assert context.roster_status["ok"] is False
    assert context.roster_status["code"] == "token_refused"


def test_a_refused_member_list_asks_for_the_service(app, db, client, platform, transport):
    s = intro_course(app, db, platform)
    PlatformServices.start(client, transport, token_url=platform.issuer + "/mod/lti/token.php",
                           client_id=platform.client_id)
    transport.add("GET", NRPS, lambda _r: (403, {"error": "forbidden"}))
    page = _refresh(s.terry)
    assert "refused MicroCred access to" in page.text
    assert "IMS LTI Names and Role Provisioning" in page.text


def test_a_refresh_that_worked_says_when_and_how_many(app, db, client, platform, transport):
    s = intro_course(app, db, platform)
    PlatformServices.start(client, transport, token_url=platform.issuer + "/mod/lti/token.php",
                           client_id=platform.client_id)
    transport.add("GET", NRPS, lambda _r: (200, {"id": NRPS, "members": [
        {"user_id": "lena", "roles": ["Learner"], "name": "Lena Learner"},
        {"user_id": "omar", "roles": ["Learner"], "name": "Omar Osei"},
        {"user_id": "zoe", "roles": ["Learner"], "name": "Zoe Zhang"}]}))
    page = _refresh(s.terry)
    assert "The roster could not be refreshed" not in page.text
    assert "Roster read from the learning platform on" in page.text
    assert ": 3 learners." in page.text


def test_a_course_without_a_member_list_says_learners_appear_when_they_launch(
        app, db, platform):
    from tests.support.platform import REMOVE

    teacher = launch_as(app, platform, sub="t2", name="Tia Teacher", roles=[INSTRUCTOR],
                        fixture="instructor_claims_CODETEACH.json")
    db.expire_all()
    context = db.scalars(select(Context).where(Context.lti_context_id == "3")).one()
    context.nrps_url = ""  # as a launch without the NRPS claim leaves it
    db.commit()
    page = _grid(teacher)
    assert "Learners appear when they open MicroCred" in page.text
    assert "IMS LTI Names and Role Provisioning" in page.text
    assert REMOVE is not None
