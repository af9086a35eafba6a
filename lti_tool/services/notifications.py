"""E-mail notifications through an outbox.

``notify`` writes a ``Notification`` row in the same transaction as the change it tells of
(a PLAR request submitted, more evidence asked for, a decision), so a change is never lost
because mail failed, and no mail goes out for a change that was rolled back. After the
commit, the ``send_notification`` job (``jobs.py``) hands it to the SMTP server set by the
``SMTP_*`` settings, through a real SMTP connection with one deadline for the whole send
(``SMTP_TIMEOUT_SECONDS``); a failed send is recorded on the row and retried with backoff
(``MAX_ATTEMPTS``), and a worker's start-up sweep picks up what an outage left pending.
Without ``SMTP_HOST`` rows are marked "skipped": the LMS pages still show the notice.

SMTP: RFC 5321; STARTTLS RFC 3207; implicit TLS (port 465) RFC 8314. Functions raise
nothing for a mail failure (it is recorded); they commit nothing.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Notification
from lti_tool.models.base import utcnow

PENDING_KEY = "microcred.notifications.pending"   # Session.info: ids to send after commit
MAX_ATTEMPTS = 5
STATUS_PENDING = "pending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str            # "starttls" | "ssl" | "none"
    username: str
    password: str
    sender: str
    timeout: float

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        return cls(host=str(config.get("SMTP_HOST") or ""),
                   port=int(config.get("SMTP_PORT") or 587),
                   tls=str(config.get("SMTP_TLS") or "starttls"),
                   username=str(config.get("SMTP_USERNAME") or ""),
                   password=str(config.get("SMTP_PASSWORD") or ""),
                   sender=str(config.get("SMTP_FROM") or ""),
                   timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or 10))

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.sender)


class MailError(Exception):
    """A send failed; the message says why in a few words (kept on the row)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """Sends one message per connection through ``smtplib``, under one deadline: the
    socket timeout bounds each read and write, and a watchdog closes the socket when the
    whole send (a server trickling its answers) runs past ``timeout``."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        client: smtplib.SMTP | None = None
        timer: threading.Timer | None = None
        try:
            context = ssl.create_default_context()
            if s.tls == "ssl":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            timer = threading.Timer(s.timeout, _close_socket, args=(client,))
            timer.daemon = True
            timer.start()
            client.ehlo()
            if s.tls == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if s.username:
                client.login(s.username, s.password)
            client.send_message(message)
            client.quit()
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"recipient refused: {_codes(exc.recipients)}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"authentication refused ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(f"server answered {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise MailError(f"{type(exc).__name__}: could not reach or talk to "
                            f"{s.host}:{s.port}") from None
        finally:
            if timer is not None:
                timer.cancel()
            if client is not None:
                _close_socket(client)


def _close_socket(client: smtplib.SMTP) -> None:
    sock = getattr(client, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()


def _codes(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(str(code) for code, _ in recipients.values())[:100]


def notify(session: Session, *, kind: str, to_address: str, subject: str, body: str,
           person_id: int | None = None, issuer_id: int | None = None,
           subject_type: str = "", subject_id: int | None = None,
           data: dict[str, Any] | None = None) -> Notification:
    """Add a notification to the outbox (sent after the transaction commits). A person
    without an e-mail address still gets the row: the LMS page shows it."""
    _name, address = parseaddr(to_address or "")
    row = Notification(kind=kind, to_address=address if "@" in address else "",
                       subject=subject[:300], body=body, person_id=person_id,
                       issuer_id=issuer_id, subject_type=subject_type, subject_id=subject_id,
                       data=data or {}, status=STATUS_PENDING, attempts=0, last_error="")
    session.add(row)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(row.id)
    return row


def take_pending(session: Session) -> list[int]:
    """The notifications written by the transaction just committed (and forget them)."""
    ids: list[int] = session.info.pop(PENDING_KEY, [])
    return ids


def pending(session: Session, limit: int = 1000) -> list[int]:
    """Notifications still waiting (a worker's start-up sweep after an outage)."""
    return list(session.scalars(select(Notification.id).where(
        Notification.status == STATUS_PENDING).order_by(Notification.id).limit(limit)))


@dataclass(frozen=True)
class SendOutcome:
    status: str
    message: str = ""
    retry: bool = False


def build_message(row: Notification, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr(("", row.to_address))
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain=_domain(settings.sender))
    message["Auto-Submitted"] = "auto-generated"   # RFC 3834: no auto-replies, please
    message.set_content(row.body)
    return message


def _domain(sender: str) -> str:
    _name, address = parseaddr(sender)
    return address.rpartition("@")[2] or "microcred.invalid"


def send(session: Session, notification_id: int, *, settings: SmtpSettings,
         mailer: Mailer | None = None) -> SendOutcome:
    """Send one pending notification and record the attempt. Idempotent: a row already
    sent, skipped or given up is left alone. Never raises for a mail failure."""
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        return SendOutcome("missing")
    if row.status != STATUS_PENDING:
        return SendOutcome(row.status)
    if not settings.enabled or not row.to_address:
        row.status = STATUS_SKIPPED
        row.last_error = "e-mail is not set up (SMTP_HOST, SMTP_FROM)" \
            if not settings.enabled else "no e-mail address"
        session.flush()
        return SendOutcome(STATUS_SKIPPED, row.last_error)
    row.attempts += 1
    try:
        (mailer or SmtpMailer(settings)).send(build_message(row, settings))
    except MailError as exc:
        row.last_error = str(exc)[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = STATUS_FAILED
            session.flush()
            return SendOutcome(STATUS_FAILED, row.last_error)
        session.flush()
        return SendOutcome(STATUS_PENDING, row.last_error, retry=True)
    row.status = STATUS_SENT
    row.sent_at = utcnow()
    row.last_error = ""
    session.flush()
    return SendOutcome(STATUS_SENT)


def unseen_for(session: Session, person_id: int, *, subject_type: str = "",
               limit: int = 20) -> list[Notification]:
    """The notices a person has not dismissed yet, newest first (the LMS page shows them)."""
    query = select(Notification).where(Notification.person_id == person_id,
                                       Notification.seen_at.is_(None))
    if subject_type:
        query = query.where(Notification.subject_type == subject_type)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_seen(session: Session, person_id: int, ids: Sequence[int]) -> int:
    """Dismiss the person's own notices (others' ids are ignored). Idempotent."""
    rows = list(session.scalars(select(Notification).where(
        Notification.person_id == person_id, Notification.id.in_(list(ids)),
        Notification.seen_at.is_(None))))
    now = utcnow()
    for row in rows:
        row.seen_at = now
    session.flush()
    return len(rows)
