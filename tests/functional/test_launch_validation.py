"""Launch security: every way an id_token POSTed to /lti/launch must be refused, each with
its own error code, a message a person can act on, a WARNING log line, and nothing stored;
the few near-misses that must still be accepted; several workers sharing one Redis; and the
platform key (JWKS) cache.

Spec: https://www.imsglobal.org/spec/security/v1p0/#authentication-response-validation
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from lti_tool import create_app
from lti_tool.lti.storage import LaunchStore
from lti_tool.models import AuditEvent, Context, Deployment, LearnerAccount, ResourceLink
from tests.conftest import bind_app, register_platform
from tests.support.attacks import (
    Snapshot,
    assert_nothing_stored,
    assert_refused,
    claims_for,
    committed_rows_removed,
    encode_segment,
    hs256_with_public_key,
    launch_sessions,
    launch_with,
    refusal_of,
    segments,
    snapshot,
    tamper,
    unsecured,
    with_header,
)
from tests.support.lti import LAUNCH_URL, TOOL, Login, follow, login, post_launch
from tests.support.platform import REMOVE, FakeTransport, TestPlatform, jwk_of, new_nonce, rsa_key

DEEP_LINKING = "instructor_deeplinking_claims_INTROPROG.json"


@pytest.fixture()
def started(client: FlaskClient, platform: TestPlatform) -> Login:
    return login(client, platform)


@pytest.fixture()
def before(app: Flask, db: Session, started: Login) -> Snapshot:
    """What is stored once the login has happened and before the launch arrives."""
    return snapshot(app, db)


def _accepted(response: TestResponse) -> None:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].startswith("/app?lt=")


# -- claims ----------------------------------------------------------------------------------
Changes = Callable[[TestPlatform, int], dict[str, Any]]

CLAIM_CASES: list[tuple[str, str, Changes, str]] = [
    # code, claims fixture, changes (platform, now), words the page must say
    ("expired", "", lambda p, now: {"iat": now - 120, "exp": now - 60}, "expired"),
    ("missing_exp", "", lambda p, now: {"exp": REMOVE}, "expiry"),
    ("missing_exp", "", lambda p, now: {"exp": "tomorrow"}, "expiry"),
    ("missing_iat", "", lambda p, now: {"iat": REMOVE}, "issue time"),
    ("iat_in_future", "", lambda p, now: {"iat": now + 60, "exp": now + 120}, "future"),
    ("iat_too_old", "", lambda p, now: {"iat": now - 400}, "too long ago"),
    ("not_yet_valid", "", lambda p, now: {"nbf": now + 60}, "not valid yet"),
    ("bad_nbf", "", lambda p, now: {"nbf": "soon"}, "not-before"),
    ("bad_version", "", lambda p, now: {"version": "1.1.0"}, "LTI 1.3.0"),
    ("bad_version", "", lambda p, now: {"version": REMOVE}, "LTI 1.3.0"),
    ("bad_message_type", "", lambda p, now: {"message_type": "LtiSubmissionReviewRequest"},
     "kind of LTI message"),
    ("missing_sub", DEEP_LINKING, lambda p, now: {"sub": REMOVE}, "identify the user"),
    ("missing_sub", "", lambda p, now: {"sub": ""}, "identify the user"),
    ("bad_target_link_uri", "",
     lambda p, now: {"target_link_uri": "https://evil.test/lti/launch"}, "another tool"),
    ("target_link_uri_mismatch", "", lambda p, now: {"target_link_uri": TOOL + "/app"},
     "differs from the login"),
    ("unknown_issuer", "", lambda p, now: {"iss": "https://unknown-lms.test"},
     "not registered"),
    ("missing_iss", "", lambda p, now: {"iss": REMOVE}, "which platform"),
    ("unknown_client_id", "", lambda p, now: {"aud": "another-client"}, "client id"),
    ("unknown_client_id", "", lambda p, now: {"aud": ["another-client", "third"],
                                               "azp": "another-client"}, "client id"),
    ("azp_required", "", lambda p, now: {"aud": [p.client_id, "other-client"]},
     "authorized party"),
    ("azp_not_in_aud", "", lambda p, now: {"azp": "other-client"}, "authorized party"),
    ("unknown_client_id", "", lambda p, now: {"aud": [p.client_id, "other-client"],
                                               "azp": "other-client"}, "client id"),
    ("bad_aud", "", lambda p, now: {"aud": []}, "audience"),
    ("bad_aud", "", lambda p, now: {"aud": REMOVE}, "audience"),
    ("bad_azp", "", lambda p, now: {"azp": 7}, "authorized party"),
    ("unknown_deployment", "", lambda p, now: {"deployment_id": "999"}, "Deployment 999"),
    ("missing_deployment_id", "", lambda p, now: {"deployment_id": REMOVE}, "deployment id"),
    ("bad_roles", "", lambda p, now: {"roles": "Instructor"}, "roles"),
    ("bad_message", "", lambda p, now: {"roles": REMOVE}, "incomplete"),
    ("missing_resource_link", "", lambda p, now: {"resource_link": REMOVE}, "resource link"),
    ("missing_deep_linking_settings", DEEP_LINKING,
     lambda p, now: {"deep_linking_settings": REMOVE}, "return URL"),
    ("missing_nonce", "", lambda p, now: {"nonce": REMOVE}, "nonce"),
    ("nonce_unknown", "", lambda p, now: {"nonce": new_nonce()}, "not issued by MicroCred"),
    # identifying text that cannot be stored (PostgreSQL refuses NUL; UTF-8 has no lone
    # surrogates): refused, never a 500 and never silently changed
    ("unstorable_characters", "", lambda p, now: {"sub": "2\x00"}, "cannot store"),
    ("unstorable_characters", "", lambda p, now: {"sub": "2\ud800"}, "sub contains"),
    ("unstorable_characters", "", lambda p, now: {"email": "a\x00@example.edu"},
     "email contains"),
    ("unstorable_characters", "", lambda p, now: {"context": {
        "id": "\udfff", "title": "Intro"}}, "context.id"),
]


@pytest.mark.parametrize(("code", "fixture", "changes", "words"), CLAIM_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CLAIM_CASES)])
def test_bad_claims_are_refused_and_nothing_is_stored(
        app, db, client, platform, started, before, caplog, code, fixture, changes, words):
    body = claims_for(platform, started, fixture or "instructor_claims_INTROPROG.json",
                      **changes(platform, int(time.time())))
    response = post_launch(client, platform.sign(body), started.state)
    assert_refused(response, code, caplog, words)
    assert_nothing_stored(app, db, before)


def test_refused_launch_answers_json_with_the_code_when_asked(
        app, db, client, platform, started, before, caplog):
    body = claims_for(platform, started, exp=int(time.time()) - 60)
    response = client.post("/lti/launch", data={"id_token": platform.sign(body),
                                                "state": started.state},
                           headers={"Accept": "application/json"})
    assert response.is_json
    assert assert_refused(response, "expired", caplog, "expired").status == 400
    assert_nothing_stored(app, db, before)


# -- algorithm, signature and shape ------------------------------------------------------------
def _tampered(p: TestPlatform, body: dict[str, Any]) -> str:
    return tamper(p.sign(body), sub="2", **{
        "https://purl.imsglobal.org/spec/lti/claim/roles":
            ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"]})


TOKEN_CASES: list[tuple[str, str, Callable[[TestPlatform, dict[str, Any]], str], str]] = [
    ("alg none", "bad_alg", lambda p, b: unsecured(b, p.kid), "only RS256"),
    ("HS256 keyed with the public key", "bad_alg", hs256_with_public_key, "only RS256"),
    ("RS512 header", "bad_alg", lambda p, b: p.sign(b, header={"alg": "RS512"}), "RS256"),
    ("PS256 header", "bad_alg", lambda p, b: p.sign(b, header={"alg": "PS256"}), "RS256"),
    ("ES256 header", "bad_alg", lambda p, b: p.sign(b, header={"alg": "ES256"}), "RS256"),
    ("no alg", "bad_alg", lambda p, b: with_header(p, b, {"typ": "JWT", "kid": p.kid}),
     "RS256"),
    ("crit header", "bad_header", lambda p, b: p.sign(b, header={"crit": ["exp"]}),
     "unsupported header"),
    ("payload changed after signing", "bad_signature", _tampered, "altered"),
    ("attacker key under the platform's kid", "bad_signature",
     lambda p, b: p.sign(b, key=rsa_key("attacker")), "altered"),
    ("key the platform does not publish", "unknown_signing_key",
     lambda p, b: p.sign(b, key=rsa_key("attacker"), header={"kid": "kid-attacker"}),
     "does not publish"),
    ("no kid", "missing_kid", lambda p, b: with_header(p, b, {"alg": "RS256"}),
     "signing key"),
    ("two segments", "malformed_id_token", lambda p, b: p.sign(b).rsplit(".", 1)[0],
     "signed JWT"),
    ("not a JWT", "malformed_id_token", lambda p, b: "not-a-jwt", "signed JWT"),
    ("not base64url", "malformed_id_token", lambda p, b: "e30.e30+.abc/", "decoded"),
    # the same signature in another spelling would make a new token string out of a used one
    ("padded signature", "malformed_id_token", lambda p, b: p.sign(b) + "==", "decoded"),
    ("payload not JSON", "malformed_id_token",
     lambda p, b: f"{segments(p.sign(b))[0]}.bm90IGpzb24.{segments(p.sign(b))[2]}", "decoded"),
    ("payload a JSON array", "malformed_id_token",
     lambda p, b: f"{segments(p.sign(b))[0]}.WzEsMl0.{segments(p.sign(b))[2]}", "JSON object"),
    ("header a JSON string", "malformed_id_token",
     lambda p, b: f"ImFiYyI.{encode_segment(b)}.c2ln", "JSON object"),
]


@pytest.mark.parametrize(("attack", "code", "forge", "words"), TOKEN_CASES,
                         ids=[c[0] for c in TOKEN_CASES])
def test_forged_tokens_are_refused_and_nothing_is_stored(
        app, db, client, platform, started, before, caplog, attack, code, forge, words):
    token = forge(platform, claims_for(platform, started))
    assert_refused(post_launch(client, token, started.state), code, caplog, words)
    assert_nothing_stored(app, db, before)


@pytest.mark.parametrize(("form", "code", "words"), [
    ({"state": "s"}, "missing_id_token", "no id_token"),
    ({"id_token": "a" * (64 * 1024 + 1), "state": "s"}, "id_token_too_large", "too large"),
    ({"error": "login_required", "error_description": "Please log in to Moodle",
      "state": "s"}, "platform_error", "Please log in to Moodle"),
], ids=["missing_id_token", "id_token_too_large", "platform_error"])
def test_bad_launch_forms_are_refused(app, db, client, started, before, caplog, form, code,
                                      words):
    assert_refused(client.post("/lti/launch", data=form), code, caplog, words)
    assert_nothing_stored(app, db, before)


def test_launch_without_state_is_refused(app, db, client, platform, started, before, caplog):
    token = platform.sign(claims_for(platform, started))
    response = client.post("/lti/launch", data={"id_token": token})
    assert_refused(response, "state_missing", caplog, "did not start with a login")
    assert_nothing_stored(app, db, before)


def test_state_from_no_login_is_refused(app, db, client, platform, started, before, caplog):
    token = platform.sign(claims_for(platform, started))
    response = post_launch(client, token, "state-we-never-issued")
    assert_refused(response, "state_unknown", caplog, "unknown or expired state")
    assert_nothing_stored(app, db, before)


def test_launch_get_is_refused(client, caplog):
    assert_refused(client.get("/lti/launch"), "launch_not_post", caplog, "from your course")


# -- one-time use and binding ---------------------------------------------------------------
def _browser_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("mc_browser")
    assert cookie is not None
    return cookie.value


@pytest.mark.parametrize("with_cookie", [True, False], ids=["same-browser", "no-cookie"])
def test_replayed_id_token_is_refused(app, db, client, platform, started, caplog,
                                      with_cookie):
    token = platform.sign(claims_for(platform, started))
    _accepted(post_launch(client, token, started.state))
    before = snapshot(app, db)
    caplog.clear()
    replayer = client if with_cookie else app.test_client()
    response = post_launch(replayer, token, started.state)
    assert_refused(response, "id_token_replayed", caplog, "already been used")
    assert_nothing_stored(app, db, before)


def test_replayed_state_with_freshly_signed_token_is_refused(app, db, client, platform,
                                                            started, caplog):
    _accepted(launch_with(client, platform, started))
    before = snapshot(app, db)
    caplog.clear()
    fresh = platform.sign(claims_for(platform, started, jti=new_nonce()))
    assert_refused(post_launch(client, fresh, started.state), "state_replayed", caplog,
                   "already been used")
    assert_nothing_stored(app, db, before)


def test_nonce_of_a_completed_launch_is_refused(app, db, client, platform, started, caplog):
    _accepted(launch_with(client, platform, started))
    second = login(client, platform)
    before = snapshot(app, db)
    caplog.clear()
    token = platform.sign(claims_for(platform, second, nonce=started.nonce, jti=new_nonce()))
    assert_refused(post_launch(client, token, second.state), "nonce_replayed", caplog,
                   "already been used")
    assert_nothing_stored(app, db, before)


def test_nonce_of_another_login_is_refused(app, db, client, platform, started, caplog):
    other = login(client, platform)
    before = snapshot(app, db)
    token = platform.sign(claims_for(platform, started, nonce=other.nonce))
    assert_refused(post_launch(client, token, started.state), "nonce_mismatch", caplog,
                   "different login")
    assert_nothing_stored(app, db, before)


def test_state_from_another_browser_is_refused(app, db, client, platform, started, before,
                                               caplog):
    victim = app.test_client()
    victim.set_cookie("mc_browser", "victim-browser-cookie-0123456789")
    response = post_launch(victim, platform.sign(claims_for(platform, started)), started.state)
    assert_refused(response, "state_mismatch", caplog, "another browser")
    assert_nothing_stored(app, db, before)


def test_state_of_another_platform_is_refused(app, db, client, platform, transport, started,
                                              caplog):
    other = TestPlatform(issuer="https://other-lms.test", client_id="other-client")
    register_platform(db, other, transport, name="Other LMS")
    before = snapshot(app, db)
    token = other.sign(other.claims(nonce=started.nonce, target_link_uri=LAUNCH_URL))
    assert_refused(post_launch(client, token, started.state), "state_platform_mismatch",
                   caplog, "different platform")
    assert_nothing_stored(app, db, before)


def test_nonce_taken_by_another_worker_at_the_last_moment_is_refused(
        app, db, client, platform, started, before, caplog, monkeypatch):
    """The final SET NX on the nonce: another worker used it after our checks passed."""
    consume = LaunchStore.consume

    def lose_nonce_then_consume(self: LaunchStore, *args: Any, **kwargs: Any) -> Any:
        self.use_nonce(started.nonce, 60)
        return consume(self, *args, **kwargs)

    monkeypatch.setattr(LaunchStore, "consume", lose_nonce_then_consume)
    response = launch_with(client, platform, started)
    assert_refused(response, "nonce_replayed", caplog, "already been used")
    assert snapshot(app, db).rows == before.rows
    assert not launch_sessions(app)


def test_id_token_taken_by_another_worker_at_the_last_moment_is_refused(
        app, db, client, platform, started, before, caplog, monkeypatch):
    """The final SET NX on the id_token: another worker used it after our checks passed."""
    consume = LaunchStore.consume
    token = platform.sign(claims_for(platform, started))

    def lose_token_then_consume(self: LaunchStore, *args: Any, **kwargs: Any) -> Any:
        self.use_token(token, 60)
        return consume(self, *args, **kwargs)

    monkeypatch.setattr(LaunchStore, "consume", lose_token_then_consume)
    assert_refused(post_launch(client, token, started.state), "id_token_replayed", caplog,
                   "already been used")
    assert snapshot(app, db).rows == before.rows
    assert not launch_sessions(app)


# -- near misses that must be accepted ---------------------------------------------------------
def test_small_clock_skew_is_accepted(client, platform, started):
    now = time.time()  # rounded so that each claim is at most 3 s off, never more
    _accepted(launch_with(client, platform, started, iat=math.floor(now) + 3,
                          exp=math.ceil(now) - 3))


def test_several_audiences_with_our_client_as_azp_is_accepted(client, platform, started):
    response = launch_with(client, platform, started, aud=[platform.client_id, "other"],
                           azp=platform.client_id)
    _accepted(response)
    assert follow(client, response).status_code == 200


def test_launch_without_browser_cookie_or_platform_storage_is_refused(
        app, db, platform, started, before, caplog):
    """Login CSRF: a launch that cannot be tied to the browser that logged in (no cookie,
    and no platform storage to prove it otherwise) is refused, and nothing is consumed."""
    response = launch_with(app.test_client(), platform, started)
    assert_refused(response, "launch_not_bound", caplog, "new window")
    assert_nothing_stored(app, db, before)


def test_anonymous_resource_link_launch_asks_to_sign_in_and_stores_no_account(
        app, db, client, platform, started, before):
    response = launch_with(client, platform, started, sub=REMOVE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sign-in needed" in page
    after = snapshot(app, db)
    assert after.rows["LearnerAccount"] == after.rows["Person"] == 0
    assert after.rows["AuditEvent"] == 0


# -- several workers -------------------------------------------------------------------------
def _mount(app: Flask, transport: FakeTransport) -> dict[str, Any]:
    session = app.extensions["lti"].http.session
    saved = dict(session.adapters)
    session.mount("https://", transport)
    session.mount("http://", transport)
    return saved


def _unmount(app: Flask, saved: dict[str, Any]) -> None:
    adapters = app.extensions["lti"].http.session.adapters
    adapters.clear()
    adapters.update(saved)


@pytest.fixture(scope="module")
def worker_b(base_app: Flask) -> Iterator[Flask]:
    """A second process's app: same settings, its own caches and Redis connection."""
    second = create_app({name: base_app.config[name] for name in
                         ("ENV", "DATABASE_URL", "REDIS_URL", "INSTANCE_PATH")})
    yield second
    second.extensions["db_engine"].dispose()


@pytest.fixture()
def app_b(app: Flask, worker_b: Flask, connection: Connection, redis_prefix: str,
          transport: FakeTransport) -> Iterator[Flask]:
    bind_app(worker_b, connection, redis_prefix)
    saved = _mount(worker_b, transport)
    yield worker_b
    _unmount(worker_b, saved)


def _same_browser(source: FlaskClient, app: Flask) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("mc_browser", _browser_cookie(source))
    return client


def test_login_on_one_worker_and_launch_on_another(app, app_b, client, platform, db):
    started = login(client, platform)
    on_b = _same_browser(client, app_b)
    response = launch_with(on_b, platform, started)
    _accepted(response)
    assert "Terry Teacher" in follow(on_b, response).get_data(as_text=True)
    # the launch session lives in Redis, so worker A serves the next page as well
    assert "Terry Teacher" in follow(client, response).get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 1


def test_replay_on_another_worker_is_refused(app, app_b, client, platform, db, caplog):
    started = login(client, platform)
    token = platform.sign(claims_for(platform, started))
    _accepted(post_launch(client, token, started.state))
    caplog.clear()
    response = post_launch(_same_browser(client, app_b), token, started.state)
    assert_refused(response, "id_token_replayed", caplog)
    assert db.scalar(select(func.count()).select_from(LearnerAccount)) == 1


@pytest.fixture()
def live_workers(base_app: Flask, worker_b: Flask, redis_prefix: str,
                 transport: FakeTransport) -> Iterator[tuple[Flask, Flask, TestPlatform]]:
    """Two workers on real, separate database connections (concurrent requests cannot
    share the test's rolled-back connection), so this data is committed and removed after."""
    engine: Engine = base_app.extensions["db_engine"]
    saved_maker = base_app.extensions["db_sessionmaker"]
    saved_adapters = _mount(worker_b, transport)
    try:
        with committed_rows_removed(engine):
            for worker in (base_app, worker_b):
                worker.extensions["db_sessionmaker"] = sessionmaker(
                    bind=engine, expire_on_commit=False)
                worker.extensions["kv"].prefix = redis_prefix
                worker.extensions["lti"].platform_keys.forget()
            test_platform = TestPlatform()
            with Session(engine) as session:
                register_platform(session, test_platform, transport)
            yield base_app, worker_b, test_platform
    finally:
        base_app.extensions["db_sessionmaker"] = saved_maker
        _unmount(worker_b, saved_adapters)


def _race(apps: tuple[Flask, Flask], platform: TestPlatform) -> list[TestResponse]:
    """The same id_token and state POSTed at the same moment, once to each worker."""
    first = apps[0].test_client()
    started = login(first, platform)
    clients = [first, _same_browser(first, apps[1])]
    token = platform.sign(claims_for(platform, started))
    start = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = post_launch(clients[index], token, started.state)
        except Exception as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(r, TestResponse) for r in results), results
    return results


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model)) or 0


def _skip_on_sqlite(app: Flask) -> None:
    if app.extensions["db_engine"].dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: worker B's launch waits at BEGIN IMMEDIATE "
                    "until worker A's has committed, so B cannot look at the state while A "
                    "holds it (test_concurrent_twins_yield_one_launch covers SQLite)")


def _one_winner(results: list[TestResponse], engine: Engine, app: Flask) -> TestResponse:
    winners = [r for r in results if r.status_code == 303]
    losers = [r for r in results if r.status_code != 303]
    assert len(winners) == 1 and len(losers) == 1, [r.status_code for r in results]
    assert _count(engine, LearnerAccount) == 1
    assert _count(engine, ResourceLink) == 1
    assert _count(engine, AuditEvent) == 1
    assert len(launch_sessions(app)) == 1
    return losers[0]


def test_concurrent_twins_after_every_check_yield_one_launch(live_workers, monkeypatch,
                                                             caplog):
    """Both requests pass every check before either consumes the state: the atomic
    consumption (one Lua script in Redis: GETDEL of the state, SET NX of the nonce and the
    id_token) lets exactly one through."""
    app_a, app_b, platform = live_workers
    _skip_on_sqlite(app_a)
    consume = LaunchStore.consume
    both_checked = threading.Barrier(2)

    def consume_together(self: LaunchStore, *args: Any, **kwargs: Any) -> Any:
        both_checked.wait(timeout=10)
        return consume(self, *args, **kwargs)

    monkeypatch.setattr(LaunchStore, "consume", consume_together)
    loser = _one_winner(_race((app_a, app_b), platform), app_a.extensions["db_engine"], app_a)
    assert_refused(loser, "state_replayed", caplog, "already been used")


def test_concurrent_twins_yield_one_launch(live_workers, caplog):
    app_a, app_b, platform = live_workers
    loser = _one_winner(_race((app_a, app_b), platform), app_a.extensions["db_engine"], app_a)
    # which one-time value the loser trips over depends on how far the winner got
    assert refusal_of(loser).code in {"id_token_replayed", "state_replayed", "nonce_replayed"}


def test_twin_arriving_while_the_state_is_consumed_is_reported_as_a_replay(
        live_workers, monkeypatch, caplog):
    """Worker B checks the state in the instant after worker A took it: B must see a replay,
    not an unknown state (the "used" marker is set in the same atomic step that takes the
    state)."""
    app_a, app_b, platform = live_workers
    _skip_on_sqlite(app_a)
    taken, checked = threading.Event(), threading.Event()
    kv_a = app_a.extensions["kv"]
    take_once = kv_a.take_once

    def take_and_pause(*args: Any, **kwargs: Any) -> Any:
        value = take_once(*args, **kwargs)
        taken.set()
        checked.wait(timeout=10)
        return value

    launch_facts = LaunchStore.launch_facts

    def read_facts_then_go_on(self: LaunchStore, *args: Any, **kwargs: Any) -> Any:
        facts = launch_facts(self, *args, **kwargs)
        if self.kv is not kv_a:
            checked.set()
        return facts

    monkeypatch.setattr(kv_a, "take_once", take_and_pause)
    monkeypatch.setattr(LaunchStore, "launch_facts", read_facts_then_go_on)
    client_a = app_a.test_client()
    started = login(client_a, platform)
    client_b = _same_browser(client_a, app_b)
    token = platform.sign(claims_for(platform, started))
    results: dict[str, TestResponse] = {}
    worker = threading.Thread(target=lambda: results.setdefault(
        "a", post_launch(client_a, token, started.state)))
    worker.start()
    assert taken.wait(timeout=10)
    results["b"] = post_launch(client_b, token, started.state)
    worker.join(timeout=30)
    _accepted(results["a"])
    # A replay (of the id_token, the first thing checked, which A consumed in the same step
    # as the state), never "unknown or expired state".
    refusal = refusal_of(results["b"])
    assert refusal.code in {"id_token_replayed", "state_replayed"}, refusal
    assert_refused(results["b"], refusal.code, caplog, "already been used")


# -- platform keys (JWKS) -----------------------------------------------------------------------
ROTATED_KID = "kid-platform-a-2"


def _rotate(platform: TestPlatform) -> None:
    platform.extra_keys.append(jwk_of(rsa_key("platform-a-2"), ROTATED_KID))


def _signed_with_rotated_key(client: FlaskClient, platform: TestPlatform) -> TestResponse:
    started = login(client, platform)
    return post_launch(client, platform.sign(claims_for(platform, started),
                                             key=rsa_key("platform-a-2"),
                                             header={"kid": ROTATED_KID}), started.state)


def test_platform_keys_are_fetched_once_and_cached(client, platform, transport):
    _accepted(launch_with(client, platform, login(client, platform)))
    assert transport.hits[platform.jwks_url] == 1
    _accepted(launch_with(client, platform, login(client, platform)))
    assert transport.hits[platform.jwks_url] == 1


def test_rotated_platform_key_is_fetched_once(client, platform, transport):
    _accepted(launch_with(client, platform, login(client, platform)))
    _rotate(platform)
    _accepted(_signed_with_rotated_key(client, platform))
    assert transport.hits[platform.jwks_url] == 2
    _accepted(_signed_with_rotated_key(client, platform))
    assert transport.hits[platform.jwks_url] == 2


def test_unknown_keys_refetch_at_most_once_per_interval(app, db, client, platform, transport,
                                                        caplog):
    _accepted(launch_with(client, platform, login(client, platform)))
    for attacker in ("attacker", "attacker-2"):
        started = login(client, platform)
        before = snapshot(app, db)
        token = platform.sign(claims_for(platform, started), key=rsa_key("attacker"),
                              header={"kid": f"kid-{attacker}"})
        caplog.clear()
        assert_refused(post_launch(client, token, started.state), "unknown_signing_key",
                       caplog, "does not publish")
        assert_nothing_stored(app, db, before)
        assert transport.hits[platform.jwks_url] == 2  # the first unknown kid refetched


def test_key_rotation_seen_by_one_worker_serves_the_other(app, app_b, client, platform,
                                                          transport):
    _accepted(launch_with(client, platform, login(client, platform)))
    on_b = _same_browser(client, app_b)
    _accepted(launch_with(on_b, platform, login(client, platform)))
    assert transport.hits[platform.jwks_url] == 1  # worker B read worker A's cached JWKS
    _rotate(platform)
    _accepted(_signed_with_rotated_key(client, platform))
    _accepted(_signed_with_rotated_key(on_b, platform))
    assert transport.hits[platform.jwks_url] == 2


@pytest.mark.parametrize(("answer", "code", "words"), [
    (None, "jwks_unreachable", "could not fetch the platform's public keys"),
    ((503, {"error": "down"}), "jwks_unreachable", "could not fetch the platform's public keys"),
    ((200, {"not": "a jwks"}), "jwks_invalid", "not a valid JWKS"),
], ids=["unreachable", "http-503", "not-a-jwks"])
def test_platform_keys_unavailable_is_a_clear_refusal(app, db, client, platform, transport,
                                                      started, before, caplog, answer, code,
                                                      words):
    if answer is None:
        del transport.routes[("GET", platform.jwks_url)]
    else:
        transport.add("GET", platform.jwks_url, lambda _req: answer)
    assert_refused(launch_with(client, platform, started), code, caplog, words)
    assert_nothing_stored(app, db, before)
    assert db.scalar(select(func.count()).select_from(Deployment)) == 1
    assert db.scalar(select(func.count()).select_from(Context)) == 0


def test_key_published_for_another_algorithm_is_refused(app, db, client, platform, transport,
                                                        started, before, caplog):
    transport.add("GET", platform.jwks_url, lambda _req: (
        200, {"keys": [jwk_of(platform.key, platform.kid, alg="RS512")]}))
    assert_refused(launch_with(client, platform, started), "bad_alg", caplog,
                   "not an RS256 key")
    assert_nothing_stored(app, db, before)


# -- text that cannot be stored as sent ---------------------------------------------------------
def test_names_and_titles_with_nul_or_lone_surrogates_are_cleaned(app, db, client, platform,
                                                                  started):
    """A display text is cleaned rather than refusing the learner: NUL removed, a lone
    surrogate replaced by U+FFFD; a well-formed emoji stays (checked on PostgreSQL in CI)."""
    body = claims_for(platform, started, name="Ada\x00 Lovelace \ud83d\ude00",
                      given_name="Ada\ud800", context={
                          "id": "course-42", "label": "CS\x00101",
                          "title": "Intro \udc00 to programming",
                          "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
                      **{"https://purl.imsglobal.org/spec/lti/claim/custom": {
                          "context_kind\x00": "x\ud800y"}})
    _accepted(post_launch(client, platform.sign(body), started.state))
    db.expire_all()
    account = db.scalars(select(LearnerAccount).where(LearnerAccount.sub == body["sub"])).one()
    assert account.name == "Ada Lovelace \U0001F600"
    context = db.scalars(select(Context).where(Context.lti_context_id == "course-42")).one()
    assert context.title == "Intro \ufffd to programming"
    assert context.label == "CS101"
