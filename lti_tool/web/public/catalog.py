"""Public, shareable catalog pages (no login): ``/c/<issuer>`` lists the published
micro-credentials, ``/c/<issuer>/<code>`` describes the current published version and
``/c/<issuer>/<code>/v/<n>`` a given published or retired version.

The same URL serves HTML to browsers and JSON to ``Accept: application/json`` (``Vary:
Accept``), with an ETag so clients can revalidate cheaply (``If-None-Match`` → 304)."""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from lti_tool.domain.catalog_schemas import ISSUER_TEXT_FIELDS
from lti_tool.domain.labels import label
from lti_tool.domain.texts import LocalText, localized, localized_view
from lti_tool.extensions import db_session
from lti_tool.i18n import current_locale, format_date, sort_key
from lti_tool.services import public_catalog as public
from lti_tool.services import public_pathways
from lti_tool.services.catalog import localized_version
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web.common import pathway_views
from lti_tool.web.common.flowchart import png_download, svg_download

bp = Blueprint("public_catalog", __name__, url_prefix="/c")

#: languages Babel does not name (the others are named by Babel in the reader's language)
LANGUAGE_NAMES = {"cr": _l("Cree"), "oj": _l("Ojibwe")}
# Public pages change when a version is published or retired: let caches keep them briefly
# and revalidate with the ETag.
CACHE_CONTROL = "public, max-age=60"


def _wants_json() -> bool:
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/json"])
    return best == "application/json" and accept["application/json"] > accept["text/html"]


def _base_url() -> str:
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base


def _conditional(response: Response) -> Response:
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.add_etag()
    return response.make_conditional(request)


def _date(value: Any) -> str:
    """``6 December 2026`` / ``6 décembre 2026``."""
    return format_date(value, "long") if value is not None else ""


def language_name(code: str) -> str:
    """A language in the reader's language, with its own name when that differs:
    ``French (français)``, ``espagnol (español)``, ``anglais (English)``."""
    base = code.split("-")[0].split("_")[0].lower()
    if base in LANGUAGE_NAMES:
        return str(LANGUAGE_NAMES[base])
    try:
        language = Locale.parse(base)
    except (UnknownLocaleError, ValueError):
        return code
    shown = language.get_display_name(current_locale()) or code
    own = language.get_display_name(base) or ""
    return f"{shown} ({own})" if own and own.casefold() != shown.casefold() else shown


def _languages(codes: list[str]) -> list[str]:
    return [language_name(code) for code in codes]


def _issuer_view(issuer: dict[str, Any], locale: str) -> dict[str, Any]:
    """The issuer's JSON with its name and description in the page's language."""
    return localized_view(issuer, locale, ISSUER_TEXT_FIELDS)


def _paragraphs(data: dict[str, Any]) -> list[LocalText]:
    """The long description's paragraphs in the page's language (each marked when the
    French text is missing and the English one is shown)."""
    text = localized(str(data.get("long_description") or ""), data.get("translations") or {},
                     "long_description", current_locale())
    return [LocalText(p.strip(), text.lang, text.fallback)
            for p in text.text.split("\n\n") if p.strip()]


def _page_model(data: dict[str, Any]) -> dict[str, Any]:
    """Display values derived from the JSON description (so HTML and JSON never differ)."""
    return {
        "assessment_kind": label(data.get("assessment_kind", "")),
        "grading": label(data.get("grading", "")),
        "delivery_modes": [label(m) for m in data.get("delivery_modes", [])],
        "routes": [label(r) for r in data.get("allowed_routes", [])],
        "languages": _languages(list(data.get("languages", []))),
        "paragraphs": _paragraphs(data),
    }


@bp.get("/<issuer_slug>")
def catalog(issuer_slug: str) -> ResponseReturnValue:
    session = db_session()
    issuer = public.issuer_by_slug(session, issuer_slug)
    versions = public.published_catalog(session, issuer)
    data = public.catalog_json(issuer, versions, _base_url())
    data["pathways"] = public_pathways.catalog_json(session, issuer, _base_url())
    if _wants_json():
        return _conditional(jsonify(data))
    locale = current_locale()
    for item in data["pathways"]:
        item["title_text"] = localized(item["title"], item["translations"], "title", locale)
        item["description_text"] = localized(item["description"], item["translations"],
                                             "description", locale)
    shown = {**data, "credentials": [
        localized_view(item, locale, ("title", "short_description"))
        for item in data["credentials"]]}
    shown["credentials"].sort(key=lambda item: sort_key(str(item["title"])))
    html = render_template("public/catalog.html", data=shown,
                           issuer=_issuer_view(data["issuer"], locale),
                           canonical=data["issuer"]["catalog_url"], date=_date,
                           versions=versions)
    return _conditional(Response(html, mimetype="text/html"))


def _credential(issuer_slug: str, code: str, number: int | None) -> Response:
    session = db_session()
    found = public.public_credential(session, issuer_slug, code, number)
    data = public.description_json(found, _base_url())
    data["pathways"] = public_pathways.summaries(session, found.issuer,
                                                 found.version.credential_id, _base_url())
    if _wants_json():
        return _conditional(jsonify(data))
    locale = current_locale()
    html = render_template("public/credential.html", c=localized_version(data, locale),
                           page=_page_model(data),
                           issuer=_issuer_view(data["issuer"], locale), found=found, date=_date,
                           canonical=data["url"] if number is None else data["id"])
    return _conditional(Response(html, mimetype="text/html"))


@bp.get("/<issuer_slug>/<code>")
def credential(issuer_slug: str, code: str) -> ResponseReturnValue:
    return _credential(issuer_slug, code, None)


@bp.get("/<issuer_slug>/<code>/v/<int:number>")
def credential_version(issuer_slug: str, code: str, number: int) -> ResponseReturnValue:
    return _credential(issuer_slug, code, number)


# -- pathways (issue 12) -----------------------------------------------------------------------
@bp.get("/<issuer_slug>/pathways/<code>")
def pathway(issuer_slug: str, code: str) -> ResponseReturnValue:
    """A published pathway: its steps and rules, where it leads, what it is worth."""
    session = db_session()
    issuer = public.issuer_by_slug(session, issuer_slug)
    found = public_pathways.public_pathway(session, issuer, code)
    data = public_pathways.pathway_json(issuer, found, _base_url())
    if _wants_json():
        return _conditional(jsonify(data))
    locale = current_locale()
    html = render_template(
        "public/pathway.html", p=public_pathways.localize(data, locale),
        issuer=data["issuer"],
        title=localized(data["title"], data["translations"], "title", locale),
        description=localized(data["description"], data["translations"], "description",
                              locale),
        flowchart=pathway_views.flowchart(issuer, found))
    return _conditional(Response(html, mimetype="text/html"))


@bp.get("/<issuer_slug>/pathways/<code>/flowchart.<any(svg, png):fmt>")
def pathway_flowchart(issuer_slug: str, code: str, fmt: str) -> ResponseReturnValue:
    """The published pathway's flowchart to download: SVG (prints at any size) or PNG."""
    session = db_session()
    issuer = public.issuer_by_slug(session, issuer_slug)
    found = public_pathways.public_pathway(session, issuer, code)
    graph = pathway_views.graph_for_download(issuer, found)
    response = svg_download(graph) if fmt == "svg" else png_download(graph)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.add("Accept-Language")
    return response
