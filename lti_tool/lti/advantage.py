"""LTI Advantage services: the only module that talks to a platform's Names and Role
Provisioning Services (NRPS 2.0) and Assignment and Grade Services (AGS 2.0).

- Access tokens: the OAuth 2 client-credentials grant with a JWT assertion signed by the
  tool's key (https://www.imsglobal.org/spec/security/v1p0/#using-json-web-tokens-with-oauth-2-0-client-credentials-grant),
  cached per (platform, scopes) in the shared key-value store until shortly before expiry,
  so every web and worker process reuses one token.
- Calls go through pylti1p3's ``ServiceConnector`` on ``HttpClient.service_session()``: the
  tool's one outbound client, with its timeout, response-size cap and retries.
- NRPS: the membership container, following ``Link: <...>; rel="next"`` (at most
  ``MAX_PAGES`` pages, never to another server).
- AGS: our own "MicroCred credential earned (not a grade): <title>" line item (found
  by its ``resourceId``, created when missing, never another line item) and a 1/1 score
  posted to ``<lineitem>/scores`` built by ``scores_url`` (path first, then the query
  string: Moodle's ``?type_id=``).

Every failure is an ``UpstreamError`` (``PlatformRefused`` when retrying will not help) with
a message that says what to check; nothing here raises anything else at callers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy.orm import Session

from lti_tool.domain.advantage import (
    MAX_PAGES,
    MEDIA_LINEITEM,
    MEDIA_LINEITEM_CONTAINER,
    MEDIA_MEMBERSHIP,
    MEDIA_SCORE,
    NRPS_SCOPE_MEMBERSHIP,
    AgsEndpoint,
    LineItemSpec,
    Member,
    Membership,
    find_lineitem,
    members_of_page,
    next_page_url,
    same_origin,
    scopes_key,
    scores_url,
    with_query,
)
from lti_tool.errors import UpstreamError
from lti_tool.extensions import KeyValueStore
from lti_tool.models import Context, Platform
from lti_tool.services import keys as key_service
from lti_tool.services.http_client import HttpClient, PlatformRefused
from lti_tool.services.keys import KeyVault

__all__ = [
    "AgsGradebook",
    "ServiceClient",
    "TokenCache",
    "fetch_membership",
    "gradebook_for",
    "membership_fetcher",
    "scores_url",
    "service_client",
]

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EARLY_EXPIRY_SECONDS = 60      # stop using a cached token this long before it expires
TOKEN_DEFAULT_SECONDS = 300          # when a platform does not say (expires_in is optional)
LINEITEM_CACHE_SECONDS = 24 * 3600
LINEITEM_LOCK_SECONDS = 60
LINEITEM_LOCK_WAIT = (0.25, 20)      # poll interval, polls: how long to wait for another worker


def _host(url: str) -> str:
    return urlsplit(url).netloc or "the learning platform"


# -- access tokens ------------------------------------------------------------------------------
class TokenCache:
    """Access tokens per (platform, scopes) in the shared store (Redis), expiring a minute
    before the platform's ``expires_in``."""

    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    @staticmethod
    def key(platform_id: int, scopes: Sequence[str]) -> str:
        digest = hashlib.sha256(scopes_key(scopes).encode()).hexdigest()[:32]
        return f"svc-token:{platform_id}:{digest}"

    def get(self, platform_id: int, scopes: Sequence[str]) -> str | None:
        return self.store.get(self.key(platform_id, scopes))

    def put(self, platform_id: int, scopes: Sequence[str], token: str, expires_in: int) -> None:
        margin = TOKEN_EARLY_EXPIRY_SECONDS
        ttl = expires_in - margin if expires_in > 2 * margin else expires_in // 2
        if ttl > 0:
            self.store.set(self.key(platform_id, scopes), token, ttl)

    def forget(self, platform_id: int, scopes: Sequence[str]) -> None:
        self.store.delete(self.key(platform_id, scopes))


def _oauth_error(response: requests.Response) -> str:
    """The OAuth ``error`` code of a refused token request, if it is a plain code."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str) and error.replace("_", "").isalnum() and len(error) <= 40:
        return error
    return ""


class _Connector(ServiceConnector):
    """pylti1p3's connector, with tokens from the shared cache and assertions signed with
    the tool key already loaded by the ``KeyVault`` (parsing a PEM per call is slow)."""

    def __init__(self, registration: Any, session: requests.Session, *, platform_id: int,
                 tokens: TokenCache, signing_key: Any) -> None:
        super().__init__(registration, requests_session=session)
        self._platform_id = platform_id
        self._tokens = tokens
        self._signing_key = signing_key

    def encode_jwt(self, message: dict[str, str | int], private_key: str,
                   headers: dict[str, str]) -> str:
        return jwt.encode(message, self._signing_key, algorithm="RS256", headers=headers)

    def assertion(self) -> str:
        """The client assertion: iss = sub = client_id, aud = the token URL (or the
        platform's declared audience), a unique jti, one minute of validity."""
        registration = self._registration
        client_id = str(registration.get_client_id())
        token_url = str(registration.get_auth_token_url())
        now = int(time.time())
        claims: dict[str, str | int] = {
            "iss": client_id, "sub": client_id,
            "aud": str(registration.get_auth_audience() or token_url),
            "iat": now - 5, "exp": now + 60, "jti": "microcred-" + uuid.uuid4().hex,
        }
        return self.encode_jwt(claims, "", {"kid": str(registration.get_kid())})

    def get_access_token(self, scopes: Sequence[str]) -> str:
        cached = self._tokens.get(self._platform_id, scopes)
        if cached:
            return cached
        token_url = str(self._registration.get_auth_token_url())
        host = _host(token_url)
        form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion(), "scope": " ".join(sorted(set(scopes)))}
        try:
            response = self._requests_session.post(token_url, data=form,
                                                   headers={"Accept": "application/json"},
                                                   allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("token request to %s failed: %s", host, type(exc).__name__)
            raise UpstreamError(f"{host} could not be reached for an access token.",
                                log_detail=type(exc).__name__,
                                code="token_unreachable") from None
        if response.status_code in (400, 401, 403):
            error = _oauth_error(response)
            raise PlatformRefused(
                f"{host} refused MicroCred's access token request"
                f"{f' ({error})' if error else f' (HTTP {response.status_code})'}. Check the "
                "tool's registration on the platform: its client ID, its public keyset URL, "
                "and that the tool may use this service.", log_detail=error,
                code="token_refused")
        if not 200 <= response.status_code < 300:
            raise UpstreamError(f"{host} answered the access token request with HTTP "
                                f"{response.status_code}.", code="token_failed")
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamError(f"{host} did not issue an access token.", code="token_failed")
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        seconds = expires_in if isinstance(expires_in, int) and not isinstance(
            expires_in, bool) and expires_in > 0 else TOKEN_DEFAULT_SECONDS
        self._tokens.put(self._platform_id, scopes, token, seconds)
        return token


@dataclass(frozen=True)
class ServiceResponse:
    body: Any
    headers: Mapping[str, str]


def _refusal(host: str, status: int, what: str) -> UpstreamError:
    if status in (401, 403):
        return PlatformRefused(
            f"{host} refused MicroCred access to {what} (HTTP {status}). The tool may not "
            "have been given this service in the platform's settings for this tool.",
            code="service_refused")
    if status in (404, 410):
        return PlatformRefused(f"{host} has no {what} at the address it gave (HTTP {status}).",
                               code="service_missing")
    if 400 <= status < 500 and status != 429:
        return PlatformRefused(f"{host} refused the request for {what} (HTTP {status}).")
    return UpstreamError(f"{host} could not provide {what} right now (HTTP {status}).",
                         code="service_failed")


class _Gone(Exception):
    """A 404 from a URL we had cached (the instructor deleted the grade-book column)."""


class ServiceClient:
    """Authenticated calls to one platform's services."""

    def __init__(self, connector: _Connector, *, platform_id: int, tokens: TokenCache) -> None:
        self.connector = connector
        self.platform_id = platform_id
        self.tokens = tokens

    def access_token(self, scopes: Sequence[str]) -> str:
        return self.connector.get_access_token(scopes)

    def call(self, url: str, scopes: Sequence[str], *, what: str, accept: str,
             body: Any = None, content_type: str = "application/json",
             expect_json: bool = True, gone_is_special: bool = False) -> ServiceResponse:
        """GET ``url`` (or POST ``body`` as JSON when given). A cached token the platform
        no longer accepts (401) is dropped and a new one asked for, once."""
        host = _host(url)
        for attempt in (1, 2):
            try:
                result = self.connector.make_service_request(
                    scopes, url, is_post=body is not None,
                    data=json.dumps(body) if body is not None else None,
                    content_type=content_type, accept=accept, case_insensitive_headers=True)
            except LtiServiceException as exc:
                status = exc.response.status_code
                if status == 401 and attempt == 1:
                    self.tokens.forget(self.platform_id, scopes)
                    continue
                if status in (404, 410) and gone_is_special:
                    raise _Gone() from None
                log.warning("%s answered %s for %s", host, status, what)
                raise _refusal(host, status, what) from None
            except requests.JSONDecodeError:
                # The call succeeded (2xx) with a body that is not JSON.
                if expect_json:
                    raise UpstreamError(f"{host} did not answer with JSON ({what}).") from None
                return ServiceResponse(None, {})
            except requests.RequestException as exc:
                log.warning("call to %s for %s failed: %s", host, what, type(exc).__name__)
                raise UpstreamError(f"{host} could not be reached ({what}).",
                                    log_detail=type(exc).__name__, code="unreachable") from None
            return ServiceResponse(result["body"], result["headers"])
        raise AssertionError("unreachable")


def service_client(session: Session, platform: Platform, *, vault: KeyVault, http: HttpClient,
                   store: KeyValueStore) -> ServiceClient:
    """A client for ``platform``'s services, signing with the tool's active key (created
    on a fresh install, like the JWKS endpoint does)."""
    from lti_tool.lti.tool_config import ToolRegistration

    key = key_service.ensure_active_key(session, vault)
    tokens = TokenCache(store)
    connector = _Connector(ToolRegistration(platform, key, vault), http.service_session(),
                           platform_id=platform.id, tokens=tokens,
                           signing_key=vault.private_key(key))
    return ServiceClient(connector, platform_id=platform.id, tokens=tokens)


def _runtime_client(session: Session, context: Context) -> ServiceClient:
    from lti_tool.extensions import kv
    from lti_tool.lti.runtime import runtime

    rt = runtime()
    return service_client(session, context.deployment.platform, vault=rt.vault, http=rt.http,
                          store=kv())


# -- NRPS -------------------------------------------------------------------------------------
def fetch_membership(client: ServiceClient, url: str, *, max_pages: int = MAX_PAGES) -> Membership:
    """Every member of the course, following ``rel="next"`` links. A listing longer than
    ``max_pages`` pages, or whose links go round in a circle, is returned as incomplete.
    Raises UpstreamError / PlatformRefused."""
    host = _host(url)
    members: list[Member] = []
    seen: set[str] = set()
    page_url: str | None = url
    pages = 0
    while page_url:
        if pages >= max_pages or page_url in seen:
            log.warning("roster from %s cut after %d pages", host, pages)
            return Membership(tuple(members), complete=False, pages=pages)
        if not same_origin(page_url, url):
            raise PlatformRefused(f"{host} sent a roster page link to another server; the "
                                  "roster was not read.")
        seen.add(page_url)
        response = client.call(page_url, [NRPS_SCOPE_MEMBERSHIP], what="the course roster",
                               accept=MEDIA_MEMBERSHIP)
        try:
            members.extend(members_of_page(response.body))
        except ValueError:
            raise UpstreamError(f"{host} did not send a course roster (membership "
                                "container).") from None
        pages += 1
        page_url = next_page_url(response.headers.get("Link"), page_url)
    return Membership(tuple(members), complete=True, pages=pages)


def membership_fetcher(session: Session) -> Callable[[Context], Membership]:
    """What ``services.roster.refresh_roster`` calls to read a course's NRPS roster."""
    def fetch(context: Context) -> Membership:
        return fetch_membership(_runtime_client(session, context), context.nrps_url)
    return fetch


# -- AGS ----------------------------------------------------------------------------------------
class AgsGradebook:
    """Publishes "credential earned" scores in one course's grade book."""

    def __init__(self, client: ServiceClient, store: KeyValueStore, context_id: int) -> None:
        self.client = client
        self.store = store
        self.context_id = context_id

    def _cache_key(self, item: LineItemSpec) -> str:
        digest = hashlib.sha256(item.resource_id.encode()).hexdigest()[:32]
        return f"ags-lineitem:{self.context_id}:{digest}"

    def publish(self, endpoint: AgsEndpoint, item: LineItemSpec, score: Mapping[str, Any], *,
                lineitem_url: str = "") -> str:
        """Post ``score`` to our line item (found or created); the line item's URL.
        A known URL that has gone (404) is looked up again, once."""
        host = _host(endpoint.lineitems)
        if not endpoint.can_post_scores:
            raise PlatformRefused(f"{host} did not give MicroCred the permission to post "
                                  "scores in this course (AGS score scope).")
        url = lineitem_url or self.lineitem(endpoint, item)
        try:
            self._post_score(endpoint, url, score)
        except _Gone:
            self.store.delete(self._cache_key(item))
            url = self.lineitem(endpoint, item)
            try:
                self._post_score(endpoint, url, score)
            except _Gone:
                raise PlatformRefused(f"{host} has no grade-book column at the address it "
                                      "gave for MicroCred's line item (HTTP 404).") from None
        return url

    def _post_score(self, endpoint: AgsEndpoint, lineitem_url: str,
                    score: Mapping[str, Any]) -> None:
        if not same_origin(lineitem_url, endpoint.lineitems):
            raise PlatformRefused(f"{_host(endpoint.lineitems)} gave a line item on another "
                                  "server; no score was sent.")
        self.client.call(scores_url(lineitem_url), list(endpoint.scopes),
                         what="the grade book (score)", accept="application/json",
                         body=dict(score), content_type=MEDIA_SCORE, expect_json=False,
                         gone_is_special=True)

    def lineitem(self, endpoint: AgsEndpoint, item: LineItemSpec) -> str:
        """Our line item's URL: cached, else found by resourceId, else created. Two workers
        never both create it: the one holding the store's lock does, the other waits for its
        answer (or fails, to be retried)."""
        cache_key = self._cache_key(item)
        cached = self.store.get(cache_key)
        if cached:
            return cached
        lock = cache_key + ":lock"
        if not self.store.set(lock, "1", LINEITEM_LOCK_SECONDS, only_if_absent=True):
            interval, polls = LINEITEM_LOCK_WAIT
            for _ in range(polls):
                time.sleep(interval)
                cached = self.store.get(cache_key)
                if cached:
                    return cached
            raise UpstreamError("Another worker is setting up this course's grade-book "
                                "column; the score will be sent on the next try.")
        try:
            url = self._find(endpoint, item) or self._create(endpoint, item)
            self.store.set(cache_key, url, LINEITEM_CACHE_SECONDS)
            return url
        finally:
            self.store.delete(lock)

    def _find(self, endpoint: AgsEndpoint, item: LineItemSpec) -> str | None:
        host = _host(endpoint.lineitems)
        if not endpoint.can_read_lineitems:
            raise PlatformRefused(f"{host} did not give MicroCred the permission to read "
                                  "grade-book columns in this course (AGS line item scope).")
        # Platforms that support it filter by resource_id; we check every item anyway.
        page_url: str | None = with_query(endpoint.lineitems, {"resource_id": item.resource_id})
        pages = 0
        while page_url and pages < MAX_PAGES:
            if not same_origin(page_url, endpoint.lineitems):
                raise PlatformRefused(f"{host} sent a line-item page link to another server.")
            response = self.client.call(page_url, list(endpoint.scopes),
                                        what="the grade book (line items)",
                                        accept=MEDIA_LINEITEM_CONTAINER)
            if not isinstance(response.body, list):
                raise UpstreamError(f"{host} did not send a list of line items.")
            found = find_lineitem(response.body, item.resource_id)
            if found:
                return found
            pages += 1
            page_url = next_page_url(response.headers.get("Link"), page_url)
        return None

    def _create(self, endpoint: AgsEndpoint, item: LineItemSpec) -> str:
        host = _host(endpoint.lineitems)
        if not endpoint.can_create_lineitems:
            raise PlatformRefused(f"{host} does not let MicroCred create grade-book columns "
                                  "in this course (AGS line item scope).")
        response = self.client.call(endpoint.lineitems, list(endpoint.scopes),
                                    what="the grade book (new line item)",
                                    accept=MEDIA_LINEITEM, body=item.as_json(),
                                    content_type=MEDIA_LINEITEM)
        url = response.body.get("id") if isinstance(response.body, dict) else None
        if not isinstance(url, str) or not url:
            raise UpstreamError(f"{host} did not return the new line item's address.")
        log.info("created line item %s in context %s", item.resource_id, self.context_id)
        return url


def gradebook_for(session: Session) -> Callable[[Context], AgsGradebook]:
    """What ``services.gradebook.publish`` calls to reach a course's grade book."""
    def build(context: Context) -> AgsGradebook:
        from lti_tool.extensions import kv

        return AgsGradebook(_runtime_client(session, context), kv(), context.id)
    return build
