"""Rate limits: Flask-Limiter (https://flask-limiter.readthedocs.io/) counting in Redis, so
every worker and host shares the counters. The limits are declared settings
(``RATE_LIMIT_*``, "300 per minute" notation, read at each request) and are attached here,
by URL, to the routes they protect (``LIMITED_ROUTES``):

- ``/lti/login`` (and its cookie-check and new-window steps): ``RATE_LIMIT_LOGIN`` per
  client address: each login leaves a state in Redis for ten minutes. Not through
  Flask-Limiter: a login spends its budget in the same Redis round trip (a Lua script)
  that stores its state and nonce (``LoginBudget``), a refused or failing login and the
  other two steps spend it on their own; an address found over budget is refused by this
  process without asking Redis again until its window turns. Same sliding-window-counter
  strategy, same setting, same 429;
- ``/api/v1/...``: ``RATE_LIMIT_API`` per token (per client address for a request without
  a well-formed token), counted before the token is even looked up;
- ``POST /verify`` and ``POST /api/v1/verify``, and transfer submissions (``POST
  /me/transfer``, ``POST /admin/transfers``: they verify and fetch another institution's
  documents): ``RATE_LIMIT_VERIFY`` per client address, one budget for all (verifying costs
  CPU);
- ``/lti/register``: ``RATE_LIMIT_REGISTER`` per client address (it fetches a URL the
  visitor names).

Counting uses the sliding-window-counter strategy (two counters per key: cheap, and no
burst at a window's edge). A refused request raises Flask-Limiter's ``RateLimitExceeded``;
``web`` answers it with 429 and ``Retry-After`` (``retry_after_seconds``).

When Redis does not answer, the limiter falls back to counters in each process's memory
(one warning in the log when it switches, one line when Redis is back; it tries Redis
again with exponential backoff). We chose that over failing open (no limit at all) because
the routes that still work during a Redis outage (public verification, API reads) are the
expensive ones an abuser would pick; and over failing closed because a rate limiter must
not turn a Redis outage into an outage of routes that do not need Redis. Each process then
counts for itself, so the effective limit is the setting times the number of processes.

Each app gets its own ``Limiter`` (``limiter_of``), so two apps in one process (the test
suite) never share storage.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse as parse_limit

from lti_tool.errors import RateLimited
from lti_tool.extensions import Budget, KeyValueStore

log = logging.getLogger(__name__)

LOGIN, API, VERIFY, REGISTER = "login", "api", "verify", "register"


def _prefix() -> str:
    """The store's key prefix (per test in the test suite), so counters never mix."""
    return str(getattr(current_app.extensions.get("kv"), "prefix", "mc:"))


def client_key() -> str:
    """The client's address (as ProxyFix saw it, with TRUST_PROXY_HEADERS)."""
    return f"{_prefix()}ip:{request.remote_addr or '-'}"


def api_client_key() -> str:
    """The API token (a digest of it), else the client's address. Computed before the
    token is authenticated: a request with someone else's token fails authentication
    anyway, and one without a well-formed token is counted by address."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials.startswith("mc_") and len(credentials) < 200:
        return f"{_prefix()}token:{hashlib.sha256(credentials.encode()).hexdigest()[:32]}"
    return client_key()


def _setting(name: str) -> Callable[[], str]:
    def value() -> str:
        return str(current_app.config[name])

    return value


LOGIN_PATHS = frozenset({"/lti/login", "/lti/login/check", "/lti/login/new-window"})
#: Verification: the public verifier, and transfer submissions (which also fetch another
#: institution's documents).
VERIFY_PATHS = frozenset({"/verify", "/api/v1/verify", "/me/transfer", "/admin/transfers"})
API_PREFIX = "/api/v1"
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
REGISTER_PREFIX = "/lti/register"


class LoginBudget:
    """``RATE_LIMIT_LOGIN`` per client address, for the three login steps (module
    docstring). One per app (``login_budget_of``)."""

    MAX_REMEMBERED = 10_000  # addresses remembered as over budget, per process

    def __init__(self) -> None:
        self._over: dict[str, float] = {}  # address -> until (time.time())
        self._parsed: tuple[str, int, int] = ("", 0, 0)  # setting, limit, window

    def for_request(self) -> Budget | None:
        """The budget of this request's client address (None: limits are off). Raises
        RateLimited at once for an address this process saw over budget in this window."""
        config = current_app.config
        if not config["RATE_LIMIT_ENABLED"]:
            return None
        setting = str(config["RATE_LIMIT_LOGIN"])
        if self._parsed[0] != setting:
            item = parse_limit(setting)
            self._parsed = (setting, int(item.amount), int(item.get_expiry()))
        _setting, limit, window = self._parsed
        budget = Budget(key=f"rl-login:{request.remote_addr or '-'}", limit=limit,
                        window=window)
        until = self._over.get(_prefix() + budget.key)
        if until is not None:
            now = time.time()
            if now < until:
                raise RateLimited(max(1, math.ceil(until - now)))
            self._over.pop(_prefix() + budget.key, None)
        return budget

    def refused(self, budget: Budget) -> RateLimited:
        """Remember ``budget``'s address as over budget until its window turns; the 429."""
        now = time.time()
        retry = budget.retry_after(now)
        if len(self._over) >= self.MAX_REMEMBERED:
            self._over.clear()
        self._over[_prefix() + budget.key] = now + retry
        return RateLimited(retry)

    def spend(self, store: KeyValueStore, budget: Budget | None) -> None:
        """Spend one unit (a step that stores nothing, or a login that failed). Raises
        RateLimited when over budget."""
        if budget is not None and store.spend_then_set(budget, []) < 0:
            raise self.refused(budget)


def login_budget_of(app: Flask) -> LoginBudget:
    found: LoginBudget = app.extensions["login_budget"]
    return found


def _limited_path(path: str) -> bool:
    """Whether a Flask-Limiter limit may apply to ``path`` (the login budget is counted by
    the login itself, ``LoginBudget``)."""
    return path in VERIFY_PATHS or path.startswith((API_PREFIX + "/", REGISTER_PREFIX))


def _hook_of(hook: Any, limiter: Limiter) -> bool:
    """Whether a request hook is the limiter's: a bound method, or (its response hook, a
    name-mangled method) a ``functools.partial`` of one with the limiter."""
    if getattr(hook, "__self__", None) is limiter:
        return True
    return isinstance(hook, functools.partial) and bool(hook.args) and hook.args[0] is limiter


def _on_limited_paths(hook: Callable[..., Any], *, passes_response: bool) -> Callable[..., Any]:
    """``hook`` (a request, response or teardown hook of the limiter) run only where a
    limit may apply; elsewhere a response hook hands the response on unchanged, the others
    do nothing."""
    def limited_only(*args: Any) -> Any:
        if _limited_path(request.path):
            return hook(*args)
        return args[0] if passes_response else None

    return limited_only


def _only_posts() -> bool:
    """Exempt everything but POST: showing the verify form is free."""
    return request.method != "POST"


def _attach(app: Flask, limiter: Limiter) -> None:
    """Attach each limit to the routes it protects, found by URL (so renaming a view or
    moving it to another blueprint cannot silently drop its limit). The API limit is a
    blueprint limit where a blueprint serves only /api/v1 (counted before the token is
    authenticated), else on the view."""
    wrapped: dict[str, set[str]] = {}
    rules_of: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        if "." in rule.endpoint:
            rules_of.setdefault(rule.endpoint.rsplit(".", 1)[0], []).append(rule.rule)

    def wrap(endpoint: str, scope: str, decorate: Any) -> None:
        if scope not in wrapped.setdefault(endpoint, set()):
            app.view_functions[endpoint] = decorate(app.view_functions[endpoint])
            wrapped[endpoint].add(scope)

    api_limit = limiter.shared_limit(_setting("RATE_LIMIT_API"), scope=API,
                                     key_func=api_client_key)
    api_blueprints: set[str] = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if path.startswith(REGISTER_PREFIX):
            wrap(rule.endpoint, REGISTER, limiter.shared_limit(
                _setting("RATE_LIMIT_REGISTER"), scope=REGISTER, key_func=client_key))
        if path in VERIFY_PATHS:
            wrap(rule.endpoint, VERIFY, limiter.shared_limit(
                _setting("RATE_LIMIT_VERIFY"), scope=VERIFY, key_func=client_key,
                exempt_when=_only_posts))
        if path.startswith(API_PREFIX + "/"):
            blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else ""
            if blueprint and all(p.startswith(API_PREFIX + "/") for p in rules_of[blueprint]):
                api_blueprints.add(blueprint)
            else:
                wrap(rule.endpoint, API, api_limit)
    for name in sorted(api_blueprints):
        api_limit(app.blueprints[name])  # type: ignore[call-overload]


def limiter_of(app: Flask) -> Limiter:
    found: Limiter = app.extensions["rate_limiter"]
    return found


def retry_after_seconds(exc: RateLimitExceeded) -> int:
    """Seconds until the breached limit lets a request through again (at least 1)."""
    current = limiter_of(current_app).current_limit
    if current is not None:
        try:
            return max(1, math.ceil(current.reset_at - time.time()))
        except Exception:  # the store failed between the refusal and now
            log.debug("rate limit window unavailable", exc_info=True)
    return max(1, int(exc.limit.limit.get_expiry()))


def init_app(app: Flask) -> None:
    """Create the app's limiter and attach the limits; call once every route is
    registered. Redis when REDIS_URL is set (sharing the app's connection pool and its
    timeouts), else this process's memory (the demo)."""
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RATE_LIMIT_ENABLED"])
    client = app.extensions.get("redis")
    if client is not None:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"connection_pool": client.connection_pool}
    else:
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "rl"
    limiter = Limiter(key_func=client_key, strategy="sliding-window-counter",
                      headers_enabled=False,  # Retry-After on a 429 is what clients need
                      in_memory_fallback_enabled=True, swallow_errors=True)
    limiter.init_app(app)
    # Only the routes with a limit reach the limiter (every other request would pay for its
    # evaluation); health checks never do, not even its periodic "is Redis back?" probe,
    # which would wait for a frozen Redis.
    limiter.request_filter(lambda: not _limited_path(request.path))
    # ... and skip the limiter's own bookkeeping too (it would evaluate its limit lists
    # before looking at the filter): its hook runs only where a limit may apply.
    # Likewise its response hook (rate-limit headers, which are off; it still evaluates
    # the request's limits to find none) and its teardown (which releases what its request
    # hook set up).
    for registry, passes_response in ((app.before_request_funcs, False),
                                      (app.after_request_funcs, True),
                                      (app.teardown_request_funcs, False)):
        hooks: list[Any] = registry.setdefault(None, [])
        hooks[:] = [_on_limited_paths(hook, passes_response=passes_response)
                    if _hook_of(hook, limiter) else hook for hook in hooks]
    app.extensions["rate_limiter"] = limiter
    app.extensions["login_budget"] = LoginBudget()
    _attach(app, limiter)
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, _NoBreachLines) for f in limiter_log.filters):
        limiter_log.addFilter(_NoBreachLines())


class _NoBreachLines(logging.Filter):
    """Breaches are logged once, as "refused: rate_limited", by the web error handler;
    the limiter's own line would be a second one (with the client's key in it). Its
    storage warnings ("falling back to in-memory storage", "recovered") stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("ratelimit ")
