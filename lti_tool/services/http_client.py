"""The one way the tool talks to other servers (JWKS, registration, NRPS, AGS, tokens):
a ``requests.Session`` with timeouts, bounded retries on idempotent calls, a response size
cap, and a domain error (``UpstreamError``) on any failure.

Libraries that make their own ``requests`` calls (pylti1p3's ``ServiceConnector`` for the
LTI Advantage services) get ``HttpClient.service_session()``: a session that shares this
client's transport adapters, whose ``TimeoutHTTPAdapter`` applies the timeout and the size
cap to calls made without ``timeout=``."""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from lti_tool.errors import UpstreamError

log = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
USER_AGENT = "MicroCred/0.1 (+https://github.com/microcred)"


def is_public_host(url: str) -> bool:
    """True if every address the URL's host resolves to is a public unicast address.

    Guards server-side fetches of URLs that a visitor can choose (Dynamic Registration's
    openid_configuration) against reaching loopback, private, link-local or reserved
    networks (SSRF). Resolution failures count as not public.
    """
    host = urlsplit(url).hostname
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return False
    return bool(infos)


class PlatformRefused(UpstreamError):
    """The platform answered, and refused (HTTP 4xx, an OAuth error, a missing scope):
    trying again unchanged will not help. Background jobs do not retry it."""

    code = "platform_refused"
    title = "The learning platform refused the request"


class ResponseTooLarge(requests.RequestException):
    """A response body larger than the cap (read by ``TimeoutHTTPAdapter``)."""


class TimeoutHTTPAdapter(HTTPAdapter):
    """An adapter that gives every request ``timeout`` when the caller passed none, and reads
    a non-streamed body itself, refusing one larger than ``max_bytes``.

    For code that calls ``requests`` without a timeout (pylti1p3): without it such a call to
    a platform that never answers would hang a worker forever. Streamed calls (HttpClient's
    own, which cap the body themselves) are left as they are."""

    def __init__(self, timeout: float, max_bytes: int = MAX_RESPONSE_BYTES,
                 **kwargs: Any) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, stream: bool = False,  # type: ignore[override]
             timeout: Any = None, **kwargs: Any) -> requests.Response:
        response = super().send(request, stream=True,
                                timeout=self.timeout if timeout is None else timeout, **kwargs)
        if stream:
            return response
        try:
            body = response.raw.read(self.max_bytes + 1, decode_content=True)
        except Exception:
            response.close()
            raise
        if len(body) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"response larger than {self.max_bytes} bytes",
                                   request=request, response=response)
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()  # the body is read: give the connection back to the pool
        return response


class _NoCookies(DefaultCookiePolicy):
    """Service calls authenticate with bearer tokens; a platform's cookies are not kept."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


class HttpClient:
    def __init__(self, timeout: float, session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.session = session or requests.Session()
        retry = Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504),
                      allowed_methods=frozenset({"GET"}))
        adapter = TimeoutHTTPAdapter(timeout, max_retries=retry, pool_maxsize=10)
        if session is None:
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        self._service_session: requests.Session | None = None

    def service_session(self) -> requests.Session:
        """A ``requests.Session`` for libraries that make their own calls (pylti1p3).

        It shares this client's adapters (the same mapping object), so the timeout, the
        size cap, the GET retries and the connection pool apply to it, and so does a test
        transport mounted on ``self.session``. Its own cookie jar keeps nothing and it
        carries the tool's User-Agent."""
        if self._service_session is None:
            service = requests.Session()
            service.adapters = self.session.adapters
            service.headers["User-Agent"] = USER_AGENT
            service.cookies.set_policy(_NoCookies())
            self._service_session = service
        return self._service_session

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        host = urlsplit(url).netloc
        try:
            response = self.session.request(method, url, timeout=self.timeout, stream=True,
                                            allow_redirects=False, **kwargs)
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            log.warning("outbound %s to %s failed: %s", method, host, type(exc).__name__)
            raise UpstreamError(f"{host} could not be reached.",
                                log_detail=type(exc).__name__) from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise UpstreamError(f"{host} sent a response that is too large.")
        response._content = body
        return response

    def get_json(self, url: str, **kwargs: Any) -> Any:
        response = self._request("GET", url, **kwargs)
        return self._json(url, response)

    def post_json(self, url: str, payload: Any, **kwargs: Any) -> Any:
        response = self._request("POST", url, json=payload, **kwargs)
        return self._json(url, response)

    @staticmethod
    def _json(url: str, response: requests.Response) -> Any:
        host = urlsplit(url).netloc
        if not 200 <= response.status_code < 300:
            raise UpstreamError(f"{host} answered with HTTP {response.status_code}.")
        try:
            return json.loads(response.content)
        except ValueError:
            raise UpstreamError(f"{host} did not answer with JSON.") from None
