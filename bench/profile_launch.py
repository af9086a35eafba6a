"""Profile the full launch in one process: the same flow as bench/launch.py (login →
signed id_token → launch → landing page), through Flask's test client, against the same
PostgreSQL + Redis setup, under cProfile. Also counts SQL statements and Redis commands per
launch, which is what the web tier's CPU mostly goes to.

    .venv/bin/python bench/profile_launch.py [--launches 600] [--top 40] [--sort tottime]

Only the tool's side is profiled: the profiler is off while the bench platform signs the
id_token. Production settings (JSON logs at INFO, to an in-memory sink).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import launch as bench


def login_query(sub: int) -> dict[str, str]:
    """The platform's OIDC login initiation for bench user ``sub``."""
    return {"iss": bench.ISSUER, "login_hint": str(sub), "target_link_uri": bench.TARGET_LINK_URI,
            "client_id": bench.CLIENT_ID, "lti_deployment_id": bench.DEPLOYMENT_ID}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--launches", type=int, default=600)
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--sort", default="tottime")
    p.add_argument("--database", default="microcred_bench_profile")
    p.add_argument("--dump", type=Path, help="write the raw pstats here")
    p.add_argument("--no-profile", action="store_true",
                   help="just measure the tool's CPU per launch (no profiler overhead)")
    p.add_argument("--trace", action="store_true",
                   help="print the SQL statements and Redis commands of the last launch")
    p.add_argument("--app-dir", type=Path, help="import lti_tool from this tree (A/B runs)")
    p.add_argument("--reloads", type=int, default=0,
                   help="reload each launch's landing page this many times more (the "
                        "bench's landing phase), measured as 'reload'")
    p.add_argument("--profile-reloads", action="store_true",
                   help="profile only the reloads (with --reloads N): where a landing page "
                        "served from the learner page cache spends its CPU")
    p.add_argument("--breakdown", action="store_true",
                   help="CPU per call of the launch's parts (validation steps, recording, "
                        "Redis, commit, request hooks), without the profiler's overhead")
    p.add_argument("--no-landing", action="store_true",
                   help="measured launches stop at the launch POST's 303 (login + launch POST, "
                        "what bench/launch.py's launch phase counts); priming still loads "
                        "the landing page")
    p.add_argument("--callgrind", action="store_true",
                   help="running under valgrind --tool=callgrind --instr-atstart=no: count "
                        "the measured launches only (bench/instructions.py)")
    p.add_argument("--lean", action="store_true",
                   help="also run the same measured launches (login + launch POST) through "
                        "the lean reference (bench/lean_app.py) behind the same test client, "
                        "after priming: the tool's CPU per launch beside the least the "
                        "required work costs")
    p.add_argument("--lean-only", action="store_true",
                   help="with --callgrind: measure (and count) only the lean reference's "
                        "launches, after priming the tool's (bench/instructions.py --lean)")
    p.add_argument("--users", type=int, default=bench.N_USERS,
                   help="distinct users (each primed with one unmeasured launch)")
    args = p.parse_args()
    args.lean = args.lean or args.lean_only
    if args.app_dir:
        sys.path.insert(0, str(args.app_dir.resolve()))

    secret_key = secrets.token_urlsafe(48)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    os.environ.update({
        "MICROCRED_ENV": "production", "SECRET_KEY": secret_key, "DATABASE_URL": url,
        "REDIS_URL": bench.REDIS_URL, "PUBLIC_BASE_URL": bench.PUBLIC_BASE_URL,
        "TRUST_PROXY_HEADERS": "0", "RATE_LIMIT_LOGIN": "1000000 per minute",
        "MICROCRED_INSTANCE_PATH": tempfile.mkdtemp(prefix="microcred-profile-"),
    })
    key_pem, jwk = bench.new_platform_key()
    bench.recreate_database(args.database)
    try:
        bench.prepare(url, secret_key, jwk, args.app_dir.resolve() if args.app_dir else bench.REPO)
        import logging

        from sqlalchemy import event

        from lti_tool import create_app

        app = create_app()
        # Logs go to a file-like sink, as a worker's stderr would (still formatted).
        for handler in logging.getLogger().handlers:
            if getattr(handler, "_microcred", False):
                handler.stream = io.StringIO()  # type: ignore[attr-defined]
        counters = {"sql": 0, "redis": 0}
        engine = app.extensions["db_engine"]

        trace: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn: object, _cursor: object, statement: str, *_a: object) -> None:
            counters["sql"] += 1
            if args.trace:
                trace.append("SQL   " + " ".join(statement.split())[:160])

        redis_client = app.extensions["kv"].client
        real_execute = redis_client.execute_command

        def counting_execute(*a: object, **kw: object) -> object:
            counters["redis"] += 1
            if args.trace:
                trace.append("REDIS " + " ".join(str(x)[:40] for x in a[:3]))
            return real_execute(*a, **kw)

        redis_client.execute_command = counting_execute  # type: ignore[method-assign]

        parts = install_breakdown(app) if args.breakdown else {}
        platform = bench.Platform(key_pem)
        client = app.test_client()
        rng = random.Random(1)
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the DB

        tool_cpu = [0.0]
        cpu_by_request = {"login": 0.0, "launch": 0.0, "landing": 0.0, "reload": 0.0}
        per_request: dict[str, list[int]] = {"login": [0, 0], "launch": [0, 0], "landing": [0, 0],
                                             "reload": [0, 0]}

        def count(name: str, before: tuple[int, int]) -> None:
            per_request[name][0] += counters["sql"] - before[0]
            per_request[name][1] += counters["redis"] - before[1]

        def snap() -> tuple[int, int]:
            return counters["sql"], counters["redis"]

        counting = False  # callgrind is counting instructions (--callgrind)

        def callgrind(state: str) -> None:
            subprocess.run(["callgrind_control", f"--instr={state}", str(os.getpid())],
                           check=True, capture_output=True)

        def one(sub: int, course: int, profile: bool, reloads: int = 0,
                landing: bool = True) -> None:
            base = bench.PUBLIC_BASE_URL
            profile_reloads = profile and args.profile_reloads
            profile = profile and not args.profile_reloads
            t0 = time.process_time()
            if profile:
                profiler.enable()
            before = snap()
            r = client.get("/lti/login", base_url=base, query_string=login_query(sub))
            if profile:
                profiler.disable()
            tool_cpu[0] += time.process_time() - t0
            cpu_by_request["login"] += time.process_time() - t0
            count("login", before)
            if r.status_code == 302 and "/lti/login/check" in r.headers["Location"]:
                r = client.get(r.headers["Location"], base_url=base)  # first login: cookie check
            assert r.status_code == 302, r.status_code
            q = parse_qs(urlsplit(r.headers["Location"]).query)
            if counting:  # the platform's RS256 signing is not the tool's work
                callgrind("off")
            token = platform.id_token(sub, course, q["nonce"][0])
            if counting:
                callgrind("on")
            t0 = time.process_time()
            if profile:
                profiler.enable()
            before = snap()
            r = client.post("/lti/launch", base_url=base,
                            data={"id_token": token, "state": q["state"][0]})
            t1 = time.process_time()
            cpu_by_request["launch"] += t1 - t0
            count("launch", before)
            assert r.status_code == 303, r.get_data(as_text=True)[:500]
            if not landing:
                if profile:
                    profiler.disable()
                tool_cpu[0] += t1 - t0
                return
            before = snap()
            page = client.get(r.headers["Location"], base_url=base)
            count("landing", before)
            if profile:
                profiler.disable()
            tool_cpu[0] += time.process_time() - t0
            cpu_by_request["landing"] += time.process_time() - t1
            assert page.status_code == 200 and bench.course_title(course) in page.get_data(
                as_text=True)
            if not reloads:
                return
            t2 = time.process_time()
            if profile or profile_reloads:
                profiler.enable()
            before = snap()
            for _ in range(reloads):
                again = client.get(r.headers["Location"], base_url=base)
            if profile or profile_reloads:
                profiler.disable()
            cpu_by_request["reload"] += time.process_time() - t2
            count("reload", before)
            assert again.status_code == 200

        for sub in range(args.users):  # prime: returning users, as the bench measures
            for course in bench.courses_of(sub):
                one(sub, course, False)
        bench.offer_everywhere(url)  # the landing page shows the learner's records
        counters.update(sql=0, redis=0)
        per_request.update(login=[0, 0], launch=[0, 0], landing=[0, 0], reload=[0, 0])
        tool_cpu[0] = 0.0
        cpu_by_request.update(login=0.0, launch=0.0, landing=0.0, reload=0.0)
        for part in parts.values():
            part[:] = [0, 0.0]
        if args.callgrind and not args.lean_only:  # count from here (bench/instructions.py)
            counting = True
            callgrind("on")
        for _ in range(0 if args.lean_only else args.launches):
            trace.clear()
            sub = rng.randrange(args.users)
            one(sub, rng.choice(bench.courses_of(sub)), not args.no_profile, args.reloads,
                landing=not args.no_landing)
        if counting:
            callgrind("off")
            counting = False
        if args.lean_only:
            report_lean(jwk, platform, args, callgrind if args.callgrind else None)
            return 0
        print(f"{args.launches} launches; per launch: {counters['sql'] / args.launches:.1f} SQL "
              f"statements, {counters['redis'] / args.launches:.1f} Redis commands; tool CPU "
              f"(test client, one thread{'' if args.no_profile else ', with profiler'}) "
              f"{tool_cpu[0] * 1000 / args.launches:.2f} ms/launch", flush=True)
        def per(name: str) -> int:
            return args.launches * (args.reloads if name == "reload" else 1) or 1

        print("  SQL statements / Redis commands per request: " + ", ".join(
            f"{name} {sql / per(name):.1f} / {kv / per(name):.1f}"
            for name, (sql, kv) in per_request.items()), flush=True)
        print("  CPU ms per request (test client included): " + ", ".join(
            f"{name} {cpu * 1000 / per(name):.2f}" for name, cpu in cpu_by_request.items()),
            flush=True)
        if args.lean:
            report_lean(jwk, platform, args)
        if args.trace:
            print("\n".join(trace))
        if parts:
            print("  CPU per launch of each part (login + launch POST; parts overlap where one "
                  "calls another):")
            for name, (calls, cpu) in sorted(parts.items(), key=lambda kv: -kv[1][1]):
                if calls:
                    print(f"    {name:<46} {cpu * 1000 / args.launches:6.3f} ms/launch "
                          f"({calls / args.launches:.1f} calls)")
        if args.no_profile:
            return 0
        stats = pstats.Stats(profiler)
        if args.dump:
            stats.dump_stats(str(args.dump))
        stats.sort_stats(args.sort).print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        app.extensions["db_engine"].dispose()
    finally:
        bench.drop_database(args.database)
    return 0


def report_lean(jwk: dict[str, Any], platform: Any, args: argparse.Namespace,
                toggle: Any = None) -> None:
    lean_login, lean_launch = measure_lean(jwk, platform, args.launches, args.users,
                                           toggle=toggle)
    print(f"  lean reference (bench/lean_app.py, same test client): "
          f"{(lean_login + lean_launch) * 1000:.2f} ms per login + launch POST "
          f"(login {lean_login * 1000:.2f}, launch {lean_launch * 1000:.2f})", flush=True)


def measure_lean(jwk: dict[str, Any], platform: Any, launches: int, users: int, *,
                 toggle: Any = None) -> tuple[float, float]:
    """CPU per login and per launch POST of the lean reference, through Flask's test client, for
    the same (primed) users and courses: the tool's figure above, minus what MicroCred does
    beyond the required checks and records. ``toggle``: switches callgrind's counting "on"
    and "off" around the measured requests (not the platform's signing)."""
    import json

    os.environ["PEER_PLATFORM_JWKS"] = json.dumps({"keys": [jwk]})
    import lean_app

    client = lean_app.create_app(lean_app.Lean()).test_client()
    rng = random.Random(1)
    login_cpu = launch_cpu = 0.0
    for i in range(launches + 50):  # the first 50 warm up (connection, prepared statement)
        measured = i >= 50
        sub = rng.randrange(users)
        course = rng.choice(bench.courses_of(sub))
        client.delete_cookie(lean_app.COOKIE)  # a new browser each time, as the bench's
        counted = toggle is not None and measured
        if counted:
            toggle("on")
        t0 = time.process_time()
        r = client.get("/login", query_string=login_query(sub))
        login_spent = time.process_time() - t0
        if counted:
            toggle("off")
        assert r.status_code == 302, r.status_code
        q = parse_qs(urlsplit(r.headers["Location"]).query)
        token = platform.id_token(sub, course, q["nonce"][0])
        if counted:
            toggle("on")
        t0 = time.process_time()
        r = client.post("/launch", data={"id_token": token, "state": q["state"][0]})
        launch_spent = time.process_time() - t0
        if counted:
            toggle("off")
        assert r.status_code == 303, r.status_code
        if measured:
            login_cpu += login_spent
            launch_cpu += launch_spent
    return login_cpu / launches, launch_cpu / launches


def install_breakdown(app: object) -> dict[str, list[float]]:
    """Wrap the launch's parts with CPU-time (this thread) accumulators: name -> [calls,
    seconds]. Patched where callers look them up (module globals, class attributes, the
    app's hook lists)."""
    import functools

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from lti_tool import web
    from lti_tool.lti import launch as lti_launch
    from lti_tool.lti import login as lti_login
    from lti_tool.lti import validation
    from lti_tool.lti.storage import LaunchStore
    from lti_tool.web.lms import launch as web_launch

    parts: dict[str, list[float]] = {}

    def timed(name: str, fn: object) -> object:
        totals = parts.setdefault(name, [0, 0.0])

        @functools.wraps(fn)  # type: ignore[arg-type]
        def wrapper(*a: object, **kw: object) -> object:
            t0 = time.thread_time()
            try:
                return fn(*a, **kw)  # type: ignore[operator]
            finally:
                totals[0] += 1
                totals[1] += time.thread_time() - t0
        return wrapper

    def patch(owner: object, attr: str, name: str) -> None:
        setattr(owner, attr, timed(name, getattr(owner, attr)))

    patch(web_launch, "start_login", "login: start_login")
    patch(LaunchStore, "save_login", "login: store state+nonce (Redis)")
    patch(web_launch, "complete_launch", "launch: complete_launch")
    patch(validation.LaunchValidator, "validate", "launch: validate")
    for step in ("_find_platform", "_check_signature", "_check_times", "_check_message",
                 "_find_deployment", "_consume"):
        patch(validation.LaunchValidator, step, f"launch: validate.{step}")
    patch(validation, "decode_unverified", "launch: validate.decode_unverified")
    patch(lti_launch, "record_launch", "launch: record_launch (SQL)")
    patch(lti_launch, "note_launch", "launch: note_launch")
    patch(lti_launch, "apply_kind_rules_at_launch", "launch: apply_kind_rules_at_launch")
    patch(lti_launch, "launch_context_from_claims", "launch: launch_context_from_claims")
    patch(LaunchStore, "save_launch", "launch: save launch session (Redis)")
    patch(Session, "commit", "launch: session.commit")
    patch(Session, "connection", "db: session.connection (checkout, ping)")
    patch(Connection, "execute", "db: Connection.execute")
    patch(web, "_log_request", "request log line")
    patch(web_launch, "redirect", "launch: redirect")
    patch(web_launch, "url_for", "url_for")
    patch(web_launch, "set_tool_cookie", "set_tool_cookie")
    patch(lti_login, "_auth_url", "login: auth URL")
    flask_app: Any = app
    for kind in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs"):
        hooks = getattr(flask_app, kind).get(None, [])
        for i, hook in enumerate(hooks):
            label = getattr(hook, "__qualname__", None) or repr(hook)[:40]
            hooks[i] = timed(f"hook {kind.split('_')[0]}: {label}", hook)
    return parts


if __name__ == "__main__":
    sys.exit(main())
