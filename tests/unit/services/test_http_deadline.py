"""One total deadline per outbound call, against real sockets on the loopback interface:
a server that never answers, one that trickles its body or its headers a byte at a time,
and one that answers 503 first. A user's launch or registration waits at most the
deadline, never a multiple of it, and the time is reported as a clear UpstreamError."""

from __future__ import annotations

import time

import pytest
import requests

from lti_tool.errors import UpstreamError
from lti_tool.services.http_client import DeadlineExceeded, HttpClient
from tests.support.slow_servers import (
    elapsed,
    flaky_server,
    hanging_server,
    trickling_server,
)

DEADLINE = 0.8


def test_a_server_that_never_answers_costs_one_deadline_not_three():
    client = HttpClient(timeout=DEADLINE)
    with hanging_server() as url:
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=r"did not answer within 0\.8 seconds"):
            client.get_json(url + "/jwks")
        took = elapsed(started)
    assert DEADLINE - 0.05 < took < DEADLINE + 0.5


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_trickling_server_is_cut_at_the_deadline(headers_too):
    client = HttpClient(timeout=DEADLINE)
    # One byte every 0.2 s: each read returns well within any per-read timeout.
    with trickling_server(interval=0.2, headers_too=headers_too) as url:
        started = time.monotonic()
        with pytest.raises(UpstreamError, match="did not answer within"):
            client.get_json(url + "/jwks")
        took = elapsed(started)
    assert took < DEADLINE + 0.5


def test_a_slow_but_complete_answer_within_the_deadline_is_read():
    client = HttpClient(timeout=5)
    with trickling_server(interval=0.01) as url:
        assert client.get_json(url + "/jwks") == {"keys": []}


def test_a_503_is_tried_once_more_and_its_retry_after_is_not_slept_on():
    client = HttpClient(timeout=2)
    with flaky_server(failures=1, retry_after="3600") as url:
        started = time.monotonic()
        assert client.get_json(url + "/jwks") == {"keys": []}
        assert elapsed(started) < 1.5
    with flaky_server(failures=5) as url, pytest.raises(UpstreamError, match="HTTP 503"):
        client.get_json(url + "/jwks")


def test_pylti1p3s_own_calls_have_the_same_deadline():
    session = HttpClient(timeout=DEADLINE).service_session()
    with trickling_server(interval=0.2) as url:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            session.get(url + "/memberships")
        assert elapsed(started) < DEADLINE + 0.5
    assert issubclass(DeadlineExceeded, requests.Timeout)


def test_a_caller_may_ask_for_a_shorter_deadline():
    session = HttpClient(timeout=10).service_session()
    with hanging_server() as url:
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            session.get(url + "/token", timeout=0.5)
        assert elapsed(started) < 1.2
