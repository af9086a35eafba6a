"""The optional grade-book signal through Assignment and Grade Services 2.0: when an issuer
turns it on, earning a credential in a course whose launches carried an AGS endpoint posts a
1/1 score to MicroCred's own "MicroCred credential earned (not a grade): <title>" line item
(found by resourceId or created), at ``<lineitem>/scores`` with Moodle's ``?type_id=`` kept
after the path. Other grade-book columns are never touched; failures are recorded on the
signal and never reach the person recording the demonstration."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import jobs
from lti_tool.domain.advantage import MEDIA_LINEITEM, MEDIA_SCORE, LineItemSpec
from lti_tool.errors import UpstreamError
from lti_tool.lti import advantage
from lti_tool.models import Award, Context, GradebookSignal
from lti_tool.services import gradebook, tracking
from tests.support.advantage import (
    AGS_ALL,
    PlatformServices,
    json_of,
    query,
    queued_jobs,
    run_worker,
)
from tests.support.lti import full_launch
from tests.support.platform import REMOVE, FakeTransport
from tests.support.tracking_engine import TEACHER, Campus, record


@dataclass
class FakeGradebook:
    """A Moodle-shaped AGS: line items at .../lineitems?type_id=1, each item's URL
    .../lineitems/<n>/lineitem?type_id=1, scores at .../lineitems/<n>/lineitem/scores."""

    transport: FakeTransport
    base: str
    items: list[dict[str, Any]] = field(default_factory=list)
    created: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scores: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    score_status: int = 200
    listed: list[dict[str, str]] = field(default_factory=list)
    next_id: int = 10

    @property
    def lineitems(self) -> str:
        return f"{self.base}/mod/lti/services.php/2/lineitems?type_id=1"

    def item_url(self, n: int) -> str:
        return f"{self.base}/mod/lti/services.php/2/lineitems/{n}/lineitem?type_id=1"

    def install(self) -> FakeGradebook:
        self.transport.add("GET", self.lineitems, self._list)
        self.transport.add("POST", self.lineitems, self._create)
        for item in self.items:
            self._route_scores(item["id"])
        return self

    def add_item(self, **fields: Any) -> str:
        self.next_id += 1
        item = {"id": self.item_url(self.next_id), "scoreMaximum": 100, "label": "",
                "resourceId": "", "tag": "", **fields}
        self.items.append(item)
        self._route_scores(item["id"])
        return str(item["id"])

    def _route_scores(self, item_url: str) -> None:
        path = item_url.partition("?")[0]
        self.transport.add("POST", path + "/scores", self._score)

    def _list(self, request: Any) -> tuple[int, Any]:
        self.listed.append(query(request))
        return 200, self.items

    def _create(self, request: Any) -> tuple[int, Any]:
        body = json_of(request)
        self.created.append((request.headers["Content-Type"], body))
        url = self.add_item(**body)
        return 200, {**body, "id": url}

    def _score(self, request: Any) -> tuple[int, Any]:
        self.scores.append((request.url, request.headers["Content-Type"], json_of(request)))
        return self.score_status, b""   # Moodle answers an empty 200 (captured)


@dataclass
class Setup:
    campus: Campus
    context: Context
    version: Any
    book: FakeGradebook
    services: PlatformServices


@pytest.fixture()
def setup(app: Flask, db: Session, client, transport: FakeTransport) -> Setup:
    campus = Campus.create(db)
    campus.issuer.settings = {**(campus.issuer.settings or {}), "gradebook_signal": True}
    context = campus.course("INTROPROG", "for-credit")
    version = campus.credential("PYF", required=("S1", "S2"))
    campus.offer(context, version)
    book = FakeGradebook(transport, campus.lms.platform.issuer)
    book.add_item(label="LTI tool activity (INTROPROG)", resourceLinkId="1")  # not ours
    book.install()
    context.ags = {"lineitems": book.lineitems, "lineitem": book.items[0]["id"],
                   "scope": sorted(AGS_ALL)}
    db.commit()
    services = PlatformServices.start(client, transport,
                                      token_url=campus.lms.platform.auth_token_url,
                                      client_id=campus.lms.platform.client_id)
    return Setup(campus, context, version, book, services)


def earn(app: Flask, db: Session, s: Setup, sub: str) -> Award:
    """The learner demonstrates both skills; the award's transaction commits (and the
    signal is published after the commit, inline in tests)."""
    learner = s.campus.learner(sub, s.context)
    with app.app_context():
        record(db, s.context, learner, s.campus.skill("S1"))
        result = record(db, s.context, learner, s.campus.skill("S2"))
        [award] = result.new_awards
        db.commit()
    db.expire_all()
    return award


def signal_of(db: Session, award: Award) -> GradebookSignal:
    db.expire_all()
    [signal] = gradebook.signals_for_award(db, award.id)
    return signal


def test_earning_a_credential_posts_1_of_1_in_a_new_line_item(app, db, setup):
    award = earn(app, db, setup, "4")
    signal = signal_of(db, award)
    assert (signal.status, signal.attempts, signal.last_error) == ("sent", 1, "")
    [(content_type, body)] = setup.book.created
    assert content_type == MEDIA_LINEITEM
    assert body == {"label": "MicroCred credential earned (not a grade): Credential PYF",
                    "scoreMaximum": 1, "resourceId": "microcred-PYF", "tag": "microcred"}
    new_item = setup.book.items[-1]["id"]
    assert signal.lineitem_url == new_item
    [(url, score_type, score)] = setup.book.scores
    # /scores goes into the path; Moodle's type_id stays in the query.
    assert url == new_item.replace("/lineitem?type_id=1", "/lineitem/scores?type_id=1")
    assert score_type == MEDIA_SCORE
    assert score["userId"] == "4" and score["scoreGiven"] == 1 and score["scoreMaximum"] == 1
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", score["timestamp"])
    # The list was filtered by our resourceId (Moodle's type_id kept).
    assert setup.book.listed == [{"type_id": "1", "resource_id": "microcred-PYF"}]


def test_other_line_items_are_never_touched(app, db, setup, transport):
    earn(app, db, setup, "4")
    theirs = setup.book.items[0]["id"].split("?")[0]
    assert not [r for r in transport.requests if (r.url or "").startswith(theirs + "/")
                or ((r.url or "").split("?")[0] == theirs)]
    assert setup.book.items[0] == {"id": setup.book.items[0]["id"], "scoreMaximum": 100,
                                   "label": "LTI tool activity (INTROPROG)", "resourceId": "",
                                   "tag": "", "resourceLinkId": "1"}


def test_an_existing_line_item_of_ours_is_reused(app, db, setup):
    ours = setup.book.add_item(label="MicroCred credential earned (not a grade): Credential PYF",
                               resourceId="microcred-PYF", tag="microcred", scoreMaximum=1)
    earn(app, db, setup, "4")
    earn(app, db, setup, "5")
    assert setup.book.created == []
    assert [url for url, _, _ in setup.book.scores] == [
        ours.replace("/lineitem?", "/lineitem/scores?")] * 2
    assert [s["userId"] for _, _, s in setup.book.scores] == ["4", "5"]
    # The second publication knew the line item already: one listing in all.
    assert len(setup.book.listed) == 1
    assert setup.services.issued == ["token-1"]


def test_off_by_default(app, db, setup, transport):
    setup.campus.issuer.settings = {}
    db.commit()
    transport.requests.clear()
    award = earn(app, db, setup, "4")
    assert gradebook.signals_for_award(db, award.id) == []
    assert transport.requests == []


def test_a_course_without_ags_gets_no_signal(app, db, setup, transport):
    setup.context.ags = None
    db.commit()
    transport.requests.clear()
    award = earn(app, db, setup, "4")
    assert gradebook.signals_for_award(db, award.id) == []
    assert transport.requests == []


def test_a_course_where_scores_may_not_be_posted_gets_no_signal(app, db, setup):
    setup.context.ags = {**setup.context.ags, "scope": [
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"]}
    db.commit()
    award = earn(app, db, setup, "4")
    assert gradebook.signals_for_award(db, award.id) == []


def test_a_failing_grade_book_is_recorded_retried_then_given_up(app, db, setup):
    setup.book.score_status = 503
    award = earn(app, db, setup, "4")          # the recording itself went through
    assert db.get(Award, award.id) is not None
    signal = signal_of(db, award)
    assert (signal.status, signal.attempts) == ("pending", 1)
    assert "could not provide the grade book (score) right now (HTTP 503)" in signal.last_error
    with app.app_context():
        for attempt in range(2, gradebook.MAX_ATTEMPTS + 1):
            submitted = jobs.enqueue_grade_publish(signal.id)
            assert submitted.ok                     # the job ran; the outcome is on the signal
            signal = signal_of(db, award)
            assert signal.attempts == attempt
        assert signal.status == "failed"
        jobs.enqueue_grade_publish(signal.id)        # a finished signal is left alone
    assert signal_of(db, award).attempts == gradebook.MAX_ATTEMPTS
    assert len(setup.book.scores) == gradebook.MAX_ATTEMPTS
    # The line item was made once and then remembered.
    assert len(setup.book.created) == 1


def test_a_refusing_platform_fails_the_signal_at_once(app, db, setup):
    setup.book.score_status = 403
    award = earn(app, db, setup, "4")
    signal = signal_of(db, award)
    assert (signal.status, signal.attempts) == ("failed", 1)
    assert "refused MicroCred access to the grade book (score) (HTTP 403)" in signal.last_error


def test_a_platform_that_is_down_does_not_break_the_recording(app, db, setup, transport):
    transport.routes.clear()      # nothing answers: not the token endpoint, not AGS
    award = earn(app, db, setup, "4")
    signal = signal_of(db, award)
    assert signal.status == "pending" and "could not be reached" in signal.last_error


def test_a_credential_revoked_before_publication_is_not_published(app, db, setup):
    setup.book.score_status = 503
    award = earn(app, db, setup, "4")
    tracking.revoke_award(db, db.get(Award, award.id), reason="Recorded for the wrong learner",
                          by=TEACHER)
    db.commit()
    setup.book.score_status = 200
    with app.app_context():
        jobs.enqueue_grade_publish(signal_of(db, award).id)
    signal = signal_of(db, award)
    assert signal.status == "skipped" and "revoked" in signal.last_error
    assert len(setup.book.scores) == 1           # only the failed first attempt


def test_a_line_item_deleted_in_the_lms_is_made_again(app, db, setup, transport):
    first = earn(app, db, setup, "4")
    old = signal_of(db, first).lineitem_url
    # The instructor deleted the column in the LMS: its score URL now answers 404.
    setup.book.items = [i for i in setup.book.items if i["id"] != old]
    transport.add("POST", old.split("?")[0] + "/scores", lambda _r: (404, {}))
    second = earn(app, db, setup, "5")
    signal = signal_of(db, second)
    assert signal.status == "sent" and signal.lineitem_url != old
    assert len(setup.book.created) == 2
    assert setup.book.scores[-1][0].startswith(signal.lineitem_url.split("?")[0] + "/scores")


def test_two_workers_do_not_both_create_the_line_item(app, db, setup, monkeypatch):
    """While one worker holds the line-item lock, another waits for its answer."""
    monkeypatch.setattr(advantage, "LINEITEM_LOCK_WAIT", (0.01, 3))
    kv = app.extensions["kv"]
    with app.app_context():
        client = advantage._runtime_client(db, setup.context)
    book = advantage.AgsGradebook(client, kv, setup.context.id)
    endpoint = gradebook.endpoint_of(setup.context)
    item = LineItemSpec.for_credential("PYF", "Credential PYF")
    key = book._cache_key(item)
    kv.set(key + ":lock", "1", 60, only_if_absent=True)      # another worker is creating it
    with pytest.raises(UpstreamError, match="Another worker"):
        book.lineitem(endpoint, item)
    assert setup.book.created == []
    kv.set(key, "https://lms.test/made-by-the-other-worker", 60)
    assert book.lineitem(endpoint, item) == "https://lms.test/made-by-the-other-worker"
    assert setup.book.created == []


def test_a_launch_keeps_the_courses_ags_endpoint(app, db, client, transport, platform):
    assert full_launch(client, platform).status_code == 303
    context = db.scalars(select(Context).where(Context.lti_context_id == "2")).one()
    # The instructor launch's AGS claim, as Moodle 5.0.6 sent it.
    assert context.ags == {
        "lineitems": "http://127.0.0.1:8088/mod/lti/services.php/2/lineitems?type_id=1",
        "lineitem": "http://127.0.0.1:8088/mod/lti/services.php/2/lineitems/2/lineitem"
                    "?type_id=1",
        "scope": sorted(AGS_ALL)}
    # A launch without the claim leaves it.
    assert full_launch(client, platform, **{
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": REMOVE}).status_code == 303
    db.expire_all()
    assert db.get(Context, context.id).ags["lineitems"].endswith("/lineitems?type_id=1")


# -- on a real RQ worker -------------------------------------------------------------------------
def test_a_real_worker_publishes_the_queued_signal(app, db, setup):
    with queued_jobs(app) as queue:
        award = earn(app, db, setup, "4")
        signal = signal_of(db, award)
        # Queued after the commit, not run: the web process only enqueues.
        assert (signal.status, signal.attempts) == ("pending", 0)
        assert setup.book.scores == []
        [job] = queue.jobs
        assert (job.func_name, job.args) == ("lti_tool.jobs.publish_grade", (signal.id,))
        # Asking again while it waits adds nothing.
        with app.app_context():
            again = jobs.enqueue_grade_publish(signal.id)
        assert again.ok and again.queued and "already waiting" in again.message
        assert queue.count == 1
        assert run_worker(app, queue)
        signal = signal_of(db, award)
        assert (signal.status, signal.attempts) == ("sent", 1)
        assert [s["userId"] for _, _, s in setup.book.scores] == ["4"]
        assert queue.count == 0


def test_a_failed_publication_is_scheduled_for_a_retry_by_the_worker(app, db, setup):
    setup.book.score_status = 503
    with queued_jobs(app) as queue:
        award = earn(app, db, setup, "4")
        job_id = queue.jobs[0].id
        assert run_worker(app, queue)
        signal = signal_of(db, award)
        assert (signal.status, signal.attempts) == ("pending", 1)
        assert "HTTP 503" in signal.last_error
        job = Job.fetch(job_id, connection=queue.connection)
        assert job.get_status() == JobStatus.SCHEDULED          # RQ retries it later
        assert job.retries_left == len(jobs.PUBLISH_RETRY_INTERVALS) - 1
