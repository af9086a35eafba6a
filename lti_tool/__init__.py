"""MicroCred: an LTI 1.3 tool that tracks demonstrated skills and awards micro-credentials."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSessionInterface

from lti_tool import extensions
from lti_tool.logging_setup import configure_logging
from lti_tool.settings import load_settings

__version__ = "0.1.0"


def _development_secret(instance_path: str) -> str:
    """The demo keeps a generated secret in instance/ so its encrypted keys survive restarts.
    Never used in production, where SECRET_KEY is required."""
    path = Path(instance_path) / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret


class _NoSession(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> None:
        return None  # Flask then uses a null session

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        return None


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Wiring only: settings, extensions, blueprints, error handlers."""
    settings = load_settings(overrides)
    app = Flask(__name__, instance_path=settings.get("INSTANCE_PATH")
                or os.environ.get("MICROCRED_INSTANCE_PATH")
                or str(Path.cwd() / "instance"),
                static_folder=str(Path(__file__).resolve().parent.parent / "static"),
                static_url_path="/static")
    app.config.update(settings)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _development_secret(app.instance_path)
    if not app.config["PUBLIC_BASE_URL"]:
        app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{app.config['PORT']}"
    app.config["PUBLIC_BASE_URL"] = app.config["PUBLIC_BASE_URL"].rstrip("/")
    app.config["SESSION_COOKIE_SAMESITE"] = "None" if app.config["PUBLIC_BASE_URL"].startswith(
        "https://") else "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["PUBLIC_BASE_URL"].startswith("https://")
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    # No Flask session: every page is tied to its launch (a signed per-launch token, our
    # own cookies), so the signed session cookie would only cost its parsing per request;
    # using ``flask.session`` fails loudly (a null session refuses writes).
    app.session_interface = _NoSession()

    if app.config["TRUST_PROXY_HEADERS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUST_PROXY_HEADERS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    extensions.init_app(app)
    from lti_tool import i18n, jobs

    i18n.init_app(app)

    jobs.init_app(app)

    from lti_tool.lti.runtime import init_runtime
    from lti_tool.web import register_web

    init_runtime(app)
    register_web(app)
    from lti_tool import ratelimit

    ratelimit.init_app(app)  # after the web's request-id hook: a 429 page carries the id
    if app.config["SANDBOX_ENABLED"]:
        from lti_tool.sandbox import register_sandbox

        register_sandbox(app)
    return app
