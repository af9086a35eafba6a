"""Badge tests run fully offline: any socket connection or DNS lookup fails the test."""

from __future__ import annotations

import gc
import os
import socket
import struct
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

# The conformance data lives beside the repository (../shared/conformance), in CI too.
CONFORMANCE = Path(os.environ.get("MICROCRED_CONFORMANCE_DIR", "")
                   or Path(__file__).resolve().parents[4] / "shared" / "conformance")
FIXTURES = CONFORMANCE / "fixtures"
VECTORS = FIXTURES / "vectors"
#: A fixed "now" so time-dependent fixtures keep their outcome (simple-err-issued.json is
#: only "not yet valid" before 2040).
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TESTLIST_URL = ("https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/"
                "refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist")


class NetworkUsed(AssertionError):
    pass


T = TypeVar("T")


def cpu_seconds(work: Callable[[], T]) -> tuple[T, float]:
    """``work()``'s result and the CPU seconds this thread spent in it.

    The CPU bounds of the hostile-input tests are about the verifier's own work, not about the
    test process around it. Late in the full suite that process holds about a million objects,
    and one full garbage collection set off by the work's allocations walks them all: on the
    EPYC VM, verifying the 1.4 MB padded credential measured 0.92 s of CPU there against 0.05
    s alone. So the heap that exists before ``work`` is frozen out of the collector while it
    runs (``gc.freeze``; what ``work`` allocates is still collected, and counted), and only
    this thread's CPU is counted (the suite's live-server threads are not the verifier's)."""
    gc.collect()
    gc.freeze()
    try:
        start = time.thread_time()
        result = work()
        return result, time.thread_time() - start
    finally:
        gc.unfreeze()


#: For modules that read the shared conformance data.
needs_conformance = pytest.mark.skipif(not CONFORMANCE.is_dir(),
                                       reason=f"conformance data not found at {CONFORMANCE}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkUsed(f"network access attempted: {args[1:] or kwargs}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def offline_status_resolver(url: str) -> bytes | None:
    """Serves the 1EdTech test status list from the local copy (fixtures/README.md §3)."""
    if url == TESTLIST_URL:
        return (FIXTURES / "ob30" / "bit-string-list" / "testlist").read_bytes()
    return None


def tiny_png(extra_chunks: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """A valid 1x1 grey PNG, optionally with extra chunks before IEND."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\x80"))
    for kind, body in extra_chunks or []:
        out += chunk(kind, body)
    return out + chunk(b"IEND", b"")


TINY_SVG = (b'<?xml version="1.0" encoding="utf-8"?>\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
            b'<title>Badge</title><circle cx="5" cy="5" r="4"/></svg>')
