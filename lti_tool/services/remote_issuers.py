"""Keys and status lists of other institutions' credentials, from the documents those
issuers publish: what ``/verify`` needs to tell whether a credential from elsewhere was
really signed by its issuer (:mod:`lti_tool.badges.binding`).

A verification method ``https://college.example/issuer#key-1`` is looked up as W3C
Controlled Identifiers v1.0 §3.3 says (https://www.w3.org/TR/cid-1.0/#retrieve-verification-method):
fetch the document at the URL without its fragment, find the method with that id, check
that its ``controller``'s document (the issuer profile) lists it under ``assertionMethod``.
Status lists (https://www.w3.org/TR/vc-bitstring-status-list/) are fetched the same way and
then verified like any credential.

Every fetch goes through :class:`~lti_tool.services.http_client.HttpClient` (timeout,
retries on GET, 2 MiB cap, no redirects) and only to public https hosts
(``is_public_host``: no loopback, private, link-local or reserved address), at most
``max_fetches`` per verification, each URL once. Failures become a BadgeError in words, so
the report says "could not be reached" instead of failing the request.

``allowed_origins`` (``scheme://host:port`` → a CA bundle path for https, or "") lets the
test suite reach issuers it serves itself on 127.0.0.1: only
:func:`fetch_allowance_for_tests` builds it, from a setting that only the test profile accepts
(``lti_tool.settings`` refuses it in any other profile), so production cannot turn the
guard off by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lti_tool.badges import binding
from lti_tool.badges.binding import IssuerKey
from lti_tool.badges.errors import BadgeError
from lti_tool.errors import UpstreamError
from lti_tool.services.http_client import HttpClient, is_public_host

MAX_FETCHES = 4
_ACCEPT = "application/ld+json, application/json;q=0.9"


class RemoteResolvers:
    """Key and status-list lookups for one verification (its fetches are remembered and
    counted). Not shared between requests."""

    def __init__(self, http: HttpClient, *, max_fetches: int = MAX_FETCHES,
                 host_check: Callable[[str], bool] = is_public_host,
                 require_https: bool = True,
                 allowed_origins: Mapping[str, str] | None = None) -> None:
        self.http = http
        self.allowed_origins = dict(allowed_origins or {})
        self.max_fetches = max_fetches
        self.host_check = host_check
        self.require_https = require_https
        self._documents: dict[str, Mapping[str, Any]] = {}
        self.fetched: list[str] = []

    def _fetch(self, url: str) -> Mapping[str, Any]:
        cached = self._documents.get(url)
        if cached is not None:
            return cached
        parts = urlsplit(url)
        host = parts.hostname or url
        origin = _origin(url)
        allowed = origin in self.allowed_origins
        if not allowed and parts.scheme != "https" and (
                self.require_https or parts.scheme != "http"):
            raise BadgeError(f"{host} is not an https address, so its documents are not "
                             "fetched")
        if len(url) > 2048 or not (allowed or self.host_check(url)):
            raise BadgeError(f"{host} is not a public internet address, so its documents "
                             "are not fetched")
        if len(self.fetched) >= self.max_fetches:
            raise BadgeError(f"more than {self.max_fetches} documents would have to be "
                             "fetched to check this credential")
        self.fetched.append(url)
        try:
            options: dict[str, Any] = {}
            if allowed and self.allowed_origins[origin]:
                options["verify"] = self.allowed_origins[origin]  # the test CA
            document = self.http.get_json(url, headers={"Accept": _ACCEPT}, **options)
        except UpstreamError as exc:
            raise BadgeError(f"the issuer's published document could not be fetched: "
                             f"{exc.public_message}") from None
        if not isinstance(document, Mapping):
            raise BadgeError(f"{host} did not answer with a JSON object")
        self._documents[url] = document
        return document

    def fetch_json(self, url: str) -> Mapping[str, Any]:
        """The JSON object at ``url`` (an Open Badges 2.0 assertion, badge class, issuer,
        key or revocation list), under the same guard, counting and memory. Raises
        BadgeError."""
        return self._fetch(url)

    def key(self, verification_method: str) -> IssuerKey | None:
        """The key and its controller, from the issuer's published documents; None for
        a URL that is not http(s) (nothing to fetch). Raises BadgeError."""
        if not verification_method.startswith(("https://", "http://")):
            return None
        document_url = verification_method.partition("#")[0]
        document = self._fetch(document_url)
        controller = _controller_of(verification_method, document)
        controller_document = document if controller in (None, document_url) \
            else self._fetch(str(controller))
        return binding.key_from_controller_document(verification_method, document,
                                                    controller_document)

    def status_list(self, url: str) -> Mapping[str, Any] | None:
        """The status list credential at ``url`` (verified by the caller). Raises
        BadgeError."""
        if not url.startswith(("https://", "http://")):
            return None
        return self._fetch(url)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return ""
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port or default}"


def fetch_allowance_for_tests(config: Mapping[str, Any]) -> dict[str, str]:
    """The origins the test suite serves issuers from (``TEST_REMOTE_FETCH_ORIGINS``:
    origin → CA bundle or ""), normalised; empty unless the profile is "test"."""
    if config.get("ENV") != "test":
        return {}
    raw = config.get("TEST_REMOTE_FETCH_ORIGINS") or {}
    return {_origin(origin): str(ca or "") for origin, ca in dict(raw).items()}


def _controller_of(vm: str, document: Mapping[str, Any]) -> Any:
    methods = document.get("verificationMethod")
    for method in methods if isinstance(methods, list) else [methods]:
        if isinstance(method, Mapping) and method.get("id") == vm:
            return method.get("controller")
    return None


__all__ = ["MAX_FETCHES", "RemoteResolvers", "fetch_allowance_for_tests"]
