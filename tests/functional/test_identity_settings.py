"""The institution's tracking settings page: how accounts are matched across platforms,
the grade-book signal (off by default) and course-kind rules from course labels, which a
launch applies when neither the platform nor an instructor set the course's kind."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.models import AuditEvent, Context, Issuer
from lti_tool.services import tracking
from tests.support.admin import Page
from tests.support.learning import (
    INSTRUCTOR,
    admin,
    context_of,
    launch,
    make_issuer,
)


@pytest.fixture()
def issuer(db, platform):
    return make_issuer(db, platform)


def _save(person, **fields):
    page = person.page("/admin/settings")
    form = page.form("/admin/settings")
    data = form.data()
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data.setlist(name, value if isinstance(value, list) else [value])
    return person.client.post(form.action, data=data)


def test_defaults_then_saved_settings(app, db, platform, issuer):
    avery = admin(app, platform)
    page = avery.page("/admin/settings")
    assert page.status == 200
    form = page.form("/admin/settings")
    assert form.value("link_identities_by") == "none"
    assert form.value("gradebook_signal") is None            # off by default
    assert form.value("rule_prefix_0") == ""
    assert form.value("evidence_visibility") == "recording_course"   # private by default
    saved = _save(avery, link_identities_by="email", gradebook_signal="1",
                  evidence_visibility="institution",
                  rule_prefix_0="CE-", rule_kind_0="continuing-ed",
                  rule_prefix_1="FC-", rule_kind_1="for-credit")
    assert saved.status_code == 303
    after = Page(avery.client.get(saved.headers["Location"]))
    assert "The settings were saved." in after.text
    form = after.form("/admin/settings")
    assert form.value("link_identities_by") == "email"
    assert form.value("gradebook_signal") == "1"
    assert (form.value("rule_prefix_0"), form.value("rule_kind_0")) == ("CE-", "continuing-ed")
    db.expire_all()
    stored = db.get(Issuer, issuer.id).settings
    assert stored["link_identities_by"] == "email" and stored["gradebook_signal"] is True
    assert stored["context_kind_rules"] == {"CE-": "continuing-ed", "FC-": "for-credit"}
    assert stored["evidence_visibility"] == "institution"
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "issuer.settings_changed")).one()
    assert event.detail["to"]["link_identities_by"] == "email"
    # Turning the signal off again: an unchecked box sends nothing.
    _save(avery, gradebook_signal=None)
    db.expire_all()
    assert db.get(Issuer, issuer.id).settings["gradebook_signal"] is False


def test_invalid_settings_are_explained_and_nothing_is_saved(app, db, platform, issuer):
    avery = admin(app, platform)
    response = _save(avery, link_identities_by="phone", rule_prefix_0="CE-",
                     rule_kind_0="", rule_prefix_1="ce-", rule_kind_1="other",
                     rule_prefix_2="", rule_kind_2="for-credit")
    page = Page(response)
    assert response.status_code == 422
    assert "Choose how accounts are matched." in page.text
    assert page.field_error("rule_kind_0") == "Error: Choose for-credit, continuing-ed or other."
    assert "Enter the start of the course label" in page.field_error("rule_prefix_2")
    assert page.is_invalid("rule_kind_0") and page.is_invalid("rule_prefix_2")
    assert "#f-rule_kind_0" in [f"#{link}" for link in page.summary_links()]
    # What was typed stays in the form.
    assert page.form("/admin/settings").value("rule_prefix_1") == "ce-"
    duplicate = Page(_save(avery, rule_prefix_0="CE-", rule_kind_0="continuing-ed",
                           rule_prefix_1="ce-", rule_kind_1="other"))
    assert "This prefix has a rule already." in duplicate.field_error("rule_prefix_1")
    db.expire_all()
    assert db.get(Issuer, issuer.id).settings == {}


def test_stale_settings_form_is_refused(app, db, platform, issuer):
    avery = admin(app, platform)
    old = avery.page("/admin/settings").form("/admin/settings")
    assert _save(avery, link_identities_by="sourcedid").status_code == 303
    data = old.data()
    data.setlist("link_identities_by", ["email"])
    response = avery.client.post(old.action, data=data)
    assert response.status_code == 409
    assert "Someone else saved these settings" in Page(response).text
    db.expire_all()
    assert db.get(Issuer, issuer.id).settings["link_identities_by"] == "sourcedid"


def test_settings_need_csrf(app, db, platform, issuer):
    avery = admin(app, platform)
    response = _save(avery, csrf_token="forged", link_identities_by="email")
    assert response.status_code == 403
    db.expire_all()
    assert db.get(Issuer, issuer.id).settings == {}


def _course(app, db, platform, label, lti_id, **kwargs):
    """An instructor opens MicroCred in a course with this label (no kind from Moodle)."""
    launch(app, platform, "instructor_claims_INTROPROG.json", roles=[INSTRUCTOR],
           context={"id": lti_id, "label": label, "title": f"Course {label}"}, **kwargs)
    return context_of(db, platform, lti_id)


def test_kind_rules_set_a_course_kind_at_launch(app, db, platform, issuer):
    avery = admin(app, platform)
    _save(avery, rule_prefix_0="CE-", rule_kind_0="continuing-ed",
          rule_prefix_1="CE-CREDIT", rule_kind_1="for-credit")
    ce = _course(app, db, platform, "ce-python-101", "c1")
    credit = _course(app, db, platform, "CE-CREDIT-7", "c2")     # the longest prefix wins
    plain = _course(app, db, platform, "MATH-1", "c3")
    told = _course(app, db, platform, "CE-TOLD", "c4", custom={"context_kind": "for-credit"})
    assert (ce.kind, ce.kind_source) == ("continuing-ed", "rule")
    assert credit.kind == "for-credit"
    assert (plain.kind, plain.kind_source) == ("other", "default")
    assert (told.kind, told.kind_source) == ("for-credit", "platform")
    # The landing page of that very launch already knows the kind.
    terry = launch(app, platform, "instructor_claims_INTROPROG.json", roles=[INSTRUCTOR],
                   sub="t-9", context={"id": "c5", "label": "CE-NEW", "title": "New CE"})
    assert "continuing" in terry.page("/app").text.lower()


def test_instructors_choice_is_not_overridden_by_a_rule(app, db, platform, issuer):
    course = _course(app, db, platform, "CE-OWN", "c1")
    tracking.set_context_kind(db, course, "for-credit", tracking.Assessor("account:t", "T"))
    db.commit()
    avery = admin(app, platform)
    _save(avery, rule_prefix_0="CE-", rule_kind_0="continuing-ed")
    again = _course(app, db, platform, "CE-OWN", "c1")
    assert (again.kind, again.kind_source) == ("for-credit", "instructor")
    assert db.scalars(select(Context).where(Context.kind_source == "rule")).first() is None
