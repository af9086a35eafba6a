"""The outbound session that pylti1p3 uses for the LTI Advantage services, against real
sockets on the loopback interface: calls made without ``timeout=`` (as pylti1p3 makes them)
still time out, oversized bodies are refused, platform cookies are not kept, and the
client's own calls behave as before."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from lti_tool.errors import UpstreamError
from lti_tool.services.http_client import MAX_RESPONSE_BYTES, HttpClient, ResponseTooLarge
from tests.support.platform import rsa_key


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


class _Handler(BaseHTTPRequestHandler):
    seen_cookies: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        _Handler.seen_cookies.append(self.headers.get("Cookie", ""))
        big = self.path.startswith("/big")
        body = b"x" * (MAX_RESPONSE_BYTES + 10) if big else b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "platform_session=abc; Path=/")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.seen_cookies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_call_without_timeout_still_times_out(silent_port: int):
    session = HttpClient(timeout=0.5).service_session()
    started = time.monotonic()
    # One try, cut at the call's deadline: a read timeout is never retried.
    with pytest.raises(requests.Timeout):
        session.get(f"http://127.0.0.1:{silent_port}/memberships")
    assert time.monotonic() - started < 1.2


def test_pylti1p3s_token_request_gets_the_timeout(silent_port: int):
    pem = rsa_key("tool-http").private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    registration = (Registration().set_client_id("client-1")
                    .set_auth_token_url(f"http://127.0.0.1:{silent_port}/token")
                    .set_tool_private_key(pem))
    connector = ServiceConnector(registration, HttpClient(timeout=0.5).service_session())
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        connector.get_access_token(["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    assert time.monotonic() - started < 5


def test_oversized_bodies_are_refused(server: str):
    session = HttpClient(timeout=2).service_session()
    with pytest.raises(ResponseTooLarge):
        session.get(server + "/big")
    assert session.get(server + "/small").json() == {"ok": True}


def test_platform_cookies_are_not_kept(server: str):
    session = HttpClient(timeout=2).service_session()
    session.get(server + "/one")
    session.get(server + "/two")
    assert _Handler.seen_cookies == ["", ""]
    assert len(session.cookies) == 0


def test_the_clients_own_calls_are_unchanged(server: str, silent_port: int):
    client = HttpClient(timeout=0.5)
    assert client.get_json(server + "/small") == {"ok": True}
    with pytest.raises(UpstreamError, match="too large"):
        client.get_json(server + "/big")
    with pytest.raises(UpstreamError, match=r"did not answer within 0\.5 seconds"):
        client.get_json(f"http://127.0.0.1:{silent_port}/jwks")


def test_the_service_session_shares_the_clients_transport():
    client = HttpClient(timeout=1)
    service = client.service_session()
    assert service is client.service_session()
    assert service.adapters is client.session.adapters
    assert service.headers["User-Agent"].startswith("MicroCred/")
