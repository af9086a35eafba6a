"""Verification cost is bounded (issue 8), checked against a real threaded server: the
poison graph and a 10,000-alignment credential are answered with a clear 422 within 3 s,
and /healthz keeps answering within 1 s while such verifications run."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lti_tool.badges import ob
from lti_tool.badges.multikey import multibase_b58_encode
from tests.support.live_server import LiveServer, serve
from tests.unit.badges import builders


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # No rate limit here: the health test posts to /verify as fast as three threads can,
    # which a fast machine takes past RATE_LIMIT_VERIFY (429s; the limiter has its own tests).
    with serve(tmp_path_factory.mktemp("verify-cost"), RATE_LIMIT_ENABLED=False) as live:
        yield live


def _with_proof(credential: dict[str, Any]) -> bytes:
    """A well-formed proof (64-byte signature), so the server must canonicalize to check
    it: the expensive path, not an early parse error."""
    key = builders.issuer_key()
    credential["proof"] = [{
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-09-01T00:00:00Z", "proofPurpose": "assertionMethod",
        "verificationMethod": ob.verification_method_id(builders.ISSUER_ID, key.public_key()),
        "proofValue": multibase_b58_encode(bytes(range(64)))}]
    return json.dumps(credential).encode()


POISON = _with_proof(builders.poison_credential())
PADDED = _with_proof(builders.padded_credential(10_000))


def _post(server: LiveServer, body: bytes) -> tuple[requests.Response, float]:
    start = time.perf_counter()
    response = requests.post(f"{server.url}/api/v1/verify", data=body, timeout=30,
                             headers={"Content-Type": "application/octet-stream"})
    return response, time.perf_counter() - start


@pytest.mark.parametrize(("body", "reason"), [
    (POISON, "too entangled to canonicalize"),
    (PADDED, "more than 12,000 JSON values"),
], ids=["poison graph", "10,000 alignments"])
def test_hostile_credentials_get_a_clear_422_within_3_seconds(
        server: LiveServer, body: bytes, reason: str) -> None:
    response, elapsed = _post(server, body)
    assert elapsed <= 3.0, elapsed
    assert response.status_code == 422
    report = response.json()
    assert report["error"]["code"] == "too_complex"
    assert report["result"] == "invalid" and report["tooComplex"] is True
    assert reason in report["reason"]
    browser = requests.Session()  # the page's form token is bound to its cookie
    form = browser.get(f"{server.url}/verify", timeout=10)
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    assert token is not None
    page = browser.post(f"{server.url}/verify", timeout=30,
                        files={"credential_file": ("c.json", body, "application/json")},
                        data={"form_token": token.group(1)})
    assert page.status_code == 422
    assert reason in page.text


def test_healthz_answers_within_a_second_while_verifications_run(server: LiveServer) -> None:
    stop = threading.Event()
    answered: list[int] = []

    def hammer(body: bytes) -> None:
        while not stop.is_set():
            response, _elapsed = _post(server, body)
            answered.append(response.status_code)

    workers = [threading.Thread(target=hammer, args=(body,), daemon=True)
               for body in (POISON, PADDED, POISON)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.3)
        latencies = []
        for _ in range(10):
            start = time.perf_counter()
            health = requests.get(f"{server.url}/healthz", timeout=5)
            latencies.append(time.perf_counter() - start)
            assert health.status_code == 200
            time.sleep(0.05)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert max(latencies) <= 1.0, latencies
    assert answered and set(answered) == {422}
