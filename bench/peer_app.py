"""The peer of ``bench/launch.py``: a minimal LTI 1.3 tool on pylti1p3 2.0.0 and Flask, as
its README shows one, served by the same gunicorn settings (config/gunicorn.conf.py) and
keeping its launch data in the same Redis.

    PEER_REDIS_URL=redis://127.0.0.1:6379/14 PEER_PLATFORM_JWKS='{"keys": [...]}' \\
        gunicorn -c config/gunicorn.conf.py --chdir bench peer_app:app

Routes: ``/login`` (OIDC login initiation: state cookie, state and nonce in Redis, 302 to
the platform), ``/launch`` (pylti1p3's validation: state cookie, JWT format, nonce issued,
registration, RS256 signature with the static keyset, deployment, message validators; the
launch data saved in Redis under a launch id; 303 to the landing page), ``/app`` (the launch
data read back from Redis: a small HTML page with the course's title) and ``/healthz``.

What it does NOT do, and MicroCred does (so the comparison flatters the peer): no database
at all (no account, person, context, link, roster, audit row), nonces and id_tokens are not
consumed (pylti1p3 only checks that a nonce was issued), no ``azp``/``aud``/clock-skew/iat
checks beyond PyJWT's, no browser binding beyond the state cookie, no CSRF token, no JSON
request log line.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, redirect, request
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfDict

ISSUER = os.environ.get("PEER_ISSUER", "https://lms.bench")
CLIENT_ID = os.environ.get("PEER_CLIENT_ID", "bench-client-1")
DEPLOYMENT_ID = os.environ.get("PEER_DEPLOYMENT_ID", "1")


class RedisCache:
    """The cache interface pylti1p3's CacheDataStorage expects (get / set with expiry),
    over Redis, values as JSON."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def get(self, key: str) -> Any:
        raw = self.client.get(key)
        return json.loads(raw) if raw is not None else None

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        self.client.set(key, json.dumps(value), ex=exp or 3600)


def _tool_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def create_app() -> Flask:
    app = Flask(__name__)
    cache = RedisCache(os.environ.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/14"))
    tool_conf = ToolConfDict({ISSUER: [{
        "default": True, "client_id": CLIENT_ID,
        "auth_login_url": ISSUER + "/mod/lti/auth.php",
        "auth_token_url": ISSUER + "/mod/lti/token.php", "key_set_url": None,
        "key_set": json.loads(os.environ["PEER_PLATFORM_JWKS"]),
        "deployment_ids": [DEPLOYMENT_ID],
    }]})
    private, public = _tool_key()
    tool_conf.set_private_key(ISSUER, private, client_id=CLIENT_ID)
    tool_conf.set_public_key(ISSUER, public, client_id=CLIENT_ID)

    def storage() -> FlaskCacheDataStorage:
        return FlaskCacheDataStorage(cache)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        oidc = FlaskOIDCLogin(FlaskRequest(), tool_conf, launch_data_storage=storage())
        return oidc.redirect(request.values["target_link_uri"])

    @app.post("/launch")
    def launch() -> Any:
        message = FlaskMessageLaunch(FlaskRequest(), tool_conf, launch_data_storage=storage())
        message.get_launch_data()  # validates (pylti1p3's auto-validation) and saves
        return redirect(f"/app?launch_id={message.get_launch_id()}", code=303)

    @app.get("/app")
    def landing() -> Any:
        message = FlaskMessageLaunch.from_cache(request.args["launch_id"], FlaskRequest(),
                                                tool_conf, launch_data_storage=storage())
        data = message.get_launch_data()
        title = data.get("https://purl.imsglobal.org/spec/lti/claim/context", {}).get("title")
        name = data.get("name", "")
        return (f"<!doctype html><html lang=en><title>Peer</title><h1>{html.escape(title)}</h1>"
                f"<p>Hello {html.escape(name)}</p></html>")

    @app.get("/healthz")
    def healthz() -> Any:
        return "ok"

    return app


app = create_app() if "PEER_PLATFORM_JWKS" in os.environ else None
