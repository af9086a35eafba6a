"""Course rosters from Names and Role Provisioning Services 2.0, as Moodle 5.0.6 (captured) and
Canvas (documented shapes) send them: paged with ``Link: rel="next"``, learners only, status
Active / Inactive / Deleted, members without name or email shown by a stable pseudonym; the
refresh on demand and after an instructor launch (at most every 15 minutes per course); the
fallback to learners seen in launches when the platform offers no NRPS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import jobs
from lti_tool.domain.advantage import MAX_PAGES, MEDIA_MEMBERSHIP
from lti_tool.domain.tracking import pseudonym
from lti_tool.models import AuditEvent, Context, LearnerAccount, Person, RosterEntry
from lti_tool.services import roster
from tests.support.advantage import (
    MOODLE_NRPS_URL,
    PlatformServices,
    captured,
    query,
)
from tests.support.lti import full_launch
from tests.support.platform import FakeTransport
from tests.support.tracking_engine import INSTRUCTOR_ROLES, Lms

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"


@dataclass
class Course:
    lms: Lms
    context: Context
    services: PlatformServices
    nrps_url: str

    def serve(self, transport: FakeTransport, *pages: list[dict[str, Any]],
              status: int = 200) -> list[str]:
        """Serve the roster as pages linked by rel="next"; the URLs asked are returned."""
        asked: list[str] = []

        def handler(request: Any) -> tuple[int, Any, dict[str, str]]:
            asked.append(request.url)
            assert request.headers["Accept"] == MEDIA_MEMBERSHIP
            assert request.headers["Authorization"].startswith("Bearer token-")
            number = int(query(request).get("p", "1"))
            headers = {"Content-Type": MEDIA_MEMBERSHIP + "; charset=utf-8"}
            if number < len(pages):
                # Canvas-style: several relations, a case-sensitive page token.
                headers["Link"] = (f'<{self.nrps_url}?p={number + 1}&tok=AbC{number}>; '
                                   f'rel="next", <{self.nrps_url}?p=1>; rel="first"')
            body = {"id": self.nrps_url, "context": {"id": self.context.lti_context_id},
                    "members": pages[number - 1]}
            return status, body, headers

        transport.add("GET", self.nrps_url, handler)
        return asked


def member(sub: str, roles: tuple[str, ...] = (LEARNER,), status: str = "Active",
           **names: str) -> dict[str, Any]:
    return {"user_id": sub, "roles": list(roles), "status": status, **names}


@pytest.fixture()
def course(app: Flask, db: Session, client, transport: FakeTransport) -> Course:
    lms = Lms.register(db)
    _teacher, context = lms.launch(db, sub="teacher", context_id="C1", roles=INSTRUCTOR_ROLES,
                                   kind="for-credit")
    context.nrps_url = f"{lms.platform.issuer}/api/lti/courses/1/names_and_roles"
    db.commit()
    services = PlatformServices.start(client, transport, token_url=lms.platform.auth_token_url,
                                      client_id=lms.platform.client_id)
    return Course(lms, context, services, context.nrps_url)


def refresh(app: Flask, context: Context) -> jobs.Submitted:
    with app.app_context():
        return jobs.enqueue_roster_refresh(context.id)


def on_roster(db: Session, context: Context) -> dict[str, str]:
    """sub -> roster status."""
    db.expire_all()
    return dict(db.execute(select(LearnerAccount.sub, RosterEntry.status).join(
        RosterEntry, RosterEntry.account_id == LearnerAccount.id).where(
        RosterEntry.context_id == context.id)).all())


def account(db: Session, lms: Lms, sub: str) -> LearnerAccount:
    return db.scalars(select(LearnerAccount).where(
        LearnerAccount.platform_id == lms.platform.id, LearnerAccount.sub == sub)).one()


def test_three_pages_are_followed_and_only_learners_join(app, db, transport, course):
    asked = course.serve(
        transport,
        [member("s1", name="Ana One"), member("t1", (INSTRUCTOR,), name="Tess Teacher")],
        [member("s2", name="Bo Two"), member("ta1", (TA,), name="Ty Assistant"),
         member("s3", name="Cy Three")],
        [member("s4", name="Di Four"), member("s5", name="Ed Five")],
    )
    result = refresh(app, course.context)
    assert result.ok and result.ran_inline
    assert result.message == "The roster was updated: 5 learners."
    assert on_roster(db, course.context) == {s: "active" for s in ("s1", "s2", "s3", "s4", "s5")}
    # The next links were followed exactly as sent (case kept), then paging stopped.
    assert asked == [course.nrps_url, f"{course.nrps_url}?p=2&tok=AbC1",
                     f"{course.nrps_url}?p=3&tok=AbC2"]
    assert course.services.issued == ["token-1"]        # one token for the three pages
    assert account(db, course.lms, "s3").name == "Cy Three"
    event = roster.last_sync(db, course.context.id)
    assert event is not None and event.detail["pages"] == 3 and event.detail["added"] == 5


def test_the_captured_moodle_membership_container(app, db, transport, client, platform):
    body = captured()["nrps_memberships"]
    # A Moodle launch records the course and its NRPS URL; the instructor launch then
    # refreshes the roster from Moodle's (captured) membership container.
    transport.add("GET", MOODLE_NRPS_URL,
                  lambda _r: (200, body["body"], {"Content-Type": body["content_type"]}))
    PlatformServices.start(client, transport, token_url=f"{platform.issuer}/mod/lti/token.php",
                           client_id=platform.client_id)
    response = full_launch(client, platform)
    assert response.status_code == 303
    context = db.scalars(select(Context).where(Context.lti_context_id == "2")).one()
    assert context.nrps_url == MOODLE_NRPS_URL
    assert on_roster(db, context) == {"4": "active", "5": "active"}   # not teacher1 ("3")
    sam = db.scalars(select(LearnerAccount).where(LearnerAccount.sub == "4")).one()
    assert (sam.name, sam.given_name, sam.family_name, sam.email) == (
        "Sam Student", "Sam", "Student", "student1@example.com")
    assert db.get(Person, sam.person_id).display_name == "Sam Student"
    assert roster.learner_label(sam) == "Sam Student"


def test_members_without_name_or_email_get_a_stable_pseudonym(app, db, transport, course):
    course.serve(transport, [member("535fa085f22b4655f48cd5a36a9215f64c062838")])
    assert refresh(app, course.context).ok
    anonymous = account(db, course.lms, "535fa085f22b4655f48cd5a36a9215f64c062838")
    label = roster.learner_label(anonymous)
    assert label == pseudonym(anonymous.id) and label.startswith("Learner ")
    assert roster.learner_label(anonymous) == label        # stable
    # Awards, import reports and the API name the person the same way (not by person id).
    assert roster.learner_names(db, [anonymous.person_id]) == {anonymous.person_id: label}
    # A later launch that carries a name is kept; a sync without names does not blank it.
    course.lms.launch(db, sub=anonymous.sub, context_id="C1", name="Fay Named",
                      email="fay@example.edu")
    db.commit()
    assert refresh(app, course.context).ok
    db.expire_all()
    again = account(db, course.lms, anonymous.sub)
    assert (again.name, again.email) == ("Fay Named", "fay@example.edu")
    assert roster.learner_label(again) == "Fay Named"


def test_status_changes_and_members_who_left(app, db, transport, course):
    for sub in ("a", "b", "c", "d"):                    # seen in launches first
        course.lms.launch(db, sub=sub, context_id="C1")
    db.commit()
    assert on_roster(db, course.context) == dict.fromkeys("abcd", "active")
    course.serve(transport, [member("a"), member("b", status="Inactive"),
                             member("c", status="Deleted"), member("e")])
    result = refresh(app, course.context)
    assert result.ok
    # b is inactive, c was deleted from the course, d is no longer listed, e is new.
    assert on_roster(db, course.context) == {"a": "active", "b": "inactive", "d": "inactive",
                                             "e": "active"}
    assert account(db, course.lms, "c").id          # the account (and its records) stays
    event = roster.last_sync(db, course.context.id)
    assert {k: event.detail[k] for k in ("added", "inactivated", "removed", "learners")} == \
        {"added": 1, "inactivated": 2, "removed": 1, "learners": 2}
    # b comes back.
    course.serve(transport, [member("a"), member("b"), member("e")])
    assert refresh(app, course.context).ok
    assert on_roster(db, course.context)["b"] == "active"
    # Running the same sync again changes nothing.
    before = on_roster(db, course.context)
    assert refresh(app, course.context).ok
    assert on_roster(db, course.context) == before


def test_a_listing_cut_at_the_page_limit_does_not_deactivate_anyone(app, db, transport,
                                                                    course):
    course.lms.launch(db, sub="early", context_id="C1")
    db.commit()
    asked: list[str] = []

    def endless(request):
        asked.append(request.url)
        n = int(query(request).get("p", "1"))
        return (200, {"members": [member(f"m{n}")]},
                {"Link": f'<{course.nrps_url}?p={n + 1}>; rel="next"'})

    transport.add("GET", course.nrps_url, endless)
    result = refresh(app, course.context)
    assert result.ok and len(asked) == MAX_PAGES
    statuses = on_roster(db, course.context)
    assert statuses["early"] == "active"                 # not listed, but the list was cut
    assert sum(1 for s in statuses.values() if s == "active") == MAX_PAGES + 1
    assert roster.last_sync(db, course.context.id).detail["complete"] is False


def test_a_next_link_to_another_server_is_not_followed(app, db, transport, course):
    course.lms.launch(db, sub="kept", context_id="C1")
    db.commit()
    transport.add("GET", course.nrps_url, lambda _r: (
        200, {"members": [member("x")]}, {"Link": '<https://evil.test/steal>; rel="next"'}))
    transport.add("GET", "https://evil.test/steal", lambda _r: (200, {"members": []}))
    result = refresh(app, course.context)
    assert not result.ok and "another server" in result.message
    assert transport.hits.get("https://evil.test/steal") is None     # no token sent there
    assert on_roster(db, course.context) == {"kept": "active"}        # nothing changed


@pytest.mark.parametrize(("status", "expected"), [
    (500, "could not provide the course roster right now (HTTP 500)"),
    (403, "refused MicroCred access to the course roster (HTTP 403)"),
])
def test_a_failing_platform_changes_nothing_and_says_why(app, db, transport, course, status,
                                                         expected):
    course.lms.launch(db, sub="kept", context_id="C1")
    db.commit()
    course.serve(transport, [member("new")], status=status)
    result = refresh(app, course.context)
    assert not result.ok and expected in result.message
    assert on_roster(db, course.context) == {"kept": "active"}
    assert roster.last_sync(db, course.context.id) is None


def test_a_roster_that_is_not_a_membership_container(app, db, transport, course):
    transport.add("GET", course.nrps_url, lambda _r: (200, ["not", "a", "container"]))
    result = refresh(app, course.context)
    assert not result.ok and "did not send a course roster" in result.message


def test_without_nrps_the_roster_is_the_learners_seen_in_launches(app, db, transport, course):
    course.context.nrps_url = ""
    course.lms.launch(db, sub="l1", context_id="C1")
    course.lms.launch(db, sub="l2", context_id="C1")
    db.commit()
    transport.requests.clear()
    result = refresh(app, course.context)
    assert result.ok and result.result["source"] == "launches"
    assert "does not share its roster" in result.message and "2 learners" in result.message
    assert transport.requests == []
    assert on_roster(db, course.context) == {"l1": "active", "l2": "active"}


def test_an_instructor_launch_refreshes_the_roster_at_most_every_15_minutes(
        app, db, client, transport, platform):
    body = captured()["nrps_memberships"]["body"]
    transport.add("GET", MOODLE_NRPS_URL, lambda _r: (200, body))
    PlatformServices.start(client, transport, token_url=f"{platform.issuer}/mod/lti/token.php",
                           client_id=platform.client_id)
    assert full_launch(client, platform).status_code == 303
    assert transport.hits[MOODLE_NRPS_URL] == 1
    assert full_launch(client, platform).status_code == 303
    assert full_launch(client, platform, "learner_claims_INTROPROG.json").status_code == 303
    assert transport.hits[MOODLE_NRPS_URL] == 1


def test_a_learner_launch_does_not_read_the_roster(app, db, client, transport, platform):
    assert full_launch(client, platform, "learner_claims_INTROPROG.json").status_code == 303
    assert MOODLE_NRPS_URL not in transport.hits


def test_a_launch_succeeds_when_the_roster_cannot_be_read(app, db, client, transport,
                                                          platform):
    # No token endpoint and no NRPS route: the refresh fails, the launch does not.
    response = full_launch(client, platform)
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "roster.synced")).first() \
        is None
