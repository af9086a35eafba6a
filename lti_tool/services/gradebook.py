"""The optional grade-book signal: "credential earned" published to the LMS grade book through
Assignment and Grade Services 2.0 (https://www.imsglobal.org/spec/lti-ags/v2p0) as a score of
1/1 in a line item of its own, "MicroCred credential earned (not a grade): <title>" (resourceId
``microcred-<credential code>``, tag ``microcred``). Other grade-book columns are never read
or touched, and course grades are never read.

Off by default: an issuer turns it on with ``settings["gradebook_signal"] = true``.

- At launch, the AGS claim (line-items URL and granted scopes) is kept on the course
  (``services.launches.record_launch``, written only when it differs from the one kept).
- When the award engine creates an award in a course that has an AGS endpoint, and the
  issuer has the signal on, ``signal_award`` writes a pending ``GradebookSignal`` in the same
  transaction and notes it on the session; after the commit a background job
  (``lti_tool.jobs``) calls ``publish``, which records every attempt and the last error.
  Retrying stops after ``MAX_ATTEMPTS`` or at once when the platform refuses.
- Revocation does not withdraw a published score: the LMS grade book belongs to the
  instructor, who sees the revocation in MicroCred and may edit the column there; MicroCred
  never posts a 0 on its own. A signal still pending when its award is revoked is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.advantage import AgsEndpoint, LineItemSpec, score_body
from lti_tool.domain.tracking import AwardStatus
from lti_tool.errors import ConfigurationError, ToolError
from lti_tool.models import (
    Award,
    Context,
    Deployment,
    GradebookSignal,
    Issuer,
    LearnerAccount,
    RosterEntry,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit
from lti_tool.services.http_client import PlatformRefused

PENDING_KEY = "microcred.gradebook.pending"   # Session.info: signal ids to publish at commit
MAX_ATTEMPTS = 5
STATUS_PENDING = "pending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"



def enabled(issuer: Issuer | None) -> bool:
    return bool(issuer is not None and (issuer.settings or {}).get("gradebook_signal") is True)


def endpoint_of(context: Context) -> AgsEndpoint | None:
    return AgsEndpoint.from_claim(context.ags) if context.ags else None


def signal_award(session: Session, award: Award, context: Context) -> GradebookSignal | None:
    """Queue "credential earned" for a new award when the issuer has the signal on and the
    course has an AGS endpoint that allows posting scores; None otherwise. Called by the
    award engine in the award's transaction; the publication starts after the commit."""
    if not context.ags:
        return None
    if not enabled(session.get(Issuer, award.issuer_id)):
        return None
    endpoint = endpoint_of(context)
    if endpoint is None or not endpoint.can_post_scores:
        return None
    signal = GradebookSignal(award_id=award.id, context_id=context.id,
                             status=STATUS_PENDING)
    session.add(signal)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(signal.id)
    return signal


def take_pending(session: Session) -> list[int]:
    """The signals written by the transaction just committed (and forget them)."""
    ids: list[int] = session.info.pop(PENDING_KEY, [])
    return ids


class GradebookPort(Protocol):
    """A course's grade book (``lti.advantage.AgsGradebook``)."""

    def publish(self, endpoint: AgsEndpoint, item: LineItemSpec, score: Mapping[str, Any], *,
                lineitem_url: str = "") -> str: ...


@dataclass(frozen=True)
class PublishOutcome:
    signal_id: int
    status: str          # pending (will be retried) | sent | failed | skipped | missing
    retry: bool
    message: str = ""


def _learner_account(session: Session, person_id: int, context: Context) -> LearnerAccount | None:
    """The person's account on the course's platform, preferring the one on its roster."""
    deployment = session.get(Deployment, context.deployment_id)
    if deployment is None:
        return None
    rows = session.execute(
        select(LearnerAccount, RosterEntry.id).outerjoin(
            RosterEntry, (RosterEntry.account_id == LearnerAccount.id)
            & (RosterEntry.context_id == context.id))
        .where(LearnerAccount.person_id == person_id,
               LearnerAccount.platform_id == deployment.platform_id)
        .order_by(LearnerAccount.id)).all()
    on_roster = [account for account, entry_id in rows if entry_id is not None]
    candidates = on_roster or [account for account, _ in rows]
    return candidates[0] if candidates else None


def _known_lineitem(session: Session, context_id: int, credential_id: int) -> str:
    """Our line item for this credential in this course, from an earlier publication."""
    return session.scalars(
        select(GradebookSignal.lineitem_url).join(Award, Award.id == GradebookSignal.award_id)
        .where(GradebookSignal.context_id == context_id, Award.credential_id == credential_id,
               GradebookSignal.status == STATUS_SENT, GradebookSignal.lineitem_url != "")
        .order_by(GradebookSignal.id.desc()).limit(1)).first() or ""


def _finish(session: Session, signal: GradebookSignal, status: str, message: str,
            now: datetime) -> PublishOutcome:
    signal.status = status
    signal.last_error = message[:500]
    signal.updated_at = now
    if status in (STATUS_SENT, STATUS_FAILED, STATUS_SKIPPED):
        audit.record(session, f"gradebook.{status}", context_id=signal.context_id,
                     subject_type="award", subject_id=signal.award_id,
                     detail={"signal": signal.id, "attempts": signal.attempts,
                             "error": message[:500]})
    session.flush()
    return PublishOutcome(signal.id, status, status == STATUS_PENDING, message)


def publish(session: Session, signal_id: int, *,
            gradebook_for: Callable[[Context], GradebookPort],
            now: datetime | None = None) -> PublishOutcome:
    """Publish one pending signal: find or create our line item, post the score 1/1 for
    the learner's ``sub``. Every attempt is counted on the signal with its error; an error
    that retrying may cure leaves it pending (``retry``) until ``MAX_ATTEMPTS``; a refusal
    fails it at once. Idempotent: a signal already sent, failed or skipped is left as it is.
    Raises nothing for platform failures; commits nothing."""
    now = now or utcnow()
    signal = session.get(GradebookSignal, signal_id)
    if signal is None:
        return PublishOutcome(signal_id, "missing", False, "")
    if signal.status != STATUS_PENDING:
        return PublishOutcome(signal.id, signal.status, False, signal.last_error)
    award = session.get(Award, signal.award_id)
    context = session.get(Context, signal.context_id)
    assert award is not None and context is not None  # foreign keys
    if award.status == AwardStatus.REVOKED.value:
        return _finish(session, signal, STATUS_SKIPPED,
                       "The credential was revoked before it was published.", now)
    if not enabled(session.get(Issuer, award.issuer_id)):
        return _finish(session, signal, STATUS_SKIPPED,
                       "The grade-book signal was turned off before it was published.", now)
    endpoint = endpoint_of(context)
    if endpoint is None:
        return _finish(session, signal, STATUS_SKIPPED,
                       "The course no longer offers a grade book to MicroCred.", now)
    account = _learner_account(session, award.person_id, context)
    if account is None:
        return _finish(session, signal, STATUS_FAILED,
                       "The learner has no account on this course's platform.", now)
    title = award.version.title
    item = LineItemSpec.for_credential(award.credential.code, title)
    score = score_body(account.sub, at=now, comment=item.label)
    signal.attempts += 1
    try:
        url = gradebook_for(context).publish(
            endpoint, item, score,
            lineitem_url=signal.lineitem_url or _known_lineitem(session, context.id,
                                                                award.credential_id))
    except PlatformRefused as exc:
        return _finish(session, signal, STATUS_FAILED, exc.public_message, now)
    except ToolError as exc:
        status = STATUS_PENDING if signal.attempts < MAX_ATTEMPTS else STATUS_FAILED
        return _finish(session, signal, status, exc.public_message, now)
    except ConfigurationError as exc:
        return _finish(session, signal, STATUS_FAILED, str(exc), now)
    signal.lineitem_url = url[:1000]
    return _finish(session, signal, STATUS_SENT, "", now)


def pending_signals(session: Session, limit: int = 1000) -> list[int]:
    """Signals still waiting (for a worker's start-up sweep after an outage)."""
    return list(session.scalars(select(GradebookSignal.id).where(
        GradebookSignal.status == STATUS_PENDING).order_by(GradebookSignal.id).limit(limit)))


def signals_for_award(session: Session, award_id: int) -> list[GradebookSignal]:
    return list(session.scalars(select(GradebookSignal).where(
        GradebookSignal.award_id == award_id).order_by(GradebookSignal.id)))
