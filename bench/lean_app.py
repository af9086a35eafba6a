"""The lean reference of ``bench/launch.py --lean``: the least a launch doing what
MicroCred's launch must do can cost on the design card's stack (Flask, redis-py, PostgreSQL
through psycopg), written as directly as Python allows. It is a measuring stick, not a
product: it answers "how far below the pylti1p3 peer can a launch that checks and records
what ours must go?", so that a CPU target can be judged against what is attainable.

    DATABASE_URL=… REDIS_URL=… PEER_PLATFORM_JWKS='{"keys": [...]}' \\
        gunicorn -c config/gunicorn.conf.py --chdir bench lean_app:app    # behind Flask
        gunicorn -c config/gunicorn.conf.py --chdir bench lean_app:bare   # no framework

It keeps, per launch, only what the Standards and the product require, each in its
cheapest form:

- login: the registration from process memory; a state and a nonce; the state (holding the
  nonce and a hash of the browser cookie) stored with a TTL in ONE Redis command; 302.
- launch POST: the JWT parsed and its RS256 signature checked with the platform key loaded
  once (``cryptography``, no PyJWT); iss, aud/azp, exp/iat with leeway, nonce, deployment,
  message type and version checked; the state taken once (GETDEL: one round trip, which
  also uses up the nonce, since the nonce lives only in the state); the browser cookie
  compared; MicroCred's own launch statement (the account/course/link/roster read and the
  ``lti.launch`` audit INSERT, ``services.launches._returning_read_audited``) run once
  through raw psycopg on a connection kept per thread; the launch session stored (one
  Redis command); 303.

What it leaves out, and MicroCred does (each something the product needs, or a
deliberate choice of its design): Flask request hooks (request id, security headers, the
JSON request log line, the language choice, the per-request registry scope, error pages
and the 503 breaker), the login rate limit, id_token reuse marks, the platform-storage
binding when cookies are blocked, SQLAlchemy (sessions, deadlines, pool checks),
first-launch upserts, the claims' change detection and the typed launch context.

Its routes are the peer's (``/login``, ``/launch``, ``/app``, ``/healthz``), so the bench
drives it as it drives the peer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import psycopg
import redis
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, abort, redirect, request
from psycopg.types.json import Jsonb

ISSUER = os.environ.get("PEER_ISSUER", "https://lms.bench")
CLIENT_ID = os.environ.get("PEER_CLIENT_ID", "bench-client-1")
DEPLOYMENT_ID = os.environ.get("PEER_DEPLOYMENT_ID", "1")
AUTH_URL = ISSUER + "/mod/lti/auth.php"
LEEWAY = 60
TTL = 600
C = "https://purl.imsglobal.org/spec/lti/claim/"


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(_b64(jwk["e"]), "big"),
                                int.from_bytes(_b64(jwk["n"]), "big")).public_key()


def _launch_statement() -> tuple[str, dict[str, Any]]:
    """MicroCred's launch statement, compiled once for psycopg (its literals as defaults)."""
    from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

    from lti_tool.services.launches import _returning_read_audited

    compiled = _returning_read_audited(True, True, True).compile(dialect=pg_dialect.dialect())
    return str(compiled), dict(compiled.params)


class Failed(Exception):
    """A refused login or launch (a 400 or 409)."""

    def __init__(self, status: int) -> None:
        self.status = status


class Lean:
    """The login and the launch, independent of the web framework."""

    def __init__(self) -> None:
        self.store = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5,
                                          socket_connect_timeout=5)
        self.keys = {k["kid"]: _public_key(k)
                     for k in json.loads(os.environ["PEER_PLATFORM_JWKS"])["keys"]}
        self.dsn = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(self.dsn, connect_timeout=5) as conn:
            found = conn.execute(
                "SELECT p.id, d.id FROM platforms p JOIN deployments d ON d.platform_id = p.id "
                "WHERE p.issuer = %s AND p.client_id = %s AND d.deployment_id = %s",
                (ISSUER, CLIENT_ID, DEPLOYMENT_ID)).fetchone()
        if found is None:
            raise SystemExit("lean_app: the bench platform is not registered in DATABASE_URL")
        self.platform_id, self.deployment_pk = found
        self.sql, self.defaults = _launch_statement()
        self.local = threading.local()

    def connection(self) -> psycopg.Connection[Any]:
        conn = getattr(self.local, "conn", None)
        if conn is None or conn.closed:
            conn = self.local.conn = psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=5,
                options="-c statement_timeout=5000")
        return conn

    def login(self, args: Mapping[str, str], cookie: str | None) -> tuple[str, str | None]:
        """The platform's auth URL, and the browser cookie to set (None: it came with one)."""
        if args.get("iss") != ISSUER or args.get("client_id", CLIENT_ID) != CLIENT_ID \
                or not args.get("login_hint") or not args.get("target_link_uri"):
            raise Failed(400)
        browser = cookie or secrets.token_urlsafe(32)
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.store.set("lean:state:" + state, json.dumps({
            "nonce": nonce, "browser": hashlib.sha256(browser.encode()).hexdigest()}), ex=TTL)
        query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                 "prompt": "none", "client_id": CLIENT_ID,
                 "redirect_uri": args["target_link_uri"], "state": state, "nonce": nonce,
                 "login_hint": args["login_hint"]}
        if "lti_message_hint" in args:
            query["lti_message_hint"] = args["lti_message_hint"]
        return AUTH_URL + "?" + urlencode(query), None if cookie else browser

    def launch(self, form: Mapping[str, str], cookie: str | None) -> str:
        """The landing page's URL, after every check and the record."""
        token, state = form.get("id_token", ""), form.get("state", "")
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            header = json.loads(_b64(head_b64))
            key = self.keys[header["kid"]]
            if header.get("alg") != "RS256":
                raise Failed(400)
            key.verify(_b64(sig_b64), f"{head_b64}.{body_b64}".encode(), padding.PKCS1v15(),
                       hashes.SHA256())
            claims = json.loads(_b64(body_b64))
        except (ValueError, KeyError, InvalidSignature) as exc:
            raise Failed(400) from exc
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        now = time.time()
        if claims.get("iss") != ISSUER or CLIENT_ID not in auds \
                or (len(auds) > 1 and claims.get("azp") != CLIENT_ID) \
                or not claims.get("exp", 0) > now - LEEWAY \
                or not claims.get("iat", now + 2 * LEEWAY) <= now + LEEWAY \
                or claims.get(C + "deployment_id") != DEPLOYMENT_ID \
                or claims.get(C + "message_type") != "LtiResourceLinkRequest" \
                or claims.get(C + "version") != "1.3.0" or not claims.get("sub"):
            raise Failed(400)
        raw = self.store.getdel("lean:state:" + state) if state else None
        if raw is None:
            raise Failed(400)  # unknown, expired or already used: the nonce with it
        login_state = json.loads(raw)
        if not hmac.compare_digest(login_state["browser"],
                                   hashlib.sha256((cookie or "").encode()).hexdigest()) \
                or claims.get("nonce") != login_state["nonce"]:
            raise Failed(400)
        context, link = claims[C + "context"], claims[C + "resource_link"]
        roles = claims.get(C + "roles") or []
        role = "instructor" if any(r.endswith(("#Instructor", "#Administrator"))
                                   for r in roles) else "learner"
        launch_id = secrets.token_urlsafe(18)
        row = self.connection().execute(self.sql, {
            **self.defaults, "k_platform_id": self.platform_id, "k_sub": claims["sub"],
            "k_deployment_id": self.deployment_pk, "k_lti_context_id": context["id"],
            "k_lti_resource_link_id": link["id"], "a_at": datetime.now(UTC),
            "a_launch_id": launch_id, "a_request_id": "",
            "a_detail": Jsonb({"message_type": "LtiResourceLinkRequest", "role": role}),
        }, prepare=True).fetchone()
        if row is None or row[-1] is None:
            raise Failed(409)  # a first launch: MicroCred upserts; the bench primes every user
        self.store.set("lean:launch:" + launch_id, json.dumps({
            "account": row[0], "context": context["id"], "title": context.get("title", ""),
            "name": claims.get("name", "")}, separators=(",", ":")), ex=3600)
        return f"/app?launch_id={launch_id}"

    def page(self, launch_id: str) -> str | None:
        raw = self.store.get("lean:launch:" + launch_id)
        if raw is None:
            return None
        data = json.loads(raw)
        return (f"<!doctype html><html lang=en><title>Lean</title>"
                f"<h1>{html.escape(data['title'])}</h1>"
                f"<p>Hello {html.escape(data['name'])}</p></html>")


COOKIE = "lean_browser"


def create_app(lean: Lean) -> Flask:
    """The lean launch behind Flask (no hooks, no extensions)."""
    app = Flask(__name__)

    @app.errorhandler(Failed)
    def failed(exc: Failed) -> Any:
        return "", exc.status

    @app.get("/login")
    def login() -> Any:
        location, new_cookie = lean.login(request.args, request.cookies.get(COOKIE))
        response = redirect(location)
        if new_cookie:
            response.set_cookie(COOKIE, new_cookie, httponly=True, samesite="Lax")
        return response

    @app.post("/launch")
    def launch() -> Any:
        return redirect(lean.launch(request.form, request.cookies.get(COOKIE)), code=303)

    @app.get("/app")
    def landing() -> Any:
        return lean.page(request.args.get("launch_id", "")) or abort(404)

    @app.get("/healthz")
    def healthz() -> Any:
        return "ok"

    return app


def create_bare(lean: Lean) -> Callable[..., Iterable[bytes]]:
    """The same lean launch as a bare WSGI callable: no framework at all (what is left when
    Flask's own per-request cost is taken away too)."""

    def cookie_of(environ: dict[str, Any]) -> str | None:
        for part in environ.get("HTTP_COOKIE", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                return value
        return None

    def answer(start_response: Callable[..., Any], status: str,
               headers: list[tuple[str, str]], body: bytes = b"") -> list[bytes]:
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        try:
            if path == "/login" and method == "GET":
                args = dict(parse_qsl(environ.get("QUERY_STRING", "")))
                location, new_cookie = lean.login(args, cookie_of(environ))
                headers = [("Location", location)]
                if new_cookie:
                    headers.append(("Set-Cookie", f"{COOKIE}={new_cookie}; HttpOnly; "
                                                  "Path=/; SameSite=Lax"))
                return answer(start_response, "302 Found", headers)
            if path == "/launch" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                if length > 65536:
                    raise Failed(413)
                form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
                return answer(start_response, "303 See Other",
                              [("Location", lean.launch(form, cookie_of(environ)))])
            if path == "/app":
                args = dict(parse_qsl(environ.get("QUERY_STRING", "")))
                page = lean.page(args.get("launch_id", ""))
                if page is not None:
                    return answer(start_response, "200 OK",
                                  [("Content-Type", "text/html; charset=utf-8")],
                                  page.encode())
                raise Failed(404)
            if path == "/healthz":
                return answer(start_response, "200 OK", [("Content-Type", "text/plain")],
                              b"ok")
            raise Failed(404)
        except Failed as exc:
            return answer(start_response, f"{exc.status} Refused", [])

    return bare


if "PEER_PLATFORM_JWKS" in os.environ and "DATABASE_URL" in os.environ:
    _lean = Lean()
    app: Any = create_app(_lean)
    bare: Any = create_bare(_lean)
else:
    app = bare = None
