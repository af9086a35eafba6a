"""Deep Linking 2.0 with Moodle's request shape: the instructor places "Skills & credentials"
or a link for one published credential; the tool answers with a signed response the
platform can verify, and the placed links open the right page when launched."""

from __future__ import annotations

import copy
import re

import jwt
import pytest

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.lti import CLAIM_DL_SETTINGS
from lti_tool.services import catalog as catalog_service
from lti_tool.services import tracking
from tests.support.admin import Page
from tests.support.catalog import CatalogBuilder
from tests.support.catalog import make_issuer as make_other_issuer
from tests.support.learning import (
    INTROPROG,
    LEARNER,
    TA,
    account_of,
    context_of,
    demonstrate,
    launch,
    make_issuer,
    offer,
    python_catalog,
)
from tests.support.lti import LAUNCH_URL
from tests.support.platform import moodle_fixture

DL_FIXTURE = "instructor_deeplinking_claims_INTROPROG.json"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


@pytest.fixture()
def catalog(app, db, platform):
    """Northern College with PY-FUND published (and a draft that must not be offered);
    another institution's published credential that must never be placed or opened."""
    issuer = make_issuer(db, platform)
    found, version = python_catalog(db, issuer)
    found.publish("SQL-BASICS", "SQL Basics", required=("PY-VAR",))
    found.publish("PY-ADV", "Advanced Python (draft)", required=("PY-REC",),
                  state=LifecycleState.DRAFT)
    other = CatalogBuilder(db, make_other_issuer(db, "elsewhere"))
    other.skills("X1")
    other.credential("OTHER-CRED", LifecycleState.PUBLISHED, required=("X1",),
                     title="Another College's Credential")
    db.commit()
    return {"issuer": issuer, "version": version, "catalog": found}


def _dl_settings(**changes):
    settings = copy.deepcopy(moodle_fixture(DL_FIXTURE)[CLAIM_DL_SETTINGS])
    settings.update(changes)
    return settings


def _deep_link(app, platform, roles=None, **settings):
    extra = {CLAIM_DL_SETTINGS: _dl_settings(**settings)} if settings else {}
    return launch(app, platform, DL_FIXTURE, roles=roles, **extra)


def _answer_jwt(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:600]
    html = response.get_data(as_text=True)
    assert 'action="http://127.0.0.1:8088/mod/lti/contentitem_return.php?course=2&amp;id=1' \
           '&amp;sesskey=uYYXTDO3X3"' in html
    return re.search(r'name="JWT" value="([^"]+)"', html).group(1)


def _verify(client, platform, token):
    """Verify the response as the platform does: the tool's published key, aud = the
    platform's issuer, iss = the client id."""
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in keys if k["kid"] == kid)).key
    return jwt.decode(token, key, algorithms=["RS256"], audience=platform.issuer,
                      issuer=platform.client_id)


def _form_tokens(page):
    form = page.form("/lti/deep-link")
    return {"lt": form.value("lt"), "csrf_token": form.value("csrf_token")}


def test_page_offers_home_and_each_published_credential_of_the_issuer(app, platform, catalog):
    teacher = _deep_link(app, platform)
    page = teacher.page()
    assert page.status == 200
    form = page.form("/lti/deep-link")
    assert form.options["item"] == ["home", "credential:PY-FUND", "credential:SQL-BASICS"]
    assert "Python Programming Fundamentals — skills &amp; progress" in page.html
    assert 'type="checkbox"' in page.html and 'type="radio"' not in page.html
    assert "Advanced Python" not in page.text            # a draft
    assert "Another College" not in page.text            # another issuer's
    # Nothing is ticked for the instructor: a general link ticked by default next to a
    # chosen credential used to place two links.
    assert form.values("item") == []


def test_credentials_not_offered_here_say_so_and_can_be_offered_in_the_same_step(
        app, client, db, platform, catalog):
    teacher = _deep_link(app, platform)
    page = teacher.page()
    for code in ("PY-FUND", "SQL-BASICS"):
        label = page.html[page.html.index(f'id="item-credential-{code}"'):]
        assert "Not offered in this course yet" in label[:label.index("</label>")]
    form = page.form("/lti/deep-link")
    assert form.value("offer") == "1"   # offered with the link unless unticked
    tokens = _form_tokens(page)
    answer = teacher.client.post("/lti/deep-link", data={
        **tokens, "item": ["credential:PY-FUND"], "offer": "1"})
    _verify(client, platform, _answer_jwt(answer))
    assert "Now offered in this course: Python Programming Fundamentals" in \
        Page(answer).text
    course = context_of(db, platform, "2")
    offered = {o.credential.code for o in tracking.active_offerings(db, course.id)}
    assert offered == {"PY-FUND"}
    again = _deep_link(app, platform).page()
    label = again.html[again.html.index('id="item-credential-PY-FUND"'):]
    assert "Not offered in this course yet" not in label[:label.index("</label>")]
    # Without the box ticked nothing is offered.
    tokens = _form_tokens(again)
    teacher.client.post("/lti/deep-link", data={**tokens, "item": "credential:SQL-BASICS"})
    assert {o.credential.code for o in tracking.active_offerings(db, course.id)} == \
        {"PY-FUND"}


def test_a_teaching_assistant_is_told_but_cannot_offer(app, db, platform, catalog):
    assistant = _deep_link(app, platform, roles=[TA])
    page = assistant.page()
    assert "an instructor offers it on the “Credentials offered” page" in page.text
    assert not page.form("/lti/deep-link").options.get("offer")
    tokens = _form_tokens(page)
    assistant.client.post("/lti/deep-link", data={**tokens, "item": "credential:PY-FUND",
                                                  "offer": "1"})
    assert tracking.active_offerings(db, context_of(db, platform, "2").id) == []


def test_response_is_signed_for_the_platform_with_the_chosen_items(app, client, platform,
                                                                    catalog):
    teacher = _deep_link(app, platform, data="opaque-moodle-data")
    tokens = _form_tokens(teacher.page())
    answer = teacher.client.post("/lti/deep-link", data={
        **tokens, "item": ["home", "credential:PY-FUND"]})
    claims = _verify(client, platform, _answer_jwt(answer))
    assert claims["aud"] == [platform.issuer]
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == \
        platform.deployment_id
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == \
        "LtiDeepLinkingResponse"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/version"] == "1.3.0"
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-moodle-data"
    items = claims[CONTENT_ITEMS]
    assert [(i["type"], i["title"], i["url"]) for i in items] == [
        ("ltiResourceLink", "Skills & credentials", LAUNCH_URL),
        ("ltiResourceLink", "Python Programming Fundamentals — skills & progress", LAUNCH_URL),
    ]
    assert items[0]["custom"] == {"mc_target": "home"}
    assert items[1]["custom"] == {"mc_target": "credential", "mc_credential": "PY-FUND"}


def test_one_item_only_when_the_platform_does_not_accept_multiple(app, client, platform,
                                                                   catalog):
    teacher = _deep_link(app, platform, accept_multiple=False)
    page = teacher.page()
    assert 'type="radio"' in page.html and 'type="checkbox" id="item-' not in page.html
    assert "one link at a time" in page.text
    tokens = _form_tokens(page)
    refused = teacher.client.post("/lti/deep-link", data={
        **tokens, "item": ["home", "credential:PY-FUND"]})
    assert refused.status_code == 422
    assert "JWT" not in refused.get_data(as_text=True)
    assert "one item at a time" in Page(refused).text
    answer = teacher.client.post("/lti/deep-link", data={**tokens,
                                                         "item": "credential:SQL-BASICS"})
    items = _verify(client, platform, _answer_jwt(answer))[CONTENT_ITEMS]
    assert [i["custom"]["mc_credential"] for i in items] == ["SQL-BASICS"]


def test_another_issuers_or_unknown_credential_cannot_be_placed(app, platform, catalog):
    teacher = _deep_link(app, platform)
    tokens = _form_tokens(teacher.page())
    for slug in ("credential:OTHER-CRED", "credential:PY-ADV", "credential:NOPE", ""):
        refused = teacher.client.post("/lti/deep-link", data={**tokens, "item": slug})
        assert refused.status_code == 422
        assert "JWT" not in refused.get_data(as_text=True)
        assert "Choose at least one item" in Page(refused).text


def test_deep_link_needs_csrf_and_a_staff_role(app, platform, catalog):
    teacher = _deep_link(app, platform)
    tokens = _form_tokens(teacher.page())
    forged = teacher.client.post("/lti/deep-link", data={"lt": tokens["lt"], "item": "home"})
    assert forged.status_code == 403
    learner = _deep_link(app, platform, roles=[LEARNER])
    assert learner.get("/app").status_code == 403
    assert learner.post("/lti/deep-link", {"csrf_token": "x", "item": "home"}).status_code == 403


def test_teaching_assistant_may_place_links(app, client, platform, catalog):
    assistant = _deep_link(app, platform, roles=[TA])
    tokens = _form_tokens(assistant.page())
    answer = assistant.client.post("/lti/deep-link", data={**tokens, "item": "home"})
    assert _verify(client, platform, _answer_jwt(answer))[CONTENT_ITEMS][0]["title"] == \
        "Skills & credentials"


def _placed_items(app, client, platform):
    teacher = _deep_link(app, platform)
    tokens = _form_tokens(teacher.page())
    answer = teacher.client.post("/lti/deep-link", data={
        **tokens, "item": ["home", "credential:PY-FUND"]})
    return _verify(client, platform, _answer_jwt(answer))[CONTENT_ITEMS]


def test_launching_a_placed_credential_link_shows_the_learner_their_progress(
        app, client, db, platform, catalog):
    _home_item, credential_item = _placed_items(app, client, platform)
    launch(app, platform, "instructor_claims_INTROPROG.json",
           custom={"context_kind": "for-credit"})
    launch(app, platform, INTROPROG, sub="4")
    intro = context_of(db, platform, "2")
    offer(db, catalog["issuer"], intro, catalog["version"])
    demonstrate(db, intro, account_of(db, platform, "4"), catalog["catalog"].skills["PY-VAR"])
    # Moodle launches the placed link with its custom parameters in the custom claim.
    sam = launch(app, platform, INTROPROG, sub="4", custom=credential_item["custom"])
    landing = sam.get("/app")
    assert landing.status_code == 303
    assert landing.headers["Location"].startswith("/me/credentials/PY-FUND?lt=")
    page = Page(sam.client.get(landing.headers["Location"]))
    assert page.status == 200
    assert "Python Programming Fundamentals" in page.text
    assert "1 of 5 skills demonstrated" in page.text
    assert "SQL Basics" not in page.text


def test_launching_a_placed_credential_link_opens_the_filtered_grid_for_the_instructor(
        app, client, db, platform, catalog):
    _home_item, credential_item = _placed_items(app, client, platform)
    launch(app, platform, "instructor_claims_INTROPROG.json",
           custom={"context_kind": "for-credit"})
    intro = context_of(db, platform, "2")
    # Not offered here yet: the link opens the course's offerings, searched for it.
    terry = launch(app, platform, "instructor_claims_INTROPROG.json",
                   custom=credential_item["custom"])
    landing = terry.get("/app")
    assert landing.status_code == 303
    assert landing.headers["Location"].startswith("/course/offerings?")
    assert "q=PY-FUND" in landing.headers["Location"]
    offer(db, catalog["issuer"], intro, catalog["version"])
    sql = catalog_service.published_version(db, catalog["issuer"].id, "SQL-BASICS")
    offer(db, catalog["issuer"], intro, sql)
    landing = terry.get("/app")
    offering_id = next(o.id for o in tracking.active_offerings(db, intro.id)
                       if o.credential.code == "PY-FUND")
    assert landing.status_code == 303
    assert landing.headers["Location"].startswith("/course/grid?")
    assert f"credential={offering_id}" in landing.headers["Location"]
    grid = Page(terry.client.get(landing.headers["Location"]))
    assert grid.status == 200
    assert "Variables and types" in grid.text       # PY-FUND's skills only


def test_home_link_and_foreign_credential_links_open_the_general_page(
        app, client, db, platform, catalog):
    home_item, _credential_item = _placed_items(app, client, platform)
    sam = launch(app, platform, INTROPROG, sub="4", custom=home_item["custom"])
    page = sam.page("/app")
    assert page.status == 200 and "My skills" in page.text
    # A custom parameter naming another institution's credential (or nonsense) is ignored.
    for code in ("OTHER-CRED", "../../admin", "PY-FUND' OR 1=1"):
        sam = launch(app, platform, INTROPROG, sub="4",
                     custom={"mc_target": "credential", "mc_credential": code})
        response = sam.get("/app")
        assert response.status_code == 200
        assert "Another College" not in response.get_data(as_text=True)
        assert "My skills" in Page(response).text

