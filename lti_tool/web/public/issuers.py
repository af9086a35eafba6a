"""The issuer's public machine documents, which verifiers and wallets dereference from a
credential (no login; readable from any origin):

* ``/issuers/<slug>``: the issuer ``Profile`` (= every credential's ``issuer.id``), which
  is also the controller document of its keys: every key under ``verificationMethod``
  (``controller`` = the issuer; revoked ones marked), the ones whose signatures count
  under ``assertionMethod`` (W3C Controlled Identifiers 1.0);
* ``/issuers/<slug>/keys``: the same keys under the ids older credentials name
  (``<issuer id>/keys#<multibase>``);
* ``/issuers/<slug>/jwks.json``: the signing keys as a JWKS, ``kid`` = verification method;
* ``/issuers/<slug>/status/<list_id>``: the signed BitstringStatusListCredential;
* ``/issuers/<slug>/badges/<code>.svg``: the generated badge image of a credential that has
  no catalog image.

JSON-LD documents are ``application/ld+json`` (``application/json`` when the client prefers
it; ``Vary: Accept``), cacheable for five minutes (``Cache-Control: public, max-age=300``)
and revalidated with an ETag.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from lti_tool.domain.texts import localized, text_in
from lti_tool.extensions import db_session
from lti_tool.services import issuing
from lti_tool.services import public_catalog as public

bp = Blueprint("badges_public", __name__, url_prefix="/issuers")

JSON_LD = "application/ld+json"
JSON = "application/json"
CACHE_CONTROL = "public, max-age=300"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _base_url() -> str:
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base


def _media_type() -> str:
    """application/json only for a client that prefers it over JSON-LD."""
    accept = request.accept_mimetypes
    return JSON if accept[JSON] > accept[JSON_LD] and accept.best_match(
        [JSON_LD, JSON]) == JSON else JSON_LD


def _public(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    response.add_etag()
    return response.make_conditional(request)


def document_response(document: dict[str, Any], media_type: str | None = None) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return _public(Response(body, mimetype=media_type or _media_type()))


@bp.get("/<issuer_slug>")
def issuer_profile(issuer_slug: str) -> ResponseReturnValue:
    session = db_session()
    issuer = issuing.issuer_by_slug(session, issuer_slug)
    return document_response(issuing.issuer_document(session, issuer, _base_url()))


@bp.get("/<issuer_slug>/keys")
def legacy_keys(issuer_slug: str) -> ResponseReturnValue:
    session = db_session()
    issuer = issuing.issuer_by_slug(session, issuer_slug)
    return document_response(issuing.legacy_keys_document(session, issuer, _base_url()))


@bp.get("/<issuer_slug>/jwks.json")
def jwks(issuer_slug: str) -> ResponseReturnValue:
    session = db_session()
    issuer = issuing.issuer_by_slug(session, issuer_slug)
    return document_response(issuing.jwks_document(session, issuer, _base_url()), JSON)


@bp.get("/<issuer_slug>/status/<list_id>")
def status(issuer_slug: str, list_id: str) -> ResponseReturnValue:
    session = db_session()
    issuer = issuing.issuer_by_slug(session, issuer_slug)
    lst = issuing.status_list_by_id(session, issuer, list_id)
    assert lst.signed is not None  # status_list_by_id returns signed lists only
    return document_response(lst.signed)


@bp.get("/<issuer_slug>/badges/<code>.svg")
def badge_image(issuer_slug: str, code: str) -> ResponseReturnValue:
    """The generated badge of a credential (its current public version's title), in
    English or, with ``?lang=fr`` (the image a French credential names), in French."""
    session = db_session()
    found = public.public_credential(session, issuer_slug, code)
    lang = "fr" if request.args.get("lang") == "fr" else "en"
    title = text_in(found.view, "title", lang) or found.version.title
    issuer_name = localized(found.issuer, None, "name", lang).text
    response = Response(issuing.badge_svg_for(title, issuer_name, lang),
                        mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    return _public(response)
