"""Public, shareable catalog pages (no login): ``/c/<issuer>`` lists the published
micro-credentials, ``/c/<issuer>/<code>`` describes the current published version and
``/c/<issuer>/<code>/v/<n>`` a given published or retired version.

The same URL serves HTML to browsers and JSON to ``Accept: application/json`` (``Vary:
Accept``), with an ETag so clients can revalidate cheaply (``If-None-Match`` → 304)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from lti_tool.domain.catalog import label
from lti_tool.domain.texts import localized
from lti_tool.extensions import db_session
from lti_tool.i18n import current_locale
from lti_tool.services import public_catalog as public
from lti_tool.services import public_pathways

bp = Blueprint("public_catalog", __name__, url_prefix="/c")

LANGUAGE_NAMES = {"en": "English", "fr": "French (français)", "es": "Spanish (español)",
                  "de": "German (Deutsch)", "zh": "Chinese (中文)", "ar": "Arabic (العربية)",
                  "pt": "Portuguese (português)", "it": "Italian (italiano)",
                  "iu": "Inuktitut", "cr": "Cree", "oj": "Ojibwe"}
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
    return f"{value.day} {value:%B %Y}" if value is not None else ""


def _languages(codes: list[str]) -> list[str]:
    return [LANGUAGE_NAMES.get(code.split("-")[0], code) for code in codes]


def _page_model(data: dict[str, Any]) -> dict[str, Any]:
    """Display values derived from the JSON description (so HTML and JSON never differ)."""
    return {
        "assessment_kind": label(data.get("assessment_kind", "")),
        "grading": label(data.get("grading", "")),
        "delivery_modes": [label(m) for m in data.get("delivery_modes", [])],
        "routes": [label(r) for r in data.get("allowed_routes", [])],
        "languages": _languages(list(data.get("languages", []))),
        "paragraphs": [p.strip() for p in str(data.get("long_description", "")).split("\n\n")
                       if p.strip()],
    }


@bp.get("/<issuer_slug>")
def catalog(issuer_slug: str) -> ResponseReturnValue:
    session = db_session()
    issuer = public.issuer_by_slug(session, issuer_slug)
    versions = public.published_catalog(session, issuer)
    data = public.catalog_json(issuer, versions, _base_url())
    if _wants_json():
        return _conditional(jsonify(data))
    html = render_template("public/catalog.html", data=data, issuer=data["issuer"],
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
    html = render_template("public/credential.html", c=data, page=_page_model(data),
                           issuer=data["issuer"], found=found, date=_date,
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
        "public/pathway.html", p=data, issuer=data["issuer"],
        title=localized(data["title"], data["translations"], "title", locale),
        description=localized(data["description"], data["translations"], "description",
                              locale),
        flowchart=None)
    return _conditional(Response(html, mimetype="text/html"))
