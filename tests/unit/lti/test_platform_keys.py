"""Platform public keys: which JWKS entries are trusted, and the cache shared by workers
(one fetch, one rate-limited refetch on an unknown kid, rotation seen by every worker).

Two ``PlatformKeyCache`` objects over one store stand for two worker processes sharing
Redis; the in-process ``MemoryStore`` keeps these tests free of servers.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.errors import LaunchError
from lti_tool.extensions import MemoryStore
from lti_tool.lti.platform_keys import PlatformKeyCache, parse_jwks
from lti_tool.services.http_client import HttpClient
from tests.support.platform import FakeTransport, jwk_of, rsa_key

JWKS_URL = "https://lms.test/jwks"


@pytest.fixture()
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture()
def jwks() -> dict[str, Any]:
    return {"keys": [jwk_of(rsa_key("platform-a"), "k1")]}


@pytest.fixture()
def store() -> MemoryStore:
    return MemoryStore()


def _worker(store: MemoryStore, transport: FakeTransport, jwks: dict[str, Any]
            ) -> PlatformKeyCache:
    session = requests.Session()
    session.mount("https://", transport)
    transport.add("GET", JWKS_URL, lambda _req: (200, jwks))
    return PlatformKeyCache(store, HttpClient(timeout=1, session=session), cache_seconds=3600,
                            refetch_interval=30)


def _public_numbers(key: rsa.RSAPublicKey) -> rsa.RSAPublicNumbers:
    return key.public_numbers()


def test_parse_jwks_trusts_only_rsa_signing_keys_with_a_kid():
    good = jwk_of(rsa_key("platform-a"), "good")
    weak = jwk_of(rsa.generate_private_key(public_exponent=65537, key_size=1024), "weak")
    keys = parse_jwks({"keys": [
        good,
        {**good, "kid": "for-encryption", "use": "enc"},
        {**good, "kid": None},
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        {**good, "kid": "no-modulus", "n": None},
        weak,
        "not a key",
    ]})
    assert set(keys) == {"good"}
    assert _public_numbers(keys["good"].key) == rsa_key("platform-a").public_key().public_numbers()
    assert keys["good"].alg == "RS256"


def test_parse_jwks_keeps_the_published_algorithm():
    keys = parse_jwks({"keys": [jwk_of(rsa_key("platform-a"), "k", alg="RS512")]})
    assert keys["k"].alg == "RS512"  # the validator refuses anything but RS256


@pytest.mark.parametrize("doc", [None, [], {}, {"keys": "k1"}, "keys"])
def test_parse_jwks_refuses_what_is_not_a_key_set(doc):
    with pytest.raises(ValueError):
        parse_jwks(doc)


def test_keys_are_fetched_once_for_all_workers(store, transport, jwks):
    first, second = _worker(store, transport, jwks), _worker(store, transport, jwks)
    assert first.key_for(1, JWKS_URL, None, "k1") is not None
    assert first.key_for(1, JWKS_URL, None, "k1") is not None
    assert second.key_for(1, JWKS_URL, None, "k1") is not None
    assert transport.hits[JWKS_URL] == 1


def test_keys_are_parsed_once_per_process(store, transport, jwks, monkeypatch):
    """Launches must not pay for a Redis read and a JWKS parse each time."""
    cache = _worker(store, transport, jwks)
    assert cache.key_for(1, JWKS_URL, None, "k1") is not None
    reads: list[str] = []
    get = store.get
    monkeypatch.setattr(store, "get", lambda key: reads.append(key) or get(key))
    for _ in range(3):
        assert cache.key_for(1, JWKS_URL, None, "k1") is not None
    assert reads == []


def test_unknown_kid_refetches_once_per_interval(store, transport, jwks):
    cache = _worker(store, transport, jwks)
    assert cache.key_for(1, JWKS_URL, None, "k1") is not None
    assert cache.key_for(1, JWKS_URL, None, "unknown-1") is None
    assert transport.hits[JWKS_URL] == 2
    assert cache.key_for(1, JWKS_URL, None, "unknown-2") is None
    assert transport.hits[JWKS_URL] == 2


def test_refetch_interval_is_per_platform(store, transport, jwks):
    cache = _worker(store, transport, jwks)
    for platform_id in (1, 2):
        assert cache.key_for(platform_id, JWKS_URL, None, "unknown") is None
    assert transport.hits[JWKS_URL] == 4  # a first fetch and one refetch for each


def test_rotation_fetched_by_one_worker_is_used_by_the_other(store, transport, jwks):
    first, second = _worker(store, transport, jwks), _worker(store, transport, jwks)
    assert first.key_for(1, JWKS_URL, None, "k1") and second.key_for(1, JWKS_URL, None, "k1")
    jwks["keys"].append(jwk_of(rsa_key("platform-a-2"), "k2"))
    assert first.key_for(1, JWKS_URL, None, "k2") is not None
    assert second.key_for(1, JWKS_URL, None, "k2") is not None
    assert transport.hits[JWKS_URL] == 2


def test_static_keyset_needs_no_fetch(store, transport, jwks):
    cache = _worker(store, transport, jwks)
    static = {"keys": [jwk_of(rsa_key("platform-a-2"), "static")]}
    assert cache.key_for(1, JWKS_URL, static, "static") is not None
    assert cache.key_for(1, JWKS_URL, static, "k1") is None
    assert cache.key_for(1, None, None, "k1") is None
    assert JWKS_URL not in transport.hits


@pytest.mark.parametrize(("answer", "code"), [
    (None, "jwks_unreachable"), ((500, {}), "jwks_unreachable"),
    ((200, {"keys": "none"}), "jwks_invalid"), ((200, b"<html>"), "jwks_unreachable"),
])
def test_unavailable_key_set_is_a_launch_error(store, transport, jwks, answer, code):
    cache = _worker(store, transport, jwks)
    if answer is None:
        del transport.routes[("GET", JWKS_URL)]
    else:
        transport.add("GET", JWKS_URL, lambda _req: answer)
    with pytest.raises(LaunchError) as raised:
        cache.key_for(1, JWKS_URL, None, "k1")
    assert raised.value.code == code
    assert raised.value.status_code == 400
    assert store.get(f"jwks:1:{JWKS_URL}") is None  # a failure is not cached


def test_a_failed_fetch_is_remembered_per_platform(store, transport, jwks):
    """The next launches from that platform are refused at once (no second wait), another
    platform is not affected, and the keys are fetched again once the memory expires."""
    cache = _worker(store, transport, jwks)
    cache.failure_seconds = 1
    del transport.routes[("GET", JWKS_URL)]
    with pytest.raises(LaunchError) as first:
        cache.key_for(1, JWKS_URL, None, "k1")
    with pytest.raises(LaunchError) as second:
        cache.key_for(1, JWKS_URL, None, "k1")
    assert first.value.code == second.value.code == "jwks_unreachable"
    assert "a moment ago" in second.value.public_message
    assert transport.hits[JWKS_URL] == 1
    transport.add("GET", JWKS_URL, lambda _req: (200, jwks))
    assert cache.key_for(2, JWKS_URL, None, "k1") is not None  # another platform
    assert transport.hits[JWKS_URL] == 2
    import time

    time.sleep(1.1)
    assert cache.key_for(1, JWKS_URL, None, "k1") is not None
    assert transport.hits[JWKS_URL] == 3


def test_the_failure_memory_can_be_turned_off(store, transport, jwks):
    cache = _worker(store, transport, jwks)
    cache.failure_seconds = 0
    del transport.routes[("GET", JWKS_URL)]
    for _ in range(2):
        with pytest.raises(LaunchError):
            cache.key_for(1, JWKS_URL, None, "k1")
    assert transport.hits[JWKS_URL] == 2
