"""The sandbox LMS sends the tryer's language as Moodle and Canvas do: the page offers
English or French for its launches (by default the language the page is read in), and the
id_token's ``launch_presentation.locale`` carries it; the tool then speaks it."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import jwt

from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION


def _links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(/sandbox/start\?[^"]+)"', html)]


def _follow(client, response):
    """Follow redirects to the tool's public address (PUBLIC_BASE_URL) on the test client."""
    for _hop in range(10):
        if response.status_code not in (301, 302, 303, 307):
            return response
        target = urlsplit(response.headers["Location"])
        response = client.get(target.path + (f"?{target.query}" if target.query else ""))
    raise AssertionError("too many redirects")


def _launch_through_the_sandbox(client, start: str) -> tuple[dict, str]:
    """Follow a sandbox launch button: the tool's OIDC login, the sandbox's authorization
    (a form posting the signed id_token), the launch; returns the id_token's claims and the
    tool's first page."""
    response = _follow(client, client.get(start))
    html = response.get_data(as_text=True)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    assert "id_token" in form, html[:500]
    claims = jwt.decode(form["id_token"], options={"verify_signature": False})
    action = urlsplit(unescape(re.search(r'<form method="post" action="([^"]+)"',
                                         html).group(1))).path
    landed = _follow(client, client.post(action, data={k: unescape(v)
                                                       for k, v in form.items()}))
    assert landed.status_code == 200, landed.get_data(as_text=True)[:500]
    return claims, landed.get_data(as_text=True)


def test_sandbox_page_is_bilingual_and_launches_in_its_language(app, db):
    client = app.test_client()
    french = client.get("/sandbox", headers={"Accept-Language": "fr-CA"})
    html = french.get_data(as_text=True)
    assert '<html lang="fr-CA">' in html and "Plateforme d'essai" in unescape(html)
    assert "Lancer en tant que Terry Teacher" in html
    # the launches follow the page's language unless the tryer chooses another
    assert all("locale=fr-CA" in link for link in _links(html))
    assert 'id="launch-lang-fr" name="launch_lang" value="fr" checked' in html
    english = client.get("/sandbox?launch_lang=en", headers={"Accept-Language": "fr-CA"})
    assert all("locale=en-US" in link for link in _links(english.get_data(as_text=True)))
    assert "Launch as Terry Teacher" in client.get(
        "/sandbox", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_french_sandbox_launch_sends_fr_ca_and_the_tool_answers_in_french(app, db):
    client = app.test_client()
    page = client.get("/sandbox?launch_lang=fr").get_data(as_text=True)
    start = next(link for link in _links(page) if "user=instructor" in link
                 and "message=" not in link)
    claims, landed = _launch_through_the_sandbox(client, start)
    assert claims[CLAIM_LAUNCH_PRESENTATION]["locale"] == "fr-CA"
    assert '<html lang="fr-CA">' in landed
    assert "Compétences et microcertifications dans Intro to Programming" in unescape(landed)


def test_an_english_sandbox_launch_sends_en_us(app, db):
    client = app.test_client()
    page = client.get("/sandbox?launch_lang=en&lang=fr").get_data(as_text=True)
    start = next(link for link in _links(page) if "user=learner1" in link)
    claims, landed = _launch_through_the_sandbox(client, start)
    assert claims[CLAIM_LAUNCH_PRESENTATION]["locale"] == "en-US"
    assert '<html lang="en">' in landed and "My skills &amp; credentials" not in landed
    assert "My skills & credentials" in landed


def test_an_unknown_launch_locale_is_refused(app, db):
    client = app.test_client()
    response = client.get("/sandbox/start?course=intro-programming&user=instructor"
                          "&locale=xx-YY")
    assert response.status_code == 404
