"""A platform whose JWKS URL accepts and never answers, or trickles a byte at a time: the
launch is refused with a clear 4xx within the outbound deadline (HTTP_TIMEOUT_SECONDS, 2 s
here; 5 s by default), the next launches from that platform are refused at once (the
failure is remembered), and /healthz answers at once meanwhile."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.fault.conftest import HTTP_DEADLINE, World
from tests.fault.harness import timed
from tests.support.slow_servers import hanging_server, trickling_server


def _refused_in_time(world: World, lms: object) -> float:
    with timed() as took:
        response = world.try_launch(lms)  # type: ignore[arg-type]
    assert 400 <= response.status_code < 500, response.status_code
    assert "public keys" in response.text
    assert "Traceback" not in response.text
    return took[0]


@pytest.mark.parametrize("server", ["hanging", "trickling"])
def test_a_platform_whose_jwks_hangs_is_refused_within_the_deadline(healthy: World, server):
    world = healthy
    serve = hanging_server() if server == "hanging" else trickling_server(interval=0.3)
    with serve as origin:
        lms = world.register_platform(origin, f"client-{server}")
        health: list[float] = []

        def probe() -> None:
            time.sleep(0.5)  # the launch is now waiting on the JWKS
            for _ in range(3):
                with timed() as took:
                    assert requests.get(world.base + "/healthz", timeout=5).ok
                health.append(took[0])

        prober = threading.Thread(target=probe)
        prober.start()
        first = _refused_in_time(world, lms)
        prober.join(timeout=10)
        # login and launch round trips on top of the deadline
        assert HTTP_DEADLINE - 0.1 <= first <= HTTP_DEADLINE + 1.0, first
        assert health and max(health) <= 1.0, health
        # The failure is remembered: the next launch does not wait again.
        again = _refused_in_time(world, lms)
        print(f"{server} JWKS: launch refused in {first:.2f} s, then in {again * 1000:.0f} ms; "
              f"healthz meanwhile {max(health) * 1000:.0f} ms at most")
        assert again < 0.5
