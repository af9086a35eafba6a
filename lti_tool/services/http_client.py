"""The one way the tool talks to other servers (JWKS, registration, NRPS, AGS, tokens):
a ``requests.Session`` with timeouts, bounded retries on idempotent calls, a response size
cap, and a domain error (``UpstreamError``) on any failure."""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
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


class HttpClient:
    def __init__(self, timeout: float, session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.session = session or requests.Session()
        retry = Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504),
                      allowed_methods=frozenset({"GET"}))
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=10)
        if session is None:
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT

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
