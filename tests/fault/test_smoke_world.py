"""The world the other fault tests break: it works before anything is broken."""

from __future__ import annotations

import requests

from tests.fault.conftest import World


def test_the_world_answers(healthy: World):
    world = healthy
    assert requests.get(world.base + "/healthz", timeout=5).json() == {"status": "ok"}
    landing = world.launch()
    assert requests.get(landing, timeout=10).status_code == 200
    assert world.api("GET", "/api/v1/awards").status_code == 200
