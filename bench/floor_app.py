"""The floor of ``bench/launch.py``: the least any Python app can spend on a launch's two
requests under the same gunicorn settings (config/gunicorn.conf.py), because it does no
work at all: no framework, no validation, no storage, no log line.

    gunicorn -c config/gunicorn.conf.py --chdir bench floor_app:app

Routes, as the peer's (bench/peer_app.py) so that the bench drives both alike: ``/login``
answers 302 to the platform with a fresh state and nonce (stored nowhere), ``/launch``
reads the POSTed form and answers 303 to ``/app?launch_id=…`` (nothing checked),
``/healthz`` answers "ok". What this app costs per launch is what gunicorn (accepting the
connection, parsing the request, its thread pool, writing the response, closing) and the
kernel cost: a tool doing the work of a launch can only add to it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

AUTH_URL = "https://lms.bench/mod/lti/auth.php"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    if path == "/login":
        query = urlencode({"state": secrets.token_urlsafe(32),
                           "nonce": secrets.token_urlsafe(32)})
        start_response("302 Found", [("Location", f"{AUTH_URL}?{query}"),
                                     ("Content-Length", "0")])
        return [b""]
    if path == "/launch" and environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"].read(length)
        start_response("303 See Other", [
            ("Location", f"/app?launch_id={secrets.token_urlsafe(18)}"),
            ("Content-Length", "0")])
        return [b""]
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]
