"""What a learner does with their own credentials in "My credentials": open the public page,
download the JSON and the baked badges, copy the link, add it to LinkedIn, choose whether
the public page shows their name, and download their learner record (CLR) — only ever
their own."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from lti_tool.badges.verify import verify_credential
from lti_tool.models import Award
from lti_tool.services import issuing
from tests.support.credentials import (
    PYFUND_TITLE,
    build_school,
    earn,
    learner,
    text_of,
)
from tests.support.learning import INSTRUCTOR, TEACHER, launch


@pytest.fixture()
def school(app, db, platform):
    return build_school(app, db, platform)


@pytest.fixture()
def award(app, db, school):
    return earn(app, db, school)


def _block(page, award):
    match = re.search(rf'<div class="credential-actions" id="award-{award.public_id}">(.*?)'
                      r'</form>\s*</div>', page.html, re.S)
    assert match, "no action block for the credential"
    return match.group(1)


def _links(html):
    return {unescape(re.sub(r"<[^>]+>", "", text)).strip(): unescape(href)
            for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)}


def test_my_credentials_lists_the_actions(app, platform, award):
    sam = learner(app, platform)
    page = sam.page("/me")
    assert page.status == 200
    block = _block(page, award)
    url = f"http://tool.test/credentials/{award.public_id}"
    links = _links(block)
    assert links[f"Public credential page of {PYFUND_TITLE} (opens a new tab)"] == url
    assert links[f"Download JSON of {PYFUND_TITLE}"] == \
        f"/credentials/{award.public_id}/credential.json"
    assert links[f"Download badge (PNG) of {PYFUND_TITLE}"].endswith("/badge.png")
    assert links[f"Download badge (SVG) of {PYFUND_TITLE}"].endswith("/badge.svg")
    # The link is visible and selectable without script; the copy button appears with it.
    assert re.search(rf'<input type="text" id="link-{award.public_id}" value="{re.escape(url)}"'
                     r" readonly>", block)
    assert f'<label for="link-{award.public_id}">Link to share</label>' in block
    assert re.search(r'<button type="button"[^>]*data-copy-target="link-[^"]+"[^>]*hidden>',
                     block)
    assert '<script src="/static/js/copy-link.js" defer></script>' in page.html
    # Not showing the name is the default, said as one (not as the learner's choice).
    assert "By default, the public page does not show your name" in text_of(page.response)
    assert "You can choose to show it." in text_of(page.response)
    assert "Download my learner record (CLR)" in page.text


def test_downloads_from_my_credentials_work(app, platform, award):
    sam = learner(app, platform)
    links = _links(_block(sam.page("/me"), award))
    for label in ("Download JSON", "Download badge (PNG)", "Download badge (SVG)"):
        href = links[f"{label} of {PYFUND_TITLE}"]
        response = sam.client.get(href)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        report = sam.client.post("/api/v1/verify", data=response.data,
                                 content_type="application/octet-stream").get_json()
        assert report["result"] == "valid", (label, report["reason"])


def test_linkedin_link_is_prefilled(app, platform, award):
    sam = learner(app, platform)
    href = _links(_block(sam.page("/me"), award))[
        f"Add to LinkedIn profile: {PYFUND_TITLE} (opens LinkedIn in a new tab)"]
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com",
                                                        "/profile/add")
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    until = issuing.add_months(award.awarded_at, 24)
    assert params == {
        "startTask": "CERTIFICATION_NAME", "name": PYFUND_TITLE,
        "organizationName": "Northern College",
        "issueYear": str(award.awarded_at.year), "issueMonth": str(award.awarded_at.month),
        "expirationYear": str(until.year), "expirationMonth": str(until.month),
        "certUrl": f"http://tool.test/credentials/{award.public_id}?lang=en",
        "certId": award.public_id,
    }


def test_linkedin_link_without_expiry_has_no_expiration(app, db, platform):
    school = build_school(app, db, platform, expiry_months=None)
    award = earn(app, db, school)
    page = learner(app, platform).page("/me")
    href = next(h for t, h in _links(_block(page, award)).items() if "LinkedIn" in t)
    params = parse_qs(urlsplit(href).query)
    assert "expirationYear" not in params and "expirationMonth" not in params
    assert params["certId"] == [award.public_id]


def test_learner_chooses_to_show_then_hide_their_name(app, db, client, platform, award):
    sam = learner(app, platform)
    form = sam.page("/me").form(f"/me/awards/{award.public_id}/public-name")
    assert form.value("show") == "1" and form.value("lt") == sam.lt and form.value("csrf_token")
    response = sam.client.post(form.action, data=form.data())
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#award-{award.public_id}")
    db.expire_all()
    assert db.get(Award, award.id).extra["public_name"] is True
    assert "Earned by Sam Student on" in text_of(client.get(f"/credentials/{award.public_id}"))
    page = sam.client.get(response.headers["Location"])
    assert "The public page shows your name, as you chose. Saved." in text_of(page)
    # And back.
    form = sam.page("/me").form(f"/me/awards/{award.public_id}/public-name")
    assert form.value("show") == "0"
    sam.client.post(form.action, data=form.data())
    db.expire_all()
    assert db.get(Award, award.id).extra["public_name"] is False
    text = text_of(client.get(f"/credentials/{award.public_id}"))
    assert "Sam Student" not in text and "Earned by a learner at Northern College" in text


def test_name_choice_needs_the_forms_token(app, db, platform, award):
    sam = learner(app, platform)
    url = f"/me/awards/{award.public_id}/public-name"
    assert sam.post(url, {"show": "1"}).status_code == 403  # no CSRF token
    assert sam.client.post(url, data={"show": "1"}).status_code in (401, 403)  # no launch
    db.expire_all()
    assert not db.get(Award, award.id).extra.get("public_name")


def test_another_learner_cannot_change_or_see_actions_for_my_credential(app, db, platform,
                                                                       award):
    alex = learner(app, platform, "alex")
    page = alex.page("/me")
    assert award.public_id not in page.html
    assert not [f for f in page.forms if "public-name" in f.action]
    # Even with his own valid CSRF token, Alex cannot change Sam's choice.
    response = alex.post(f"/me/awards/{award.public_id}/public-name",
                         {"show": "1", "csrf_token": _csrf_of(app, alex)})
    assert response.status_code == 404
    db.expire_all()
    assert not db.get(Award, award.id).extra.get("public_name")


def _csrf_of(app, launched):
    """The launch's CSRF token (the HMAC the pages put in their forms)."""
    import hashlib
    import hmac

    from lti_tool.lti.runtime import runtime

    with app.test_request_context():
        launch_id = runtime().tokens.read(launched.lt)
    key = app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + launch_id.encode(), hashlib.sha256).hexdigest()


def test_an_instructor_cannot_use_the_learner_actions(app, platform, award):
    teacher = launch(app, platform, "instructor_claims_INTROPROG.json",
                     roles=[INSTRUCTOR])
    response = teacher.post(f"/me/awards/{award.public_id}/public-name",
                            {"show": "1", "csrf_token": _csrf_of(app, teacher)})
    assert response.status_code == 403
    assert teacher.get("/me/learner-record.json").status_code == 403


def test_learner_record_clr_has_only_my_credentials(app, db, platform, school, award):
    sam = learner(app, platform)
    response = sam.get("/me/learner-record.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="learner-record.json"'
    clr = json.loads(response.data)
    assert "ClrCredential" in clr["type"]
    ids = [c["id"] for c in clr["credentialSubject"]["verifiableCredential"]]
    assert ids == [f"http://tool.test/credentials/{award.public_id}"]
    key_resolver, status_resolver = issuing.resolvers(db, base_url="http://tool.test")
    report = verify_credential(clr, key_resolver=key_resolver,
                               status_resolver=status_resolver)
    assert report.result == "valid", report.reason
    assert "Sam Student" not in response.get_data(as_text=True)

    # Alex has nothing yet: a clear page, not someone else's record.
    alex = learner(app, platform, "alex")
    nothing = alex.get("/me/learner-record.json")
    assert nothing.status_code == 404
    assert award.public_id not in nothing.get_data(as_text=True)
    alex_award = earn(app, db, school, "alex")
    alex_ids = [c["id"] for c in json.loads(alex.get("/me/learner-record.json").data)[
        "credentialSubject"]["verifiableCredential"]]
    assert alex_ids == [f"http://tool.test/credentials/{alex_award.public_id}"]


def test_revoked_credential_offers_only_its_public_page(app, db, platform, award):
    issuing.revoke(db, award, reason="Issued by mistake", by=TEACHER,
                   vault=app.extensions["lti"].vault, base_url="http://tool.test")
    db.commit()
    sam = learner(app, platform)
    block = _block_revoked(sam.page("/me"), award)
    links = _links(block)
    assert list(links) == [f"Public credential page of {PYFUND_TITLE} (opens a new tab)"]
    assert "This credential is revoked" in block
    assert "LinkedIn" not in block


def _block_revoked(page, award):
    match = re.search(rf'<div class="credential-actions" id="award-{award.public_id}">(.*?)'
                      r"</ul>\s*</div>", page.html, re.S)
    assert match
    return match.group(1)


def test_no_learner_record_link_when_every_credential_is_revoked(app, db, platform, award):
    issuing.revoke(db, award, reason="Issued by mistake", by=TEACHER,
                   vault=app.extensions["lti"].vault, base_url="http://tool.test")
    db.commit()
    sam = learner(app, platform)
    assert "Download my learner record" not in sam.page("/me").text
    response = sam.get("/me/learner-record.json")
    assert response.status_code == 404
    assert "no credentials from this issuer" in text_of(response)


def test_my_credentials_issues_a_missing_credential(app, db, platform, school):
    award = earn(app, db, school, issue=False)
    assert issuing.get_record(db, award) is None
    page = learner(app, platform).page("/me")
    assert f'id="award-{award.public_id}"' in page.html
    db.expire_all()
    assert issuing.get_record(db, award) is not None
