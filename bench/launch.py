"""Full LTI 1.3 launch benchmark: gunicorn + PostgreSQL + Redis, driven like a Moodle.

    .venv/bin/python bench/launch.py [--seconds N] [--users 1,8,32]
                                     [--worker-class sync|gthread] [--threads 4]

What it does, in order:

1. creates a dedicated PostgreSQL database (``microcred_bench``, dropped and recreated on
   every run, through psycopg on the ``postgres`` database), migrates it, registers a bench
   platform (issuer https://lms.bench, Moodle endpoints, a *static* JWKS so that no HTTP
   fetch is needed) and creates the tool key, all through the normal services; flushes
   Redis db 14;
2. starts ``gunicorn wsgi:app`` (2 workers; gthread with 4 threads by default, which measured
   better than sync here: keep-alive, and a worker keeps its core busy while one request
   waits for PostgreSQL) on a free loopback port with
   MICROCRED_ENV=production, PUBLIC_BASE_URL=https://tool.bench (the tool does not
   terminate TLS: the client posts straight to the loopback port, and only the claim
   values must match the public URL) and TRUST_PROXY_HEADERS=0;
3. primes every simulated user once (unmeasured) so the phases measure returning users;
4. for each concurrency level, runs a pool of client *processes* (separate from the
   server; one ``requests.Session`` per simulated user, threads inside each process) that
   do FULL launches in a closed loop: GET /lti/login → parse the redirect to the
   platform's auth URL → sign an RS256 id_token with Moodle-5.0.6-shaped claims and the
   redirect's nonce → POST /lti/launch with the browser cookie → follow the 303 to
   /app?lt=… and check the landing page (200, course title present);
5. runs /healthz at 8 users as the HTTP ceiling of this stack;
6. prints one table; stops gunicorn and drops the bench database.

CPU is read from /proc/<pid>/stat (utime+stime) at the start and end of each measured
window: the gunicorn workers, the client processes, the PostgreSQL processes serving the
bench database (and PostgreSQL's background processes) and Redis; /proc/stat gives what
the rest of the machine used meanwhile ("other load": on a shared box, read the numbers
with it). Loopback only; every loop is bounded by a deadline.

Related: bench/profile_launch.py (the same flow in one process, with cProfile, SQL and Redis
counts), bench/stacks.py (summarises ``--py-spy`` samples of the workers).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import multiprocessing as mp
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path("/work/shared/fixtures/moodle-5.0.6/learner_claims_INTROPROG.json")
if not FIXTURE.exists():  # a checkout next to shared/
    FIXTURE = REPO.parent / "shared" / "fixtures" / "moodle-5.0.6" / FIXTURE.name

PUBLIC_BASE_URL = "https://tool.bench"
TARGET_LINK_URI = PUBLIC_BASE_URL + "/lti/launch"
ISSUER = "https://lms.bench"
CLIENT_ID = "bench-client-1"
DEPLOYMENT_ID = "1"
KID = "bench-platform-key-1"
N_USERS = 200
N_COURSES = 10
COURSES_PER_USER = 3  # each simulated user is a learner in three of the ten courses


def courses_of(sub: int) -> list[int]:
    """The courses user ``sub`` learns in (every pair is launched once before measuring)."""
    return [(sub + k) % N_COURSES for k in range(COURSES_PER_USER)]


PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# MICROCRED_BENCH_REDIS_URL: another Redis db when several people bench on one machine.
REDIS_URL = os.environ.get("MICROCRED_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PEER_REDIS_URL = "redis://127.0.0.1:6379/9"  # db 15 is the test suite's

C_CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
C_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
C_DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
C_TARGET = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
C_LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"
C_EXT = "https://purl.imsglobal.org/spec/lti/claim/ext"


def course_title(k: int) -> str:
    return f"Bench Course {k:02d} Intro to Programming"


# --------------------------------------------------------------------------------------
# /proc accounting
# --------------------------------------------------------------------------------------
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime+stime of a process (all its threads), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode()
    except OSError:
        return 0.0
    rest = data[data.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def backend_pids(database: str) -> list[int]:
    """Redis, and the PostgreSQL processes working for the bench: the backends connected to
    its database and the server's background processes (WAL writer, checkpointer…), not
    the backends of other databases (other users of this machine)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as fh:
                comm = fh.read().strip()
            if comm == "redis-server":
                found.append(int(entry))
            elif comm == "postgres":
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
                is_backend = "(" in cmdline and ")" in cmdline  # "... db 127.0.0.1(port) ..."
                if not is_backend or f" {database} " in cmdline:
                    found.append(int(entry))
        except OSError:
            continue
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read().decode()
        except OSError:
            continue
        if int(data[data.rindex(")") + 2:].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def total_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(p) for p in pids)


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {p: cpu_seconds(p) for p in pids}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two samples by the processes alive at both (a backend of another
    user of the machine may exit in between, taking its counters with it)."""
    return sum(max(0.0, after[p] - before[p]) for p in before if after.get(p))


def rss_mib(pid: int) -> float:
    """Resident memory of a process (MiB), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_busy() -> float:
    """CPU-seconds the whole machine spent not idle (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


# --------------------------------------------------------------------------------------
# Setup: database, platform, tool key, Redis
# --------------------------------------------------------------------------------------
def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_uint(value: int) -> str:
    return b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def new_platform_key() -> tuple[bytes, dict[str, Any]]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig",
           "n": b64u_uint(numbers.n), "e": b64u_uint(numbers.e)}
    return pem, jwk


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(database_url: str, secret_key: str, platform_jwk: dict[str, Any],
            app_dir: Path = REPO, *, catalog: bool = True) -> None:
    """Migrate, register the bench platform with a static keyset, create the tool key and
    (``catalog``) the institution it serves with one published credential."""
    sys.path.insert(0, str(app_dir))
    import redis
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from lti_tool.models.migrate import upgrade
    from lti_tool.services import keys as key_service
    from lti_tool.services import platforms as platform_service

    engine = create_engine(database_url)
    try:
        upgrade(engine)
        with sessionmaker(bind=engine).begin() as session:
            platform = platform_service.add_platform(session, platform_service.PlatformInput(
                name="Bench LMS", issuer=ISSUER, client_id=CLIENT_ID, preset="moodle",
                deployment_ids=(DEPLOYMENT_ID,),
            ), allow_http=False)
            # A static keyset is a normal platform feature (pylti1p3's key_set): no JWKS
            # fetch, so the bench measures the tool, not an HTTP round trip to a fake LMS.
            platform.static_jwks = {"keys": [platform_jwk]}
            key_service.ensure_active_key(session, key_service.KeyVault(secret_key))
            if catalog:
                _bench_catalog(session, platform.id)
    finally:
        engine.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()


def _bench_catalog(session: Any, platform_id: int) -> None:
    """The institution the platform serves, with one published 5-skill credential (what a
    learner's landing page shows, offered in every course after priming)."""
    from lti_tool.domain.catalog import LifecycleState
    from lti_tool.services import catalog as catalog_service

    sys.path.insert(0, str(REPO))
    from tests.support.catalog import CatalogBuilder

    issuer = catalog_service.create_issuer(
        session, {"name": "Bench College", "url": "https://college.bench",
                  "email": "registrar@college.bench"}, slug="bench-college",
        platform_id=platform_id)
    builder = CatalogBuilder(session, issuer)
    codes = [f"BENCH-SK-{n}" for n in range(1, 6)]
    builder.skills(*codes)
    builder.credential("BENCH-CRED", LifecycleState.PUBLISHED, required=tuple(codes))


def offer_everywhere(database_url: str) -> int:
    """Offer the bench credential in every course the priming launches created."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import sessionmaker

    from lti_tool.models import Context, MicroCredential
    from lti_tool.services import tracking

    engine = create_engine(database_url)
    try:
        with sessionmaker(bind=engine).begin() as session:
            credential = session.scalars(select(MicroCredential)).first()
            if credential is None:
                return 0
            contexts = list(session.scalars(select(Context)))
            by = tracking.Assessor(ref="bench", name="Bench")
            for context in contexts:
                tracking.attach_offering(session, issuer_id=credential.issuer_id,
                                         context=context, credential_id=credential.id, by=by)
            return len(contexts)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    workers: list[int] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(args: argparse.Namespace, env: dict[str, str], log_path: Path, *,
                 chdir: Path | None = None, app: str = "wsgi:app") -> Server:
    """gunicorn with the production settings file (config/gunicorn.conf.py of the tree
    measured: gthread, threads, no keep-alive, …); workers and threads from the command
    line through the same environment variables an operator sets."""
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    conf = args.app_dir / "config" / "gunicorn.conf.py"
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(args.workers),
           "GUNICORN_THREADS": str(args.threads)}
    chdir = chdir or args.app_dir
    cmd = [str(gunicorn), "-c", str(conf), "--chdir", str(chdir), "--backlog", "2048",
           "--log-level", "warning"]
    if args.worker_class != "gthread":
        cmd += ["--worker-class", args.worker_class]
    cmd.append(app)
    log_fh = open(log_path, "wb")  # noqa: SIM115 - closed with the server
    proc = subprocess.Popen(cmd, env=env, stdout=log_fh, stderr=subprocess.STDOUT,
                            cwd=chdir, start_new_session=True)
    server = Server(proc, port, log_path)
    import requests

    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {log_path}:\n"
                               + log_path.read_text()[-3000:])
        with contextlib.suppress(requests.RequestException):
            ok = requests.get(server.base + "/healthz", timeout=1).status_code == 200
            server.workers = children_of(proc.pid)
            if ok and len(server.workers) == args.workers:
                return server
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become ready; see {log_path}")


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=5)


# --------------------------------------------------------------------------------------
# Client (runs in its own process; one requests.Session per simulated user)
# --------------------------------------------------------------------------------------
@dataclass
class ClientConfig:
    base: str
    key_pem: bytes
    mode: str  # "launch", "landing", "peer", "peer-landing", "floor" or "healthz"
    users: int  # threads in this process
    seed: int
    prime_subs: list[int] = field(default_factory=list)  # priming: these subs, once each
    follow: bool = False  # launch phases also load the landing page


class Platform:
    """The bench LMS's side of a launch: Moodle-5.0.6-shaped claims, signed RS256."""

    def __init__(self, key_pem: bytes) -> None:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        self.key = serialization.load_pem_private_key(key_pem, password=None)
        self.padding = padding.PKCS1v15()
        self.hash = hashes.SHA256()
        self.header = b64u(json.dumps({"alg": "RS256", "typ": "JWT", "kid": KID},
                                      separators=(",", ":")).encode())
        base = json.loads(FIXTURE.read_text())
        base.update({"iss": ISSUER, "aud": CLIENT_ID})
        base[C_DEPLOYMENT] = DEPLOYMENT_ID
        base[C_TARGET] = TARGET_LINK_URI
        self.base = base
        self.contexts = [
            {"id": f"bench-course-{k}", "label": f"BENCH{k:02d}", "title": course_title(k),
             "type": ["CourseSection"]} for k in range(N_COURSES)]
        self.links = [
            {"description": base[C_LINK].get("description", ""), "id": f"bench-link-{k}",
             "title": f"MicroCred ({course_title(k)})"} for k in range(N_COURSES)]

    def id_token(self, sub: int, course: int, nonce: str) -> str:
        now = int(time.time())
        body = dict(self.base)
        body.update({
            "sub": f"bench-user-{sub}", "nonce": nonce, "iat": now, "exp": now + 60,
            "name": f"Bench Learner{sub}", "given_name": "Bench",
            "family_name": f"Learner{sub}", "email": f"learner{sub}@lms.bench",
            C_CONTEXT: self.contexts[course], C_LINK: self.links[course],
            C_LIS: {"course_section_sourcedid": f"BENCH{course:02d}",
                    "person_sourcedid": f"STU-{sub:05d}"},
            C_EXT: {"lms": "moodle-2", "user_username": f"learner{sub}"},
        })
        signing_input = self.header + "." + b64u(json.dumps(body, separators=(",", ":"))
                                                 .encode())
        signature = self.key.sign(signing_input.encode(), self.padding, self.hash)
        return signing_input + "." + b64u(signature)


class LaunchFailed(Exception):
    pass


def _cookie(response: Any, name: str) -> str | None:
    value = response.cookies.get(name)
    if value:
        return str(value)
    match = re.search(name + r"=([^;,\s]+)", response.headers.get("Set-Cookie", ""))
    return match.group(1) if match else None


def full_launch(http: Any, base: str, platform: Platform, browser: dict[str, str],
                sub: int, course: int, *, clear: bool = True, follow: bool = True) -> str:
    """One launch as a browser inside Moodle does it; returns the landing page's URL.
    ``follow``: also load the landing page (the launch's 303) and check it. Raises
    LaunchFailed."""
    # The tool's cookies are Secure (its public URL is https) and the bench talks plain
    # http to the loopback port, so the browser cookie is carried by hand.
    login = http.get(base + "/lti/login", params={
        "iss": ISSUER, "login_hint": str(sub), "target_link_uri": TARGET_LINK_URI,
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT_ID,
        "lti_message_hint": f"{{\"cmid\":{course}}}",
    }, cookies=browser, allow_redirects=False, timeout=30)
    if login.status_code != 302:
        raise LaunchFailed(f"login {login.status_code}")
    if "mc_browser" not in browser:
        value = _cookie(login, "mc_browser")
        if not value:
            raise LaunchFailed("login set no mc_browser cookie")
        browser["mc_browser"] = value
    if "/lti/login/check" in login.headers["Location"]:
        # A browser's first login: the one-time check that its cookie comes back.
        login = http.get(urljoin(base, login.headers["Location"]), cookies=browser,
                         allow_redirects=False, timeout=30)
        if login.status_code != 302:
            raise LaunchFailed(f"cookie check {login.status_code}")
    query = parse_qs(urlsplit(login.headers["Location"]).query)
    state, nonce = query["state"][0], query["nonce"][0]
    id_token = platform.id_token(sub, course, nonce)
    launch = http.post(base + "/lti/launch", data={"id_token": id_token, "state": state},
                       cookies=browser, allow_redirects=False, timeout=30)
    if launch.status_code != 303:
        raise LaunchFailed(f"launch {launch.status_code}")
    location = launch.headers["Location"]
    if location.startswith("/"):
        location = base + location
    if not follow:
        if "/app?lt=" not in location:
            raise LaunchFailed("launch did not redirect to the landing page")
        if clear:
            http.cookies.clear()
        return location
    page = http.get(location, cookies=browser, allow_redirects=False, timeout=30)
    if page.status_code != 200:
        raise LaunchFailed(f"landing {page.status_code}")
    if course_title(course) not in page.text:
        raise LaunchFailed("landing page lacks the course title")
    if clear:
        http.cookies.clear()  # Secure cookies never go back over http anyway
    return location


def peer_launch(http: Any, base: str, platform: Platform, sub: int, course: int, *,
                follow: bool = True) -> str:
    """The same launch against the pylti1p3 peer (bench/peer_app.py): its cookies are not
    Secure, so the session's jar carries them. Returns the landing page's URL."""
    http.cookies.clear()
    login = http.get(base + "/login", params={
        "iss": ISSUER, "login_hint": str(sub), "target_link_uri": TARGET_LINK_URI,
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT_ID,
        "lti_message_hint": f"{{\"cmid\":{course}}}",
    }, allow_redirects=False, timeout=30)
    if login.status_code != 302:
        raise LaunchFailed(f"peer login {login.status_code}")
    query = parse_qs(urlsplit(login.headers["Location"]).query)
    id_token = platform.id_token(sub, course, query["nonce"][0])
    launch = http.post(base + "/launch", data={"id_token": id_token,
                                               "state": query["state"][0]},
                       allow_redirects=False, timeout=30)
    if launch.status_code != 303:
        raise LaunchFailed(f"peer launch {launch.status_code}")
    location = urljoin(base, launch.headers["Location"])
    if not follow:
        if "/app?launch_id=" not in location:
            raise LaunchFailed("peer launch did not redirect to its landing page")
        return location
    page = http.get(location, allow_redirects=False, timeout=30)
    if page.status_code != 200 or course_title(course) not in page.text:
        raise LaunchFailed(f"peer landing {page.status_code}")
    return location


def landing_again(http: Any, url: str, browser: dict[str, str], course: int) -> None:
    """The landing page of a launch already made (a reload, or the back button)."""
    page = http.get(url, cookies=browser or None, allow_redirects=False, timeout=30)
    if page.status_code != 200 or course_title(course) not in page.text:
        raise LaunchFailed(f"landing again {page.status_code}")


def client_main(cfg: ClientConfig, conn: Any) -> None:
    """Child process: build sessions, say ready, wait for the schedule, run, report."""
    import requests

    platform = Platform(cfg.key_pem) if cfg.mode != "healthz" else None
    rng = random.Random(cfg.seed)
    sessions = []
    for _ in range(cfg.users):
        http = requests.Session()
        http.trust_env = False  # loopback: never a proxy
        sessions.append(http)
    conn.send("ready")
    t_start, t_measure, t_end = conn.recv()
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "warm": 0}
    errors: dict[str, int] = {}

    def note_error(kind: str) -> None:
        with lock:
            errors[kind] = errors.get(kind, 0) + 1

    def run_user(index: int) -> None:
        http = sessions[index]
        browser: dict[str, str] = {}
        user_rng = random.Random(rng.random() + index)
        landing: tuple[str, int] | None = None
        if cfg.mode in ("landing", "peer-landing"):  # one launch first, then its page
            assert platform is not None
            sub = user_rng.randrange(N_USERS)
            course = user_rng.choice(courses_of(sub))
            try:
                if cfg.mode == "landing":
                    url = full_launch(http, cfg.base, platform, browser, sub, course,
                                      clear=False)
                else:
                    url = peer_launch(http, cfg.base, platform, sub, course)
                landing = (url, course)
            except (LaunchFailed, requests.RequestException, KeyError) as exc:
                note_error(f"{type(exc).__name__}: {exc}"[:120])
                return
        while time.time() < t_start:
            time.sleep(0.001)
        while True:
            t0 = time.time()
            if t0 >= t_end:
                return
            try:
                if cfg.mode == "healthz":
                    r = http.get(cfg.base + "/healthz", timeout=30)
                    if r.status_code != 200:
                        raise LaunchFailed(f"healthz {r.status_code}")
                elif landing is not None:
                    landing_again(http, landing[0], browser, landing[1])
                elif cfg.mode in ("peer", "floor"):  # the floor app has the peer's routes
                    assert platform is not None
                    sub = user_rng.randrange(N_USERS)
                    peer_launch(http, cfg.base, platform, sub,
                                user_rng.choice(courses_of(sub)), follow=cfg.follow)
                else:
                    assert platform is not None
                    sub = user_rng.randrange(N_USERS)
                    full_launch(http, cfg.base, platform, browser, sub,
                                user_rng.choice(courses_of(sub)), follow=cfg.follow)
            except (LaunchFailed, requests.RequestException, KeyError) as exc:
                note_error(f"{type(exc).__name__}: {exc}"[:120])
                time.sleep(0.01)
                continue
            t1 = time.time()
            with lock:
                if t_measure <= t1 <= t_end:
                    counts["ok"] += 1
                    latencies.append(t1 - t0)
                else:
                    counts["warm"] += 1

    def run_prime() -> None:
        http = sessions[0]
        browser: dict[str, str] = {}
        for sub in cfg.prime_subs:
            for course in courses_of(sub):
                if time.time() >= t_end:
                    return
                try:
                    assert platform is not None
                    full_launch(http, cfg.base, platform, browser, sub, course)
                    counts["ok"] += 1
                except (LaunchFailed, requests.RequestException, KeyError) as exc:
                    note_error(f"{type(exc).__name__}: {exc}"[:120])

    if cfg.prime_subs:
        threads = [threading.Thread(target=run_prime)]
    else:
        threads = [threading.Thread(target=run_user, args=(i,)) for i in range(cfg.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, t_end - time.time()) + 60)
    conn.send({"latencies": latencies, "ok": counts["ok"], "warm": counts["warm"],
               "errors": errors})
    conn.close()


# --------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------
@dataclass
class PhaseResult:
    label: str
    users: int
    seconds: float
    completed: int
    latencies: list[float]
    worker_cpu: float
    client_cpu: float
    backend_cpu: float
    machine_cpu: float
    errors: dict[str, int]
    workers_restarted: bool

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def other_load(self) -> float:
        """Cores busy with anything but this bench (other users of the machine)."""
        ours = self.worker_cpu + self.client_cpu + self.backend_cpu
        return max(0.0, self.machine_cpu - ours) / self.seconds if self.seconds else 0.0

    def per_item_ms(self, cpu: float) -> float:
        return cpu * 1000 / self.completed if self.completed else float("nan")


def run_phase(server: Server, key_pem: bytes, database: str, *, label: str, mode: str,
              users: int,
              procs: int, warmup: float, seconds: float,
              prime_subs: list[int] | None = None, py_spy: str = "",
              follow: bool = False) -> PhaseResult:
    ctx = mp.get_context("spawn")
    procs = max(1, min(procs, users))
    share = [users // procs + (1 if i < users % procs else 0) for i in range(procs)]
    children = []
    for i, n in enumerate(share):
        parent_conn, child_conn = ctx.Pipe()
        cfg = ClientConfig(base=server.base, key_pem=key_pem, mode=mode, users=n,
                           seed=secrets.randbits(32),
                           prime_subs=(prime_subs or [])[i::procs] if prime_subs else [],
                           follow=follow)
        proc = ctx.Process(target=client_main, args=(cfg, child_conn), daemon=True)
        proc.start()
        children.append((proc, parent_conn))
    try:
        for _proc, conn in children:
            if not conn.poll(60):
                raise RuntimeError("a client process did not start")
            conn.recv()
        t_start = time.time() + 0.1
        t_measure = t_start + warmup
        t_end = t_measure + seconds
        for _, conn in children:
            conn.send((t_start, t_measure, t_end))
        client_pids = [p.pid for p, _ in children if p.pid]
        w0 = c0 = m0 = w1 = c1 = m1 = 0.0
        b0: dict[int, float] = {}
        b1: dict[int, float] = {}
        if not prime_subs:  # priming ends when every user launched once, not by the clock
            time.sleep(max(0.0, t_measure - time.time()))
            backends = backend_pids(database)
            w0, c0, b0, m0 = (total_cpu(server.workers), total_cpu(client_pids),
                              cpu_by_pid(backends), machine_busy())
            if py_spy:  # sample the workers (CPU only, no pausing) during the window
                spy = Path(sys.executable).parent / "py-spy"
                for pid in server.workers:
                    subprocess.Popen([str(spy), "record", "--pid", str(pid), "--nonblocking",
                                      "--gil", "--rate", "250", "--duration", str(int(seconds)),
                                      "--format", "raw", "-o", f"{py_spy}.{users}u.{pid}.txt"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(max(0.0, t_end - time.time()))
            w1, c1, b1, m1 = (total_cpu(server.workers), total_cpu(client_pids),
                              cpu_by_pid(backends), machine_busy())
        restarted = children_of(server.proc.pid) != server.workers
        latencies: list[float] = []
        completed = 0
        errors: dict[str, int] = {}
        for proc, conn in children:
            if not conn.poll(max(0.0, t_end - time.time()) + 120):
                raise RuntimeError("a client process did not report")
            result = conn.recv()
            latencies += result["latencies"]
            completed += result["ok"]
            for k, v in result["errors"].items():
                errors[k] = errors.get(k, 0) + v
            proc.join(timeout=10)
    finally:
        for proc, _ in children:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    return PhaseResult(label, users, seconds, completed, latencies, w1 - w0, c1 - c0,
                       cpu_delta(b0, b1), m1 - m0, errors, restarted)


def prime(server: Server, key_pem: bytes, database: str,
          procs: int) -> tuple[int, dict[str, int]]:
    """Launch each simulated user once in each of their courses: not measured."""
    result = run_phase(server, key_pem, database, label="prime", mode="launch", users=procs,
                       procs=procs, warmup=0, seconds=120, prime_subs=list(range(N_USERS)))
    return result.completed, result.errors


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per phase")
    p.add_argument("--users", default="1,8", help="concurrency levels, comma separated")
    p.add_argument("--no-peer", dest="peer", action="store_false",
                   help="do not run the pylti1p3 peer (bench/peer_app.py) side by side")
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="do not run the bare WSGI floor (bench/floor_app.py) side by side")
    p.add_argument("--lean", action="store_true",
                   help="also run the lean reference (bench/lean_app.py: the launch's required "
                        "checks and records, written as directly as the stack allows), "
                        "side by side")
    p.add_argument("--no-catalog", dest="catalog", action="store_false",
                   help="no institution or credential: the landing page shows no records "
                        "(the set-up of the measurements before 2026-12-06)")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat the interleaved MicroCred/peer phases this many times")
    p.add_argument("--landing-users", type=int, default=8,
                   help="users reloading the landing page of one launch (0: no such phase)")
    p.add_argument("--healthz-users", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--worker-class", choices=("sync", "gthread"), default="gthread")
    p.add_argument("--threads", type=int, default=8,
                   help="threads per gthread worker (GUNICORN_THREADS; the settings file's "
                        "default is 8)")
    p.add_argument("--client-procs", type=int, default=0,
                   help="client processes (default: min(users, 2 x cores))")
    p.add_argument("--database", default="microcred_bench")
    p.add_argument("--app-dir", type=Path, default=REPO,
                   help="serve the tool from this tree (holding lti_tool/, config/, wsgi.py), "
                        "e.g. a copy of another revision, for A/B runs")
    p.add_argument("--follow", action="store_true",
                   help="the launch phases also load the landing page (the launch's 303), "
                        "as before 2026-12-07; by default a launch is login + launch POST, "
                        "as issue 14 counts it, and the landing page has its own phase")
    p.add_argument("--no-prime", action="store_true",
                   help="do not pre-launch every user (measure first-launch inserts too)")
    p.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument("--py-spy", default="", metavar="PREFIX",
                   help="record the workers with py-spy (if installed) during each launch "
                        "phase, as collapsed stacks PREFIX.<users>u.<pid>.txt")
    args = p.parse_args(argv)
    args.user_levels = [int(u) for u in args.users.split(",") if u.strip()]
    args.app_dir = args.app_dir.resolve()
    if not (args.app_dir / "wsgi.py").exists():
        p.error(f"--app-dir {args.app_dir} has no wsgi.py")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.database):
        p.error("--database must be a plain lower-case identifier")
    if args.seconds <= 0 or args.seconds > 600 or args.warmup < 0 or args.warmup > 60:
        p.error("--seconds must be in (0, 600] and --warmup in [0, 60]")
    if any(u < 1 or u > 256 for u in args.user_levels):
        p.error("--users must be between 1 and 256")
    return args


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN-safe


def worker_ms_per_item(rows: list[PhaseResult]) -> float:
    """Worker CPU (ms) per item completed over several phases (rounds) of one app."""
    return sum(r.worker_cpu for r in rows) * 1000 / max(1, sum(r.completed for r in rows))


def print_table(args: argparse.Namespace, rows: list[PhaseResult],
                health: PhaseResult | None) -> None:
    server = (f"gunicorn {args.workers} x {args.worker_class}"
              + (f" ({args.threads} threads)" if args.worker_class == "gthread" else ""))
    print()
    what = ("login → signed id_token → launch POST → landing page" if args.follow
            else "login → signed id_token → launch POST (its 303 not followed)")
    print(f"Full LTI launch ({what}), MicroCred "
          f"and a minimal pylti1p3 2.0.0 Flask app (bench/peer_app.py), interleaved; "
          f"'landing' rows: reloading one launch's landing page; "
          f"{server}; PostgreSQL + Redis; {os.cpu_count()} cores; "
          f"{args.seconds:g} s per phase after {args.warmup:g} s warm-up")
    head = (f"{'app':<22} {'users':>5} {'per s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
            f"{'worker CPU ms/item':>18} {'client CPU ms/item':>18} "
            f"{'pg+redis CPU ms/item':>20} {'other load':>10} {'errors':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r.label:<22} {r.users:>5} {r.rate:>7.1f} {fmt(r.pct(0.5)):>7} "
              f"{fmt(r.pct(0.9)):>7} {fmt(r.pct(0.99)):>7} "
              f"{fmt(r.per_item_ms(r.worker_cpu), 2):>18} "
              f"{fmt(r.per_item_ms(r.client_cpu), 2):>18} "
              f"{fmt(r.per_item_ms(r.backend_cpu), 2):>20} {r.other_load:>10.2f} "
              f"{sum(r.errors.values()):>6}")
    for label in sorted({r.label for r in rows if r.label.startswith("microcred")}):
        ours = [r for r in rows if r.label == label]
        peers = [r for r in rows if r.label == label.replace("microcred", "pylti1p3 peer")]
        for users in sorted({r.users for r in ours}):
            a = [r for r in ours if r.users == users]
            b = [r for r in peers if r.users == users]
            if not a or not b:
                continue
            cpu_a, cpu_b = worker_ms_per_item(a), worker_ms_per_item(b)
            print(f"{label} / peer at {users} users: worker CPU per item {cpu_a:.2f} / "
                  f"{cpu_b:.2f} ms = {cpu_a / cpu_b if cpu_b else float('nan'):.2f}x")
            floors = [r for r in rows if r.label == "bare WSGI floor" and r.users == users]
            if label == "microcred" and floors and cpu_b:
                cpu_f = worker_ms_per_item(floors)
                above = (cpu_a - cpu_f) / (cpu_b - cpu_f) if cpu_b > cpu_f else float("nan")
                print(f"  bare WSGI floor at {users} users: {cpu_f:.2f} ms = "
                      f"{cpu_f / cpu_b:.2f}x the peer; above the floor, MicroCred "
                      f"{cpu_a - cpu_f:.2f} ms and the peer {cpu_b - cpu_f:.2f} ms = "
                      f"{above:.2f}x")
            for lean_label in ("lean reference", "lean, no Flask"):
                leans = [r for r in rows if r.label == lean_label and r.users == users]
                if label == "microcred" and leans and cpu_b:
                    cpu_l = worker_ms_per_item(leans)
                    print(f"  {lean_label} at {users} users: {cpu_l:.2f} ms = "
                          f"{cpu_l / cpu_b:.2f}x the peer; MicroCred = {cpu_a / cpu_l:.2f}x it")
    if health is not None:
        print(f"healthz at {health.users} users: {health.rate:.0f} req/s, "
              f"p50 {fmt(health.pct(0.5), 2)} ms, p99 {fmt(health.pct(0.99), 2)} ms, "
              f"worker CPU {fmt(health.per_item_ms(health.worker_cpu), 3)} ms/req, "
              f"client CPU {fmt(health.per_item_ms(health.client_cpu), 3)} ms/req, "
              f"other load {health.other_load:.2f} cores")
    for r in [*rows, *([health] if health else [])]:
        if r.errors:
            print(f"errors at {r.users} users ({r.label}):")
            for kind, n in sorted(r.errors.items(), key=lambda kv: -kv[1])[:5]:
                print(f"  {n} x {kind}")
        if r.workers_restarted:
            print(f"warning: a gunicorn worker restarted during the {r.users}-user phase; "
                  "its CPU is under-counted")
    print("worker CPU = utime+stime of the gunicorn workers / launches completed in the "
          "window;\npg+redis = the bench database's backends, PostgreSQL's background "
          "processes and Redis;\nother load = cores busy with anything else during the "
          "window (0 on a quiet machine).")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cores = os.cpu_count() or 1
    secret_key = secrets.token_urlsafe(48)
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MICROCRED_", "KEY_ENCRYPTION", "DATABASE_", "REDIS_"))}
    env.update({
        "MICROCRED_ENV": "production", "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TRUST_PROXY_HEADERS": "0",
        "MICROCRED_INSTANCE_PATH": tempfile.mkdtemp(prefix="microcred-bench-"),
        "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(args.app_dir),
        # Every simulated browser comes from 127.0.0.1: the per-address login limit stays
        # on (its Redis check is part of the cost) with room for the whole bench.
        "RATE_LIMIT_LOGIN": "1000000 per minute",
    })
    log_path = Path(env["MICROCRED_INSTANCE_PATH"]) / "gunicorn.log"
    print(f"bench database {args.database}: recreating and migrating …", flush=True)
    key_pem, jwk = new_platform_key()
    recreate_database(args.database)
    server: Server | None = None
    peer: Server | None = None
    floor: Server | None = None
    lean: Server | None = None
    lean_bare: Server | None = None
    rows: list[PhaseResult] = []
    health: PhaseResult | None = None
    succeeded = False
    try:
        prepare(database_url, secret_key, jwk, args.app_dir, catalog=args.catalog)
        server = start_server(args, env, log_path)
        print(f"gunicorn pid {server.proc.pid}, workers {server.workers}, {server.base} "
              f"(log {log_path})", flush=True)
        if args.peer:
            peer_env = {**env, "PEER_REDIS_URL": PEER_REDIS_URL,
                        "PEER_PLATFORM_JWKS": json.dumps({"keys": [jwk]}),
                        "PYTHONPATH": str(REPO / "bench")}
            peer = start_server(args, peer_env, log_path.with_name("peer.log"),
                                chdir=REPO / "bench", app="peer_app:app")
            print(f"peer (pylti1p3) pid {peer.proc.pid}, workers {peer.workers}, {peer.base}",
                  flush=True)
        if args.peer and args.floor:
            floor = start_server(args, {**env, "PYTHONPATH": str(REPO / "bench")},
                                 log_path.with_name("floor.log"), chdir=REPO / "bench",
                                 app="floor_app:app")
            print(f"floor (bare WSGI) pid {floor.proc.pid}, workers {floor.workers}, "
                  f"{floor.base}", flush=True)
        if args.lean:
            lean_env = {**env, "PEER_PLATFORM_JWKS": json.dumps({"keys": [jwk]}),
                        "PYTHONPATH": f"{REPO / 'bench'}:{args.app_dir}"}
            lean = start_server(args, lean_env, log_path.with_name("lean.log"),
                                chdir=REPO / "bench", app="lean_app:app")
            lean_bare = start_server(args, lean_env, log_path.with_name("lean-bare.log"),
                                     chdir=REPO / "bench", app="lean_app:bare")
            print(f"lean reference pid {lean.proc.pid}, workers {lean.workers}, {lean.base}; "
                  f"without Flask pid {lean_bare.proc.pid}, {lean_bare.base}", flush=True)
        default_procs = args.client_procs or 2 * cores
        if not args.no_prime:
            done, errors = prime(server, key_pem, args.database, min(default_procs, 8))
            print(f"primed {done} of {N_USERS * COURSES_PER_USER} user-course pairs"
                  + (f" (errors: {errors})" if errors else ""), flush=True)
        if args.catalog:
            print(f"bench credential offered in {offer_everywhere(database_url)} courses",
                  flush=True)
        plan: list[tuple[Server, str, str]] = [(server, "microcred", "launch")]
        if peer is not None:
            plan.append((peer, "pylti1p3 peer", "peer"))
        if floor is not None:
            plan.append((floor, "bare WSGI floor", "floor"))
        if lean is not None:  # its routes are the peer's
            plan.append((lean, "lean reference", "peer"))
        if lean_bare is not None:
            plan.append((lean_bare, "lean, no Flask", "peer"))
        for _round in range(args.rounds):
            for users in args.user_levels:
                for target, label, mode in plan:  # interleaved: same machine state
                    r = run_phase(target, key_pem, args.database, label=label, mode=mode,
                                  users=users, procs=min(users, default_procs),
                                  warmup=args.warmup, seconds=args.seconds,
                                  py_spy=args.py_spy if target is server else "",
                                  follow=args.follow)
                    rows.append(r)
                    print(f"  {label:>14} {users:>3} users: {r.rate:.1f} launches/s, p50 "
                          f"{fmt(r.pct(0.5))} ms, p99 {fmt(r.pct(0.99))} ms, worker CPU "
                          f"{fmt(r.per_item_ms(r.worker_cpu), 2)} ms/launch, other load "
                          f"{r.other_load:.2f}", flush=True)
            if args.landing_users:
                for target, label, mode in plan:
                    if mode == "floor" or target in (lean, lean_bare):  # no landing page to compare
                        continue
                    r = run_phase(target, key_pem, args.database, label=label + " landing",
                                  mode="landing" if mode == "launch" else "peer-landing",
                                  users=args.landing_users,
                                  procs=min(args.landing_users, default_procs),
                                  warmup=args.warmup, seconds=args.seconds)
                    rows.append(r)
                    print(f"  {label + ' landing':>22} {args.landing_users:>3} users: "
                          f"{r.rate:.1f} pages/s, worker CPU "
                          f"{fmt(r.per_item_ms(r.worker_cpu), 2)} ms/page", flush=True)
        peer_health = None
        if args.healthz_users:
            health = run_phase(server, key_pem, args.database, label="healthz", mode="healthz",
                               users=args.healthz_users,
                               procs=min(args.healthz_users, default_procs),
                               warmup=args.warmup, seconds=args.seconds)
            if peer is not None:  # the per-request floor of the same gunicorn settings
                peer_health = run_phase(peer, key_pem, args.database, label="peer healthz",
                                        mode="healthz", users=args.healthz_users,
                                        procs=min(args.healthz_users, default_procs),
                                        warmup=args.warmup, seconds=args.seconds)
        print_table(args, rows, health)
        if peer_health is not None:
            print(f"peer healthz at {peer_health.users} users: {peer_health.rate:.0f} req/s, "
                  f"worker CPU {fmt(peer_health.per_item_ms(peer_health.worker_cpu), 3)} "
                  f"ms/req, other load {peer_health.other_load:.2f} cores")
        print("worker memory (RSS) after the phases: MicroCred "
              + ", ".join(f"{rss_mib(w):.0f} MiB" for w in server.workers)
              + ("; peer " + ", ".join(f"{rss_mib(w):.0f} MiB" for w in peer.workers)
                 if peer is not None else ""))
        if args.json:
            args.json.write_text(json.dumps({
                "server": {"workers": args.workers, "worker_class": args.worker_class,
                           "threads": args.threads}, "cores": cores,
                "seconds": args.seconds, "warmup": args.warmup,
                "phases": [{"users": r.users, "mode": r.label, "per_s": r.rate,
                            "p50_ms": r.pct(0.5), "p90_ms": r.pct(0.9),
                            "p99_ms": r.pct(0.99),
                            "worker_cpu_ms": r.per_item_ms(r.worker_cpu),
                            "client_cpu_ms": r.per_item_ms(r.client_cpu),
                            "backend_cpu_ms": r.per_item_ms(r.backend_cpu),
                            "other_load_cores": r.other_load,
                            "errors": r.errors}
                           for r in [*rows, *([health] if health else [])]],
            }, indent=2))
        failed = any(r.errors for r in rows) or (health is not None and bool(health.errors))
        if failed:
            print(f"gunicorn log kept: {log_path}")
        succeeded = not failed
        return 1 if failed else 0
    finally:
        if server is not None:
            stop_server(server)
        if peer is not None:
            stop_server(peer)
        if floor is not None:
            stop_server(floor)
        for extra in (lean, lean_bare):
            if extra is not None:
                stop_server(extra)
        if not args.keep_db:
            drop_database(args.database)
        with contextlib.suppress(Exception):
            import redis

            redis.Redis.from_url(REDIS_URL).flushdb()
            redis.Redis.from_url(PEER_REDIS_URL).flushdb()
        if succeeded and not args.py_spy:
            import shutil

            shutil.rmtree(env["MICROCRED_INSTANCE_PATH"], ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
