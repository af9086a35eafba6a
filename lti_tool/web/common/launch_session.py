"""The per-launch session. Inside an LMS iframe third-party cookies are often blocked, so
the signed launch token travels in links and forms (``lt``); a cookie
(``SameSite=None; Secure; Partitioned`` over HTTPS) is only a convenience fallback."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from werkzeug.wrappers import Response

from lti_tool.domain.lti import AppRole, LaunchContext
from lti_tool.errors import Forbidden, LaunchSessionError
from lti_tool.lti.launch import launch_from_data
from lti_tool.lti.runtime import runtime
from lti_tool.translate import gettext as _

LAUNCH_COOKIE = "mc_launch"
BROWSER_COOKIE = "mc_browser"


@dataclass(frozen=True)
class CurrentLaunch:
    launch: LaunchContext
    record: dict[str, Any] | None
    token: str

    @property
    def csrf_token(self) -> str:
        return csrf_for(self.launch.launch_id)


def csrf_for(launch_id: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + launch_id.encode(), hashlib.sha256).hexdigest()


def secure_cookies() -> bool:
    return bool(current_app.config["PUBLIC_BASE_URL"].startswith("https://"))


def set_tool_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    if secure_cookies():
        response.set_cookie(name, value, max_age=max_age, secure=True, httponly=True,
                            samesite="None", partitioned=True)
    else:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Lax")


def browser_cookie_value() -> tuple[str, bool]:
    """(value, is_new): the random per-browser value a login's state is bound to."""
    existing = request.cookies.get(BROWSER_COOKIE, "")
    if 20 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum():
        return existing, False
    return secrets.token_urlsafe(24), True


def load_current_launch() -> CurrentLaunch:
    """The launch this request belongs to, from ``lt`` (query or form) or the cookie."""
    if "current_launch" in g:
        current: CurrentLaunch = g.current_launch
        return current
    token = request.values.get("lt") or request.cookies.get(LAUNCH_COOKIE) or ""
    if not token or len(token) > 512:
        raise LaunchSessionError()
    rt = runtime()
    launch_id = rt.tokens.read(token)
    data = rt.store.load_launch(launch_id)
    if data is None:
        raise LaunchSessionError()
    launch, record = launch_from_data(data)
    g.current_launch = CurrentLaunch(launch, record, token)
    return g.current_launch  # type: ignore[no-any-return]


def require_roles(*roles: AppRole) -> CurrentLaunch:
    current = load_current_launch()
    if not current.launch.app_roles & set(roles):
        raise Forbidden()
    return current


def check_csrf(current: CurrentLaunch) -> None:
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent, current.csrf_token):
        raise Forbidden(_("This form has expired or did not come from MicroCred. Reload the page "
                        "and try again."), code="csrf_failed")
