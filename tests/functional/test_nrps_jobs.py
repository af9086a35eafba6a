"""Background work on a real RQ queue in Redis: a roster refresh asked for by an instructor is
queued (once, however often it is asked) and run by a worker; ``microcred worker`` serves the
queue and refuses to start where there is nothing for it to do."""

from __future__ import annotations

import uuid
from pathlib import Path

import redis as redis_lib
from sqlalchemy import select

from lti_tool import jobs
from lti_tool.models import LearnerAccount, RosterEntry
from tests.conftest import REDIS_URL
from tests.functional.test_cli import assert_one_line_error, cli_env, runner_for
from tests.support.advantage import PlatformServices, queued_jobs, run_worker
from tests.support.tracking_engine import INSTRUCTOR_ROLES, Lms

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def test_a_roster_refresh_is_queued_once_and_run_by_a_worker(app, db, client, transport):
    lms = Lms.register(db)
    _teacher, context = lms.launch(db, sub="teacher", context_id="C9", roles=INSTRUCTOR_ROLES)
    context.nrps_url = f"{lms.platform.issuer}/nrps/C9"
    db.commit()
    PlatformServices.start(client, transport, token_url=lms.platform.auth_token_url,
                           client_id=lms.platform.client_id)
    transport.add("GET", context.nrps_url, lambda _r: (200, {"members": [
        {"user_id": "s1", "roles": [LEARNER], "name": "Ana One"}]}))
    with queued_jobs(app) as queue:
        with app.app_context():
            first = jobs.enqueue_roster_refresh(context.id)
            second = jobs.enqueue_roster_refresh(context.id)
        assert first.ok and first.queued and not first.ran_inline
        assert "background" in first.message
        assert second.ok and "already waiting" in second.message
        assert queue.count == 1 and transport.hits.get(context.nrps_url) is None
        assert run_worker(app, queue)
        assert transport.hits[context.nrps_url] == 1
        db.expire_all()
        assert db.execute(select(LearnerAccount.sub, RosterEntry.status).join(
            RosterEntry, RosterEntry.account_id == LearnerAccount.id).where(
            RosterEntry.context_id == context.id)).all() == [("s1", "active")]
        # Once it has run, a new refresh can be asked for.
        with app.app_context():
            third = jobs.enqueue_roster_refresh(context.id)
        assert third.ok and third.queued and "background" in third.message


def test_a_queue_that_cannot_be_reached_is_reported(app, db, monkeypatch):
    with queued_jobs(app):
        app.extensions["jobs_redis"] = redis_lib.Redis(host="127.0.0.1", port=1,
                                                       socket_connect_timeout=0.2)
        try:
            with app.app_context():
                result = jobs.enqueue_roster_refresh(1)
        finally:
            app.extensions.pop("jobs_redis")
    assert not result.ok and "not available right now" in result.message


def test_the_worker_command_serves_the_queue(tmp_path: Path):
    name = f"mc-test-{uuid.uuid4().hex}"
    run = runner_for(cli_env(tmp_path, JOBS_INLINE="false", JOBS_QUEUE=name))
    assert run("db", "upgrade").exit_code == 0
    try:
        result = run("worker", "--burst")
        assert result.exit_code == 0, result.output
        assert f"worker serving {name} (burst)" in result.stderr
    finally:
        connection = redis_lib.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(match=f"*{name}*", count=500):
            connection.delete(key)


def test_the_worker_command_says_when_there_is_nothing_to_do(tmp_path: Path):
    inline = runner_for(cli_env(tmp_path))                 # the test profile: JOBS_INLINE
    assert_one_line_error(inline("worker", "--burst"), "JOBS_INLINE is set")
    no_redis = runner_for(cli_env(tmp_path, REDIS_URL=""))
    result = no_redis("worker")
    # (The app's own warning about the in-process store comes first on stderr.)
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: REDIS_URL is not set") and "Traceback" not in result.output
