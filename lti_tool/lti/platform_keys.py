"""Platform public keys: fetched from the platform's JWKS URL (or its static keyset), cached
in Redis for all workers and parsed once per process; refetched when a token names an
unknown ``kid`` (key rotation at the platform), at most once per interval per platform.

A fetch that fails (no answer within the HTTP deadline, an error, not a JWKS) is remembered
for ``failure_seconds`` per platform, in the shared store: launches from that platform are
refused at once meanwhile, instead of each holding a worker for the whole deadline. Anyone
can send an unsigned token naming a registered issuer, so without this memory a platform
whose JWKS URL hangs would let them tie up every worker.

JWKS: RFC 7517. LTI Security Framework §6.3 https://www.imsglobal.org/spec/security/v1p0/
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.errors import LaunchError, UpstreamError
from lti_tool.extensions import KeyValueStore
from lti_tool.services.http_client import HttpClient
from lti_tool.translate import gettext as _

log = logging.getLogger(__name__)


def _b64u_int(value: str) -> int:
    padded = value + "=" * (-len(value) % 4)
    return int.from_bytes(base64.urlsafe_b64decode(padded), "big")


@dataclass(frozen=True)
class PlatformKey:
    kid: str
    alg: str
    key: rsa.RSAPublicKey


def parse_jwks(doc: Any) -> dict[str, PlatformKey]:
    """RSA signing keys by kid. Keys of other types or uses are skipped, not trusted."""
    keys: dict[str, PlatformKey] = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError("not a JWKS document")
    for jwk in doc["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            continue
        if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid"), str):
            continue
        try:
            public = rsa.RSAPublicNumbers(_b64u_int(jwk["e"]), _b64u_int(jwk["n"])).public_key()
        except (KeyError, ValueError, TypeError):
            continue
        if public.key_size < 2048:
            continue  # too weak to trust
        keys[jwk["kid"]] = PlatformKey(jwk["kid"], str(jwk.get("alg") or "RS256"), public)
    return keys


class PlatformKeyCache:
    def __init__(self, kv: KeyValueStore, http: HttpClient, *, cache_seconds: int,
                 refetch_interval: int, failure_seconds: int = 30) -> None:
        self.kv = kv
        self.http = http
        self.cache_seconds = cache_seconds
        self.refetch_interval = refetch_interval
        self.failure_seconds = failure_seconds
        self._parsed: dict[str, tuple[float, dict[str, PlatformKey]]] = {}
        self._lock = threading.Lock()

    def _remember(self, cache_key: str, keys: dict[str, PlatformKey]) -> None:
        with self._lock:
            self._parsed[cache_key] = (time.monotonic() + self.cache_seconds, keys)

    def _fetch(self, platform_id: int, url: str) -> dict[str, PlatformKey]:
        failed_key = f"jwks-failed:{platform_id}:{url}"
        if self.failure_seconds and self.kv.get(failed_key) is not None:
            raise LaunchError(
                _("MicroCred could not fetch the platform's public keys a moment ago, so it "
                "cannot check this launch yet. Please try again in a minute; if this "
                "persists, tell the platform's administrator."), code="jwks_unreachable",
                log_detail="recently failed (remembered)")
        try:
            doc = self.http.get_json(url)
            keys = parse_jwks(doc)
        except UpstreamError as exc:
            self._remember_failure(platform_id, failed_key, exc.log_detail or "unreachable")
            raise LaunchError(
                _("MicroCred could not fetch the platform's public keys to check this launch. "
                "Please try again in a moment."), log_detail=exc.log_detail,
                code="jwks_unreachable",
            ) from None
        except ValueError:
            self._remember_failure(platform_id, failed_key, "not a JWKS")
            raise LaunchError(_("The platform's public key set is not a valid JWKS."),
                              code="jwks_invalid") from None
        self.kv.set(f"jwks:{platform_id}:{url}", json.dumps(doc), self.cache_seconds)
        return keys

    def _remember_failure(self, platform_id: int, failed_key: str, why: str) -> None:
        if not self.failure_seconds:
            return
        self.kv.set(failed_key, why, self.failure_seconds)
        log.warning("JWKS of platform %s could not be fetched (%s): its launches are refused "
                    "for %d s", platform_id, why, self.failure_seconds,
                    extra={"event": "jwks.failed", "platform_id": platform_id})

    def key_for(self, platform_id: int, jwks_url: str | None,
                static_jwks: dict[str, Any] | None, kid: str) -> PlatformKey | None:
        """The key named ``kid``, or None if the platform does not publish it."""
        if static_jwks:
            cache_key = f"static:{platform_id}:{hash(json.dumps(static_jwks, sort_keys=True))}"
            entry = self._parsed.get(cache_key)
            if entry is None:
                static_keys = parse_jwks(static_jwks)
                self._remember(cache_key, static_keys)
            else:
                static_keys = entry[1]
            return static_keys.get(kid)
        if not jwks_url:
            return None
        cache_key = f"{platform_id}:{jwks_url}"
        entry = self._parsed.get(cache_key)
        keys: dict[str, PlatformKey] | None = None
        if entry is not None and entry[0] > time.monotonic():
            keys = entry[1]
        if keys is None:
            keys = self._shared(cache_key)
            if keys is None:
                keys = self._fetch(platform_id, jwks_url)
            self._remember(cache_key, keys)
        if kid in keys:
            return keys[kid]
        # Unknown kid: the platform may have rotated. Refetch, rate-limited across workers.
        if self.kv.set(f"jwks-refetch:{cache_key}", "1", self.refetch_interval,
                       only_if_absent=True):
            log.info("unknown kid for platform %s: refetching its JWKS", platform_id)
            keys = self._fetch(platform_id, jwks_url)
            self._remember(cache_key, keys)
            return keys.get(kid)
        # Another worker refetched within the interval: its keys are in the shared cache,
        # while this process may still hold the set from before the rotation.
        shared = self._shared(cache_key)
        if shared is not None and kid in shared:
            self._remember(cache_key, shared)
            return shared[kid]
        return None

    def _shared(self, cache_key: str) -> dict[str, PlatformKey] | None:
        raw = self.kv.get(f"jwks:{cache_key}")
        if raw is None:
            return None
        try:
            return parse_jwks(json.loads(raw))
        except ValueError:
            return None

    def forget(self) -> None:
        with self._lock:
            self._parsed.clear()
