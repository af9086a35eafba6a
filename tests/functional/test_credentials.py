"""The public credential page /credentials/<public_id>: readable without login, its status
from actually verifying the credential (valid / revoked on <date> / expired), content
negotiation, the learner's name only when they chose to show it, Open Graph tags, and the
downloads (JSON, baked PNG and SVG) that verify."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from lti_tool.badges import baking
from lti_tool.badges.verify import verify
from lti_tool.models import Issuer
from lti_tool.models.base import utcnow
from lti_tool.services import issuing, tracking
from tests.support.credentials import (
    PYFUND_TITLE,
    build_school,
    earn,
    no_outbound_network_fixture,  # noqa: F401 - the no_outbound_network fixture
    text_of,
)
from tests.support.learning import TEACHER


@pytest.fixture()
def school(app, db, platform):
    return build_school(app, db, platform)


@pytest.fixture()
def award(app, db, school):
    return earn(app, db, school)


def _page(client, award, **headers):
    return client.get(f"/credentials/{award.public_id}", headers=headers)


def _meta(html, prop):
    match = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)"', html)
    return match.group(1) if match else None


def test_page_without_login_says_who_what_when_where(app, award, no_outbound_network):
    client = app.test_client()  # no launch, no cookie
    response = _page(client, award)
    assert response.status_code == 200
    text = text_of(response)
    assert PYFUND_TITLE in text
    assert "Status: ✓ Valid" in text
    assert "Earned by a learner at Northern College on" in text
    assert "Where In a for-credit course — Intro to Programming (for credit)" in text
    # What it certifies: outcomes, skills with their alignments, hours, credit, delivery,
    # expiry.
    assert "Write small Python programs." in text and "Debug them methodically." in text
    for skill in ("Variables and types", "Control flow", "Functions", "Debugging", "Testing"):
        assert skill in text
    assert "Recursion" not in text.split("Skills demonstrated", 1)[1]  # not demonstrated
    assert "ESCO PY-VAR" in text
    assert 'href="http://data.europa.eu/esco/skill/py-var"' in response.get_data(as_text=True)
    assert "Notional learning hours 37.5 hours" in text
    assert "1.5 credits — Northern College credits" in text
    assert "Online, asynchronous; In person" in text
    assert "Valid for 24 months after it is awarded" in text
    assert "Signature, issuer key and revocation status checked just now" in text
    assert no_outbound_network == []


def test_status_comes_from_really_verifying(app, db, client, award):
    html = _page(client, award).get_data(as_text=True)
    steps = re.search(r'<ol class="verify-steps" id="credential-steps">(.*?)</ol>', html, re.S)
    assert steps and "Signature" in steps.group(1) and "Revocation status" in steps.group(1)
    # A credential whose stored proof no longer matches is not shown as valid.
    record = issuing.get_record(db, award)
    tampered = json.loads(json.dumps(record.json))
    tampered["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    record.json = tampered
    db.commit()
    text = text_of(_page(client, award))
    assert "Status: ✗ Could not be verified" in text
    assert "signature does not match" in text


def test_learner_name_only_when_they_chose_to_show_it(app, db, client, award):
    assert "Sam Student" not in _page(client, award).get_data(as_text=True)
    body = _page(client, award, Accept="application/ld+json").get_data(as_text=True)
    assert "Sam Student" not in body and "student4@example.com" not in body
    award.extra = {**award.extra, "public_name": True}
    db.commit()
    text = text_of(_page(client, award))
    assert "Earned by Sam Student on" in text
    assert "chose not to show their name" not in text


def test_open_graph_and_badge_image_with_alt_text(client, award):
    html = _page(client, award).get_data(as_text=True)
    url = f"http://tool.test/credentials/{award.public_id}"
    assert _meta(html, "og:title") == f"{PYFUND_TITLE} · Northern College"
    assert _meta(html, "og:url") == url
    assert _meta(html, "og:image") == f"{url}/image.png"
    assert _meta(html, "og:image:alt") == f"Badge: {PYFUND_TITLE}, issued by Northern College"
    assert "a learner on" in _meta(html, "og:description")
    assert f'<link rel="canonical" href="{url}">' in html
    img = re.search(r'<img class="badge-image" src="([^"]+)" alt="([^"]+)"', html)
    assert img and img.group(2) == f"Badge: {PYFUND_TITLE}, issued by Northern College"
    image = client.get(img.group(1))
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert "<script" not in image.get_data(as_text=True)
    assert "default-src 'none'" in image.headers["Content-Security-Policy"]
    png = client.get(f"/credentials/{award.public_id}/image.png")
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(("accept", "mimetype"), [
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/json"),
    ("application/json, text/html;q=0.5", "application/json"),
])
def test_content_negotiation_gives_the_signed_credential(db, client, award, accept, mimetype):
    response = _page(client, award, Accept=accept)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.headers["Vary"]
    assert response.get_json(force=True) == issuing.get_record(db, award).json


def test_content_negotiation_gives_the_jwt_and_html_by_default(db, client, award):
    response = _page(client, award, Accept="application/vc+jwt")
    assert response.mimetype == "application/vc+jwt"
    assert response.get_data(as_text=True) == issuing.get_record(db, award).jwt
    for accept in ("*/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                   None):
        headers = {"Accept": accept} if accept else {}
        page = _page(client, award, **headers)
        assert page.mimetype == "text/html" and "Accept" in page.headers["Vary"]
    assert "rel=\"alternate\"" in page.headers["Link"]


def test_unknown_credential_is_404(client):
    assert client.get("/credentials/nope").status_code == 404
    response = client.get("/credentials/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get("/credentials/" + "x" * 300).status_code == 404


def test_revoked_shows_the_date_not_the_private_reason(app, db, client, award):
    issuing.revoke(db, award, reason="Academic misconduct (case 42)", by=TEACHER,
                   vault=app.extensions["lti"].vault, base_url="http://tool.test")
    db.commit()
    text = text_of(_page(client, award))
    day = award.revoked_at
    assert f"Status: ✗ Revoked on {day:%B} {day.day}, {day.year}" in text
    assert "Northern College revoked this credential" in text
    assert "misconduct" not in text
    # The issuer may choose to publish the reason.
    issuer = db.get(Issuer, award.issuer_id)
    issuer.settings = {**issuer.settings, "public_revocation_reason": True}
    issuer.row_version += 1
    db.commit()
    assert "Reason given: Academic misconduct (case 42)" in text_of(_page(client, award))
    # The signed credential itself is still served (a verifier then finds the status bit).
    assert _page(client, award, Accept="application/ld+json").status_code == 200


def test_expired_credential_says_expired(app, db, client, school):
    award = earn(app, db, school, issue=False)
    award.awarded_at = utcnow() - timedelta(days=800)  # 24-month expiry
    db.commit()
    response = _page(client, award)  # issued on this first read
    text = text_of(response)
    until = issuing.add_months(award.awarded_at, 24)
    assert f"Status: ✗ Expired on {until:%B} {until.day}, {until.year}" in text
    assert "valid for a limited time, which has passed" in text


def test_credential_without_expiry_says_so(app, db, client, platform):
    school = build_school(app, db, platform, expiry_months=None)
    award = earn(app, db, school)
    text = text_of(_page(client, award))
    assert "It does not expire." in text and "Valid until Does not expire" in text


def _verify_api(client, data):
    return client.post("/api/v1/verify", data=data, content_type="application/octet-stream"
                       ).get_json()


def test_downloads_are_baked_and_verify(client, award, no_outbound_network):
    base = f"/credentials/{award.public_id}"
    as_json = client.get(f"{base}/credential.json")
    assert as_json.status_code == 200
    assert as_json.headers["Content-Disposition"].startswith("attachment; filename=\"PY-FUND-")
    assert _verify_api(client, as_json.data)["result"] == "valid"
    png = client.get(f"{base}/badge.png")
    assert png.mimetype == "image/png"
    assert png.headers["Content-Disposition"].endswith('.png"')
    extracted = baking.extract_png(png.data)
    assert json.loads(extracted.payload)["id"] == f"http://tool.test{base}"
    assert _verify_api(client, png.data)["result"] == "valid"
    svg = client.get(f"{base}/badge.svg")
    assert svg.mimetype == "image/svg+xml"
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
    assert baking.extract_svg(svg.data).kind == "json"
    assert _verify_api(client, svg.data)["result"] == "valid"
    assert no_outbound_network == []


def test_downloads_name_the_key_the_issuer_profile_publishes(client, award):
    """The baked badge's proof names a key listed in the issuer profile it points to: what
    an outside verifier dereferences (tests/interop checks it with one for real)."""
    png = client.get(f"/credentials/{award.public_id}/badge.png").data
    report = verify(png)
    assert report.step("proof").status == "ok", report.reason
    credential = report.credential
    assert credential is not None
    vm = credential["proof"][0]["verificationMethod"]
    issuer_id = credential["issuer"]["id"]
    assert vm.partition("#")[0] == issuer_id
    profile = client.get(issuer_id.removeprefix("http://tool.test")).get_json(force=True)
    (method,) = [m for m in profile["verificationMethod"] if m["id"] == vm]
    assert method["controller"] == issuer_id and vm in profile["assertionMethod"]
    # without anyone vouching for the key, the signature alone proves nothing
    assert report.result == "invalid" and report.reason.startswith("issuer-key:")


def test_verify_this_credential_button_posts_it_to_the_verifier(client, award):
    html = _page(client, award).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/verify"[^>]*>(.*?)</form>', html, re.S)
    assert form, "no verify button"
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1)))
    assert fields["credential_id"] == award.public_id
    response = client.post("/verify", data=fields)
    assert response.status_code == 200
    text = text_of(response)
    assert "Result: Valid" in text
    assert "Checked: the credential published on this site" in text
    assert PYFUND_TITLE in text
    # Without the token it is refused; an unknown id is a clear 404.
    assert client.post("/verify", data={"credential_id": award.public_id}).status_code == 403
    missing = client.post("/verify", data={**fields, "credential_id": "nope"})
    assert missing.status_code == 404
    assert "no credential with that identifier" in text_of(missing)


def test_award_without_credential_yet_is_issued_on_first_read(app, db, client, school):
    award = earn(app, db, school, issue=False)
    assert issuing.get_record(db, award) is None
    assert _page(client, award).status_code == 200
    db.expire_all()
    assert issuing.get_record(db, award) is not None


def test_flagged_award_still_shows_valid(app, db, client, award):
    """A flag is the instructor's private review; the public credential stays valid."""
    award.status = "flagged"
    award.flag_reason = "a corrected record"
    db.commit()
    text = text_of(_page(client, award))
    assert "Status: ✓ Valid" in text and "corrected" not in text


def test_revoked_award_via_tracking_without_reissue_is_revoked_once_issued(app, db, client,
                                                                          school):
    award = earn(app, db, school, issue=False)
    tracking.revoke_award(db, award, reason="Issued by mistake", by=TEACHER)
    db.commit()
    assert "Status: ✗ Revoked on" in text_of(_page(client, award))


def test_revoked_then_earned_again_is_a_new_valid_credential(app, db, client, school):
    """Revoke → re-earn: a new award and a new signed credential; the revoked one stays
    revoked (its page and its verification say so) and both are in the learner's history."""
    from tests.support.learning import demonstrate

    vault, base = app.extensions["lti"].vault, app.config["PUBLIC_BASE_URL"]
    first = earn(app, db, school)
    issuing.revoke(db, first, reason="Issued on a mistaken record", by=TEACHER, vault=vault,
                   base_url=base)
    db.commit()
    result = demonstrate(db, school["intro"], school["sam"], school["skills"]["PY-DEBUG"],
                         days_ago=0)
    db.commit()
    [again] = result.new_awards
    assert again.public_id != first.public_id
    issuing.issue_for_award(db, again, vault=vault, base_url=base)
    db.commit()
    assert "Status: ✓ Valid" in text_of(_page(client, again))
    assert "Status: ✗ Revoked on" in text_of(_page(client, first))
    new_record, old_record = issuing.get_record(db, again), issuing.get_record(db, first)
    assert new_record.json["id"] != old_record.json["id"]
    assert issuing.verify_record(db, new_record, base_url=base).result == "valid"
    revoked = issuing.verify_record(db, old_record, base_url=base)
    assert revoked.result == "invalid"
    assert any(s.name == "status" and "revoked" in s.message.lower() for s in revoked.steps)
