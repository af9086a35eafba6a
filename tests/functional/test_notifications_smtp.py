"""E-mail notifications through a real SMTP connection: a local aiosmtpd server receives
what a PLAR change sends after its commit; a server that is down or silent fails the send
within the deadline, keeps the change and the message pending, and a later attempt (the
retry job) delivers it; without SMTP settings nothing is sent and the LMS notice stays."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from lti_tool import jobs
from lti_tool.models import Notification, PlarRequest
from lti_tool.services import notifications
from tests.support.plar import make_plar_school, only_request, submit_request


@pytest.fixture()
def plar_school(app, db, platform):
    return make_plar_school(app, db, platform)


class Inbox:
    """aiosmtpd handler: keeps every message delivered."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture()
def mail_settings(app):
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_FROM",
                                            "SMTP_TIMEOUT_SECONDS")}

    def configure(port: int, timeout: float = 5) -> None:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none",
                          SMTP_FROM="MicroCred <microcred@northern.example.edu>",
                          SMTP_TIMEOUT_SECONDS=timeout)

    yield configure
    app.config.update(saved)


def test_a_plar_request_mails_the_learner_and_the_assessor(app, db, plar_school, smtp_server,
                                                            mail_settings):
    inbox, port = smtp_server
    mail_settings(port)
    assert submit_request(plar_school).status_code == 303
    deadline = time.monotonic() + 5
    while len(inbox.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    recipients = sorted(r for _from, rcpt, _data in inbox.messages for r in rcpt)
    assert recipients == ["pat@example.edu", "sam@example.com"]
    to_sam = next(m for m in inbox.messages if m[1] == ["sam@example.com"])
    parsed = message_from_bytes(to_sam[2])
    assert parsed["Subject"] == "Your PLAR request for Data Basics was received"
    assert parsed["From"] == "MicroCred <microcred@northern.example.edu>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert "a decision is expected by" in parsed.get_payload(decode=True).decode()
    db.expire_all()
    rows = db.scalars(select(Notification)).all()
    assert {r.status for r in rows} == {"sent"} and all(r.sent_at for r in rows)


def test_a_failed_send_keeps_the_change_and_is_retried(app, db, plar_school, smtp_server,
                                                        mail_settings):
    inbox, port = smtp_server
    closed = _free_port()            # nothing listens there
    mail_settings(closed)
    assert submit_request(plar_school).status_code == 303
    req = only_request(db)
    assert req.state == "submitted"  # the change is committed whatever the mail did
    rows = db.scalars(select(Notification).order_by(Notification.id)).all()
    assert rows and all(r.status == "pending" and r.attempts == 1 for r in rows)
    assert "could not reach" in rows[0].last_error
    assert inbox.messages == []
    # The retry (what the RQ retry or a worker's start-up sweep runs) delivers it.
    mail_settings(port)
    with app.app_context():
        outcome = jobs.send_notification(rows[0].id)
    assert outcome["status"] == "sent"
    db.expire_all()
    row = db.get(Notification, rows[0].id)
    assert row.status == "sent" and row.attempts == 2 and row.last_error == ""
    assert len(inbox.messages) == 1
    # Sending again is a no-op: nobody gets the same mail twice.
    with app.app_context():
        assert jobs.send_notification(rows[0].id)["status"] == "sent"
    assert len(inbox.messages) == 1


def test_a_silent_server_is_cut_at_the_deadline(app, db, plar_school, mail_settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted: list[socket.socket] = []

    def accept() -> None:  # accepts, then never says a word (no SMTP greeting)
        try:
            while True:
                conn, _ = listener.accept()
                accepted.append(conn)
        except OSError:
            return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        mail_settings(listener.getsockname()[1], timeout=0.5)
        started = time.monotonic()
        assert submit_request(plar_school).status_code == 303
        elapsed = time.monotonic() - started
        # Two messages, each cut at its 0.5 s deadline (plus the request's own work).
        assert elapsed < 6
        db.expire_all()
        rows = db.scalars(select(Notification)).all()
        assert rows and all(r.status == "pending" and r.last_error for r in rows)
        assert db.scalars(select(PlarRequest)).one().state == "submitted"
    finally:
        listener.close()
        for conn in accepted:
            conn.close()


def test_gives_up_after_the_last_attempt(app, db, plar_school, mail_settings):
    mail_settings(_free_port())
    assert submit_request(plar_school).status_code == 303
    row = db.scalars(select(Notification).order_by(Notification.id)).first()
    settings = notifications.SmtpSettings.from_config(app.config)
    for _ in range(notifications.MAX_ATTEMPTS):
        outcome = notifications.send(db, row.id, settings=settings)
    assert outcome.status == "failed" and row.attempts == notifications.MAX_ATTEMPTS


def test_without_smtp_nothing_is_sent_and_the_lms_notice_shows(app, db, plar_school):
    assert not app.config.get("SMTP_HOST")
    assert submit_request(plar_school).status_code == 303
    rows = db.scalars(select(Notification)).all()
    assert rows and {r.status for r in rows} == {"skipped"}
    home = plar_school["sam"].page("/plar")
    assert "Your PLAR request for Data Basics was received" in home.text
    # Opening the request dismisses its notices.
    req = only_request(db)
    plar_school["sam"].get(f"/plar/requests/{req.id}")
    assert "Your PLAR request for Data Basics was received" not in \
        plar_school["sam"].page("/plar").text
