"""Redis and PostgreSQL stopped, then frozen (SIGSTOP), under real gunicorn workers: every
request that needs the missing dependency answers 503 with Retry-After and a clear message
(a page in the LMS frame, JSON on the API) quickly, one log line each and no traceback;
/healthz keeps answering at once and /readyz says 503 within 2 s; and the tool is back by
itself within 5 s of the dependency's return.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests

from tests.fault.conftest import ANSWER_DEADLINE, CONNECT_TIMEOUT, RETRY_AFTER, World
from tests.fault.harness import timed, wait_until

REQUESTS = 10


def _get(url: str, **kwargs: object) -> tuple[requests.Response, float]:
    with timed() as took:
        response = requests.get(url, timeout=30, **kwargs)  # type: ignore[arg-type]
    return response, took[0]


def _assert_unavailable_page(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "briefly unavailable" in page and "try again" in page.lower()
    assert "Traceback" not in page


def _assert_unavailable_json(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["request_id"]


def _assert_probes(world: World, failing: str) -> None:
    health, took_health = _get(world.base + "/healthz")
    assert health.status_code == 200 and took_health <= 1.0, took_health
    ready, took_ready = _get(world.base + "/readyz")
    assert ready.status_code == 503 and took_ready <= 2.0, took_ready
    assert ready.json()["checks"][failing] != "ok"
    print(f"healthz {took_health * 1000:.0f} ms, readyz 503 in {took_ready * 1000:.0f} ms "
          f"({ready.json()['checks']})")


@contextmanager
def _log_window(world: World) -> Iterator[list[str]]:
    """The gunicorn log lines written inside the block."""
    start = len(world.web.log_lines())
    lines: list[str] = []
    try:
        yield lines
    finally:
        time.sleep(0.2)  # let the workers flush
        lines.extend(world.web.log_lines()[start:])


def _assert_one_line_each(lines: list[str], requests_sent: int, extra: int = 4) -> None:
    """One line per request (the request line, naming the dependency), a few one-off
    notices (the breaker, the rate limiter's fallback), no traceback."""
    print(f"{len(lines)} log lines for {requests_sent} requests")
    assert not any("Traceback" in line for line in lines), "\n".join(lines)[:3000]
    assert len(lines) <= requests_sent + extra, "\n".join(lines)[:3000]
    outage = [json.loads(line) for line in lines if '"dependency"' in line]
    assert outage and all(entry["status"] == 503 for entry in outage)


def _recovery(check: Callable[[], bool]) -> float:
    return wait_until(check, 10, interval=0.1)


# -- Redis ---------------------------------------------------------------------------------
def test_redis_down_is_a_503_page_at_once_and_the_tool_comes_back(healthy: World):
    world = healthy
    landing = world.launch()
    world.redis.stop()
    try:
        with _log_window(world) as lines:
            for _ in range(REQUESTS):
                response, took = _get(landing)
                _assert_unavailable_page(response)
                assert took < 1.0, took
                print(f"redis down: /app 503 in {took * 1000:.0f} ms")
            _assert_probes(world, "store")
            # Routes that do not need Redis keep working: the rate limiter falls back to
            # counting in memory.
            assert world.api("GET", "/api/v1/awards").status_code == 200
    finally:
        world.redis.start()
    back = _recovery(lambda: world.try_launch().status_code == 303)
    print(f"redis back: launches work again after {back:.2f} s")
    assert back <= 5.0, back
    _assert_one_line_each(lines, REQUESTS + 3)


def test_redis_frozen_fails_within_its_timeout(healthy: World):
    world = healthy
    landing = world.launch()
    world.redis.freeze()
    try:
        response, took = _get(landing)
        _assert_unavailable_page(response)
        print(f"redis frozen: /app 503 in {took * 1000:.0f} ms")
        assert took < 2.5, took  # REDIS_TIMEOUT_SECONDS=1, no retry
        _assert_probes(world, "store")
    finally:
        world.redis.thaw()
    back = _recovery(lambda: requests.get(landing, timeout=10).status_code == 200)
    print(f"redis thawed: pages work again after {back:.2f} s")
    assert back <= 5.0


# -- PostgreSQL ------------------------------------------------------------------------------
def test_postgres_down_is_a_503_at_once_and_the_tool_comes_back(healthy: World):
    world = healthy
    landing = world.launch()
    world.postgres.stop()
    try:
        with _log_window(world) as lines:
            for _ in range(REQUESTS):
                with timed() as took:
                    response = world.api("GET", "/api/v1/awards")
                _assert_unavailable_json(response)
                assert took[0] < 1.0, took
                print(f"postgres down: API 503 in {took[0] * 1000:.0f} ms")
            page, took_page = _get(landing)  # the learner's page reads the database
            _assert_unavailable_page(page)
            assert took_page < 1.0
            _assert_probes(world, "database")
    finally:
        world.postgres.start()
    back = _recovery(lambda: world.api("GET", "/api/v1/awards").status_code == 200)
    print(f"postgres back: API answers again after {back:.2f} s")
    assert back <= 5.0, back
    _assert_one_line_each(lines, REQUESTS + 3)


def test_postgres_frozen_requests_fail_within_the_deadline_and_probes_stay_quick(
        healthy: World):
    world = healthy
    results: list[tuple[int, float]] = []

    def call() -> None:
        with timed() as took:
            response = world.api("GET", "/api/v1/awards")
        results.append((response.status_code, took[0]))

    world.postgres.freeze()
    try:
        # Six clients at once: more than one worker's threads.
        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # they are now waiting on the frozen database
        for _ in range(3):
            _assert_probes(world, "database")
        for thread in threads:
            thread.join(timeout=30)
        assert len(results) == 6
        print("postgres frozen: " + ", ".join(f"{status} in {took:.2f} s"
                                              for status, took in results))
        # Each fails within the answer deadline (plus one reconnection attempt).
        assert all(status == 503 for status, _ in results), results
        assert max(took for _, took in results) <= ANSWER_DEADLINE + CONNECT_TIMEOUT + 1.0, \
            results
    finally:
        world.postgres.thaw()
    back = _recovery(lambda: world.api("GET", "/api/v1/awards").status_code == 200)
    print(f"postgres thawed: API answers again after {back:.2f} s")
    assert back <= 5.0
