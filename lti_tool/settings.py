"""Declared settings: every setting the tool reads, its environment variable, type and default.

The factory resolves settings in this order (later wins): the declared default, the
environment profile in ``config/<env>.py``, the process environment, explicit overrides
passed to ``create_app``. Secrets never have a non-empty default and are only read from
the environment (or, for the single-process demo, generated into ``instance/``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti_tool.errors import ConfigurationError


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


def _int(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {value!r}") from None


def _positive_int(value: str) -> int:
    number = _int(value)
    if number <= 0:
        raise ValueError(f"expected a positive whole number, got {number}")
    return number


def _non_negative_int(value: str) -> int:
    number = _int(value)
    if number < 0:
        raise ValueError(f"expected zero or a positive whole number, got {number}")
    return number


def _non_negative_float(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if not number >= 0 or number == float("inf"):
        raise ValueError(f"expected zero or a positive number, got {value!r}")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise ValueError(f"expected a positive number, got {value!r}")
    return number


def _str(value: str) -> str:
    return value


def _rate_limit(value: str) -> str:
    """A rate limit in the notation of the ``limits`` library: "300 per minute",
    "10/second; 1000/hour" (several separated by ``;``)."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"expected a rate limit such as '300 per minute', got {value!r}") \
            from None
    return value.strip()


def _choice(*allowed: str) -> Callable[[str], str]:
    """A case-insensitive choice, returned in the spelling of ``allowed``."""
    by_lower = {a.lower(): a for a in allowed}

    def parse(value: str) -> str:
        try:
            return by_lower[value.strip().lower()]
        except KeyError:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}") from None

    return parse


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    parse: Callable[[str], Any]
    default: Any
    doc: str
    required_in_production: bool = False
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "MICROCRED_ENV", _str, "production",
            "Profile: development, test or production."),
    Setting("SECRET_KEY", "SECRET_KEY", _str, "",
            "Signs sessions and launch tokens; derives the key-encryption key if "
            "KEY_ENCRYPTION_KEY is unset.", required_in_production=True, secret=True),
    Setting("KEY_ENCRYPTION_KEY", "KEY_ENCRYPTION_KEY", _str, "",
            "Dedicated secret that encrypts tool private keys at rest (optional).", secret=True),
    Setting("DATABASE_URL", "DATABASE_URL", _str, "",
            "SQLAlchemy URL. Empty: SQLite file under instance/ (demo only).",
            required_in_production=True),
    Setting("REDIS_URL", "REDIS_URL", _str, "",
            "Redis URL for OIDC state, nonces and launch data. Empty: in-process store "
            "(single-process demo only).", required_in_production=True),
    Setting("PUBLIC_BASE_URL", "PUBLIC_BASE_URL", _str, "",
            "The tool's public URL (https://tool.example.edu). Empty in development: "
            "http://127.0.0.1:$PORT.", required_in_production=True),
    Setting("PORT", "PORT", _positive_int, 5005, "Port of `make run`."),
    Setting("ALLOW_HTTP_ISSUERS", "ALLOW_HTTP_ISSUERS", _bool, False,
            "Accept platforms whose issuer or endpoints are plain http (development only)."),
    Setting("SANDBOX_ENABLED", "SANDBOX_ENABLED", _bool, False,
            "Serve the built-in sandbox LMS at /sandbox."),
    Setting("DYNAMIC_REGISTRATION_ENABLED", "DYNAMIC_REGISTRATION_ENABLED", _bool, True,
            "Accept LTI Dynamic Registration at /lti/register."),
    Setting("REGISTRATION_ACCESS_CODE", "REGISTRATION_ACCESS_CODE", _str, "",
            "If set, Dynamic Registration needs ?code=<this value> in the registration URL "
            "given to the LMS (https://tool/lti/register?code=...).", secret=True),
    Setting("LOG_FORMAT", "LOG_FORMAT", _choice("text", "json"), "text", "text or json."),
    Setting("LOG_LEVEL", "LOG_LEVEL",
            _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "INFO", "Python log level."),
    Setting("CLOCK_SKEW_SECONDS", "CLOCK_SKEW_SECONDS", _non_negative_int, 5,
            "Tolerated clock difference with platforms when checking exp/iat/nbf."),
    Setting("MAX_IAT_AGE_SECONDS", "MAX_IAT_AGE_SECONDS", _positive_int, 300,
            "An id_token issued longer ago than this is refused."),
    Setting("LOGIN_STATE_TTL_SECONDS", "LOGIN_STATE_TTL_SECONDS", _positive_int, 600,
            "How long an OIDC login (state + nonce) may wait for its launch."),
    Setting("LAUNCH_TTL_SECONDS", "LAUNCH_TTL_SECONDS", _positive_int, 4 * 3600,
            "How long a launch session (the per-launch token) stays valid."),
    Setting("JWKS_CACHE_SECONDS", "JWKS_CACHE_SECONDS", _positive_int, 3600,
            "How long a platform's JWKS is cached."),
    Setting("JWKS_REFETCH_INTERVAL_SECONDS", "JWKS_REFETCH_INTERVAL_SECONDS",
            _non_negative_int, 30,
            "Minimum time between two refetches of a platform's JWKS on an unknown kid."),
    Setting("KEY_ROTATION_GRACE_DAYS", "KEY_ROTATION_GRACE_DAYS", _non_negative_int, 14,
            "How long a rotated-out tool key stays published in the JWKS."),
    Setting("HTTP_TIMEOUT_SECONDS", "HTTP_TIMEOUT_SECONDS", _positive_float, 5,
            "Total deadline of one outbound HTTP call (JWKS, registration, NRPS, AGS, tokens): "
            "connecting, waiting and reading the whole body."),
    Setting("JWKS_FAILURE_CACHE_SECONDS", "JWKS_FAILURE_CACHE_SECONDS", _non_negative_int, 30,
            "After a platform's JWKS could not be fetched, launches from that platform are "
            "refused at once for this long instead of waiting again (0: never remembered)."),
    Setting("DB_CONNECT_TIMEOUT_SECONDS", "DB_CONNECT_TIMEOUT_SECONDS", _positive_int, 3,
            "PostgreSQL: how long opening a connection may take (libpq's minimum is 2)."),
    Setting("DB_STATEMENT_TIMEOUT_SECONDS", "DB_STATEMENT_TIMEOUT_SECONDS", _positive_float, 5,
            "PostgreSQL: longest statement (server statement_timeout); the client also gives "
            "up one second later when the server does not answer at all."),
    Setting("DB_LOCK_TIMEOUT_SECONDS", "DB_LOCK_TIMEOUT_SECONDS", _positive_float, 3,
            "PostgreSQL: longest wait for a row or table lock (lock_timeout)."),
    Setting("DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", "DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS",
            _positive_int, 60,
            "PostgreSQL: a session idle inside a transaction this long is ended by the server, "
            "so a frozen client cannot hold locks for ever."),
    Setting("DB_POOL_SIZE", "DB_POOL_SIZE", _positive_int, 10,
            "Database connections kept per process (as many again may be opened in bursts)."),
    Setting("DB_POOL_TIMEOUT_SECONDS", "DB_POOL_TIMEOUT_SECONDS", _positive_float, 2,
            "Longest wait for a free pooled connection before answering 503."),
    Setting("SQLITE_BUSY_TIMEOUT_SECONDS", "SQLITE_BUSY_TIMEOUT_SECONDS", _positive_float, 10,
            "SQLite (demo): how long a writer waits for another one to finish."),
    Setting("REDIS_TIMEOUT_SECONDS", "REDIS_TIMEOUT_SECONDS", _positive_float, 1,
            "Redis: connect and per-command socket timeout (the web processes)."),
    Setting("REGISTRY_CHECK_SECONDS", "REGISTRY_CHECK_SECONDS", _non_negative_float, 1,
            "How often a process re-reads the registry's version token in Redis (platforms, "
            "deployments, institutions changed by another process are seen within this); "
            "0: at every request."),
    Setting("LEARNER_PAGE_CACHE_SECONDS", "LEARNER_PAGE_CACHE_SECONDS", _non_negative_int, 1800,
            "How long Redis keeps a rendered learner landing page (0: never cache). Each "
            "entry is validated by database version counters; this only bounds memory."),
    Setting("RETRY_AFTER_SECONDS", "RETRY_AFTER_SECONDS", _positive_int, 5,
            "Retry-After of a 503 answered while the database or Redis is unavailable."),
    Setting("READY_MIN_FREE_DISK_MB", "READY_MIN_FREE_DISK_MB", _non_negative_int, 100,
            "SQLite (demo): /readyz is 503 when the database's disk has less free space "
            "than this, in MB."),
    Setting("RATE_LIMIT_ENABLED", "RATE_LIMIT_ENABLED", _bool, True,
            "Apply the rate limits below (Redis; per process without REDIS_URL)."),
    Setting("RATE_LIMIT_LOGIN", "RATE_LIMIT_LOGIN", _rate_limit, "300 per minute",
            "LTI logins (/lti/login) per client address. A class behind one NAT address "
            "shares it."),
    Setting("RATE_LIMIT_API", "RATE_LIMIT_API", _rate_limit, "600 per minute",
            "REST API requests (/api/v1) per token (per client address without a token)."),
    Setting("RATE_LIMIT_VERIFY", "RATE_LIMIT_VERIFY", _rate_limit, "30 per minute",
            "Credential verifications (POST /verify and POST /api/v1/verify, and transfer "
            "submissions) per client address."),
    Setting("RATE_LIMIT_REGISTER", "RATE_LIMIT_REGISTER", _rate_limit, "20 per minute",
            "Dynamic Registration requests (/lti/register) per client address."),
    Setting("HSTS_MAX_AGE_SECONDS", "HSTS_MAX_AGE_SECONDS", _non_negative_int, 0,
            "Strict-Transport-Security max-age sent when PUBLIC_BASE_URL is https (0: no "
            "header). The production profile sets one year."),
    Setting("VERIFY_FETCH_ISSUER_DOCUMENTS", "VERIFY_FETCH_ISSUER_DOCUMENTS", _bool, True,
            "When /verify checks a credential of another institution, fetch its issuer's "
            "published profile (keys) and status lists: https, public addresses only, "
            "HTTP_TIMEOUT_SECONDS each, at most 4 per verification. Off: such credentials "
            "are reported as not shown to be signed by their issuer."),
    Setting("JOBS_INLINE", "JOBS_INLINE", _bool, False,
            "Run background jobs (roster refresh, grade-book publication) at once in the "
            "calling process instead of on an RQ worker. Always so when REDIS_URL is empty."),
    Setting("JOBS_QUEUE", "JOBS_QUEUE", _str, "microcred",
            "Name of the RQ queue that `microcred worker` serves."),
    Setting("MAX_CONTENT_LENGTH", "MAX_CONTENT_LENGTH", _positive_int, 1024 * 1024,
            "Largest request body accepted, in bytes (413 above)."),
    Setting("TRUST_PROXY_HEADERS", "TRUST_PROXY_HEADERS", _non_negative_int, 0,
            "Number of reverse proxies whose X-Forwarded-* headers are trusted."),
    Setting("SMTP_HOST", "SMTP_HOST", _str, "",
            "SMTP server for e-mail notifications (PLAR requests). Empty: no e-mail is "
            "sent (notices still show on the LMS pages)."),
    Setting("SMTP_PORT", "SMTP_PORT", _positive_int, 587,
            "Port of the SMTP server (587 with starttls, 465 with ssl, 25 without TLS)."),
    Setting("SMTP_TLS", "SMTP_TLS", _choice("starttls", "ssl", "none"), "starttls",
            "starttls (STARTTLS on a plain connection), ssl (TLS from the start) or none "
            "(only for a relay on the same host or a test server)."),
    Setting("SMTP_USERNAME", "SMTP_USERNAME", _str, "",
            "User name for SMTP authentication (empty: no authentication)."),
    Setting("SMTP_PASSWORD", "SMTP_PASSWORD", _str, "",
            "Password for SMTP authentication.", secret=True),
    Setting("SMTP_FROM", "SMTP_FROM", _str, "",
            "Sender address of notifications, e.g. \"MicroCred <microcred@college.ca>\"."),
    Setting("SMTP_TIMEOUT_SECONDS", "SMTP_TIMEOUT_SECONDS", _positive_float, 10,
            "Deadline of one SMTP send (connect, TLS, authentication and the message); a "
            "send that fails is retried by a background job."),
)

_BY_NAME = {s.name: s for s in SETTINGS}
VALID_ENVS = ("development", "test", "production")


def _profile(env: str) -> Mapping[str, Any]:
    module = importlib.import_module(f"config.{env}")
    return {k: v for k, v in vars(module).items() if k.isupper()}


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve every declared setting. Raises ConfigurationError naming the bad setting."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    env = overrides.get("ENV") or environ.get("MICROCRED_ENV") or "production"
    if env not in VALID_ENVS:
        raise ConfigurationError(
            f"MICROCRED_ENV must be one of {', '.join(VALID_ENVS)} (got {env!r})."
        )
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    values.update(_profile(env))
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or (raw == "" and setting.name == "ENV"):
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigurationError(f"Setting {setting.env} is invalid: {exc}.") from None
    values.update(overrides)
    values["ENV"] = env
    if env != "test" and values.get("TEST_REMOTE_FETCH_ORIGINS"):
        # Lets the test suite fetch issuer documents from servers it runs on 127.0.0.1
        # (services.remote_issuers); never anywhere else.
        raise ConfigurationError("TEST_REMOTE_FETCH_ORIGINS is accepted by the test profile "
                                 "only.")
    if env == "production":
        for setting in SETTINGS:
            if setting.required_in_production and not values.get(setting.name):
                raise ConfigurationError(
                    f"Setting {setting.env} is required in production and is not set. "
                    f"{setting.doc}"
                )
        if values.get("SANDBOX_ENABLED"):
            raise ConfigurationError("SANDBOX_ENABLED must not be set in production.")
        if values.get("ALLOW_HTTP_ISSUERS"):
            raise ConfigurationError("ALLOW_HTTP_ISSUERS is a development setting; "
                                     "it is refused in production.")
        base = urlsplit(str(values["PUBLIC_BASE_URL"]).strip())
        if base.scheme != "https" or not base.hostname or base.query or base.fragment:
            raise ConfigurationError("Setting PUBLIC_BASE_URL must be an https:// URL "
                                     "(scheme and host, no query) in production.")
    return values


def describe() -> list[Setting]:
    return list(SETTINGS)


def get_setting(name: str) -> Setting:
    return _BY_NAME[name]
