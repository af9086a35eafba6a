"""What the PLAR pages share: the blueprint, who the launched person is, labels, the
request's evidence download and error summaries."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.domain.lti import ROLE_LABELS
from lti_tool.errors import NotFound
from lti_tool.extensions import db_session
from lti_tool.i18n import current_short
from lti_tool.models import Issuer
from lti_tool.services import plar as plar_service
from lti_tool.web.common.catalog_access import issuer_for_launch
from lti_tool.web.common.launch_session import CurrentLaunch

bp = Blueprint("plar", __name__, url_prefix="/plar")

STATE_LABELS = {
    "submitted": _l("Submitted"),
    "in_assessment": _l("In assessment"),
    "more_evidence": _l("More evidence needed"),
    "decided": _l("Decided"),
    "withdrawn": _l("Withdrawn"),
}
STATE_HINTS = {
    "submitted": _l("Waiting for an assessor to start."),
    "in_assessment": _l("An assessor is assessing your request."),
    "more_evidence": _l("Your assessor asks for more evidence: answer below."),
    "decided": _l("Every skill you asked for is decided."),
    "withdrawn": _l("You withdrew this request."),
}
METHOD_LABELS = {
    "portfolio_review": _l("Portfolio review"),
    "challenge_exam": _l("Challenge exam"),
    "interview": _l("Interview"),
    "demonstration": _l("Demonstration"),
}
DECISION_LABELS = {
    "": _l("Not decided yet"),
    "demonstrated": _l("Demonstrated"),
    "not_yet": _l("Not yet demonstrated"),
}
MESSAGE_LABELS = {
    "more_evidence_request": _l("More evidence requested"),
    "learner_response": _l("Learner's answer"),
    "scheduled": _l("Assessment scheduled"),
    "decision": _l("Decision"),
    "withdrawn": _l("Withdrawn"),
}
FIELD_LABELS = {
    "skills": _l("Skills"), "links": _l("Links"), "files": _l("Files"),
    "award_ids": _l("Credentials you hold"), "credential_urls": _l("Other credentials"),
    "evidence": _l("Evidence"), "message": _l("Message"), "decision": _l("Decision"),
    "method": _l("Method"), "rationale": _l("Rationale"),
    "scheduled_at": _l("Date and time"), "scheduled_place": _l("Place or link"),
    "skill": _l("Skill"), "evidence_file": _l("Files"),
}


def field_label(name: str) -> str:
    if name.startswith("narrative_"):
        return str(_l("Narrative"))
    return str(FIELD_LABELS.get(name, name))


def summary(errors: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    return [(name, field_label(name), message) for name, messages in errors.items()
            for message in messages]


def actor_of(current: CurrentLaunch) -> plar_service.PlarActor:
    """The launched person (never an id from the request)."""
    record = current.record or {}
    account_id = record.get("account_id")
    if account_id is None:
        raise NotFound(str(_l("MicroCred does not know who you are in this launch. Open it "
                              "from your course again.")))
    launch = current.launch
    from lti_tool.web.lms.learner.pages import person_of_account

    return plar_service.PlarActor(
        account_id=int(account_id),
        person_id=person_of_account(int(account_id)),  # once per request
        platform_id=launch.platform_id, sub=launch.sub,
        name=launch.display_name or launch.email or "", email=launch.email,
        launch_id=launch.launch_id)


def issuer_of(current: CurrentLaunch) -> Issuer:
    issuer = issuer_for_launch(db_session(), current)
    if issuer is None:
        raise NotFound(str(_l("No institution catalog is set up for this platform yet.")))
    return issuer


def localized_settings(issuer: Issuer) -> dict[str, Any]:
    """The issuer's policy and fee note in the page's language (marked when English stands
    in for a missing French text), and the turnaround."""
    from lti_tool.domain.texts import localized

    settings = plar_service.settings_of(issuer)
    locale = current_short()
    return {"policy": localized(settings.policy, settings.translations, "policy", locale),
            "fee_note": localized(settings.fee_note, settings.translations, "fee_note",
                                  locale),
            "turnaround_days": settings.turnaround_days,
            "second_assessor": settings.second_assessor_for_credit}


def render(template: str, current: CurrentLaunch, status: int = 200,
           **context: Any) -> ResponseReturnValue:
    from lti_tool.models import Award

    return render_template(template, current=current,
                           role_label=ROLE_LABELS[current.launch.role],
                           award_of=lambda award_id: db_session().get(Award, award_id),
                           vtitle=version_title,
                           STATE_LABELS=STATE_LABELS, STATE_HINTS=STATE_HINTS,
                           METHOD_LABELS=METHOD_LABELS, DECISION_LABELS=DECISION_LABELS,
                           MESSAGE_LABELS=MESSAGE_LABELS, **context), status


def version_title(version: Any) -> Any:
    """A credential version's title in the page's language (a ``LocalText`` for ``ltext``:
    marked when English stands in for a missing French title)."""
    from lti_tool.domain.texts import localized

    return localized(version.title, (version.content or {}).get("translations"), "title",
                     current_short())


def file_response(stored: Any) -> Response:
    """An evidence file, always as a download (never rendered by the browser)."""
    response = Response(stored.data, mimetype="application/octet-stream")
    safe_name = re.sub(r'[^A-Za-z0-9._ -]', "_", stored.filename or "evidence")[:150]
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.after_request
def _no_store(response: Response) -> Response:
    # Pages carry the launch token and a learner's own evidence.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def posted_int(name: str) -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _launched_with_issuer() -> tuple[CurrentLaunch, Session, Issuer] | None:
    """For the landing pages' PLAR parts: this request's launch (with a known account), the
    request's session and the launch's issuer; None when any is missing."""
    from flask import g

    current: CurrentLaunch | None = g.get("current_launch")
    if current is None or not (current.record or {}).get("account_id"):
        return None
    session = db_session()
    issuer = issuer_for_launch(session, current)
    return (current, session, issuer) if issuer is not None else None


@bp.app_context_processor
def _plar_links() -> dict[str, Any]:
    """``plar_queue_count()`` for the landing pages: how many open requests wait for this
    launched assessor (None when they assess nothing)."""

    def plar_queue_count() -> int | None:
        try:
            launched = _launched_with_issuer()
            if launched is None:
                return None
            current, session, issuer = launched
            actor = actor_of(current)
            if not plar_service.assessed_credentials(session, issuer.id, actor.platform_id,
                                                     actor.sub):
                return None
            return plar_service.queue_counts(session, actor, issuer.id)
        except Exception:  # a link must never take the page down
            return None

    def plar_learner_panel() -> dict[str, Any] | None:
        """For a learner's landing page: their unseen PLAR notices and whether to offer
        PLAR here (something to ask for from this course, or requests of theirs)."""
        try:
            launched = _launched_with_issuer()
            if launched is None:
                return None
            current, session, issuer = launched
            record = current.record or {}
            from lti_tool.web.lms.learner.pages import person_of_account

            person_id = person_of_account(int(record["account_id"]))  # once per request
            from lti_tool.models import Context
            from lti_tool.services import notifications

            context = session.get(Context, record["context_pk"]) \
                if record.get("context_pk") is not None else None
            notices = notifications.unseen_for(session, person_id,
                                               subject_type=plar_service.SUBJECT, limit=5)
            # Cheapest first: each answer alone decides, and the last two only need a yes
            # or no (not the requests, versions and skills their listing functions load).
            if not (notices or plar_service.has_learner_requests(session, person_id, issuer.id)
                    or plar_service.can_request_any(session, issuer.id, context)):
                return None
            return {"notices": notices}
        except Exception:  # a panel must never take the page down
            return None

    return {"plar_queue_count": plar_queue_count, "plar_learner_panel": plar_learner_panel}
