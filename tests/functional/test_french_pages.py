"""The tool's own pages in Canadian French and in English (issue 10).

A launch whose ``launch_presentation.locale`` is ``fr-CA`` shows every LMS page in French —
the instructor's overview, grid, cell, several-skills and bulk forms, corrections,
offerings, awards, import, revocation, the learner's page and progress page, deep linking,
error pages — with ``<html lang="fr-CA">``, French dates and numbers; the public catalog,
credential and /verify pages follow Accept-Language (and ``?lang=``). ``en-US`` keeps
English. "Entirely in French" is checked against the English rendering of the same page:
every piece of visible text (and every aria-label, title and alt) must differ, except the
names and codes that are content (people, courses, skills, the credential's title)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest
from babel.dates import format_date

from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION
from lti_tool.models import Demonstration, Offering
from tests.support.credentials import (
    FOR_CREDIT,
    PYFUND_TITLE,
    build_school,
    earn,
    form_token,
)
from tests.support.learning import INTROPROG, SKILLS, demonstrate, launch, moodle_fixture

DL_FIXTURE = "instructor_deeplinking_claims_INTROPROG.json"

#: content, not interface: names of people, courses, skills, credentials, institutions
CONTENT = sorted([PYFUND_TITLE, "Northern College credits", "Northern College",
                  "Intro to Programming (for credit)", "Intro to Programming", "INTROPROG",
                  "Terry Teacher", "Sam Student", "Alex Learner", "Terry", "Sam", "Alex",
                  "Write small Python programs.", "Debug them methodically.",
                  *SKILLS.values(), *SKILLS.keys(), "PY-FUND", "student4@example.com",
                  "student5@example.com", "teacher1@example.com", "Bien fait.",
                  "LTI tool activity (INTROPROG)", "A test college.", "With two paragraphs.",
                  "Observed practical tasks.", "Useful at work.", "Technician", "Testing",
                  "Introductory"], key=len, reverse=True)
#: content written by the catalog's authors in the test catalog (tests/support/catalog.py)
CONTENT_PATTERNS = (re.compile(r"Shows [A-Z-]+ in a practical task\."),
                    re.compile(r"What [A-Z-]+ certifies\."), re.compile(r"About [A-Z-]+\."),
                    re.compile(r"A longer description\."), re.compile(r"\bESCO\b"),
                    # an issued credential's own image caption (what it was issued with)
                    re.compile(r"Badge: .+, issued by .+"))
#: words spelled the same in both languages (checked by a French reader)
SAME_IN_BOTH = {"MicroCred", "Version", "Versions", "Description", "Actions", "Date", "Note",
                "Correction", "Signature", "Observation", "Portfolio", "Type", "Administration",
                "Page", "JSON", "CSV", "English", "Français", "Open Badges 3.0", "LinkedIn",
                "Moodle", "Canvas", "Comprehensive Learner Record (ClrCredential)", "Active",
                "version"}
_NODE = re.compile(r">([^<>]+)<")
_ATTR = re.compile(r'\s(?:aria-label|title|alt|content)="([^"]*)"')


def _texts(html: str) -> set[str]:
    """Every piece of text a reader (or a screen reader) meets on the page."""
    body = re.sub(r"(?is)<(script|style|code)\b.*?</\1>", " ", html)   # code: names, ids
    # What an uploaded credential says (its claims) and the verifier's technical step
    # messages and reason (the same words as the JSON API's, for IT staff) are not the
    # interface; they sit behind "Technical details".
    # Catalog texts with no French version are shown in English, marked so (lang="en" and a
    # visible note): content, not interface.
    body = re.sub(r'(?is)<(\w+)[^>]*\slang="en"[^>]*>.*?</\1>', " ", body)
    body = re.sub(r'(?is)<(dd) class="prose">.*?</dd>|<span class="step-message">.*?</span>'
                  r'|<p class="verify-reason">.*?</p>|<span class="hint">\([^<]*\)</span>',
                  " ", body)
    body = re.sub(r"(?is)<(meta|link)\b[^>]*>", " ", body.split("</head>")[0]) + \
        body.split("</head>")[-1]
    pieces = [unescape(t) for t in _NODE.findall(body)] + \
             [unescape(t) for t in _ATTR.findall(body)]
    return {" ".join(p.split()) for p in pieces if p.strip()}


def _interface(text: str) -> str:
    """What is left of a piece of text once its content (names, codes, dates, numbers,
    addresses) is taken out: the interface's own words."""
    text = re.sub(r"https?://\S+|/\S*|\S+@\S+|\b[\w.-]+\.(?:json|png|svg|csv)\b", " ", text)
    for pattern in CONTENT_PATTERNS:
        text = pattern.sub(" ", text)
    for item in CONTENT:
        text = text.replace(item, " ")
    text = re.sub(r"[^A-Za-zÀ-ÿ]+", " ", text)
    return " ".join(w for w in text.split() if len(w) > 1)


def untranslated(english: str, french: str) -> list[str]:
    """The pieces of interface text the French page shares with the English one."""
    same = _texts(english) & _texts(french)
    return sorted(t for t in same if t not in SAME_IN_BOTH and _interface(t)
                  and _interface(t) not in SAME_IN_BOTH)


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, html[:200]
    return match.group(1)


def _launch(app, platform, locale: str, fixture: str = INTROPROG, **kwargs: Any):
    presentation = dict(moodle_fixture(fixture).get(CLAIM_LAUNCH_PRESENTATION, {}))
    presentation["locale"] = locale
    return launch(app, platform, fixture, custom=FOR_CREDIT,
                  **{CLAIM_LAUNCH_PRESENTATION: presentation}, **kwargs)


def _teacher(app, platform, locale: str):
    return _launch(app, platform, locale, "instructor_claims_INTROPROG.json")


def _sam(app, platform, locale: str):
    return _launch(app, platform, locale, sub="4", name="Sam Student",
                   email="student4@example.com")


def _alex(app, platform, locale: str):
    return _launch(app, platform, locale, sub="5", name="Alex Learner",
                   email="student5@example.com")


@pytest.fixture()
def school(app, db, platform):
    found = build_school(app, db, platform)
    found["award"] = earn(app, db, found)
    # Alex: two skills demonstrated, one attempted — a grid with every kind of cell
    for code, outcome in (("PY-VAR", "pass"), ("PY-FLOW", "pass"), ("PY-FUNC", "fail")):
        demonstrate(db, found["intro"], found["alex"], found["skills"][code], outcome,
                    days_ago=2, evidence_note="Bien fait." if outcome == "pass" else "")
    found["offering"] = db.query(Offering).filter_by(context_id=found["intro"].id).one()
    found["demo"] = db.query(Demonstration).filter_by(person_id=found["alex"].person_id) \
        .order_by(Demonstration.id).first()
    return found


def _instructor_paths(school) -> list[str]:
    alex, sam = school["alex"], school["sam"]
    flow = school["skills"]["PY-FLOW"].id
    award = school["award"]
    return ["/app", "/course", "/course/grid", f"/course/cell?c={alex.id}.{flow}",
            f"/course/learner?l={alex.id}", "/course/bulk", "/course/offerings",
            "/course/awards", f"/course/awards/{award.id}/revoke", "/course/import",
            f"/course/offerings/{school['offering'].id}/detach",
            f"/course/correct/{school['demo'].id}",
            f"/course/cell?c={sam.id}.999999"]        # an error page (404) inside the LMS


def _pages(client_of, paths: list[str]) -> dict[str, tuple[int, str]]:
    out = {}
    for path in paths:
        base, _, query = path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&")) if query else {}
        response = client_of.get(base, **params)
        out[path] = (response.status_code, response.get_data(as_text=True))
    return out


def test_instructor_pages_are_entirely_french_with_a_french_locale(app, db, platform, school):
    french = _pages(_teacher(app, platform, "fr-CA"), _instructor_paths(school))
    english = _pages(_teacher(app, platform, "en-US"), _instructor_paths(school))
    problems = {}
    for path, (status, html) in french.items():
        assert status == english[path][0], path
        assert status in (200, 404), (path, status, html[:300])
        assert lang_of(html) == "fr-CA", path
        assert lang_of(english[path][1]) == "en", path
        left = untranslated(english[path][1], html)
        if left:
            problems[path] = left
    assert not problems, f"English left on French pages: {problems}"
    grid = french["/course/grid"][1]
    assert "Grille d'évaluation" in grid and "Tentée, pas encore démontrée" in grid
    if "La liste de la classe n'a pas pu être actualisée" in unescape(grid):
        # the refresh (recorded in English) is said again in French, from its code
        assert "moodle.test n'a pas pu être joint pour obtenir un jeton d'accès." in \
            unescape(grid)
    day = (datetime.now() - timedelta(days=2)).date()
    assert format_date(day, "medium", locale="fr_CA") in grid          # « 4 déc. 2026 »
    assert "2\u00a0personnes apprenantes" in french["/course"][1] or \
        "2 personnes apprenantes" in french["/course"][1]
    assert "Page introuvable" not in french[_instructor_paths(school)[-1]][1]
    assert "Introuvable" in french[_instructor_paths(school)[-1]][1]


def test_learner_pages_are_entirely_french_with_a_french_locale(app, db, platform, school):
    paths = ["/app", "/me", "/me/credentials/PY-FUND"]
    for who in (_sam, _alex):
        french = _pages(who(app, platform, "fr-CA"), paths)
        english = _pages(who(app, platform, "en-US"), paths)
        for path in paths:
            status, html = french[path]
            assert status == 200, (path, html[:300])
            assert lang_of(html) == "fr-CA"
            assert not untranslated(english[path][1], html), (who.__name__, path)
    sam_page = _pages(_sam(app, platform, "fr_CA"), ["/me"])["/me"][1]
    assert "Mes compétences et microcertifications" in sam_page
    awarded = school["award"].awarded_at
    assert format_date(awarded, "long", locale="fr_CA") in sam_page    # « 5 décembre 2026 »
    alex_page = _pages(_alex(app, platform, "fr"), ["/me"])["/me"][1]
    assert "2 compétences sur 5 démontrées" in alex_page


def test_english_locale_keeps_english(app, db, platform, school):
    teacher = _pages(_teacher(app, platform, "en-US"), ["/course/grid", "/course/awards"])
    grid = teacher["/course/grid"][1]
    assert lang_of(grid) == "en"
    assert "Assessment grid" in grid and "Attempted, not yet demonstrated" in grid
    day = (datetime.now() - timedelta(days=2)).date()
    assert format_date(day, "medium", locale="en") in grid             # "Dec 4, 2026"
    sam = _pages(_sam(app, platform, "en-US"), ["/me"])["/me"][1]
    assert "My skills & credentials" in sam
    assert format_date(school["award"].awarded_at, "long", locale="en") in sam


def test_deep_linking_page_in_french(app, db, platform, school):
    french = _launch(app, platform, "fr-CA", DL_FIXTURE).page()
    english = _launch(app, platform, "en-US", DL_FIXTURE).page()
    assert french.status == 200 and lang_of(french.html) == "fr-CA"
    assert "Ajouter au cours" in french.html
    assert f"{PYFUND_TITLE} — compétences et progression" in french.html
    assert not untranslated(english.html, french.html)


def _public(client, path: str, lang: str) -> str:
    response = client.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_public_pages_follow_accept_language_and_offer_the_switch(app, db, platform, school):
    slug = school["issuer"].slug
    award = school["award"]
    paths = [f"/c/{slug}", f"/c/{slug}/PY-FUND", f"/credentials/{award.public_id}", "/verify"]
    for path in paths:
        french = _public(app.test_client(), path, "fr-CA,fr;q=0.9")
        english = _public(app.test_client(), path, "en-CA,en;q=0.9")
        assert lang_of(french) == "fr-CA" and lang_of(english) == "en", path
        assert 'hreflang="en" lang="en">English</a>' in french, path
        assert 'hreflang="fr-CA" lang="fr-CA">Français</a>' in english, path
        assert not untranslated(english, french), path
    page = _public(app.test_client(), f"/c/{slug}/PY-FUND", "fr-CA")
    assert "1,5 crédits" in page and "37,5 heures" in page
    # the test catalog has no French texts: its earning rule shows in English, marked
    assert '<span class="lang-fallback" lang="fr-CA">(en anglais)</span>' in page or \
        "(en anglais)" in page
    credential = _public(app.test_client(), f"/credentials/{award.public_id}", "fr")
    assert format_date(award.awarded_at, "long", locale="fr_CA") in credential
    assert "Valide" in credential and "microcertification vérifiable" in credential


def test_verify_report_in_french(app, db, platform, school):
    client = app.test_client()
    client.get("/verify?lang=fr")                      # the switch, remembered
    token = form_token(client)
    response = client.post("/verify", data={"form_token": token,
                                            "credential_id": school["award"].public_id})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and lang_of(html) == "fr-CA"
    assert "Résultat\u00a0: Valide" in html
    assert "Ce qu'affirme le titre de compétences" in html
    english_client = app.test_client()
    english = english_client.post("/verify", data={
        "form_token": form_token(english_client),
        "credential_id": school["award"].public_id}).get_data(as_text=True)
    assert "Result: Valid" in english
    assert not untranslated(english, html)


def test_error_pages_in_french(app, db, platform, school):
    client = app.test_client()
    missing = client.get("/c/nowhere", headers={"Accept-Language": "fr-CA"})
    assert missing.status_code == 404
    html = missing.get_data(as_text=True)
    assert lang_of(html) == "fr-CA" and "Code d'erreur" in html
    english = client.get("/c/nowhere?lang=en").get_data(as_text=True)
    assert not untranslated(english, html)
