"""Sandbox LMS pages and its OIDC authorization endpoint."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_tool.domain import lti as claims
from lti_tool.errors import ToolError
from lti_tool.extensions import db_session, kv
from lti_tool.i18n import current_short
from lti_tool.lti.runtime import runtime
from lti_tool.sandbox import platform as sandbox
from lti_tool.services import keys as key_service
from lti_tool.services.demo import seed_demo
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")
LINKS_TTL = 30 * 24 * 3600


def _hints() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sandbox-hint")


def _links(course_slug: str) -> list[dict[str, Any]]:
    raw = kv().get(f"sandbox:links:{course_slug}")
    return json.loads(raw) if raw else []


def _platform() -> Any:
    session = db_session()
    platform = sandbox.ensure_platform(session, runtime().vault, runtime().base_url)
    seed_demo(session, runtime().vault, runtime().base_url)  # the demo catalog (idempotent)
    session.commit()
    return platform


def launch_language() -> str:
    """The language the sandbox's launches speak (``en``/``fr``): the tryer's choice on the
    page (``?launch_lang=``), else the language the sandbox page itself is read in."""
    asked = request.args.get("launch_lang", "")
    return asked if asked in sandbox.LAUNCH_LOCALES else current_short()


@bp.get("")
def index() -> ResponseReturnValue:
    _platform()
    return render_template("sandbox/index.html", courses=sandbox.COURSES, users=sandbox.USERS,
                           links={c.slug: _links(c.slug) for c in sandbox.COURSES},
                           issuer=sandbox.issuer_for(runtime().base_url),
                           client_id=sandbox.CLIENT_ID, deployment_id=sandbox.DEPLOYMENT_ID,
                           launch_lang=launch_language(),
                           launch_locale=sandbox.LAUNCH_LOCALES[launch_language()],
                           role_labels=ROLE_LABELS)


#: the sandbox people's roles, in the page's language
ROLE_LABELS = {"Instructor": _l("Instructor"), "Learner": _l("Learner"),
               "Administrator": _l("Administrator")}


@bp.get("/start")
def start() -> ResponseReturnValue:
    """The platform side of a launch: send the browser to the tool's OIDC login."""
    course = sandbox.COURSE_BY_SLUG.get(request.args.get("course", ""))
    user = sandbox.USER_BY_SLUG.get(request.args.get("user", ""))
    message = request.args.get("message", "resource")
    locale = request.args.get("locale", sandbox.LAUNCH_LOCALES["en"])
    if course is None or user is None or message not in ("resource", "deep-link") or \
            locale not in sandbox.LAUNCH_LOCALES.values():
        abort(404)
    link_id = request.args.get("link", "main")
    if len(link_id) > 64:
        abort(400)
    platform = _platform()
    rt = runtime()
    hint = _hints().dumps({"c": course.slug, "u": user.slug, "m": message, "l": link_id,
                           "lo": locale})
    return redirect(rt.login_url + "?" + urlencode({
        "iss": platform.issuer, "login_hint": user.sub, "target_link_uri": rt.launch_url,
        "lti_message_hint": hint, "client_id": platform.client_id,
        "lti_deployment_id": sandbox.DEPLOYMENT_ID,
    }))


class SandboxAuthError(ToolError):
    code = "sandbox_auth_error"
    title = _l("The sandbox LMS refused the login")


@bp.route("/auth", methods=["GET", "POST"])
def auth() -> ResponseReturnValue:
    """OIDC authorization endpoint of the sandbox platform: checks the tool's request the
    way Moodle does and answers with a signed id_token (form_post)."""
    params = request.values
    rt = runtime()
    expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                "prompt": "none", "client_id": sandbox.CLIENT_ID}
    for name, value in expected.items():
        if params.get(name) != value:
            raise SandboxAuthError(_("The tool sent %(parameter)s.",
                                     parameter=name + "=" + repr(params.get(name))))
    if params.get("redirect_uri") != rt.launch_url:
        raise SandboxAuthError(_("The redirect_uri is not the tool's registered launch URL."))
    if not params.get("state") or not params.get("nonce"):
        raise SandboxAuthError(_("The tool sent no state or nonce."))
    try:
        hint = _hints().loads(params.get("lti_message_hint", ""), max_age=600)
    except BadSignature:
        raise SandboxAuthError(_("The launch hint is invalid or expired.")) from None
    course = sandbox.COURSE_BY_SLUG[hint["c"]]
    user = sandbox.USER_BY_SLUG[hint["u"]]
    if params.get("login_hint") != user.sub:
        raise SandboxAuthError(_("The login_hint does not match the user."))
    link = next((x for x in _links(course.slug) if x["id"] == hint["l"]), None)
    message = (claims.MESSAGE_DEEP_LINKING if hint["m"] == "deep-link"
               else claims.MESSAGE_RESOURCE_LINK)
    body = sandbox.id_token_claims(
        base_url=rt.base_url, course=course, user=user, nonce=params["nonce"], message=message,
        link_id=link["id"] if link else f"{course.slug}-main",
        link_title=link["title"] if link else f"MicroCred — {course.title}",
        custom=link["custom"] if link else {},
        dl_data=_hints().dumps({"c": course.slug}),
        locale=hint.get("lo") or sandbox.LAUNCH_LOCALES["en"],
    )
    session = db_session()
    id_token = sandbox.sign(session, rt.vault, body)
    session.commit()
    return render_template("lti/autosubmit.html", action=params["redirect_uri"],
                           fields={"id_token": id_token, "state": params["state"]},
                           title=_("Opening MicroCred as %(name)s", name=user.name))


@bp.get("/jwks.json")
def jwks() -> ResponseReturnValue:
    session = db_session()
    key = key_service.ensure_active_key(session, runtime().vault, key_service.PURPOSE_SANDBOX)
    session.commit()
    return {"keys": [key_service.public_jwk(key.public_pem, key.kid)]}


@bp.post("/deep-link-return")
def deep_link_return() -> ResponseReturnValue:
    """Receive the tool's LtiDeepLinkingResponse, verify it against the tool's published
    keys, and add the returned links to the course."""
    token = request.form.get("JWT", "")
    session = db_session()
    rt = runtime()
    platform = _platform()
    try:
        header = jwt.get_unverified_header(token)
        published = {k.kid: k.jwk for k in key_service.published_keys(session)}
        jwk = published.get(header.get("kid", ""))
        if jwk is None:
            raise SandboxAuthError(_("The deep-linking response is signed with an unknown key."))
        payload = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"],
                             audience=platform.issuer, issuer=platform.client_id, leeway=5)
    except jwt.PyJWTError:
        raise SandboxAuthError(_("The deep-linking response is not valid.")) from None
    if payload.get(claims.CLAIM_MESSAGE_TYPE) != claims.MESSAGE_DEEP_LINKING_RESPONSE:
        raise SandboxAuthError(_("Not a deep-linking response."))
    try:
        course_slug = _hints().loads(payload.get(claims.CLAIM_DL_DATA) or "", max_age=3600)["c"]
    except BadSignature:
        raise SandboxAuthError(_("The deep-linking data was altered.")) from None
    links = _links(course_slug)
    added = []
    for item in payload.get(claims.CLAIM_DL_CONTENT_ITEMS, [])[:10]:
        if item.get("type") != "ltiResourceLink":
            continue
        entry = {"id": sandbox.new_link_id(), "title": str(item.get("title") or "MicroCred")[:200],
                 "url": str(item.get("url") or rt.launch_url)[:500],
                 "custom": {str(k)[:50]: str(v)[:200]
                            for k, v in (item.get("custom") or {}).items()}}
        links.append(entry)
        added.append(entry)
    kv().set(f"sandbox:links:{course_slug}", json.dumps(links[-20:]), LINKS_TTL)
    return render_template("sandbox/deep_link_done.html", added=added,
                           course=sandbox.COURSE_BY_SLUG[course_slug],
                           back=url_for("sandbox.index"))
