"""Languages: English and Canadian French (Flask-Babel message catalogs in
``lti_tool/translations``).

Which language a request is answered in:

* inside the LMS, the launch's ``launch_presentation.locale`` (``fr``, ``fr-CA``, ``fr_CA``,
  any ``fr…`` → French; anything else → English), remembered with the launch;
* elsewhere (public pages, ``/verify``, the sandbox): ``?lang=en|fr`` (a visible switch on
  every public page links to the same page in the other language), then the ``mc_lang``
  cookie that the switch sets, then ``Accept-Language``.

``html_lang()`` gives the page's ``lang`` attribute (``en`` / ``fr-CA``). Dates and numbers
follow the locale through Babel (``format_date``, ``format_decimal`` below, also Jinja
filters of the same names).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel import dates as _babel_dates
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale, get_timezone, get_translations, to_user_timezone
from flask_babel import _get_format as _babel_format_of
from flask_babel import format_date as _babel_format_date
from flask_babel import format_datetime as _babel_format_datetime
from flask_babel import format_decimal as _babel_format_decimal
from jinja2 import pass_eval_context
from jinja2.ext import _make_new_ngettext
from jinja2.nodes import EvalContext
from markupsafe import Markup

ENGLISH = "en"
FRENCH = "fr_CA"
SUPPORTED = (ENGLISH, FRENCH)
#: the short code used in URLs (``?lang=``), in content (``translations["fr"]``) and in OB 3.0
SHORT = {ENGLISH: "en", FRENCH: "fr"}
#: the BCP 47 tag used in ``lang`` attributes, ``hreflang`` and ``inLanguage``
BCP47 = {ENGLISH: "en", FRENCH: "fr-CA"}
LANG_COOKIE = "mc_lang"
LANGUAGE_NAMES = {ENGLISH: "English", FRENCH: "Français"}


def normalize_locale(value: object) -> str:
    """``fr``, ``fr-CA``, ``fr_CA``, ``FR-fr`` … → ``fr_CA``; anything else → ``en``."""
    if not isinstance(value, str):
        return ENGLISH
    tag = value.strip().replace("_", "-").lower()
    if tag == "fr" or tag.startswith("fr-"):
        return FRENCH
    return ENGLISH


def _launch_locale() -> str | None:
    if "launch_locale" in g:
        return str(g.launch_locale)
    current = g.get("current_launch")
    if current is not None:
        return normalize_locale(current.launch.locale)
    # Never parse a body here (the page may be the error of a body too large to parse).
    body_read = request.method in ("GET", "HEAD") or "form" in request.__dict__
    if body_read and (request.values.get("lt") or request.cookies.get("mc_launch")):
        from lti_tool.web.common.launch_session import load_current_launch

        try:
            return normalize_locale(load_current_launch().launch.locale)
        except Exception:
            return None
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module's docstring for the order)."""
    if not has_request_context():
        return ENGLISH
    asked = request.args.get("lang", "")
    if asked in ("en", "fr", "fr-CA", "fr_CA"):
        return normalize_locale(asked)
    if request.blueprint in LMS_BLUEPRINTS:
        locale = _launch_locale()
        if locale:
            return locale
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in ("en", "fr"):
        return normalize_locale(cookie)
    best = request.accept_languages.best_match(("en", "fr", "fr-CA", "fr-FR", "en-CA",
                                                "en-US"))
    return normalize_locale(best or ENGLISH)


#: blueprints whose pages are inside the LMS: their language is the launch's
LMS_BLUEPRINTS = frozenset({"lti", "instructor", "learner", "admin", "plar"})


def current_locale() -> str:
    """``en`` or ``fr_CA`` for this request (English outside a request)."""
    if not has_request_context():
        return ENGLISH
    locale = get_locale()
    return FRENCH if locale is not None and locale.language == "fr" else ENGLISH


def current_short() -> str:
    """``en`` or ``fr``: the key into content translations."""
    return SHORT[current_locale()]


def html_lang(locale: str | None = None) -> str:
    return BCP47[locale or current_locale()]


def format_date(value: date | datetime | None, format: str = "long") -> str:
    """``6 décembre 2026`` / ``December 6, 2026``; empty for None."""
    if value is None:
        return ""
    return str(_babel_format_date(value, format))


def _format_of(kind: str, name: str) -> str:
    """The pattern Flask-Babel formats ``kind`` ("date", "time") ``name`` ("long"…) with:
    its ``date_formats`` entry when one is set, else ``name`` (Babel's own for the locale)."""
    return _babel_format_of(kind, name) or name


def long_date(value: date | datetime) -> str:
    """``format_date(value, "long")``: the same Babel call with the same locale, time zone
    and format, without Flask-Babel's per-call lookups of its settings (a page of a
    learner's records formats a hundred dates; those lookups cost more than Babel's
    formatting)."""
    local = to_user_timezone(value) if isinstance(value, datetime) else value
    return str(_babel_dates.format_date(local, _format_of("date", "long"),
                                        locale=get_locale()))


def long_date_short_time(value: datetime) -> tuple[str, str]:
    """``long_date(value)`` and Flask-Babel's ``format_time(value, "short")`` (its Babel
    call, the request's locale and time zone)."""
    return long_date(value), str(_babel_dates.format_time(
        value, _format_of("time", "short"), locale=get_locale(), tzinfo=get_timezone()))


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return str(_babel_format_datetime(value, format))


def format_decimal(value: int | float | Decimal | None, format: str | None = None) -> str:
    """``2,5`` / ``2.5``; empty for None."""
    if value is None:
        return ""
    return str(_babel_format_decimal(value, format=format))


def sort_key(text: str) -> tuple[str, str]:
    """A locale-aware enough sort key for names and titles (accents after the base letter:
    ``école`` sorts with ``ecole``, not after ``z``)."""
    if text.isascii():
        # ASCII is its own NFKD form and has no combining marks: the same key, without
        # the per-character loop (a 600-learner roster sorts by three keys per learner).
        folded = text.casefold()
        return folded, folded
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.casefold())
    base = "".join(c for c in folded if not unicodedata.combining(c))
    return base, folded


def switch_url(locale: str) -> str:
    """This page in another language (``?lang=``), keeping its path and query."""
    args: dict[str, Any] = {k: v for k, v in request.args.items(multi=False) if k != "lang"}
    args["lang"] = SHORT[locale]
    return f"{request.path}?{urlencode(args)}"


def alternate_links() -> Markup:
    """``<link rel="alternate" hreflang=…>`` for each language of a public page."""
    return Markup("\n  ").join(
        Markup('<link rel="alternate" hreflang="{}" href="{}">').format(BCP47[loc],
                                                                         switch_url(loc))
        for loc in SUPPORTED)


def bound_template_gettext() -> dict[str, Any]:
    """Template variables ``_``, ``gettext`` and ``ngettext`` bound to this request's
    translations, for a page that calls them hundreds of times (the learner page: ~280).

    They render what Flask-Babel's installed ones render (Jinja's newstyle gettext: the
    translation escaped, then ``%(name)s`` filled with escaped values), with less work per
    call: the translations are not looked up again through Flask-Babel on every call (~20
    us each), each message is translated and wrapped in Markup once per render, and ``_``
    is the function itself rather than Jinja's alias that resolves ``gettext`` again (3 us
    per call instead of 6-9 here). Only for a render inside one request whose locale is
    settled."""
    translations = get_translations()
    translate = translations.ugettext
    done: dict[tuple[str, bool], str] = {}

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
        key = (string, eval_ctx.autoescape)
        rv = done.get(key)
        if rv is None:
            # Our own catalog's text, as Jinja's newstyle gettext marks it safe too: the
            # values filled into it are escaped by Markup's "%".
            rv = translate(string)
            if eval_ctx.autoescape:
                rv = Markup(rv)  # noqa: S704
            done[key] = rv
        # Always a format string, as Jinja's own: "%%" is "%" even without variables.
        return rv % variables

    return {"_": gettext, "gettext": gettext,
            "ngettext": _make_new_ngettext(translations.ungettext)}


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", ENGLISH)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)

    app.jinja_env.filters["format_date"] = format_date
    app.jinja_env.filters["format_datetime"] = format_datetime
    app.jinja_env.filters["format_decimal"] = format_decimal

    from lti_tool.domain.texts import fallback_note, localized, render_ltext, short_lang

    app.jinja_env.filters["ltext"] = render_ltext
    app.jinja_env.filters["lnote"] = fallback_note
    # Content in the page's language: localized(obj, none, "name", current_locale())
    app.jinja_env.globals.update(localized=localized, short_lang=short_lang)

    @app.context_processor
    def _i18n_context() -> dict[str, Any]:
        return {"html_lang": html_lang, "current_locale": current_locale,
                "switch_url": switch_url, "alternate_links": alternate_links,
                "SUPPORTED_LOCALES": SUPPORTED, "LANGUAGE_NAMES": LANGUAGE_NAMES,
                "BCP47": BCP47,
                # public pages offer the other language; LMS pages speak the launch's
                "language_switch": has_request_context()
                and request.blueprint not in LMS_BLUEPRINTS}

    @app.after_request
    def _remember_choice(response: Any) -> Any:
        asked = request.args.get("lang", "") if has_request_context() else ""
        if asked in ("en", "fr") and request.blueprint not in LMS_BLUEPRINTS:
            response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, httponly=True,
                                samesite="Lax",
                                secure=request.is_secure)
        if request.blueprint not in LMS_BLUEPRINTS and response.mimetype == "text/html":
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
