"""CSRF protection for forms on public (login-free) pages such as ``/verify``.

There is no launch here, so the per-launch token of ``launch_session`` does not apply. A
signed double-submit token: a random value in an HttpOnly ``SameSite=Lax`` cookie, and in
the form the HMAC of that value under the app's secret key. Another site can make a browser
send the cookie but can neither read it nor compute its HMAC, so it cannot forge the field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, g, request
from werkzeug.wrappers import Response

FORM_COOKIE = "mc_form"
COOKIE_MAX_AGE = 7 * 24 * 3600
_FIELD = "form_token"


def _cookie_value() -> str:
    """This browser's random value (a new one, set on the response, when it has none)."""
    value = g.get("public_form_cookie")
    if value:
        return str(value)
    existing = request.cookies.get(FORM_COOKIE, "")
    if 20 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum():
        g.public_form_cookie = existing
        return existing
    g.public_form_cookie = secrets.token_urlsafe(24)
    g.public_form_cookie_new = True
    return str(g.public_form_cookie)


def _sign(value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"public-form:" + value.encode(), hashlib.sha256).hexdigest()


def form_token() -> str:
    """The hidden field's value for a form on this page (sets the cookie if needed)."""
    return _sign(_cookie_value())


def form_token_valid() -> bool:
    """Whether the submitted form carries the token of this browser's cookie."""
    cookie = request.cookies.get(FORM_COOKIE, "")
    sent = request.form.get(_FIELD, "")
    if not cookie or not sent:
        return False
    return hmac.compare_digest(sent, _sign(cookie))


def set_cookie(response: Response) -> Response:
    """``after_request``: store the browser's new random value, when one was made."""
    if g.get("public_form_cookie_new"):
        secure = str(current_app.config["PUBLIC_BASE_URL"]).startswith("https://")
        response.set_cookie(FORM_COOKIE, g.public_form_cookie, max_age=COOKIE_MAX_AGE,
                            secure=secure, httponly=True, samesite="Lax")
    return response
