"""The key-value stores' multi-key operations behave the same on Redis and in memory:
``take_once`` is what makes a launch's state, nonce and id_token single-use."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from lti_tool.extensions import KeyValueStore, MemoryStore, RedisStore, redis_client


@pytest.fixture(params=["memory", "redis"])
def kv(request: pytest.FixtureRequest) -> Iterator[KeyValueStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    client = redis_client(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
                          timeout=2)
    prefix = f"t-kv-{secrets.token_hex(4)}:"
    yield RedisStore(client, prefix=prefix)
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)


def test_take_once_takes_the_value_and_sets_every_mark(kv: KeyValueStore) -> None:
    kv.set("state:a", "login", 60)
    assert kv.take_once("used:a", "state:a", 60, [("nonce:n", 60), ("token:t", 60)]) == \
        ("login", 0)
    assert kv.get("state:a") is None
    assert kv.get("used:a") == "1"
    assert kv.get("nonce:n") == "1" and kv.get("token:t") == "1"


def test_take_once_of_a_missing_value_leaves_the_tombstone_and_no_mark(
        kv: KeyValueStore) -> None:
    assert kv.take_once("used:b", "state:b", 60, [("nonce:m", 60)]) == (None, 0)
    assert kv.get("used:b") == "1"
    assert kv.get("nonce:m") is None


def test_take_once_reports_the_first_mark_already_set(kv: KeyValueStore) -> None:
    kv.set("state:c", "login", 60)
    kv.set("token:u", "1", 60)
    assert kv.take_once("used:c", "state:c", 60, [("nonce:o", 60), ("token:u", 60)]) == \
        ("login", 2)
    assert kv.get("state:c") is None and kv.get("nonce:o") == "1"
    kv.set("state:d", "again", 60)
    assert kv.take_once("used:d", "state:d", 60, [("nonce:o", 60), ("token:v", 60)]) == \
        ("again", 1)
    assert kv.get("token:v") is None  # stopped at the nonce already used


def test_get_many_and_set_many(kv: KeyValueStore) -> None:
    kv.set_many([("x", "1", 60), ("y", "2", 60)])
    assert kv.get_many(["x", "missing", "y"]) == ["1", None, "2"]
    assert kv.incr("counter") == 1 and kv.incr("counter") == 2
