"""The one way the tool talks to other servers (JWKS, registration, NRPS, AGS, tokens):
a ``requests.Session`` whose every call has one **total deadline** (connecting, waiting for
the answer and reading the whole body), a response size cap, and a domain error
(``UpstreamError``) on any failure.

Why a total deadline: ``requests``' timeouts bound each socket operation, so a server that
trickles one byte a second never times out, and one that answers slowly on every retry
multiplies the wait. Here a watchdog shuts the call's sockets when its deadline passes,
whatever it was doing. Read timeouts are never retried (a user is waiting, and the server
did get the request); a GET answered 502/503/504 is tried once more, within the same
deadline, and a ``Retry-After`` from the server is not slept on. (Name resolution is left
to the system resolver's own timeouts.)

Libraries that make their own ``requests`` calls (pylti1p3's ``ServiceConnector`` for the
LTI Advantage services) get ``HttpClient.service_session()``: a session that shares this
client's transport adapters, so the deadline and the size cap apply to their calls too.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from lti_tool.errors import UpstreamError
from lti_tool.translate import lazy_gettext as _l

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
    title = _l("The learning platform refused the request")


class ResponseTooLarge(requests.RequestException):
    """A response body larger than the cap."""


class DeadlineExceeded(requests.Timeout):
    """The whole call (connect, answer, body) took longer than its deadline."""


# -- the deadline -------------------------------------------------------------------------------
class _Call:
    """One outbound call: its deadline, the connections it used, and the watchdog that
    shuts them down when the deadline passes (a blocked ``recv`` then returns at once)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.01, self.deadline - time.monotonic())

    def use(self, connection: HTTPConnection) -> None:
        with self._lock:
            if self.expired:
                raise DeadlineExceeded(f"deadline of {self.seconds:g} s exceeded")
            self._connections.append(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Call:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()


_current = threading.local()


@contextmanager
def _call_scope(seconds: float) -> Iterator[_Call]:
    """The call in progress on this thread (an inner scope, e.g. pylti1p3 called from a
    job that set none, uses the outer one when it is sooner)."""
    outer: _Call | None = getattr(_current, "call", None)
    if outer is not None and outer.remaining() <= seconds:
        yield outer
        return
    with _Call(seconds) as call:
        _current.call = call
        try:
            yield call
        finally:
            _current.call = outer


@contextmanager
def total_deadline(seconds: float) -> Iterator[None]:
    """Every outbound call made inside the block on this thread (several fetches of one
    verification, say) shares one deadline of ``seconds`` in all: each call still has its
    own, and gets whichever is sooner."""
    with _call_scope(seconds):
        yield


class _WatchedMixin:
    """Registers the connection with the call in progress when it connects (the TLS
    handshake included) and when it sends a request (a kept-alive connection)."""

    def _watched(self) -> None:
        call: _Call | None = getattr(_current, "call", None)
        if call is not None:
            call.use(self)  # type: ignore[arg-type]

    def connect(self) -> None:
        self._watched()
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self._watched()
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _timed_out(exc: requests.RequestException) -> bool:
    """A connect or read timeout, also when urllib3 wrapped it in MaxRetryError (which
    requests then reports as a ConnectionError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, TimeoutError | urllib3_exceptions.TimeoutError)


def _watch(manager: Any) -> Any:
    manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager


class DeadlineHTTPAdapter(HTTPAdapter):
    """Every call through this adapter has one total deadline (``deadline`` seconds, or
    ``timeout=`` when the caller gives a shorter one) and its body is read here, refusing
    one larger than ``max_bytes``; ``stream=True`` is not honoured (nothing streams)."""

    def __init__(self, deadline: float, max_bytes: int = MAX_RESPONSE_BYTES,
                 **kwargs: Any) -> None:
        self.deadline = deadline
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return _watch(super().proxy_manager_for(proxy, **proxy_kwargs))

    def _budget(self, timeout: Any) -> float:
        if isinstance(timeout, int | float):
            return min(self.deadline, float(timeout))
        if isinstance(timeout, tuple) and all(isinstance(t, int | float) for t in timeout):
            return min(self.deadline, float(sum(timeout)))
        return self.deadline

    def send(self, request: requests.PreparedRequest, stream: bool = False,  # type: ignore[override]
             timeout: Any = None, **kwargs: Any) -> requests.Response:
        with _call_scope(self._budget(timeout)) as call:
            remaining = call.remaining()
            try:
                # Connecting is bounded by the time left; reading by the watchdog (the
                # socket's own read timeout is a backstop a little later).
                response = super().send(request, stream=True,
                                        timeout=(remaining, remaining + 1.0), **kwargs)
                body = response.raw.read(self.max_bytes + 1, decode_content=True)
            except requests.RequestException as exc:
                if call.expired or _timed_out(exc):
                    raise DeadlineExceeded(f"no complete answer within {call.seconds:g} s",
                                           request=request) from None
                raise
            except Exception as exc:  # urllib3 errors while reading the body
                if call.expired:
                    raise DeadlineExceeded(f"no complete answer within {call.seconds:g} s",
                                           request=request) from None
                raise requests.ConnectionError(type(exc).__name__, request=request) from None
            if call.expired:  # a close-delimited body cut by the watchdog looks complete
                response.close()
                raise DeadlineExceeded(f"no complete answer within {call.seconds:g} s",
                                       request=request)
        if len(body) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"response larger than {self.max_bytes} bytes",
                                   request=request, response=response)
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()  # the body is read: give the connection back to the pool
        return response


#: Kept for code that imported the old name.
TimeoutHTTPAdapter = DeadlineHTTPAdapter


class _NoCookies(DefaultCookiePolicy):
    """Service calls authenticate with bearer tokens; a platform's cookies are not kept."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


class HttpClient:
    """Outbound calls with a total deadline of ``timeout`` seconds each."""

    def __init__(self, timeout: float, session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.session = session or requests.Session()
        # A GET answered 502/503/504 is tried once more (within the same deadline); a
        # connect or read timeout never is: a user is waiting.
        retry = Retry(total=1, connect=0, read=0, other=0, status=1, backoff_factor=0.2,
                      status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET"}),
                      respect_retry_after_header=False, raise_on_status=False)
        adapter = DeadlineHTTPAdapter(timeout, max_retries=retry, pool_maxsize=10)
        if session is None:
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        self._service_session: requests.Session | None = None

    def service_session(self) -> requests.Session:
        """A ``requests.Session`` for libraries that make their own calls (pylti1p3).

        It shares this client's adapters (the same mapping object), so the deadline, the
        size cap, the GET retry and the connection pool apply to it, and so does a test
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
            return self.session.request(method, url, timeout=self.timeout,
                                        allow_redirects=False, **kwargs)
        except ResponseTooLarge:
            raise UpstreamError(f"{host} sent a response that is too large.") from None
        except requests.Timeout as exc:
            log.warning("outbound %s to %s failed: %s", method, host, type(exc).__name__)
            raise UpstreamError(f"{host} did not answer within {self.timeout:g} seconds.",
                                log_detail="timeout") from None
        except requests.RequestException as exc:
            log.warning("outbound %s to %s failed: %s", method, host, type(exc).__name__)
            raise UpstreamError(f"{host} could not be reached.",
                                log_detail=type(exc).__name__) from None
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
