"""Rate limits (counted in the test Redis, per test key prefix): past the limit a request
gets 429 with Retry-After and a clear page or JSON, and a `refused: rate_limited` log
line; each route's budget is its own (logins per address, the API per token, the two
verify routes one budget per address), and /healthz is never limited."""

from __future__ import annotations

import pytest

from tests.support.api import Api, make_issuer, make_token
from tests.support.attacks import assert_refused, refusal_of


@pytest.fixture()
def low_limits(app, monkeypatch):
    for name in ("RATE_LIMIT_LOGIN", "RATE_LIMIT_API", "RATE_LIMIT_VERIFY",
                 "RATE_LIMIT_REGISTER"):
        monkeypatch.setitem(app.config, name, "3 per minute")
    return app


def _login(client, platform):
    return client.get("/lti/login", query_string={
        "iss": platform.issuer, "login_hint": "3", "client_id": platform.client_id,
        "target_link_uri": "http://tool.test/lti/launch"})


def test_logins_past_the_limit_get_429_with_retry_after(low_limits, client, platform, caplog):
    for _ in range(3):
        assert _login(client, platform).status_code == 302
    refused = _login(client, platform)
    assert_refused(refused, "rate_limited", caplog, "too many requests", status=429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 61  # within the minute's window
    # The cookie-check step counts against the same budget.
    assert client.get("/lti/login/check", query_string={"state": "x"}).status_code == 429
    # Another address has its own budget.
    other = client.get("/lti/login", query_string={"iss": platform.issuer},
                       environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 400  # refused for its own reason, not rate limited


def test_the_api_is_limited_per_token(low_limits, client, db):
    issuer = make_issuer(db)
    first, second = Api(client, make_token(db, issuer)), Api(client, make_token(db, issuer))
    for _ in range(3):
        assert first.get("/api/v1/skills").status_code == 200
    refused = first.get("/api/v1/skills")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert second.get("/api/v1/skills").status_code == 200  # its own budget


def test_both_verify_routes_share_one_budget_and_showing_the_form_is_free(low_limits,
                                                                          client):
    for _ in range(5):
        assert client.get("/verify").status_code == 200
    assert client.post("/api/v1/verify", data=b"{}",
                       content_type="application/json").status_code != 429
    for _ in range(2):
        assert client.post("/verify", data={}).status_code != 429
    refused = client.post("/api/v1/verify", data=b"{}", content_type="application/json")
    assert refused.status_code == 429
    assert refusal_of(refused).code == "rate_limited"
    assert client.post("/verify", data={}).status_code == 429


def test_registration_is_limited(low_limits, client):
    for _ in range(3):
        assert client.get("/lti/register").status_code != 429
    assert client.get("/lti/register").status_code == 429


def test_health_checks_are_never_limited(low_limits, client):
    for _ in range(10):
        assert client.get("/healthz").status_code == 200


def test_failed_logins_spend_the_budget_and_a_refused_login_stores_nothing(
        low_limits, client, platform):
    kv = low_limits.extensions["kv"]
    # Two malformed logins (400) and one good one use up the three.
    for _ in range(2):
        assert client.get("/lti/login", query_string={"iss": platform.issuer}).status_code == 400
    assert _login(client, platform).status_code == 302
    stored = _state_keys(kv)
    refused = _login(client, platform)
    assert refused.status_code == 429
    assert _state_keys(kv) == stored  # no state or nonce left behind by the refused one
    # The same process refuses the address again without spending anything more.
    assert _login(client, platform).status_code == 429


def _state_keys(kv):
    client = getattr(kv, "client", None)
    if client is None:  # the in-process store
        return sorted(k for k in kv._data if k.startswith(("state:", "nonce:")))
    return sorted(client.keys(kv.prefix + "state:*") + client.keys(kv.prefix + "nonce:*"))


@pytest.mark.parametrize("where", ["redis", "memory"])
def test_the_budget_slides_over_the_previous_window(app, where):
    """Sliding window counter: what was spent in the previous window still counts, in
    proportion to how much of that window the last minute still covers (the Lua script
    and the in-process store agree)."""
    from lti_tool.extensions import Budget, MemoryStore

    store = MemoryStore() if where == "memory" else app.extensions["kv"]
    budget = Budget(key="rl-login:203.0.113.9", limit=10, window=60)
    _current, previous, weight = budget.keys_at(1_000_040.0)  # 20 s into a window
    assert abs(weight - 40 / 60) < 1e-9
    store.set(previous, "9", 120)  # 9 spent in the previous window: 6 still count
    import lti_tool.extensions as extensions

    spent = []
    real_time = extensions.time.time
    try:
        extensions.time.time = lambda: 1_000_040.0  # type: ignore[assignment]
        while store.spend_then_set(budget, []) >= 0:
            spent.append(1)
    finally:
        extensions.time.time = real_time  # type: ignore[assignment]
    assert len(spent) == 4  # 6 + 4 = 10
