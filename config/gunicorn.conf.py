"""gunicorn settings for MicroCred: ``gunicorn -c config/gunicorn.conf.py wsgi:app``.

Every value can be changed from the environment (docs/operations.md, "Running the web
processes"):

- ``GUNICORN_BIND`` (default ``127.0.0.1:$PORT``, ``PORT`` 8000);
- ``WEB_CONCURRENCY``: worker processes (default 2 per CPU);
- ``GUNICORN_THREADS``: threads per worker (default 8);
- ``GUNICORN_TIMEOUT``: seconds before a silent worker is killed (default 30);
- ``GUNICORN_CONTROL_SOCKET``: a path for gunicorn's control socket (``gunicornc``); unset,
  there is none;
- ``GUNICORN_ACCESS_LOG``: ``-`` (stderr) or a file for an access log (default: none; the
  app logs every request itself).

Why threads (``gthread``) rather than one request per process (``sync``): a request that
waits on a hung dependency holds its worker until a deadline fires (the database's
statement deadline, Redis' socket timeout, an outbound call's total deadline, all well
under ``GUNICORN_TIMEOUT``). With ``sync`` workers, a few such requests occupy every process
and ``/healthz`` queues behind them, so the orchestrator restarts healthy processes. With
threads, the other threads of each process keep serving ``/healthz``, ``/readyz`` (which
answers 503 within 2 s) and the requests that do not need the hung dependency, and each
process's database pool (``DB_POOL_SIZE``, 10) has a connection for every thread.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
# A worker accepts only as many connections as it has threads, and closes each after its
# request (no keep-alive): a connection never waits inside a worker whose threads are all
# busy (for instance on a frozen database); it goes to a worker with a free thread, so
# /healthz is answered at once while any thread anywhere is free. (The reverse proxy keeps
# its own connections to clients alive.)
worker_connections = threads
keepalive = 0
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30

# Heartbeat files on a RAM disk where there is one (a slow disk must not kill workers).
if os.path.isdir("/dev/shm"):  # noqa: S108 - the documented gunicorn advice for containers
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# gunicorn's default control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl):
# a second instance on the machine would take over the first one's. One per instance when
# asked for, else none.
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _control:
    control_socket = _control
    control_socket_mode = 0o600
else:
    control_socket_disable = True

# Query strings carry launch tokens (/app?lt=...): log paths only (%(U)s, never %(r)s).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def post_worker_init(_worker: Any) -> None:
    """Once the worker has loaded the application, move everything alive then (modules,
    the SQLAlchemy mappers, compiled templates, translation catalogs: ~200,000 objects) out
    of the garbage collector's reach. They live as long as the worker; without this, every
    full collection walks them all again, a pause of tens of milliseconds in whichever
    request set it off. Only what requests allocate is collected from then on."""
    gc.freeze()
