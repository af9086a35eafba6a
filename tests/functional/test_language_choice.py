"""Which language a page speaks: public pages follow ?lang=, then the remembered choice,
then Accept-Language, and link to themselves in the other language; LMS pages follow the
launch's locale (see tests of the LMS pages)."""

from __future__ import annotations

import re

from lti_tool.i18n import normalize_locale


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, html[:200]
    return match.group(1)


def test_locale_names_from_platforms_map_to_french_or_english() -> None:
    for value in ("fr", "fr-CA", "fr_CA", "FR-fr", "fr-BE"):
        assert normalize_locale(value) == "fr_CA"
    for value in ("en", "en-US", "en_CA", "es", "", None, 3, "français"):
        assert normalize_locale(value) == "en"


def test_public_page_follows_accept_language(client) -> None:
    page = client.get("/verify", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert _lang(html) == "fr-CA"
    assert "Aller au contenu principal" in html
    assert "Accept-Language" in page.headers.get("Vary", "")
    english = client.get("/verify", headers={"Accept-Language": "en-CA,en;q=0.9"})
    assert _lang(english.get_data(as_text=True)) == "en"


def test_switch_keeps_the_page_and_is_remembered(client) -> None:
    html = client.get("/verify?lang=fr").get_data(as_text=True)
    assert _lang(html) == "fr-CA"
    # the switch offers English for this same page, and both alternates are announced
    assert re.search(r'<a href="/verify\?lang=en" hreflang="en" lang="en">English</a>', html)
    assert '<link rel="alternate" hreflang="fr-CA" href="/verify?lang=fr">' in html
    assert '<link rel="alternate" hreflang="en" href="/verify?lang=en">' in html
    # remembered: the next page without ?lang= is French even when the browser says English
    again = client.get("/verify", headers={"Accept-Language": "en"})
    assert _lang(again.get_data(as_text=True)) == "fr-CA"
    back = client.get("/verify?lang=en")
    assert _lang(back.get_data(as_text=True)) == "en"


def test_unknown_lang_parameter_is_ignored(client) -> None:
    html = client.get("/verify?lang=%3Cscript%3E",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _lang(html) == "en"
    assert "<script>" not in html.split("</head>")[0]


def _launched_home(app, platform, locale: str | None) -> str:
    from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION
    from tests.support.learning import launch, moodle_fixture

    base = moodle_fixture("learner_claims_INTROPROG.json")
    presentation = dict(base.get(CLAIM_LAUNCH_PRESENTATION, {}))
    if locale is None:
        presentation.pop("locale", None)
    else:
        presentation["locale"] = locale
    launched = launch(app, platform, "learner_claims_INTROPROG.json",
                      **{CLAIM_LAUNCH_PRESENTATION: presentation})
    return launched.client.get(f"/app?lt={launched.lt}",
                               headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_lms_page_speaks_the_launch_locale(app, db, platform) -> None:
    for locale, expected in (("fr-CA", "fr-CA"), ("fr_CA", "fr-CA"), ("fr", "fr-CA"),
                             ("en-US", "en"), ("es", "en"), (None, "en")):
        html = _launched_home(app, platform, locale)
        assert _lang(html) == expected, locale
        # inside the LMS there is no language switch: the platform's choice rules
        assert 'class="lang-switch"' not in html
