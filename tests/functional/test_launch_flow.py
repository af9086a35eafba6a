"""The happy path: a Moodle-shaped launch (from the real 5.0.6 captures) lands on the
role's page with real launch data, and the launch is recorded."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.models import AuditEvent, Context, LearnerAccount, ResourceLink
from tests.support.lti import follow, full_launch


def test_instructor_launch_lands_on_instructor_page(client, platform, db):
    response = full_launch(client, platform)
    page = follow(client, response)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Intro to Programming (for credit)" in html
    assert "Terry Teacher" in html
    assert "Instructor" in html
    account = db.scalars(select(LearnerAccount).where(LearnerAccount.sub == "3")).one()
    assert account.email == "teacher1@example.com"
    context = db.scalars(select(Context)).one()
    assert context.label == "INTROPROG"
    assert db.scalars(select(ResourceLink)).one().lti_resource_link_id == "1"
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "lti.launch")).one()


def test_learner_launch_lands_on_learner_page(client, platform):
    page = follow(client, full_launch(client, platform, "learner_claims_INTROPROG.json"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "My skills" in html
    assert "Intro to Programming (for credit)" in html


def test_deep_linking_on_a_fresh_install_creates_the_tool_key_and_answers(client, platform, db):
    """A real LMS's first deep-linking request must work before any key was made."""
    import re

    import jwt

    from lti_tool.models import ToolKey

    assert db.scalars(select(ToolKey)).first() is None
    page = follow(client, full_launch(client, platform,
                                      "instructor_deeplinking_claims_INTROPROG.json"))
    html = page.get_data(as_text=True)
    token = re.search(r'name="lt" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = client.post("/lti/deep-link", data={"lt": token, "csrf_token": csrf,
                                                 "item": "home"})
    assert answer.status_code == 200
    response_jwt = re.search(r'name="JWT" value="([^"]+)"', answer.get_data(as_text=True))
    claims = jwt.decode(response_jwt.group(1), options={"verify_signature": False})
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == \
        "LtiDeepLinkingResponse"
    assert claims["aud"] == [platform.issuer]
    item = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"][0]
    assert item["url"] == "http://tool.test/lti/launch"
    kid = jwt.get_unverified_header(response_jwt.group(1))["kid"]
    assert db.scalars(select(ToolKey).where(ToolKey.kid == kid)).one().status == "active"
