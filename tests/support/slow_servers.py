"""Misbehaving HTTP servers on the loopback interface, for deadline tests: one that accepts
and never answers, one that trickles its headers or its body a byte at a time, and one
that answers 503 before it answers 200. Each runs in a daemon thread and stops with its
context manager."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

JWKS_BODY = b'{"keys": []}'


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@contextmanager
def _server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(conn)
            threading.Thread(target=_guarded, args=(handle, conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
        for conn in accepted:
            conn.close()


def _guarded(handle: Callable[[socket.socket, threading.Event], None], conn: socket.socket,
             stop: threading.Event) -> None:
    with contextlib.suppress(OSError):  # the client gave up: that is the point
        handle(conn, stop)


def hanging_server() -> AbstractContextManager[str]:
    """Accepts, reads the request, never answers."""
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        _read_request(conn)
        stop.wait(60)

    return _server(handle)


def trickling_server(*, interval: float = 0.5,
                     headers_too: bool = False) -> AbstractContextManager[str]:
    """Answers 200 but sends one byte every ``interval`` seconds: the body (a JWKS), or
    the status line and headers as well."""
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        _read_request(conn)
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(JWKS_BODY))
        if not headers_too:
            conn.sendall(head)
        for byte in ((head if headers_too else b"") + JWKS_BODY):
            if stop.wait(interval):
                return
            conn.sendall(bytes([byte]))

    return _server(handle)


def flaky_server(failures: int = 1,
                 retry_after: str | None = None) -> AbstractContextManager[str]:
    """Answers 503 (with ``Retry-After`` when given) ``failures`` times, then 200."""
    count = {"n": 0}
    lock = threading.Lock()

    def handle(conn: socket.socket, _stop: threading.Event) -> None:
        _read_request(conn)
        with lock:
            count["n"] += 1
            fail = count["n"] <= failures
        if fail:
            extra = f"Retry-After: {retry_after}\r\n".encode() if retry_after else b""
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                         + extra + b"Connection: close\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(JWKS_BODY)
                         + JWKS_BODY)
        conn.close()

    return _server(handle)


def elapsed(since: float) -> float:
    return time.monotonic() - since
