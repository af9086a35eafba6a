"""The LTI runtime bound to the app: store, platform key cache, key vault, HTTP client and
launch tokens, created once per process (keys are loaded once, not per request)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from lti_tool.lti.launch import LaunchTokens
from lti_tool.lti.platform_keys import PlatformKeyCache
from lti_tool.lti.storage import LaunchStore
from lti_tool.lti.validation import ValidatorSettings
from lti_tool.services.http_client import HttpClient
from lti_tool.services.keys import KeyVault


@dataclass
class LtiRuntime:
    store: LaunchStore
    platform_keys: PlatformKeyCache
    vault: KeyVault
    http: HttpClient
    tokens: LaunchTokens
    validator_settings: ValidatorSettings
    base_url: str

    @property
    def launch_url(self) -> str:
        return self.base_url + "/lti/launch"

    @property
    def login_url(self) -> str:
        return self.base_url + "/lti/login"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/.well-known/jwks.json"


def init_runtime(app: Flask) -> None:
    cfg = app.config
    http = HttpClient(timeout=cfg["HTTP_TIMEOUT_SECONDS"])
    kv = app.extensions["kv"]
    base = cfg["PUBLIC_BASE_URL"]
    app.extensions["lti"] = LtiRuntime(
        store=LaunchStore(kv),
        platform_keys=PlatformKeyCache(kv, http, cache_seconds=cfg["JWKS_CACHE_SECONDS"],
                                       refetch_interval=cfg["JWKS_REFETCH_INTERVAL_SECONDS"],
                                       failure_seconds=cfg["JWKS_FAILURE_CACHE_SECONDS"]),
        vault=KeyVault(cfg["KEY_ENCRYPTION_KEY"] or cfg["SECRET_KEY"]),
        http=http,
        tokens=LaunchTokens(cfg["SECRET_KEY"], cfg["LAUNCH_TTL_SECONDS"]),
        validator_settings=ValidatorSettings(
            base_url=base, launch_url=base + "/lti/launch", clock_skew=cfg["CLOCK_SKEW_SECONDS"],
            max_iat_age=cfg["MAX_IAT_AGE_SECONDS"], login_ttl=cfg["LOGIN_STATE_TTL_SECONDS"],
        ),
        base_url=base,
    )


def runtime() -> LtiRuntime:
    rt: LtiRuntime = current_app.extensions["lti"]
    return rt
