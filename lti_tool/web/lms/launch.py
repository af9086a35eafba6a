"""LTI endpoints: OIDC login, launch, landing pages, deep linking, Canvas configuration and
Dynamic Registration. Thin: validation and storage live in ``lti/`` and ``services/``."""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool import jobs
from lti_tool.domain.labels import ROLE as ROLE_LABELS
from lti_tool.domain.lti import AppRole
from lti_tool.domain.registration import ToolUrls
from lti_tool.errors import RegistrationFailed, ToolError, ValidationFailed
from lti_tool.extensions import Budget, db_session
from lti_tool.i18n import normalize_locale
from lti_tool.lti import deep_linking
from lti_tool.lti.launch import complete_launch, wants_roster_refresh
from lti_tool.lti.login import OverBudget, cookie_check, restart_params, start_login
from lti_tool.lti.runtime import runtime
from lti_tool.lti.storage import LoginState, storage_key
from lti_tool.lti.validation import LaunchValidator, PlatformStorageCheck, UnboundLaunch
from lti_tool.models import Context, Issuer
from lti_tool.ratelimit import login_budget_of
from lti_tool.services import keys as key_service
from lti_tool.services import registration as registration_service
from lti_tool.services import tracking
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l
from lti_tool.web import note_action
from lti_tool.web.common.catalog_access import issuer_for_launch
from lti_tool.web.common.launch_session import (
    BROWSER_COOKIE,
    LAUNCH_COOKIE,
    CurrentLaunch,
    browser_cookie_value,
    check_csrf,
    load_current_launch,
    require_roles,
    set_tool_cookie,
)
from lti_tool.web.errors import render_error
from lti_tool.web.lms import learner

bp = Blueprint("lti", __name__)
log = logging.getLogger(__name__)
# The assessment grid (web/instructor.py), filtered with ``credential=<offering id>``, and
# the course's offerings, searched with ``q``.
GRID_ENDPOINT = "instructor.grid"
OFFERINGS_ENDPOINT = "instructor.offerings"


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    return _login(request.values, budget=login_budget_of(current_app).for_request())


def _login(params: Any, *, budget: Budget | None,
           new_window: bool = False) -> ResponseReturnValue:
    """A login; ``budget``: the client's login rate limit (None: limits are off), spent with
    the state's storage, or on its own when the login fails."""
    rt = runtime()
    limits = login_budget_of(current_app)
    cookie, is_new = browser_cookie_value()
    session = db_session()
    try:
        outcome = start_login(
            session, rt.store, params, base_url=rt.base_url, launch_url=rt.launch_url,
            ttl=current_app.config["LOGIN_STATE_TTL_SECONDS"], browser_cookie=cookie,
            cookie_known=not is_new, new_window=new_window, budget=budget,
        )
    except OverBudget:
        assert budget is not None
        raise limits.refused(budget) from None
    except ToolError:
        limits.spend(rt.store.kv, budget)  # a failed login counts too (429 past the limit)
        raise
    note_action("lti.login", platform_id=outcome.platform.id)
    response: WerkzeugResponse
    if outcome.storage_target:
        # Canvas platform storage: keep state and nonce in the platform's frame too, for
        # browsers that block our cookie. https://www.imsglobal.org/spec/lti-cs-oidc/v0p1
        response = make_response(render_template(
            "lti/platform_storage.html", auth_url=outcome.auth_url, state=outcome.state,
            nonce=outcome.nonce, target=outcome.storage_target,
            origin=outcome.storage_origin, binding_key=storage_key(outcome.state),
            binding_secret=outcome.storage_secret))
    elif outcome.check_cookie:
        # The browser came without our cookie: see whether the one set now comes back in
        # this frame before sending it to the platform (lti.login module docstring).
        response = redirect(url_for("lti.login_check", state=outcome.state), code=302)
    else:
        response = redirect(outcome.auth_url, code=302)
    if is_new:
        set_tool_cookie(response, BROWSER_COOKIE, cookie, max_age=365 * 24 * 3600)
    return response


@bp.get("/lti/login/check")
def login_check() -> ResponseReturnValue:
    """Did the cookie set by the login come back? Then on to the platform; else offer a
    new window (the cookie is blocked in this frame, and there is no platform storage)."""
    rt = runtime()
    limits = login_budget_of(current_app)
    limits.spend(rt.store.kv, limits.for_request())
    check = cookie_check(db_session(), rt.store, request.args.get("state", ""),
                         request.cookies.get(BROWSER_COOKIE), launch_url=rt.launch_url)
    if check.cookie_works:
        return redirect(check.auth_url, code=302)
    log.info("login: our cookie is blocked in this frame; offering a new window",
             extra={"event": "lti.cookie_blocked", "platform_id": check.login.platform_id})
    return _new_window_page(check.login, status=200, code="cookies_blocked")


@bp.get("/lti/login/new-window")
def login_new_window() -> ResponseReturnValue:
    """The same login again, in a window of its own (where our cookie is first-party)."""
    limits = login_budget_of(current_app)
    budget = limits.for_request()
    try:
        params = restart_params(runtime().store, request.args.get("state", ""))
    except ToolError:
        limits.spend(runtime().store.kv, budget)
        raise
    return _login(params, new_window=True, budget=budget)


def _new_window_page(login_state: LoginState, *, status: int, code: str) -> ResponseReturnValue:
    """Our cookie did not come back: offer to continue in a new window; when this already
    is that new window, say that cookies must be allowed for MicroCred."""
    host = urlsplit(runtime().base_url).netloc
    if login_state.new_window:
        return render_error(
            status, code, _("Allow cookies for MicroCred"),
            _("Your browser refuses MicroCred's cookie even in a window of its own, so it "
              "cannot sign you in safely. Allow cookies for %(host)s in your browser's "
              "settings, then open MicroCred again from your course.", host=host))
    return render_error(
        status, code, str(UnboundLaunch.title),
        _("Your browser does not let MicroCred recognise you inside the course page (it "
          "blocks cookies of tools embedded in other sites), so it cannot sign you in safely "
          "here. Continue in a new window, where it works; you can close it when you are "
          "done."),
        action={"label": _("Open MicroCred in a new window"),
                "url": url_for("lti.login_new_window", state=login_state.state),
                "new_window": True})


@bp.post("/lti/launch")
def launch() -> ResponseReturnValue:
    rt = runtime()
    session = db_session()
    validator = LaunchValidator(session, rt.store, rt.platform_keys, rt.validator_settings)
    try:
        validated = validator.validate(request.form, request.cookies.get(BROWSER_COOKIE))
    except PlatformStorageCheck as check:
        session.rollback()
        # Nothing consumed: the page reads the login's secret from the platform's storage
        # frame and posts the launch again with it.
        return render_template(
            "lti/platform_storage_check.html", action=rt.launch_url,
            id_token=request.form.get("id_token", ""), state=request.form.get("state", ""),
            target=check.login.storage_target, origin=check.login.storage_origin,
            key=storage_key(check.login.state),
            new_window_url=url_for("lti.login_new_window", state=check.login.state))
    except UnboundLaunch as unbound:
        # Nothing consumed: the same login may go on in a new window.
        session.rollback()
        log.warning("refused: %s %s", unbound.code, unbound.log_detail,
                    extra={"event": "refused", "code": unbound.code,
                           "status": unbound.status_code})
        return _new_window_page(unbound.login, status=unbound.status_code, code=unbound.code)
    except ToolError:
        session.rollback()
        raise
    launch_ctx, record = complete_launch(
        session, rt.store, validated, ttl=current_app.config["LAUNCH_TTL_SECONDS"],
        request_id=g.get("request_id", ""))
    g.launch_locale = normalize_locale(launch_ctx.locale)
    context_pk = wants_roster_refresh(launch_ctx, record)
    if context_pk is not None:
        jobs.refresh_roster_after_launch(context_pk)  # at most every 15 min; never raises
    note_action("lti.launch", platform_id=launch_ctx.platform_id)
    if validated.anonymous:
        return render_template("lti/anonymous.html", launch=launch_ctx)
    token = rt.tokens.issue(launch_ctx.launch_id)
    response = redirect(url_for("lti.home", lt=token), code=303)
    set_tool_cookie(response, LAUNCH_COOKIE, token,
                    max_age=current_app.config["LAUNCH_TTL_SECONDS"])
    return response


@bp.get("/lti/launch")
def launch_get() -> ResponseReturnValue:
    raise ToolError(_("Open MicroCred from your course: launches arrive as a POST from the "
                      "learning platform."), code="launch_not_post")


@bp.get("/app")
def home() -> ResponseReturnValue:
    current = load_current_launch()
    launch_ctx = current.launch
    role = launch_ctx.role
    if launch_ctx.is_deep_linking:
        require_roles(AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR, AppRole.TEACHING_ASSISTANT)
        return _deep_link_page(current)
    code = deep_linking.requested_credential(launch_ctx)
    if code is not None:
        landing = _credential_landing(current, code)
        if landing is not None:
            return landing
    if role is AppRole.LEARNER:
        return learner.render_home(current)
    template = {
        AppRole.ADMINISTRATOR: "lti/admin_home.html",
        AppRole.INSTRUCTOR: "lti/instructor_home.html",
        AppRole.TEACHING_ASSISTANT: "lti/instructor_home.html",
    }.get(role, "lti/guest_home.html")
    return render_template(template, current=current, role_label=ROLE_LABELS[role])


def _credential_landing(current: CurrentLaunch, code: str) -> WerkzeugResponse | None:
    """A placed link for one credential opens that credential's view: the learner's
    progress on it, or the assessment grid filtered to it (its offering in this course; the
    course's offerings page when it is not offered here yet). The code comes from the
    platform's custom parameters, so it is honoured only for a credential of the launch's
    own issuer; anything else opens the general page."""
    credential = learner.credential_of_issuer(current, code)
    if credential is None:
        return None
    roles = current.launch.app_roles
    if roles & {AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR, AppRole.TEACHING_ASSISTANT}:
        context_pk = (current.record or {}).get("context_pk")
        if context_pk is None:
            return None
        offering = next((o for o in tracking.active_offerings(db_session(), context_pk)
                         if o.credential_id == credential.id), None)
        try:
            if offering is not None:
                target = url_for(GRID_ENDPOINT, lt=current.token, credential=offering.id)
            else:
                target = url_for(OFFERINGS_ENDPOINT, lt=current.token, q=credential.code)
        except BuildError:
            return None
        return redirect(target, code=303)
    if AppRole.LEARNER in roles:
        return redirect(url_for("learner.credential", code=credential.code, lt=current.token),
                        code=303)
    return None


def _offered_ids(current: CurrentLaunch) -> set[int] | None:
    """The credentials offered in the deep-linking launch's course (None: no course)."""
    context_pk = (current.record or {}).get("context_pk")
    if not context_pk:
        return None
    return {o.credential_id for o in tracking.active_offerings(db_session(), context_pk)}


def _can_offer(current: CurrentLaunch) -> bool:
    """Instructors and administrators may offer credentials in the course; TAs may not."""
    return bool(current.launch.app_roles & {AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR}) \
        and bool((current.record or {}).get("context_pk"))


def _deep_link_page(current: CurrentLaunch, *, status: int = 200, error: str = "",
                    chosen: list[str] | None = None,
                    offer: bool = True) -> ResponseReturnValue:
    """The content choices. Nothing is preselected: the general link ticked by default
    next to a chosen credential placed two links. Credentials not offered in this course
    yet say so (and an instructor may offer the chosen ones in the same step)."""
    launch_ctx = current.launch
    session = db_session()
    choices = deep_linking.content_choices(session, issuer_for_launch(session, current))
    multiple = deep_linking.accepts_multiple(launch_ctx)
    offered = _offered_ids(current)
    not_offered = {c.slug for c in choices if c.credential_id is not None
                   and offered is not None and c.credential_id not in offered}
    return render_template("lti/deep_link.html", current=current,
                           role_label=ROLE_LABELS[launch_ctx.role], choices=choices,
                           multiple=multiple, chosen=chosen or [], error=error,
                           not_offered=not_offered, can_offer=_can_offer(current),
                           offer=offer), status


@bp.post("/lti/deep-link")
def deep_link_respond() -> ResponseReturnValue:
    current = require_roles(AppRole.INSTRUCTOR, AppRole.ADMINISTRATOR,
                            AppRole.TEACHING_ASSISTANT)
    check_csrf(current)
    if not current.launch.is_deep_linking:
        raise ToolError(_("This launch was not a request to add content."),
                        code="not_deep_link")
    session = db_session()
    # Offered now, for the launch's issuer: a slug of another institution's credential (or
    # one retired since the page was shown) is simply not among them.
    issuer = issuer_for_launch(session, current)
    offered = deep_linking.content_choices(session, issuer)
    wanted = [w for w in request.form.getlist("item") if isinstance(w, str)][:100]
    choices = [c for c in offered if c.slug in set(wanted)]
    offer = request.form.get("offer") == "1"
    if not choices:
        return _deep_link_page(current, status=422, chosen=[], offer=offer,
                               error=_("Choose at least one item to add to the course."))
    if len(choices) > 1 and not deep_linking.accepts_multiple(current.launch):
        return _deep_link_page(current, status=422, chosen=[c.slug for c in choices],
                               offer=offer,
                               error=_("Your course accepts one item at a time: choose one."))
    attached = _offer_chosen(current, issuer, choices) if offer else []
    rt = runtime()
    return_url, jwt = deep_linking.build_response(session, rt.vault, current.launch,
                                                  choices, rt.launch_url)
    return render_template("lti/autosubmit.html", action=return_url, fields={"JWT": jwt},
                           title=_("Returning to your course"), attached=attached)


def _offer_chosen(current: CurrentLaunch, issuer: Any,
                  choices: list[deep_linking.ContentChoice]) -> list[str]:
    """Offer in the launch's course the chosen credentials it does not offer yet (an
    instructor's or administrator's choice on the deep-linking page). Committed before the
    answer goes back to the platform. Returns their titles."""
    if issuer is None or not _can_offer(current):
        return []
    offered = _offered_ids(current) or set()
    wanted = [c for c in choices if c.credential_id is not None and
              c.credential_id not in offered]
    if not wanted:
        return []
    session = db_session()
    context = session.get(Context, (current.record or {}).get("context_pk"))
    if context is None:
        return []
    record = current.record or {}
    by = tracking.Assessor(ref=f"account:{record.get('account_id') or current.launch.sub}",
                           name=current.launch.display_name or _("Instructor"),
                           launch_id=current.launch.launch_id,
                           account_id=record.get("account_id"))
    titles = []
    for choice in wanted:
        assert choice.credential_id is not None
        tracking.attach_offering(session, issuer_id=issuer.id, context=context,
                                 credential_id=choice.credential_id, by=by)
        titles.append(choice.credential_title or choice.title)
    session.commit()
    return titles


@bp.get("/lti/config/canvas.json")
def canvas_config() -> ResponseReturnValue:
    """Canvas developer-key JSON (LTI 1.3 manual configuration).
    https://canvas.instructure.com/doc/api/file.lti_dev_key_config.html """
    rt = runtime()
    domain = urlsplit(rt.base_url).netloc
    icon = rt.base_url + url_for("static", filename="img/icon.svg")
    placement_common = {"message_type": "LtiResourceLinkRequest",
                        "target_link_uri": rt.launch_url, "icon_url": icon}
    return jsonify({
        "title": "MicroCred",
        "description": "Record demonstrated skills and award verifiable micro-credentials "
                       "(Open Badges 3.0).",
        "oidc_initiation_url": rt.login_url,
        "target_link_uri": rt.launch_url,
        "public_jwk_url": rt.jwks_url,
        "scopes": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        ],
        "extensions": [{
            "domain": domain, "tool_id": "microcred", "platform": "canvas.instructure.com",
            "privacy_level": "public",
            "settings": {
                "text": "MicroCred", "icon_url": icon,
                "placements": [
                    {"placement": "course_navigation", "text": "Skills & credentials",
                     "default": "enabled", "visibility": "public", **placement_common},
                    {"placement": "link_selection", "text": "MicroCred",
                     **{**placement_common, "message_type": "LtiDeepLinkingRequest"}},
                ],
            },
        }],
    })


def _registration_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="microcred-register")


def _tool_urls() -> ToolUrls:
    rt = runtime()
    return ToolUrls(base_url=rt.base_url, login_url=rt.login_url, launch_url=rt.launch_url,
                    jwks_url=rt.jwks_url,
                    logo_url=rt.base_url + url_for("static", filename="img/icon.svg"))


def _check_registration_enabled() -> None:
    if not current_app.config["DYNAMIC_REGISTRATION_ENABLED"]:
        raise RegistrationFailed(_("Dynamic registration is turned off for this MicroCred."),
                                 code="registration_disabled")


@bp.get("/lti/register")
def register_start() -> ResponseReturnValue:
    """Dynamic Registration step 1: the platform opens this page with openid_configuration
    (and a registration_token); we read the configuration and ask for confirmation."""
    _check_registration_enabled()
    expected_code = current_app.config["REGISTRATION_ACCESS_CODE"]
    if expected_code and not hmac.compare_digest(request.args.get("code", "").encode(),
                                                 expected_code.encode()):
        raise RegistrationFailed(_("This registration link is missing its access code or the "
                                   "code is wrong. Ask MicroCred's administrator for the "
                                   "registration URL."), code="registration_code_invalid")
    config_url = request.args.get("openid_configuration", "")
    token = request.args.get("registration_token", "")
    if not config_url:
        raise RegistrationFailed(_("The registration link is missing its openid_configuration "
                                   "parameter. Start the registration from your LMS."),
                                 code="missing_openid_configuration")
    if len(config_url) > 1000 or len(token) > 4096:
        raise RegistrationFailed(_("The registration parameters are too long."),
                                 code="param_too_long")
    allow_http = current_app.config["ALLOW_HTTP_ISSUERS"]
    config = registration_service.fetch_configuration(runtime().http, config_url,
                                                      allow_http=allow_http,
                                                      registration_token=token)
    ticket = _registration_serializer().dumps({"c": config_url, "t": token})
    return _register_page(config, ticket, token, form={}, errors={})


def _register_page(config: Any, ticket: str, token: str, *, form: dict[str, str],
                   errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    """The confirmation page: what is registered (or updated: Moodle's "Update"), and the
    institution it will serve."""
    session = db_session()
    update = registration_service.is_update(token)
    known = None
    current_issuer = None
    if update:
        client_id = registration_service.current_client_id(runtime().http, config, token)
        known = registration_service.known_platform(session, config, client_id)
        if known is not None:
            current_issuer = registration_service.platform_issuer(session, known)
    issuers = list(session.scalars(select(Issuer).order_by(Issuer.name, Issuer.id)))
    default = "keep" if current_issuer is not None else \
        (str(issuers[0].id) if len(issuers) == 1 else "")
    form = {"institution": default, **form}
    summary = [(name, str(REGISTRATION_LABELS.get(name, name)), message)
               for name, messages in errors.items() for message in messages]
    return render_template("lti/register_confirm.html", config=config, ticket=ticket,
                           tool=_tool_urls(), update=update, known=known,
                           current_issuer=current_issuer, issuers=issuers, form=form,
                           errors=errors, summary=summary), status


REGISTRATION_LABELS = {"institution": _l("Institution"), "new_name": _l("Institution's name"),
                       "new_url": _l("Institution's website"), "new_email": _l("Contact email"),
                       "new_slug": _l("Short name"), "name": _l("Name")}
_NEW_FIELDS = {"name": "new_name", "url": "new_url", "email": "new_email", "slug": "new_slug"}


def _institution_choice(form: dict[str, str]) -> registration_service.InstitutionChoice | None:
    """The posted choice: "keep" (an update keeps its link) → None; an issuer id; "new"
    with the new institution's fields."""
    choice = form["institution"]
    if choice == "keep":
        return None
    if not choice:
        return registration_service.InstitutionChoice()
    if choice == "new":
        return registration_service.InstitutionChoice(
            new={"name": form["new_name"], "url": form["new_url"], "email": form["new_email"]},
            slug=form["new_slug"].strip().lower())
    issuer_id = int(choice) if choice.isascii() and choice.isdigit() and len(choice) < 10 \
        else None
    return registration_service.InstitutionChoice(issuer_id=issuer_id if issuer_id else -1)


@bp.post("/lti/register")
def register_finish() -> ResponseReturnValue:
    """Dynamic Registration step 2: check the institution chosen, post our registration,
    store (or update) the platform linked to that institution, and tell the platform's
    window to close (postMessage org.imsglobal.lti.close)."""
    _check_registration_enabled()
    try:
        ticket: dict[str, Any] = _registration_serializer().loads(
            request.form.get("ticket", ""), max_age=3600)
    except BadSignature:
        raise RegistrationFailed(_("This registration form has expired. Start again from your "
                                   "LMS."), code="registration_ticket_invalid") from None
    allow_http = current_app.config["ALLOW_HTTP_ISSUERS"]
    rt = runtime()
    session = db_session()
    config = registration_service.fetch_configuration(rt.http, ticket["c"], allow_http=allow_http,
                                                      registration_token=ticket["t"])
    form = {name: (request.form.get(name) or "").strip()[:300]
            for name in ("name", "institution", "new_name", "new_url", "new_email",
                         "new_slug")}
    choice = _institution_choice(form)
    try:
        if choice is not None:
            registration_service.check_choice(session, choice)
    except ValidationFailed as exc:
        # Refused before anything was posted: nothing changed here or on the platform.
        errors = {_NEW_FIELDS.get(k, k): v for k, v in exc.errors.items()}
        return _register_page(config, request.form.get("ticket", ""), ticket["t"], form=form,
                              errors=errors, status=422)
    key_service.ensure_active_key(session, rt.vault)
    registered = registration_service.register(
        session, rt.http, config, ticket["t"], _tool_urls(), allow_http=allow_http,
        name=form["name"], institution=choice)
    session.commit()
    return render_template("lti/register_done.html", platform=registered.platform,
                           result=registered.result, issuer=registered.issuer,
                           updated=registered.updated)
