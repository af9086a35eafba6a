"""Shared set-up of the tracking benchmarks (bench/grid.py, bench/record.py,
bench/bulk_import.py): a dedicated PostgreSQL database (created, migrated, dropped), the
Flask app bound to it, a realistic for-credit course, and an instructor launch made through
the real OIDC login → signed id_token → launch flow of the test client.

The course: 600 learners (launched through ``record_launch`` + ``note_launch``, exactly as a
launch records them), 4 published credentials x 10 skills (40 skills; one with optional
skills), and, when asked, ~50 % of the 24,000 cells demonstrated: each learner has their own
pace (so some complete credentials and hold awards), with fails, fails later passed,
corrections (a pass superseded by a fail and the reverse) and a few passes made in a
continuing-education shell. Seeding writes the demonstrations with bulk INSERTs (it is set-up,
not what is measured) and then creates the awards with the real engine
(``tracking.evaluate_awards_many``).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PUBLIC_BASE_URL = "https://tool.bench"
ISSUER = "https://lms-tracking.bench"
CLIENT_ID = "bench-tracking"
DEPLOYMENT_ID = "1"
N_LEARNERS = 600
CREDENTIALS = 4
SKILLS_PER_CREDENTIAL = 10
GIVEN = ("Ada", "Bashir", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gabriel", "Hana", "Ibrahim",
         "Jun", "Kateryna", "Liam", "Mei", "Nia", "Olu", "Priya", "Quinn", "Rosa", "Sami",
         "Tariq", "Uma", "Valentina", "Wen", "Ximena", "Yusuf", "Zoë")
FAMILY = ("Abara", "Bergström", "Chen", "Dubois", "Eze", "Fernández", "Gupta", "Haddad",
          "Ivanova", "Jensen", "Kowalski", "Lefebvre", "Mensah", "Nakamura", "O'Brien",
          "Petrov", "Quispe", "Rossi", "Singh", "Tremblay", "Unger", "Vargas", "Wong",
          "Xu", "Yamamoto", "Zielinski")


# -- database ----------------------------------------------------------------------------------
def _admin_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


@contextmanager
def bench_database(name: str, keep: bool = False) -> Iterator[str]:
    """Create (drop first) a dedicated database, migrate it, yield its URL, drop it."""
    from sqlalchemy import text

    from lti_tool.extensions import make_engine
    from lti_tool.models.migrate import upgrade

    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str) -> Any:
    """The production profile (no debug, no template reloading), on the bench database, with
    its own Redis key prefix (cleared by ``clear_redis``)."""
    from lti_tool import create_app

    app = create_app({"ENV": "production", "SECRET_KEY": uuid.uuid4().hex * 2,
                      "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
                      "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "LOG_LEVEL": "WARNING",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="microcred-bench-")})
    app.extensions["kv"].prefix = f"mc-bench-tracking:{uuid.uuid4().hex[:8]}:"
    return app


def clear_redis(app: Any) -> None:
    store = app.extensions["kv"]
    for key in store.client.scan_iter(match=store.prefix + "*", count=1000):
        store.client.delete(key)


# -- the course --------------------------------------------------------------------------------
@dataclass
class World:
    app: Any
    platform_id: int
    deployment_pk: int
    issuer_id: int
    context_id: int
    ce_context_id: int
    skill_ids: list[int]
    skill_codes: list[str]
    credential_ids: list[int]
    account_ids: list[int] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)
    subs: list[str] = field(default_factory=list)


def _launch_context(world_platform: tuple[int, int], *, sub: str, name: str, email: str,
                    roles: tuple[str, ...], context_id: str, title: str, label: str,
                    kind: str) -> Any:
    from lti_tool.domain.lti import LaunchContext, map_roles

    given, _, family = name.partition(" ")
    return LaunchContext(
        launch_id=uuid.uuid4().hex, message_type="LtiResourceLinkRequest",
        platform_id=world_platform[0], deployment_pk=world_platform[1], issuer=ISSUER,
        client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID, sub=sub, roles=roles,
        app_roles=map_roles(roles), name=name, given_name=given, family_name=family,
        email=email, context_id=context_id, context_title=title, context_label=label,
        context_types=("CourseSection",), resource_link_id=f"link-{context_id}",
        resource_link_title="Skills & credentials", custom={"context_kind": kind},
        product_family="moodle")


def build_course(app: Any, *, learners: int = N_LEARNERS, seed: int = 4) -> World:
    """Platform, issuer, 4 published credentials x 10 skills, a for-credit course offering
    all four, a continuing-ed shell offering the first, and ``learners`` learners."""
    from lti_tool.domain.catalog import LifecycleState
    from lti_tool.domain.lti import ROLE_MEMBERSHIP
    from lti_tool.models import Context
    from lti_tool.services import catalog as catalog_service
    from lti_tool.services import tracking
    from lti_tool.services.launches import record_launch
    from lti_tool.services.platforms import PlatformInput, add_platform
    from lti_tool.services.roster import note_launch
    from tests.support.catalog import CatalogBuilder

    rng = random.Random(seed)
    factory = app.extensions["db_sessionmaker"]
    with factory() as db:
        platform = add_platform(db, PlatformInput(
            name="Bench Moodle", issuer=ISSUER, client_id=CLIENT_ID, preset="moodle",
            deployment_ids=(DEPLOYMENT_ID,)), allow_http=False)
        db.flush()
        issuer = catalog_service.create_issuer(
            db, {"name": "Bench College", "url": "https://college.bench",
                 "email": "registrar@college.bench"}, slug="bench-college",
            platform_id=platform.id)
        builder = CatalogBuilder(db, issuer)
        codes = [f"SK{c + 1}-{s + 1:02d}" for c in range(CREDENTIALS)
                 for s in range(SKILLS_PER_CREDENTIAL)]
        skills = builder.skills(*codes)
        versions = []
        for c in range(CREDENTIALS):
            mine = codes[c * SKILLS_PER_CREDENTIAL:(c + 1) * SKILLS_PER_CREDENTIAL]
            if c == 1:  # 8 required + at least 1 of 2 optional
                kwargs: dict[str, Any] = {"required": tuple(mine[:8]),
                                          "optional": tuple(mine[8:]), "optional_min": 1}
            else:
                kwargs = {"required": tuple(mine)}
            versions.append(builder.credential(f"BENCH-CRED-{c + 1}",
                                               LifecycleState.PUBLISHED, **kwargs))
        pf = (platform.id, platform.deployments[0].id)
        teacher_roles = (ROLE_MEMBERSHIP + "Instructor",)
        learner_roles = (ROLE_MEMBERSHIP + "Learner",)
        main = record_launch(db, _launch_context(
            pf, sub="bench-teacher", name="Terry Teacher", email="teacher@college.bench",
            roles=teacher_roles, context_id="EDU-501", title="EDU 501 Teaching Computing "
            "(for credit)", label="EDU501", kind="for-credit"))
        ce = record_launch(db, _launch_context(
            pf, sub="bench-teacher", name="Terry Teacher", email="teacher@college.bench",
            roles=teacher_roles, context_id="CE-PY", title="Python for Educators "
            "(continuing education)", label="CEPY", kind="continuing-ed"))
        context = db.get(Context, main.context_pk)
        ce_context = db.get(Context, ce.context_pk)
        assert context is not None and ce_context is not None
        by = tracking.Assessor(ref=f"account:{main.account_id}", name="Terry Teacher")
        for version in versions:
            tracking.attach_offering(db, issuer_id=issuer.id, context=context,
                                     credential_id=version.credential_id, by=by)
        tracking.attach_offering(db, issuer_id=issuer.id, context=ce_context,
                                 credential_id=versions[0].credential_id, by=by)
        world = World(app, pf[0], pf[1], issuer.id, context.id, ce_context.id,
                      [s.id for s in skills], codes, [v.credential_id for v in versions])
        for i in range(learners):
            name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
            sub = f"bench-learner-{i:04d}"
            launch = _launch_context(pf, sub=sub, name=name,
                                     email=f"learner{i:04d}@college.bench",
                                     roles=learner_roles, context_id="EDU-501",
                                     title=context.title, label="EDU501", kind="for-credit")
            record = record_launch(db, launch)
            note_launch(db, launch, account_id=record.account_id, context_pk=record.context_pk)
            world.account_ids.append(record.account_id)
            world.person_ids.append(record.person_id)
            world.subs.append(sub)
        db.commit()
    return world


def seed_demonstrations(world: World, *, fraction: float = 0.5, seed: int = 7) -> dict[str, int]:
    """About ``fraction`` of the course's cells get a current record (see module doc); then
    awards are created by the engine. Returns counts."""
    from sqlalchemy import insert

    from lti_tool.models import Context, Demonstration
    from lti_tool.services import tracking

    rng = random.Random(seed)
    now = datetime.now(UTC)
    base = dict(method="in_course_assignment", evidence_url="", evidence_note="",
                assessor_ref="account:bench-teacher", assessor_name="Terry Teacher",
                launch_id="bench-seed", reason="")
    originals: list[dict[str, Any]] = []
    follow_ups: list[tuple[int, dict[str, Any]]] = []   # (index into originals, row)
    for account, person in zip(world.account_ids, world.person_ids, strict=True):
        pace = min(1.0, max(0.0, rng.gauss(fraction, 0.25)))
        for skill in world.skill_ids:
            if rng.random() >= pace:
                continue
            at = now - timedelta(days=rng.randint(1, 90), minutes=rng.randint(0, 600))
            in_ce = skill in world.skill_ids[:SKILLS_PER_CREDENTIAL] and rng.random() < 0.05
            row = dict(base, person_id=person, account_id=account, skill_id=skill,
                       context_id=world.ce_context_id if in_ce else world.context_id,
                       route="stand_alone" if in_ce else "integrated",
                       demonstrated_at=at, recorded_at=at, supersedes_id=None)
            roll = rng.random()
            if roll < 0.70:                        # passed
                originals.append(dict(row, outcome="pass"))
            elif roll < 0.82:                      # failed, passed later
                originals.append(dict(row, outcome="fail"))
                later = at + timedelta(days=3)
                originals.append(dict(row, outcome="pass", demonstrated_at=later,
                                      recorded_at=later))
            elif roll < 0.92:                      # failed only (attempted)
                originals.append(dict(row, outcome="fail"))
            elif roll < 0.96:                      # pass corrected to fail
                originals.append(dict(row, outcome="pass"))
                follow_ups.append((len(originals) - 1, dict(
                    row, outcome="fail", reason="Evidence was another learner's work.",
                    recorded_at=at + timedelta(days=1))))
            else:                                  # fail corrected to pass
                originals.append(dict(row, outcome="fail"))
                follow_ups.append((len(originals) - 1, dict(
                    row, outcome="pass", reason="Wrong outcome recorded.",
                    recorded_at=at + timedelta(days=1))))
    factory = world.app.extensions["db_sessionmaker"]
    table = Demonstration.__table__
    with factory() as db:
        ids: list[int] = []
        for start in range(0, len(originals), 2000):
            chunk = originals[start:start + 2000]
            ids += list(db.scalars(insert(table).returning(table.c.id,
                                                           sort_by_parameter_order=True),
                                   chunk))
        corrections = [dict(row, supersedes_id=ids[i]) for i, row in follow_ups]
        if corrections:
            db.execute(insert(table), corrections)
        context = db.get(Context, world.context_id)
        assert context is not None
        awards = tracking.evaluate_awards_many(db, person_ids=world.person_ids,
                                               context=context)
        db.commit()
    analyze(world.app)
    return {"demonstrations": len(originals) + len(corrections),
            "corrections": len(corrections), "awards": len(awards)}


def analyze(app: Any) -> None:
    """Refresh planner statistics after bulk seeding (what autovacuum would do soon after),
    so the bench measures steady-state plans."""
    from sqlalchemy import text

    with app.extensions["db_engine"].connect().execution_options(
            isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


# -- an instructor launch through the real OIDC flow -------------------------------------------
def instructor_launch(world: World, client: Any, *, sub: str = "bench-teacher",
                      roles: tuple[str, ...] | None = None) -> str:
    """GET /lti/login → (platform) sign an id_token with the redirect's nonce → POST
    /lti/launch → the launch token from the 303. The platform publishes a static keyset, so
    no JWKS fetch happens."""
    from lti_tool.domain.lti import CLAIM_ROLES, ROLE_MEMBERSHIP
    from lti_tool.models import Platform
    from tests.support.platform import REMOVE, TestPlatform, query_of

    platform = TestPlatform(issuer=ISSUER, client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID,
                            key_name="bench-tracking")
    with world.app.extensions["db_sessionmaker"]() as db:
        row = db.get(Platform, world.platform_id)
        assert row is not None
        if row.static_jwks != platform.jwks():  # keys are generated per process
            row.static_jwks = platform.jwks()
            db.commit()
    target = PUBLIC_BASE_URL + "/lti/launch"
    https = {"base_url": "https://tool.bench"}
    response = client.get("/lti/login", query_string={
        "iss": ISSUER, "login_hint": sub, "target_link_uri": target, "client_id": CLIENT_ID,
        "lti_deployment_id": DEPLOYMENT_ID, "lti_message_hint": "bench"}, **https)
    if response.status_code == 302 and "/lti/login/check" in response.headers["Location"]:
        # The login's browser check (a first visit without the tool's cookie): follow it.
        response = client.get(response.headers["Location"], **https)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    query = query_of(response.headers["Location"])
    claims = platform.claims(
        nonce=query["nonce"], target_link_uri=target, sub=sub, name="Terry Teacher",
        given_name="Terry", family_name="Teacher", email="teacher@college.bench",
        **{CLAIM_ROLES: list(roles or (ROLE_MEMBERSHIP + "Instructor",)),
           "https://purl.imsglobal.org/spec/lti/claim/context": {
               "id": "EDU-501", "label": "EDU501",
               "title": "EDU 501 Teaching Computing (for credit)",
               "type": ["CourseSection"]},
           "https://purl.imsglobal.org/spec/lti/claim/resource_link": {
               "id": "link-EDU-501", "title": "Skills & credentials"},
           "https://purl.imsglobal.org/spec/lti/claim/custom": {"context_kind": "for-credit"},
           # No outbound calls during the bench: no NRPS/AGS endpoints in this launch.
           "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": REMOVE,
           "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": REMOVE})
    response = client.post("/lti/launch", data={"id_token": platform.sign(claims),
                                                 "state": query["state"]}, **https)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return query_of(response.headers["Location"])["lt"]


# -- timing ------------------------------------------------------------------------------------
_TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


class DbCpu:
    """CPU used by the PostgreSQL backends serving the bench database (it is ours alone, so
    every backend connected to it is ours), read from /proc/<pid>/stat (clock ticks)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.database = app.extensions["db_engine"].url.database

    def _pids(self) -> list[int]:
        from sqlalchemy import text

        with self.app.extensions["db_engine"].connect() as conn:
            return [int(p) for (p,) in conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": self.database})]

    def read(self) -> dict[int, float]:
        ticks: dict[int, float] = {}
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # not visible (PostgreSQL on another host): CPU not reported
            ticks[pid] = (int(fields[11]) + int(fields[12])) * _TICK_MS
        return ticks

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(after[p] - before.get(p, 0.0) for p in after)


@dataclass
class Timing:
    """Wall time per call (what a user waits for on an idle machine), and CPU per call: this
    process's thread (per call) and the database backends' (mean over the batch: /proc has
    10 ms resolution). On a busy machine wall time includes waiting for a CPU; app + db CPU
    does not, so it is the steadier estimate of server time there."""

    label: str
    samples_ms: list[float]
    app_cpu_ms: list[float] = field(default_factory=list)
    db_cpu_mean_ms: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]

    @property
    def cpu_ms(self) -> float | None:
        if not self.app_cpu_ms:
            return None
        return statistics.median(self.app_cpu_ms) + (self.db_cpu_mean_ms or 0.0)

    def row(self, target_ms: float | None = None) -> str:
        verdict = ""
        if target_ms is not None:
            verdict = "  OK" if self.median <= target_ms else f"  MISSED (target {target_ms:g} ms)"
        cpu = ""
        if self.app_cpu_ms:
            db = f" + db {self.db_cpu_mean_ms:.1f}" if self.db_cpu_mean_ms is not None else ""
            cpu = f"   cpu: app {statistics.median(self.app_cpu_ms):.1f}{db} ms"
        return (f"{self.label:<58} n={len(self.samples_ms):<4} median {self.median:8.1f} ms"
                f"   p90 {self.p90:8.1f} ms   min {min(self.samples_ms):8.1f} ms{cpu}{verdict}")


def measure(label: str, fn: Callable[[], Any], n: int, warmup: int = 3,
            db_cpu: DbCpu | None = None) -> Timing:
    for _ in range(warmup):
        fn()
    samples, cpu = [], []
    before = db_cpu.read() if db_cpu else {}
    for _ in range(n):
        cpu_start = time.thread_time()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - cpu_start) * 1000)
    db_mean = DbCpu.spent(before, db_cpu.read()) / n if db_cpu else None
    return Timing(label, samples, cpu, db_mean)


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} on {os.cpu_count()} CPUs"


class QueryCounter:
    """Counts SQL statements on an engine (a profile aid, not a mock)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *_args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._hit)
