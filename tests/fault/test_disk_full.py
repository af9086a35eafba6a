"""The SQLite demo on a disk that fills up: /readyz says ready while there is room, 503
with ``"disk": "full"`` once the disk is full (every write would fail), and ready again
when space is freed. A real full disk: a small tmpfs mounted for the test (needs root;
skipped otherwise)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lti_tool import create_app
from lti_tool.models.migrate import upgrade


@pytest.fixture()
def small_disk() -> Iterator[Path]:
    mount_point = Path(tempfile.mkdtemp(prefix="microcred-fault-disk-"))
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True).returncode == 0
    if not mounted:
        mount_point.rmdir()
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)
        with contextlib.suppress(OSError):
            mount_point.rmdir()


def test_readyz_is_503_while_sqlites_disk_is_full(small_disk: Path, tmp_path: Path):
    app = create_app({"ENV": "development", "DATABASE_URL": f"sqlite:///{small_disk / 'demo.db'}",
                      "REDIS_URL": "", "INSTANCE_PATH": str(tmp_path),
                      "READY_MIN_FREE_DISK_MB": 1, "SECRET_KEY": "disk-test"})
    try:
        upgrade(app.extensions["db_engine"])
        client = app.test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["checks"]["disk"] == "ok"

        filler = small_disk / "filler"
        with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
            while True:  # until the disk is full (ENOSPC)
                handle.write(b"\0" * 65536)
        full = client.get("/readyz")
        assert full.status_code == 503
        assert full.get_json()["checks"]["disk"] == "full"
        assert full.get_json()["checks"]["database"] == "ok"  # reading still works

        filler.unlink()
        assert client.get("/readyz").status_code == 200
    finally:
        app.extensions["db_engine"].dispose()
