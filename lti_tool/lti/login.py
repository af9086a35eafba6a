"""OIDC third-party initiated login (LTI Security Framework §5.1.1).

The platform sends iss, login_hint, target_link_uri and optionally client_id,
lti_deployment_id (Canvas: ``deployment_id``), lti_message_hint and lti_storage_target. We
check the registration, issue a state and a nonce bound to each other and to this browser
(a random cookie, or a secret kept in the platform's storage frame), store them with a
TTL, and send the browser to the platform's authorization endpoint.
https://www.imsglobal.org/spec/security/v1p0/#step-1-third-party-initiated-login

The launch is accepted only from the browser that logged in (login CSRF). Inside an LMS
frame the browser may refuse our cookie (third-party cookies blocked). So when a browser
arrives without our cookie and the platform offers no storage frame, the login first
checks that the cookie it sets comes back (``cookie_check``: one redirect to ourselves,
once per browser); when it does not, the person is offered to continue in a new window,
where the cookie is first-party (``restart_params``). A launch that is bound neither way
is refused (``lti.validation``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy.orm import Session

from lti_tool.errors import LaunchError, UnknownPlatform
from lti_tool.extensions import Budget
from lti_tool.lti.storage import LaunchStore, LoginState
from lti_tool.lti.validation import is_our_url
from lti_tool.models import Platform
from lti_tool.services import platforms as platform_service
from lti_tool.translate import gettext as _

MAX_PARAM_LENGTH = 4096


@dataclass(frozen=True)
class LoginRedirect:
    auth_url: str
    state: str
    nonce: str
    platform: Platform
    storage_target: str
    storage_origin: str
    storage_secret: str
    # The browser came without our cookie and the platform offers no storage frame: check
    # that the cookie just set comes back before going to the platform.
    check_cookie: bool = False


@dataclass(frozen=True)
class CookieCheck:
    """The outcome of the cookie check of a login: go on to the platform, or not."""

    login: LoginState
    cookie_works: bool
    auth_url: str


class OverBudget(Exception):
    """The client's login budget (rate limit) is spent: nothing was stored."""


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name) or ""
    if len(value) > MAX_PARAM_LENGTH:
        raise LaunchError(_("The login parameter %(name)s is too long.", name=name),
                          code="param_too_long")
    return value


def _deployment_hint(params: Mapping[str, str]) -> str:
    """Canvas sends ``deployment_id`` where the spec says ``lti_deployment_id``.
    https://canvas.instructure.com/doc/api/file.lti_launch_overview.html#step-1 """
    return _param(params, "lti_deployment_id") or _param(params, "deployment_id")


def _auth_url(platform: Platform, *, launch_url: str, state: str, nonce: str,
              login_hint: str, message_hint: str) -> str:
    """The platform's authorization request (OIDC form_post), keeping any query its
    authorization URL already has."""
    query = {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
        "prompt": "none", "client_id": platform.client_id, "redirect_uri": launch_url,
        "state": state, "nonce": nonce, "login_hint": login_hint,
    }
    if message_hint:
        query["lti_message_hint"] = message_hint
    auth = urlsplit(platform.auth_login_url)
    joined_query = "&".join(q for q in (auth.query, urlencode(query)) if q)
    return urlunsplit((auth.scheme, auth.netloc, auth.path, joined_query, ""))


def start_login(
    session: Session, store: LaunchStore, params: Mapping[str, str], *, base_url: str,
    launch_url: str, ttl: int, browser_cookie: str, cookie_known: bool = True,
    new_window: bool = False, budget: Budget | None = None,
) -> LoginRedirect:
    """Validate a login initiation and prepare the redirect. ``cookie_known``: the browser
    sent our cookie with this request (so it will with the launch); ``new_window``: this is
    ``restart_params`` of a login, in a window of its own; ``budget``: the client's login
    rate limit, spent with the state's storage. Raises LaunchError subclasses, and
    ``OverBudget`` when the budget is spent. Stores one state/nonce pair (expiring after
    ``ttl``) on success, nothing on failure."""
    iss = _param(params, "iss")
    login_hint = _param(params, "login_hint")
    target_link_uri = _param(params, "target_link_uri")
    client_id = _param(params, "client_id")
    if not iss:
        raise LaunchError(_("The login request does not say which platform it comes from (iss)."),
                          code="missing_iss")
    if not login_hint:
        raise LaunchError(_("The login request has no login_hint."), code="missing_login_hint")
    if not target_link_uri:
        raise LaunchError(_("The login request has no target_link_uri."),
                          code="missing_target_link_uri")
    if not is_our_url(target_link_uri, base_url):
        raise LaunchError(_("The login asks to launch another tool (target_link_uri is not a "
                          "MicroCred URL)."), code="bad_target_link_uri")
    platform = platform_service.find_platform(session, iss, client_id or None, read_only=True)
    if platform is None:
        if client_id:
            message = _("The platform %(issuer)s with client id %(client_id)s is not "
                        "registered with MicroCred.", issuer=iss, client_id=client_id)
        elif platform_service.issuer_known(session, iss):
            message = _("Several registrations share the issuer %(issuer)s; the login must "
                        "send client_id.", issuer=iss)
        else:
            message = _("The platform %(issuer)s is not registered with MicroCred.",
                        issuer=iss)
        raise UnknownPlatform(message, code="unknown_platform")
    deployment_hint = _deployment_hint(params)
    hinted = platform_service.find_deployment(session, platform.id, deployment_hint,
                                              read_only=True) \
        if deployment_hint else None
    if deployment_hint and not platform.accept_new_deployments and hinted is None:
        raise LaunchError(_("Deployment %(deployment)s of this platform is not registered with "
                            "MicroCred.", deployment=deployment_hint), code="unknown_deployment")
    platform_service.check_usable(platform, hinted)
    # A new window has no platform frame around it to keep storage in.
    storage_target = "" if new_window else _param(params, "lti_storage_target")
    storage_secret = secrets.token_urlsafe(32) if storage_target else ""
    auth_origin = urlsplit(platform.auth_login_url)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    message_hint = _param(params, "lti_message_hint")
    saved = store.save_login(LoginState(
        state=state, nonce=nonce, platform_id=platform.id, issuer=iss,
        client_id=platform.client_id, target_link_uri=target_link_uri,
        deployment_hint=deployment_hint,
        browser_binding=hashlib.sha256(browser_cookie.encode()).hexdigest(),
        storage_target=storage_target, issued_at=int(time.time()),
        storage_binding=(hashlib.sha256(storage_secret.encode()).hexdigest()
                         if storage_secret else ""),
        storage_origin=f"{auth_origin.scheme}://{auth_origin.netloc}",
        login_hint=login_hint, message_hint=message_hint, new_window=new_window,
    ), ttl, budget)
    if not saved:
        raise OverBudget()
    auth_url = _auth_url(platform, launch_url=launch_url, state=state, nonce=nonce,
                         login_hint=login_hint, message_hint=message_hint)
    return LoginRedirect(auth_url=auth_url, state=state, nonce=nonce, platform=platform,
                         storage_target=storage_target,
                         storage_origin=f"{auth_origin.scheme}://{auth_origin.netloc}",
                         storage_secret=storage_secret,
                         check_cookie=not cookie_known and not storage_target)


def _login_for(store: LaunchStore, state: str) -> LoginState:
    login = store.peek_login(state) if state and len(state) <= MAX_PARAM_LENGTH else None
    if login is None:
        raise LaunchError(_("This sign-in has expired or was already used. Go back to your "
                          "course and open the tool again."), code="login_expired")
    return login


def cookie_check(session: Session, store: LaunchStore, state: str, browser_cookie: str | None,
                 *, launch_url: str) -> CookieCheck:
    """Did the cookie set with the login of ``state`` come back? Raises LaunchError
    (``login_expired``) for an unknown state. Reads, stores nothing."""
    login = _login_for(store, state)
    works = bool(browser_cookie) and hashlib.sha256(
        str(browser_cookie).encode()).hexdigest() == login.browser_binding
    platform = session.get(Platform, login.platform_id)
    if platform is None:
        raise UnknownPlatform(_("The platform of this sign-in is no longer registered with "
                              "MicroCred."), code="unknown_platform")
    auth_url = _auth_url(platform, launch_url=launch_url, state=login.state,
                         nonce=login.nonce, login_hint=login.login_hint,
                         message_hint=login.message_hint) if works else ""
    return CookieCheck(login=login, cookie_works=works, auth_url=auth_url)


def restart_params(store: LaunchStore, state: str) -> dict[str, str]:
    """The login parameters of ``state``, to start the same login again in a new window
    (where our cookie is first-party). Raises LaunchError (``login_expired``)."""
    login = _login_for(store, state)
    params = {"iss": login.issuer, "client_id": login.client_id,
              "login_hint": login.login_hint, "target_link_uri": login.target_link_uri}
    if login.deployment_hint:
        params["lti_deployment_id"] = login.deployment_hint
    if login.message_hint:
        params["lti_message_hint"] = login.message_hint
    return params
