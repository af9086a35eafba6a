"""Background work: course roster refreshes (NRPS) and grade-book publications (AGS).

Jobs go to an RQ queue in Redis (``JOBS_QUEUE``) and ``microcred worker`` runs them, so the
work scales out by adding workers; the web tier only enqueues. Without ``REDIS_URL`` (the
single-process demo), or with ``JOBS_INLINE=true`` (the test suite), a job runs at once in
the calling process instead, and the log says so.

- ``refresh_roster(context_id)``: read the course's NRPS roster and sync it. Enqueued by the
  instructor's "Refresh roster" button (``enqueue_roster_refresh``) and after an instructor
  launch, at most once per ``ROSTER_REFRESH_INTERVAL`` per course
  (``refresh_roster_after_launch``, guarded by SET NX with a TTL in the shared store).
- ``publish_grade(signal_id)``: publish a pending ``GradebookSignal``. Enqueued after the
  commit of the transaction that created the award (a session ``after_commit`` hook), and by
  a worker's start-up sweep for signals an outage left pending. Retried with backoff; every
  attempt and the last error are recorded on the signal.
- ``send_notification(notification_id)``: send one e-mail of the outbox
  (``services.notifications``) through SMTP. Enqueued after the commit that wrote it, and
  by a worker's start-up sweep; retried with backoff, every attempt recorded on the row.
- Credentials of new awards are signed just before the commit that creates the awards (a
  session ``before_commit`` hook, ``services.award_credentials``), so an award is never
  committed without its credential. Beyond ``award_credentials.EAGER_LIMIT`` in one
  transaction, ``issue_credentials()`` signs the rest: enqueued after that commit, and run
  by every worker at start-up (the awards without a credential are its to-do list, in the
  database, so an outage of Redis or a lost job loses nothing).

RQ: https://python-rq.org/docs/ (jobs, retries, unique job ids, SimpleWorker).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from lti_tool.errors import ToolError
from lti_tool.translate import gettext as _
from lti_tool.translate import ngettext

log = logging.getLogger(__name__)

ROSTER_REFRESH_INTERVAL = 15 * 60          # seconds between launch-triggered refreshes
ROSTER_JOB_TIMEOUT = 10 * 60               # 100 pages of roster at worst
PUBLISH_JOB_TIMEOUT = 2 * 60
ISSUE_JOB_TIMEOUT = 30 * 60                # 100,000 credentials at ~10 ms each, at worst
PUBLISH_RETRY_INTERVALS = (30, 120, 600, 1800)   # with the first try: gradebook.MAX_ATTEMPTS
MAIL_JOB_TIMEOUT = 2 * 60
MAIL_RETRY_INTERVALS = (60, 300, 1800, 7200)  # with the first try: notifications.MAX_ATTEMPTS
QUEUED_TTL = 24 * 3600                     # a job nobody started within a day is dropped
_FINISHED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}

_worker_app: Flask | None = None


class RetryLater(Exception):
    """Raised by a job inside an RQ worker so that RQ retries it later."""


@dataclass(frozen=True)
class Submitted:
    """What happened to a job that was asked for."""

    job: str
    ok: bool
    queued: bool = False          # handed to a worker
    ran_inline: bool = False      # ran in this process
    message: str = ""             # for a person
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobSettings:
    inline: bool
    queue_name: str
    redis_url: str


# -- wiring -----------------------------------------------------------------------------------
def init_app(app: Flask) -> None:
    """Decide inline or queued, and publish grade-book signals after commits."""
    inline = bool(app.config.get("JOBS_INLINE")) or not app.config.get("REDIS_URL")
    app.extensions["jobs"] = JobSettings(inline, app.config.get("JOBS_QUEUE") or "microcred",
                                         app.config.get("REDIS_URL") or "")
    if inline:
        why = "JOBS_INLINE is set" if app.config.get("JOBS_INLINE") else "REDIS_URL is not set"
        log.info("background jobs run inline in the calling process (%s)", why)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)


def _settings() -> JobSettings:
    settings: JobSettings = current_app.extensions["jobs"]
    return settings


LEFT_TO_ISSUE = "jobs.credentials_left_to_issue"


def _before_commit(session: Session) -> None:
    """Sign the credentials of the awards this transaction created, inside it."""
    from lti_tool.services import award_credentials

    if session.in_nested_transaction():
        return
    awards = award_credentials.take_new_awards(session)
    if not awards:
        return
    if not has_app_context() or "lti" not in current_app.extensions:
        log.warning("credentials of awards %s left to the issuing job: no application to "
                    "sign them", [a.id for a in awards])
        return
    left = award_credentials.issue_for_new_awards(
        session, awards, vault=current_app.extensions["lti"].vault,
        base_url=current_app.config["PUBLIC_BASE_URL"])
    if left:
        session.info[LEFT_TO_ISSUE] = left


def _after_commit(session: Session) -> None:
    from lti_tool.services import gradebook, notifications

    if session.in_nested_transaction():
        # Releasing a SAVEPOINT also fires after_commit: wait for the real commit.
        return
    mail_ids = notifications.take_pending(session)
    if mail_ids:
        if has_app_context() and "jobs" in current_app.extensions:
            for notification_id in mail_ids:
                enqueue_notification(notification_id)
        else:
            log.warning("notifications %s left pending: no application to enqueue them "
                        "(a worker's start-up sweep will)", mail_ids)
    if session.info.pop(LEFT_TO_ISSUE, 0) and has_app_context() and \
            "jobs" in current_app.extensions:
        enqueue_credential_issuing()
    signal_ids = gradebook.take_pending(session)
    if not signal_ids:
        return
    if not has_app_context() or "jobs" not in current_app.extensions:
        log.warning("grade-book signals %s left pending: no application to enqueue them "
                    "(a worker's start-up sweep will)", signal_ids)
        return
    for signal_id in signal_ids:
        enqueue_grade_publish(signal_id)


def _after_rollback(session: Session) -> None:
    from lti_tool.services import award_credentials, gradebook, notifications

    gradebook.take_pending(session)
    if not session.in_nested_transaction():
        notifications.take_pending(session)
    if not session.in_nested_transaction():
        award_credentials.take_new_awards(session)
        session.info.pop(LEFT_TO_ISSUE, None)


def queue(app: Flask | None = None) -> Queue:
    """The RQ queue (its Redis connection made once per process)."""
    app = app or current_app
    connection = app.extensions.get("jobs_redis")
    if connection is None:
        from lti_tool.extensions import redis_client

        # The web processes' deadline: enqueueing must not hold a request when Redis is
        # down or frozen (the work stays recorded in the database for the worker's sweep).
        connection = redis_client(app.extensions["jobs"].redis_url,
                                  timeout=float(app.config.get("REDIS_TIMEOUT_SECONDS", 1)))
        app.extensions["jobs_redis"] = connection
    return Queue(app.extensions["jobs"].queue_name, connection=connection)


@contextmanager
def _app_context() -> Iterator[Flask]:
    """The running app (web request, CLI, worker); a worker started by ``rq worker`` builds
    one from the environment."""
    global _worker_app
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        yield app
        return
    if _worker_app is None:
        from lti_tool import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        yield _worker_app


@contextmanager
def _session(app: Flask) -> Iterator[Session]:
    session: Session = app.extensions["db_sessionmaker"]()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# -- submitting -------------------------------------------------------------------------------
def _run_inline(name: str, func: Callable[..., dict[str, Any]], *args: Any) -> Submitted:
    log.info("running job %s%s inline", name, args)
    try:
        result = func(*args)
    except ToolError as exc:
        log.warning("job %s%s failed: %s", name, args, exc.public_message)
        return Submitted(name, ok=False, ran_inline=True, message=exc.public_message)
    except Exception:  # a job must never take its caller (a launch, a page) down
        log.exception("job %s%s failed", name, args)
        return Submitted(name, ok=False, ran_inline=True,
                         message=_("The background task failed; the log has the details."))
    return Submitted(name, ok=True, ran_inline=True, result=result)


def _enqueue(name: str, func: Callable[..., Any], *args: Any, job_id: str, timeout: int,
             retry: Retry | None = None) -> Submitted:
    q = queue()
    for _attempt in (1, 2):
        try:
            q.enqueue_call(func, args=args, job_id=job_id, unique=True, timeout=timeout,
                           retry=retry, ttl=QUEUED_TTL, result_ttl=600,
                           failure_ttl=7 * 24 * 3600, description=f"{name}{args}")
        except DuplicateJobError:
            # Already queued or running: nothing to add. A finished one is replaced.
            try:
                job = Job.fetch(job_id, connection=q.connection)
            except NoSuchJobError:
                continue
            if job.get_status(refresh=False) in _FINISHED:
                job.delete()
                continue
            return Submitted(name, ok=True, queued=True,
                             message=_("This task is already waiting for a worker."))
        except redis.RedisError as exc:
            log.warning("could not enqueue %s%s: %s", name, args, type(exc).__name__)
            return Submitted(name, ok=False, message=_(
                "Background work is not available right now. Please try again in a few "
                "minutes."))
        return Submitted(name, ok=True, queued=True,
                         message=_("Started in the background; it may take a minute."))
    return Submitted(name, ok=False,
                     message=_("The task could not be queued; please try again."))


def _job_id(kind: str, row_id: int) -> str:
    """One job per row at a time (RQ's unique job ids); the queue name is part of it, so
    two installations sharing a Redis server (each with its own JOBS_QUEUE) never collide."""
    return f"{_settings().queue_name}-{kind}-{row_id}"


def enqueue_roster_refresh(context_id: int) -> Submitted:
    """Refresh a course's roster from the platform (NRPS). Inline: runs now and reports
    how it went; queued: returns at once. Never raises for platform or queue failures."""
    if _settings().inline:
        submitted = _run_inline("refresh_roster", refresh_roster, context_id)
        if submitted.ok:
            learners = submitted.result.get("learners", 0)
            source = submitted.result.get("source")
            message = (ngettext("The roster was updated: %(num)s learner.",
                                "The roster was updated: %(num)s learners.", learners)
                       if source == "nrps" else
                       ngettext("This course's platform does not share its roster; the "
                                "%(num)s learner who has opened MicroCred is listed.",
                                "This course's platform does not share its roster; the "
                                "%(num)s learners who have opened MicroCred are listed.",
                                learners))
            return Submitted(**{**asdict(submitted), "message": message})
        return submitted
    return _enqueue("refresh_roster", refresh_roster, context_id,
                    job_id=_job_id("roster", context_id), timeout=ROSTER_JOB_TIMEOUT)


def refresh_roster_after_launch(context_id: int) -> bool:
    """After an instructor launch: refresh the roster unless that was done for this course
    in the last ``ROSTER_REFRESH_INTERVAL`` (SET NX with a TTL, shared by every process).
    True when a refresh was started. Never raises: a launch must not fail because of it."""
    from lti_tool.extensions import kv

    try:
        if not kv().set(f"roster-refresh-after-launch:{context_id}", "1",
                        ROSTER_REFRESH_INTERVAL, only_if_absent=True):
            return False
        return enqueue_roster_refresh(context_id).ok
    except Exception:
        log.exception("roster refresh after launch for context %s failed", context_id)
        return False


def enqueue_grade_publish(signal_id: int) -> Submitted:
    """Publish a pending grade-book signal (retried with backoff on a worker)."""
    if _settings().inline:
        return _run_inline("publish_grade", publish_grade, signal_id)
    return _enqueue("publish_grade", publish_grade, signal_id,
                    job_id=_job_id("grade", signal_id), timeout=PUBLISH_JOB_TIMEOUT,
                    retry=Retry(max=len(PUBLISH_RETRY_INTERVALS),
                                interval=list(PUBLISH_RETRY_INTERVALS)))


def enqueue_notification(notification_id: int) -> Submitted:
    """Send one e-mail of the outbox (retried with backoff on a worker). Never raises."""
    if _settings().inline:
        return _run_inline("send_notification", send_notification, notification_id)
    return _enqueue("send_notification", send_notification, notification_id,
                    job_id=_job_id("mail", notification_id), timeout=MAIL_JOB_TIMEOUT,
                    retry=Retry(max=len(MAIL_RETRY_INTERVALS),
                                interval=list(MAIL_RETRY_INTERVALS)))


def enqueue_pending_notifications() -> int:
    """Enqueue every notification still pending (a worker does this when it starts)."""
    from lti_tool.services import notifications

    with _session(current_app) as session:
        ids = notifications.pending(session)
    return sum(1 for n in ids if enqueue_notification(n).ok)


def enqueue_credential_issuing() -> Submitted:
    """Sign the credentials still missing (awards beyond the eager limit of a large
    import). Never raises: the awards stay on the to-do list for the next worker start."""
    if _settings().inline:
        return _run_inline("issue_credentials", issue_credentials)
    return _enqueue("issue_credentials", issue_credentials,
                    job_id=f"{_settings().queue_name}-issue-credentials",
                    timeout=ISSUE_JOB_TIMEOUT)


def enqueue_pending_signals() -> int:
    """Enqueue every signal still pending (a worker does this when it starts)."""
    from lti_tool.services import gradebook

    with _session(current_app) as session:
        signal_ids = gradebook.pending_signals(session)
    return sum(1 for s in signal_ids if enqueue_grade_publish(s).ok)


# -- the jobs (RQ imports them by name) --------------------------------------------------------
def refresh_roster(context_id: int) -> dict[str, Any]:
    """Job: sync a course's roster from NRPS (or report the launch roster without NRPS).
    Raises UpstreamError when the platform fails (nothing changed)."""
    from lti_tool.lti import advantage
    from lti_tool.models import Context
    from lti_tool.services import roster

    with _app_context() as app, _session(app) as session:
        context = session.get(Context, context_id)
        if context is None:
            return {"source": "missing", "learners": 0}
        fetch = advantage.membership_fetcher(session) if context.nrps_url else None
        try:
            report = roster.refresh_roster(session, context, fetch_membership=fetch)
        except ToolError as exc:
            # Nothing of the roster changed; keep why, for the course's instructors.
            session.rollback()
            context = session.get(Context, context_id)
            if context is not None:
                roster.note_refresh(context, code=exc.code, message=exc.public_message)
                session.commit()
            raise
        roster.note_refresh(context, report=report)
        session.commit()
    log.info("roster of context %s refreshed", context_id,
             extra={"event": "roster.synced", "context_id": context_id, **report.as_dict()})
    return report.as_dict()


def publish_grade(signal_id: int) -> dict[str, Any]:
    """Job: publish one grade-book signal. Inside an RQ worker a failure that may pass
    raises ``RetryLater`` (after the attempt is recorded) so that RQ tries again."""
    from lti_tool.lti import advantage
    from lti_tool.services import gradebook

    with _app_context() as app, _session(app) as session:
        outcome = gradebook.publish(session, signal_id,
                                    gradebook_for=advantage.gradebook_for(session))
        session.commit()
    if outcome.status in (gradebook.STATUS_FAILED, gradebook.STATUS_PENDING):
        log.warning("grade-book signal %s: %s (%s)", signal_id, outcome.status,
                    outcome.message)
    if outcome.retry and get_current_job() is not None:
        raise RetryLater(outcome.message)
    return asdict(outcome)


def send_notification(notification_id: int) -> dict[str, Any]:
    """Job: send one notification. Inside an RQ worker a failed send raises ``RetryLater``
    (after the attempt is recorded) so that RQ tries again later."""
    from lti_tool.services import notifications

    with _app_context() as app, _session(app) as session:
        outcome = notifications.send(
            session, notification_id,
            settings=notifications.SmtpSettings.from_config(app.config))
        session.commit()
    if outcome.status in (notifications.STATUS_FAILED, notifications.STATUS_PENDING):
        log.warning("notification %s: %s (%s)", notification_id, outcome.status,
                    outcome.message)
    if outcome.retry and get_current_job() is not None:
        raise RetryLater(outcome.message)
    return asdict(outcome)


def issue_credentials() -> dict[str, Any]:
    """Job: sign every credential still missing (``award_credentials.issue_missing``)."""
    from lti_tool.services import award_credentials

    with _app_context() as app, _session(app) as session:
        issued = award_credentials.issue_missing(
            session, vault=app.extensions["lti"].vault, base_url=app.config["PUBLIC_BASE_URL"])
    if issued:
        log.info("issued %d credentials left over from large imports", issued)
    return {"issued": issued}


# -- the worker ---------------------------------------------------------------------------------
def run_worker(app: Flask, *, queue_names: tuple[str, ...] = (), burst: bool = False) -> bool:
    """Serve the queue (``microcred worker``): first re-enqueue signals left pending, then run
    jobs until stopped (or, with ``burst``, until the queue is empty). A SimpleWorker runs
    jobs in its own process, which keeps the app's database engine (a forking worker would
    share pooled connections with its children); run more workers to scale out."""
    global _worker_app
    _worker_app = app
    connection = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
    names = queue_names or (app.extensions["jobs"].queue_name,)
    with app.app_context():
        swept = enqueue_pending_signals()
        if swept:
            log.info("re-enqueued %d pending grade-book signals", swept)
        mails = enqueue_pending_notifications()
        if mails:
            log.info("re-enqueued %d pending notifications", mails)
        enqueue_credential_issuing()  # awards an earlier crash or outage left unsigned
        worker = SimpleWorker([Queue(n, connection=connection) for n in names],
                              connection=connection)
        return bool(worker.work(burst=burst, with_scheduler=True))
