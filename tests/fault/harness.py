"""Private dependencies for the fault-injection suite: a PostgreSQL cluster and a Redis
server of the suite's own (own directories, own ports; the shared services on 5432 and 6379
are never touched), a JWKS server, and MicroCred under real gunicorn workers.

Each can be stopped, started again and frozen (SIGSTOP: the process keeps its sockets open
and answers nothing, like a paused VM or a network partition without resets).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, timeout: float, interval: float = 0.05) -> float:
    """Seconds until ``check()`` is true; AssertionError after ``timeout``."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # not ready yet
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(interval)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _signal_tree(pid: int, sig: signal.Signals) -> None:
    for child in _children(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, sig)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A throw-away cluster (trust auth on 127.0.0.1, fsync off). PostgreSQL refuses to run
    as root, so as root it runs as the ``postgres`` user."""

    def __init__(self) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="microcred-fault-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/microcred"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self.start()
        self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", "microcred")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def freeze(self) -> None:
        _signal_tree(self.postmaster_pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        _signal_tree(self.postmaster_pid(), signal.SIGCONT)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.thaw()
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="microcred-fault-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root), "--daemonize", "no",
             "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._pong, 10)

    def _pong(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def destroy(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class JwksServer:
    """Serves a platform's JWKS at ``/mod/lti/certs.php`` (the Moodle preset's path)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        body = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Gunicorn:
    """MicroCred (``tests.fault.fault_wsgi:app``) under gunicorn with config/gunicorn.conf.py;
    the log goes to a file the tests read."""

    def __init__(self, env: dict[str, str], *, port: int | None = None, workers: int = 2,
                 threads: int = 4, app: str = "tests.fault.fault_wsgi:app") -> None:
        self.port = port or free_port()
        self.app = app
        self.root = Path(tempfile.mkdtemp(prefix="microcred-fault-web-"))
        self.log_path = self.root / "gunicorn.log"
        self.env = {**os.environ, **env, "PORT": str(self.port),
                    "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads),
                    "GUNICORN_TIMEOUT": "30", "HOME": str(self.root),
                    "MICROCRED_INSTANCE_PATH": str(self.root / "instance"),
                    "PYTHONPATH": str(REPO)}
        self.env.pop("XDG_RUNTIME_DIR", None)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.conf.py"),
             self.app],
            cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(self.base + "/healthz", timeout=1).ok, 60)

    def workers(self) -> list[int]:
        assert self.process is not None
        return _children(self.process.pid)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
            self._log.close()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as took: ...`` then ``took[0]`` is the elapsed seconds."""
    took: list[float] = []
    started = time.monotonic()
    try:
        yield took
    finally:
        took.append(time.monotonic() - started)
